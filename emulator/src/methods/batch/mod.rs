//! `batch` (`settings/how-to-call-rest-api/batch.md`): up to 50 commands in one HTTP request.
//!
//! Request: `{"halt": 0|1, "cmd": {key: "method?php-query"}}` as JSON, or form-encoded
//! (`cmd[key]=method%3Fquery`, the command text URL-encoded once more). Keys may be names or
//! numbers. Each command's query string is parsed with PHP's rules, its `$result[key][field]…`
//! references are replaced (see below), and it runs as its own call: the same registry,
//! authentication (the batch's credentials; an `auth` in a command is ignored), operating-time
//! check and charge, and its own journal entry (marked with its key).
//!
//! Answer (HTTP 200 even when commands fail):
//! `{"result": {"result": {…}, "result_error": {…}, "result_total": {…}, "result_next": {…},
//! "result_time": {…}}, "time": {…}}`, each map as PHP's `json_encode` writes it: `[]` when empty,
//! a list when the keys are `0, 1, …, n-1` ([`php_array`]).
//!
//! References: `$result[key][field]…` walks into an earlier successful result (object fields or
//! list positions, any depth). A parameter that is exactly one reference gets the value itself
//! (number, string, list, object); inside longer text the value is written as PHP would (`true` →
//! `1`, `false`/`null` → empty, lists/objects → `Array`); a reference to a failed, skipped or
//! missing value becomes `""`.
//!
//! Choices where the docs are silent or vague:
//! - commands beyond the 50th do not run: each gets `ERROR_BATCH_LENGTH_EXCEEDED` in
//!   `result_error` (as batch.md says: "subqueries beyond the limit will end with an error"); the
//!   batch itself still answers 200;
//! - `batch` as a command gets `ERROR_BATCH_METHOD_NOT_ALLOWED`;
//! - a command that is not a string gets `INVALID_REQUEST`; an unknown method
//!   `ERROR_METHOD_NOT_FOUND`;
//! - `halt` is false when absent, `0`, `""`, `false`, `"false"` or `"N"`; with `halt` the first
//!   failing command's error is reported and the commands after it neither run nor appear;
//! - a missing or empty `cmd` answers an empty batch (every map `[]`);
//! - `result_time` holds the time blocks of the commands that succeeded.

mod refs;

use std::time::{Duration, Instant, SystemTime};

use serde_json::{Map, Value};

use crate::auth::Caller;
use crate::dispatch::{invoke, Ran};
use crate::error::ApiError;
use crate::params::{php_empty, Params};
use crate::record::RecordedRequest;
use crate::server::Shared;
use crate::state::Portal;
use crate::wire::php_json::php_array;
use crate::wire::php_query;
use crate::wire::request::normalize_method;

/// The method name.
pub(crate) const BATCH: &str = "batch";

/// The most commands one batch runs.
pub const MAX_COMMANDS: usize = 50;

/// What a batch produced.
pub(crate) struct BatchRun {
    /// The value of the answer's `result`.
    pub(crate) result: Value,
    /// The commands' processing time, summed.
    pub(crate) processing: Duration,
    /// One journal entry per command that was attempted.
    pub(crate) records: Vec<RecordedRequest>,
}

/// Four maps of the answer, in command order (the results are kept apart, for references).
#[derive(Default)]
struct Maps {
    error: Vec<(String, Value)>,
    total: Vec<(String, Value)>,
    next: Vec<(String, Value)>,
    time: Vec<(String, Value)>,
}

/// Runs a batch for `caller` with the portal locked.
pub(crate) fn run(
    shared: &Shared,
    portal: &mut Portal,
    caller: &Caller,
    params: &Params,
    http_method: &str,
) -> BatchRun {
    let halt = halt(params.get("halt"));
    let commands: Vec<(String, Value)> = match params.get("cmd") {
        Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(index, v)| (index.to_string(), v.clone()))
            .collect(),
        _ => Vec::new(),
    };

    let mut maps = Maps::default();
    // Successful results by key, in command order (also read by references).
    let mut results = Map::new();
    let mut processing = Duration::ZERO;
    let mut records = Vec::new();

    for (index, (key, command)) in commands.into_iter().enumerate() {
        let start = SystemTime::now();
        let clock = Instant::now();
        let mut command = Command::read(&command, &results);
        if index >= MAX_COMMANDS {
            command.outcome = Some(Err(ApiError::batch_length_exceeded()));
        }
        let outcome = match command.outcome.take() {
            Some(outcome) => outcome,
            None => invoke(
                shared,
                portal,
                caller,
                &command.method,
                &Params::new(command.params.clone()),
                start,
            ),
        };
        records.push(RecordedRequest {
            time: start,
            http_method: http_method.to_owned(),
            method: command.method,
            auth: caller.auth,
            user_id: Some(caller.user_id),
            params: Value::Object(command.params),
            status: outcome.as_ref().map_or_else(ApiError::status, |_| 200),
            error: outcome.as_ref().err().map(|e| e.code().to_owned()),
            elapsed: clock.elapsed(),
            batch_key: Some(key.clone()),
            fault: None,
        });
        match outcome {
            Ok(ran) => {
                processing += ran.timing.processing;
                maps.record_success(&key, &ran);
                results.insert(key, ran.result);
            }
            Err(error) => {
                maps.error.push((key, error.to_body()));
                if halt {
                    break;
                }
            }
        }
    }

    let mut answer = Map::new();
    answer.insert("result".into(), php_array(results.into_iter().collect()));
    answer.insert("result_error".into(), php_array(maps.error));
    answer.insert("result_total".into(), php_array(maps.total));
    answer.insert("result_next".into(), php_array(maps.next));
    answer.insert("result_time".into(), php_array(maps.time));
    BatchRun {
        result: Value::Object(answer),
        processing,
        records,
    }
}

impl Maps {
    fn record_success(&mut self, key: &str, ran: &Ran) {
        if let Some(total) = ran.total {
            self.total.push((key.to_owned(), Value::from(total)));
        }
        if let Some(next) = ran.next {
            self.next.push((key.to_owned(), Value::from(next)));
        }
        let time = serde_json::from_str(&ran.timing.to_json()).unwrap_or(Value::Null);
        self.time.push((key.to_owned(), time));
    }
}

/// One command, read from its text.
struct Command {
    /// The method, lowercased (empty when the command is not a string).
    method: String,
    /// Its parameters, references replaced, without `auth`.
    params: Map<String, Value>,
    /// An answer decided without running it.
    outcome: Option<Result<Ran, ApiError>>,
}

impl Command {
    fn read(command: &Value, results: &Map<String, Value>) -> Self {
        let Value::String(text) = command else {
            return Self::failed(
                String::new(),
                ApiError::invalid_request("A batch command must be a string: method?parameters"),
            );
        };
        let (path, query) = text.split_once('?').unwrap_or((text, ""));
        let method = normalize_method(path.trim().trim_start_matches('/'));
        if method == BATCH {
            return Self::failed(method, ApiError::batch_method_not_allowed());
        }
        let Ok(mut params) = php_query::parse(query.as_bytes()) else {
            return Self::failed(method, ApiError::wrong_encoding());
        };
        params.remove("auth");
        refs::substitute(&mut params, results);
        Self {
            method,
            params,
            outcome: None,
        }
    }

    fn failed(method: String, error: ApiError) -> Self {
        Self {
            method,
            params: Map::new(),
            outcome: Some(Err(error)),
        }
    }
}

/// Reads `halt`.
fn halt(value: Option<&Value>) -> bool {
    match value {
        None => false,
        Some(Value::String(text))
            if text.eq_ignore_ascii_case("false") || text.eq_ignore_ascii_case("n") =>
        {
            false
        }
        Some(value) => !php_empty(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn halt_values() {
        for off in [
            json!(0),
            json!("0"),
            json!(""),
            json!(false),
            json!("false"),
            json!("N"),
        ] {
            assert!(!halt(Some(&off)), "{off}");
        }
        for on in [json!(1), json!("1"), json!(true), json!("Y")] {
            assert!(halt(Some(&on)), "{on}");
        }
        assert!(!halt(None));
    }

    #[test]
    fn commands_are_read_like_the_portal() {
        let results = Map::new();
        let command = Command::read(&json!("/IM.Chat.Get.json?ID=5&auth=x"), &results);
        assert_eq!(command.method, "im.chat.get");
        assert_eq!(Value::Object(command.params), json!({"ID": "5"}));
        let nested = Command::read(&json!("batch?cmd[a]=x"), &results);
        let code = nested
            .outcome
            .and_then(Result::err)
            .map(|e| e.code().to_owned());
        assert_eq!(code.as_deref(), Some("ERROR_BATCH_METHOD_NOT_ALLOWED"));
        let not_text = Command::read(&json!({"method": "x"}), &results);
        assert!(not_text.outcome.is_some());
        let bad = Command::read(&json!("x?a=%ff"), &results);
        let code = bad
            .outcome
            .and_then(Result::err)
            .map(|e| e.code().to_owned());
        assert_eq!(code.as_deref(), Some("WRONG_ENCODING"));
    }
}
