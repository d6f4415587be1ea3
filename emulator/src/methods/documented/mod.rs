//! Documented answers: every method of the official docs that has no handler answers its page's
//! success example, so that a client can call any documented method offline.
//!
//! A call of such a method
//! 1. is checked for the parameters the page marks required (top-level ones; a parameter is
//!    missing when it is absent, `null` or `""`, names matched in any case): a missing one gets
//!    the portal's error for it, as the page documents it ([`missing`](self) explains the choice);
//! 2. answers the `result` of the page's first JSON success example, with its `next` and `total`
//!    (when they are non-negative integers: one page shows `"total": -1`, which is left out), and
//!    a fresh `time` block.
//!
//! A method whose page has no success example answers `ERROR_METHOD_NOT_FOUND`, saying so in the
//! description. A registered handler always wins (the built-in `imopenlines` and `crm.lead.list`
//! handlers keep their logic); [`Registry::unregister`](crate::Registry::unregister) turns a
//! method off entirely, and [`Registry::documented_answers`](crate::Registry::documented_answers)
//! turns the whole fallback off.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use b24_emulator::{Emulator, Portal, DEMO_IDS};
//! use serde_json::{json, Value};
//!
//! let emu = Emulator::start(Portal::demo()).await?;
//! let webhook = emu.webhook_url(DEMO_IDS.admin_user).expect("the demo admin has a webhook");
//! let call = |method: &str, params: Value| {
//!     let url = format!("{webhook}{method}");
//!     async move {
//!         let answer = reqwest::Client::new().post(url).json(&params).send().await?;
//!         Ok::<_, reqwest::Error>((answer.status().as_u16(), answer.json::<Value>().await?))
//!     }
//! };
//!
//! // `imconnector.activate` has no handler: it answers its page's example…
//! let (status, answer) =
//!     call("imconnector.activate", json!({"CONNECTOR": "my", "LINE": 1, "ACTIVE": 1})).await?;
//! assert_eq!((status, &answer["result"]), (200, &json!(true)));
//! // …or the page's error for a missing required parameter.
//! let (status, answer) = call("imconnector.activate", json!({"LINE": 1, "ACTIVE": 1})).await?;
//! assert_eq!(status, 400);
//! assert_eq!(answer["error"], "ERROR_ARGUMENT");
//! assert_eq!(answer["error_description"], "Argument 'CONNECTOR' is null or empty");
//! # Ok(()) }
//! ```

mod missing;
mod schema;

pub use schema::DocumentedMethod;

use serde_json::Value;

use crate::error::ApiError;
use crate::handlers::{CallContext, Handler};
use crate::params::Params;

/// The documented method of a name (any case), REST 2 (`/rest/…`) or REST 3.0 (`/rest/api/…`).
///
/// The committed schema is parsed on the first call (about a tenth of a second in a debug build;
/// it is borrowed from the binary, not copied).
pub fn lookup(method: &str, rest_v3: bool) -> Option<&'static DocumentedMethod> {
    let index = schema::index();
    let map = if rest_v3 { &index.v3 } else { &index.classic };
    map.get(&method.to_lowercase())
}

/// The number of documented methods served: (REST 2, REST 3.0).
pub fn count() -> (usize, usize) {
    let index = schema::index();
    (index.classic.len(), index.v3.len())
}

impl DocumentedMethod {
    /// The method's name as its page writes it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The page, relative to the docs root (`api-reference/…`).
    pub fn docs_path(&self) -> &str {
        &self.docs_path
    }

    /// The parameters the page marks required.
    pub fn required(&self) -> impl Iterator<Item = &str> {
        self.required.iter().map(|name| &**name)
    }

    /// The page's first success example, the whole envelope as the page shows it.
    pub fn success_example(&self) -> Option<Value> {
        self.success
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
    }

    /// What the portal answers to `params`: the error for the first missing required parameter,
    /// else the example's `result`, `next` and `total`.
    pub fn answer(&self, params: &Params) -> Result<(Value, Option<u64>, Option<u64>), ApiError> {
        if let Some(param) = self.required().find(|name| is_missing(params, name)) {
            return Err(missing::missing_parameter_error(self, param));
        }
        let Some(mut example) = self.success_example() else {
            return Err(ApiError::new(
                "ERROR_METHOD_NOT_FOUND",
                format!(
                    "Method not found! (b24-emulator: the page of {} has no success example to \
                     answer with; register a handler for it)",
                    self.name
                ),
            )
            .with_status(404));
        };
        let next = example.get("next").and_then(Value::as_u64);
        let total = example.get("total").and_then(Value::as_u64);
        let result = match example.get_mut("result") {
            Some(result) => result.take(),
            None => example,
        };
        Ok((result, next, total))
    }
}

impl Handler for &'static DocumentedMethod {
    fn call(&self, ctx: &mut CallContext<'_>, params: &Params) -> Result<Value, ApiError> {
        let (result, next, total) = self.answer(params)?;
        if let Some(next) = next {
            ctx.set_next(next);
        }
        if let Some(total) = total {
            ctx.set_total(total);
        }
        Ok(result)
    }
}

/// Absent, `null` or `""`.
fn is_missing(params: &Params, name: &str) -> bool {
    match params.get(name) {
        None | Some(Value::Null) => true,
        Some(Value::String(text)) => text.is_empty(),
        Some(_) => false,
    }
}
