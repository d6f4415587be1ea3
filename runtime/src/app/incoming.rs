//! An incoming request read from its form: an event (`event`, `data[…]`, `ts`, `auth[…]`) or an
//! installation page's POST (`AUTH_ID`, `REFRESH_ID`, `member_id`, `DOMAIN`, …), with its
//! fields checked, and the secrets it carries kept aside for redaction.

use serde_json::{Map, Value};

use super::form::{self, FormLimits};
use super::Rejection;

/// The longest event name, `member_id` or domain accepted.
const MAX_IDENT: usize = 128;
/// How much of a wire string a rejection or log shows.
pub(crate) const SHOWN: usize = 128;

/// The secrets a request carries: redacted from anything shown of it.
#[derive(Default)]
pub(crate) struct Secrets(Vec<String>);

impl Secrets {
    fn of(form: &Map<String, Value>) -> Self {
        let mut found = Vec::new();
        let mut add = |value: Option<&Value>| {
            if let Some(Value::String(s)) = value {
                if !s.is_empty() {
                    found.push(s.clone());
                }
            }
        };
        if let Some(Value::Object(auth)) = form.get("auth") {
            for key in ["access_token", "refresh_token", "application_token"] {
                add(auth.get(key));
            }
        }
        for key in ["AUTH_ID", "REFRESH_ID", "APPLICATION_TOKEN"] {
            add(form.get(key));
        }
        Secrets(found)
    }

    /// `text` redacted of the request's secrets and cut to `limit` bytes.
    pub(crate) fn show(&self, text: &str, limit: usize) -> String {
        crate::scrub::scrub(text, limit, &|t| {
            crate::scrub::redact_secrets(t, self.0.iter())
        })
    }
}

/// What a request is.
pub(crate) enum Incoming {
    /// An event.
    Event(EventRequest),
    /// An installation page's POST.
    InstallPage(InstallRequest),
}

/// An event request.
pub(crate) struct EventRequest {
    /// Upper case.
    pub(crate) name: String,
    pub(crate) data: Value,
    pub(crate) ts: Option<i64>,
    pub(crate) handler_id: Option<u64>,
    pub(crate) member_id: String,
    pub(crate) domain: Option<String>,
    pub(crate) application_token: String,
    /// `auth[…]`, for installation events.
    pub(crate) auth: Map<String, Value>,
}

/// The tokens and identity an installation claims.
pub(crate) struct InstallRequest {
    pub(crate) member_id: String,
    pub(crate) domain: Option<String>,
    pub(crate) refresh_token: String,
    pub(crate) application_token: Option<String>,
    pub(crate) client_endpoint: Option<String>,
    pub(crate) status: Option<String>,
}

/// Reads a request: the form of `body`, with `query` (`DOMAIN`, `APP_SID`, … of an
/// installation page) under it. The secrets come back even when the request is refused.
pub(crate) fn read(
    query: Option<&str>,
    body: &[u8],
    limits: FormLimits,
) -> (Secrets, Result<Incoming, Rejection>) {
    let malformed = |reason: String| Rejection::Malformed { reason };
    let mut form = match form::parse(body, limits) {
        Ok(form) => form,
        Err(e) => return (Secrets::default(), Err(malformed(e.to_string()))),
    };
    if let Some(query) = query {
        match form::parse(query.as_bytes(), limits) {
            Ok(extra) => {
                for (key, value) in extra {
                    form.entry(key).or_insert(value);
                }
            }
            Err(e) => return (Secrets::default(), Err(malformed(e.to_string()))),
        }
    }
    let secrets = Secrets::of(&form);
    let outcome = if form.contains_key("event") {
        event(form, &secrets).map(Incoming::Event)
    } else if form.contains_key("AUTH_ID") {
        install_page(&form, &secrets).map(Incoming::InstallPage)
    } else {
        Err(malformed(
            "neither an event (`event`) nor an installation (`AUTH_ID`)".into(),
        ))
    };
    (secrets, outcome)
}

/// A string field, non-empty.
fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A required identifier (event name, `member_id`): short, letters, digits, `_`, `-`, `.`.
fn ident(value: Option<&str>, what: &str, secrets: &Secrets) -> Result<String, Rejection> {
    let value = value.ok_or_else(|| Rejection::Malformed {
        reason: format!("no {what}"),
    })?;
    let fine = value.len() <= MAX_IDENT
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !fine {
        return Err(Rejection::Malformed {
            reason: format!("{what} {:?} is not an identifier", secrets.show(value, 64)),
        });
    }
    Ok(value.to_owned())
}

/// An optional portal domain (`example.bitrix24.com`, with a port on a test portal): host
/// characters only, at most 253 bytes. It is stored and makes the REST address when the OAuth
/// server gives none, so anything else (`/`, `@`, `?`) is refused rather than cut or kept.
fn domain(value: Option<&str>, secrets: &Secrets) -> Result<Option<String>, Rejection> {
    let Some(value) = value else { return Ok(None) };
    let fine = !value.is_empty()
        && value.len() <= 253
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
    if !fine {
        return Err(Rejection::Malformed {
            reason: format!("domain {:?} is not a host name", secrets.show(value, 64)),
        });
    }
    Ok(Some(value.to_owned()))
}

/// An optional REST address (`https://example.bitrix24.com/rest/`): an http(s) URL without a
/// user name or password, at most 512 bytes, stored as sent (never cut).
fn endpoint(value: Option<&str>, secrets: &Secrets) -> Result<Option<String>, Rejection> {
    let Some(value) = value else { return Ok(None) };
    let fine = value.len() <= 512
        && url::Url::parse(value).is_ok_and(|url| {
            matches!(url.scheme(), "https" | "http")
                && url.username().is_empty()
                && url.password().is_none()
                && url.host().is_some()
        });
    if !fine {
        return Err(Rejection::Malformed {
            reason: format!(
                "client_endpoint {:?} is not a REST address",
                secrets.show(value, 64)
            ),
        });
    }
    Ok(Some(value.to_owned()))
}

fn number<T: std::str::FromStr>(map: &Map<String, Value>, key: &str) -> Option<T> {
    text(map, key).and_then(|s| s.trim().parse().ok())
}

fn event(mut form: Map<String, Value>, secrets: &Secrets) -> Result<EventRequest, Rejection> {
    let name = ident(text(&form, "event"), "event name", secrets)?.to_ascii_uppercase();
    let auth = match form.remove("auth") {
        Some(Value::Object(auth)) => auth,
        _ => {
            return Err(Rejection::Malformed {
                reason: format!("event {name} has no auth"),
            })
        }
    };
    let member_id = ident(text(&auth, "member_id"), "auth[member_id]", secrets)?;
    let application_token = text(&auth, "application_token")
        .ok_or_else(|| Rejection::Malformed {
            reason: format!("event {name} has no auth[application_token]"),
        })?
        .to_owned();
    let data = match form.remove("data") {
        Some(data @ (Value::Object(_) | Value::Array(_))) => data,
        // PHP drops an empty array from a form: no data is empty data.
        None | Some(Value::String(_)) => Value::Object(Map::new()),
        Some(other) => other,
    };
    Ok(EventRequest {
        ts: number(&form, "ts"),
        handler_id: number(&form, "event_handler_id"),
        domain: domain(text(&auth, "domain"), secrets)?,
        name,
        data,
        member_id,
        application_token,
        auth,
    })
}

fn install_page(form: &Map<String, Value>, secrets: &Secrets) -> Result<InstallRequest, Rejection> {
    let member_id = ident(text(form, "member_id"), "member_id", secrets)?;
    let refresh_token = text(form, "REFRESH_ID")
        .ok_or_else(|| Rejection::Malformed {
            reason: "the installation has no REFRESH_ID".into(),
        })?
        .to_owned();
    Ok(InstallRequest {
        member_id,
        domain: domain(text(form, "DOMAIN"), secrets)?,
        refresh_token,
        application_token: text(form, "APPLICATION_TOKEN").map(str::to_owned),
        client_endpoint: None,
        status: text(form, "status").map(|s| secrets.show(s, 8)),
    })
}

impl EventRequest {
    /// The installation an `ONAPPINSTALL` event claims.
    pub(crate) fn install_claim(&self, secrets: &Secrets) -> Result<InstallRequest, Rejection> {
        let refresh_token = text(&self.auth, "refresh_token")
            .ok_or_else(|| Rejection::Malformed {
                reason: "ONAPPINSTALL has no auth[refresh_token]".into(),
            })?
            .to_owned();
        Ok(InstallRequest {
            member_id: self.member_id.clone(),
            domain: self.domain.clone(),
            refresh_token,
            application_token: Some(self.application_token.clone()),
            client_endpoint: endpoint(text(&self.auth, "client_endpoint"), secrets)?,
            status: text(&self.auth, "status").map(|s| secrets.show(s, 8)),
        })
    }
}
