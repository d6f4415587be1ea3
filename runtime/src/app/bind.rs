//! `event.bind`, `event.unbind` and `event.get` (`api-reference/events/`): registering the
//! application's handlers on a portal. They work with application (OAuth) authorization only.

use serde_json::{json, Map, Value};

use crate::client::Client;
use crate::error::Error;
use crate::event::Event;

/// One handler registration: an event, and where it goes (a URL, or the offline queue).
///
/// ```
/// use b24_runtime::app::{AppUninstall, Binding};
/// let online = Binding::online("ONSESSIONSTART", "https://app.example.com/b24/events");
/// let offline = Binding::of::<AppUninstall>().offline().auth_connector("sync");
/// assert_eq!(offline.event(), "ONAPPUNINSTALL");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Binding {
    event: String,
    handler: Option<String>,
    auth_type: Option<u64>,
    offline: bool,
    auth_connector: Option<String>,
}

impl Binding {
    /// `event` delivered to `handler` (a URL Bitrix24 can reach).
    pub fn online(event: impl Into<String>, handler: impl Into<String>) -> Self {
        Binding {
            event: event.into().to_ascii_uppercase(),
            handler: Some(handler.into()),
            auth_type: None,
            offline: false,
            auth_connector: None,
        }
    }

    /// The event `E`, with no handler yet (set [`Binding::handler`] or [`Binding::offline`]).
    pub fn of<E: Event>() -> Self {
        Binding {
            event: E::NAME.to_owned(),
            handler: None,
            auth_type: None,
            offline: false,
            auth_connector: None,
        }
    }

    /// Delivered to `url`.
    pub fn handler(mut self, url: impl Into<String>) -> Self {
        self.handler = Some(url.into());
        self.offline = false;
        self
    }

    /// Queued on the portal for [`OfflinePoller`](super::OfflinePoller) instead of delivered
    /// (`event_type=offline`; administrators only).
    pub fn offline(mut self) -> Self {
        self.offline = true;
        self.handler = None;
        self
    }

    /// The events' tokens act for this user instead of the one whose action raised the event.
    pub fn auth_type(mut self, user_id: u64) -> Self {
        self.auth_type = Some(user_id);
        self
    }

    /// The offline queue's source key: changes made with the same key are not queued.
    pub fn auth_connector(mut self, key: impl Into<String>) -> Self {
        self.auth_connector = Some(key.into());
        self
    }

    /// The event's name.
    pub fn event(&self) -> &str {
        &self.event
    }

    fn params(&self) -> Value {
        let mut params = Map::new();
        params.insert("event".into(), json!(self.event));
        if let Some(handler) = &self.handler {
            params.insert("handler".into(), json!(handler));
        }
        if let Some(user) = self.auth_type {
            params.insert("auth_type".into(), json!(user));
        }
        if self.offline {
            params.insert("event_type".into(), json!("offline"));
        }
        if let Some(key) = &self.auth_connector {
            params.insert("auth_connector".into(), json!(key));
        }
        Value::Object(params)
    }
}

/// `event.bind`: registers `binding` on the client's portal. `Ok(true)` when registered.
///
/// ```no_run
/// # async fn demo(client: b24_runtime::Client) -> Result<(), b24_runtime::Error> {
/// use b24_runtime::app::{bind, Binding};
/// bind(&client, &Binding::online("ONSESSIONSTART", "https://app.example.com/b24")).await?;
/// # Ok(()) }
/// ```
pub async fn bind(client: &Client, binding: &Binding) -> Result<bool, Error> {
    let answer = client.call_raw("event.bind", &binding.params()).await?;
    Ok(truthy(&answer.result))
}

/// `event.unbind`: removes the registrations matching `binding`; returns how many went.
pub async fn unbind(client: &Client, binding: &Binding) -> Result<u64, Error> {
    let answer = client.call_raw("event.unbind", &binding.params()).await?;
    Ok(answer
        .result
        .get("count")
        .and_then(|count| {
            count
                .as_u64()
                .or_else(|| count.as_str().and_then(|s| s.parse().ok()))
        })
        .unwrap_or(0))
}

/// One registration as `event.get` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Bound {
    /// The event's name.
    pub event: String,
    /// The handler URL (empty for offline registrations).
    pub handler: String,
    /// The user the events act for (`0`: the one who raised them).
    pub auth_type: u64,
    /// An offline registration.
    pub offline: bool,
}

/// `event.get`: the application's registrations on the client's portal.
pub async fn bound(client: &Client) -> Result<Vec<Bound>, Error> {
    let answer = client.call_raw("event.get", &json!({})).await?;
    let rows = answer.result.as_array().cloned().unwrap_or_default();
    let text = |row: &Value, key: &str| match row.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    Ok(rows
        .iter()
        .map(|row| Bound {
            event: text(row, "event"),
            handler: text(row, "handler"),
            auth_type: text(row, "auth_type").parse().unwrap_or(0),
            offline: truthy(row.get("offline").unwrap_or(&Value::Null)),
        })
        .collect())
}

/// The truth of a result: a flag as every answer's flags are read (`true`, `1`, `"Y"`, `"n"`,
/// `"False"`, … by [`Lenient`](crate::de::Lenient)), else PHP's (a non-zero number, a non-empty
/// text).
fn truthy(value: &Value) -> bool {
    match <bool as crate::de::Lenient>::deserialize_lenient(value) {
        Ok(flag) => flag,
        Err(_) => match value {
            Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
            Value::String(s) => !s.trim().is_empty(),
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A result's flag reads as every answer's flags do, and PHP's truth past them.
    #[test]
    fn flags_read_alike() {
        for (value, want) in [
            (json!(true), true),
            (json!(1), true),
            (json!("Y"), true),
            (json!("True"), true),
            (json!(false), false),
            (json!(0), false),
            (json!("N"), false),
            (json!("n"), false),
            (json!("False"), false),
            (json!("FALSE"), false),
            (json!("0"), false),
            (json!(""), false),
            (json!(null), false),
            (json!(2), true),
            (json!("yes"), true),
        ] {
            assert_eq!(truthy(&value), want, "{value}");
        }
    }
}
