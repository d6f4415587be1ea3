//! One `refresh_token` grant at the OAuth server: the request, a bounded read of the answer, and
//! its decoding into a [`TokenPair`] or a typed [`RenewalError`].
//!
//! The answer is hostile input like any other: its body is read up to [`MAX_ANSWER`] bytes within
//! the app's timeout; any field may have any type; every string copied into an error, a log or a
//! `Debug` is redacted (the tokens it carries, the client secret, the old pair) and bounded.
//! A pair the server issued (an `access_token` and a `refresh_token`, both non-empty strings) is
//! always accepted, whatever else the answer holds: the server has rotated the refresh token, so
//! refusing the pair would lock the application out.

use std::time::{SystemTime, UNIX_EPOCH};

use secrecy::ExposeSecret;
use serde_json::{Map, Value};

use super::{expiry, OAuthApp, RenewalError, TokenPair};
use crate::error::{DecodeError, DecodeReason, TransportError};
use crate::error_code::ErrorCode;

/// The largest token endpoint answer read (64 KiB). A real one is about 600 bytes; the cap only
/// has to leave room for proxies' error pages.
pub const MAX_ANSWER: usize = 64 * 1024;

/// The longest informational string kept from the answer (`member_id`, `scope`,
/// `client_endpoint`).
const MAX_FIELD: usize = 512;

/// Sends the grant and decodes the answer. `known_secrets` are redacted from every copied text.
pub(crate) async fn request(
    http: &reqwest::Client,
    app: &OAuthApp,
    refresh_token: &str,
    known_secrets: &[String],
) -> Result<TokenPair, RenewalError> {
    grant(
        http,
        app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
        known_secrets,
    )
    .await
}

/// Exchanges the one-time `code` of the full OAuth protocol (`settings/oauth/index.md`, step 2)
/// for the first token pair. `known_secrets` are redacted from every copied text.
pub(crate) async fn authorization_code(
    http: &reqwest::Client,
    app: &OAuthApp,
    code: &str,
    known_secrets: &[String],
) -> Result<TokenPair, RenewalError> {
    grant(
        http,
        app,
        &[("grant_type", "authorization_code"), ("code", code)],
        known_secrets,
    )
    .await
}

impl OAuthApp {
    /// The application's `client_id`.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The `authorization_code` grant: exchanges the one-time `code` Bitrix24 hands the
    /// application's `redirect_uri` (it lives 30 seconds) for the first token pair, at this
    /// application's OAuth server. The answer is read like a renewal's (bounded, redacted).
    ///
    /// ```no_run
    /// # async fn demo(code: &str) -> Result<(), b24_runtime::RenewalError> {
    /// let app = b24_runtime::OAuthApp::new("app.573ad8a0346747.09223434", "secret");
    /// let tokens = app.exchange_code(&reqwest::Client::new(), code).await?;
    /// println!("portal {:?} at {:?}", tokens.member_id, tokens.client_endpoint);
    /// # Ok(()) }
    /// ```
    pub async fn exchange_code(
        &self,
        http: &reqwest::Client,
        code: &str,
    ) -> Result<TokenPair, RenewalError> {
        let secrets = [
            code.to_owned(),
            self.client_secret.expose_secret().to_owned(),
        ];
        authorization_code(http, self, code, &secrets).await
    }

    /// The `refresh_token` grant outside a client: renews `refresh_token` at this application's
    /// OAuth server and returns the new pair (the old refresh token stops working). Clients renew
    /// by themselves; this is for checking a pair an application was handed (an installation).
    pub async fn refresh(
        &self,
        http: &reqwest::Client,
        refresh_token: &str,
    ) -> Result<TokenPair, RenewalError> {
        let secrets = [
            refresh_token.to_owned(),
            self.client_secret.expose_secret().to_owned(),
        ];
        request(http, self, refresh_token, &secrets).await
    }
}

/// Sends one grant (`params` besides the client's id and secret) and decodes the answer.
async fn grant(
    http: &reqwest::Client,
    app: &OAuthApp,
    params: &[(&str, &str)],
    known_secrets: &[String],
) -> Result<TokenPair, RenewalError> {
    let transport = |e| RenewalError::Transport(TransportError::new(e));
    let mut response = http
        .get(app.token_url.clone())
        .query(params)
        .query(&[
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.expose_secret()),
        ])
        .timeout(app.timeout)
        .send()
        .await
        .map_err(transport)?;
    let status = response.status().as_u16();
    let mut body = Vec::with_capacity(1024);
    let mut too_large = false;
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        let room = MAX_ANSWER - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            too_large = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    decode(status, &body, too_large, known_secrets)
}

/// Decodes a token endpoint's answer (`too_large`: the body was cut at [`MAX_ANSWER`]).
pub(crate) fn decode(
    status: u16,
    body: &[u8],
    too_large: bool,
    known_secrets: &[String],
) -> Result<TokenPair, RenewalError> {
    // The answer may hold new tokens, whole or cut short, that no redaction list knows yet:
    // their values (after their keys) are scrubbed, and so are copies of them elsewhere.
    let found = token_values(&String::from_utf8_lossy(
        &body[..body.len().min(MAX_ANSWER)],
    ));
    let redact = |text: String| {
        let text = crate::scrub::redact_secrets(
            scrub_token_values(text),
            known_secrets.iter().chain(&found),
        );
        crate::scrub::cut(text, DecodeError::BODY_LIMIT)
    };
    let decode_error = |reason: DecodeReason| {
        RenewalError::Decode(DecodeError::of_answer(status, None, body, reason, &redact))
    };
    if too_large {
        return Err(decode_error(DecodeReason::TooLarge { limit: MAX_ANSWER }));
    }
    let answer: Map<String, Value> = match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err(decode_error(DecodeReason::NoResult)),
        Err(e) => {
            let message = redact(e.to_string());
            return Err(decode_error(DecodeReason::NotJson { message }));
        }
    };
    let token = |name: &str| match answer.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    if let (Some(access), Some(refresh)) = (token("access_token"), token("refresh_token")) {
        if answer.contains_key("error") || !(200..300).contains(&status) {
            tracing::warn!(
                status,
                "the OAuth server issued a token pair in an answer that also looks like an \
                 error: the pair is kept (the old refresh token may be spent)"
            );
        }
        // Everything below is lenient: a bad field is dropped, never a reason to lose the pair.
        let secrets: Vec<String> = known_secrets
            .iter()
            .cloned()
            .chain([access.clone(), refresh.clone()])
            .collect();
        let text = |name: &str| {
            let raw = match answer.get(name)? {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            Some(crate::scrub::cut(
                crate::scrub::redact_secrets(raw, &secrets),
                MAX_FIELD,
            ))
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let (expires, lifetime) =
            expiry::of_answer(answer.get("expires"), answer.get("expires_in"), now);
        return Ok(TokenPair {
            expires,
            lifetime,
            member_id: text("member_id"),
            scope: text("scope"),
            user_id: answer
                .get("user_id")
                .and_then(expiry::seconds)
                .and_then(|id| u64::try_from(id).ok()),
            client_endpoint: text("client_endpoint"),
            ..TokenPair::new(access, refresh)
        });
    }
    match answer.get("error") {
        Some(error) if !error.is_null() => {
            let code = match error {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let description = match answer.get("error_description") {
                Some(Value::String(s)) => s.clone(),
                None | Some(Value::Null) => String::new(),
                Some(other) => other.to_string(),
            };
            Err(RenewalError::Refused {
                code: ErrorCode::from_wire(&code, &redact),
                description: redact(description),
                status,
            })
        }
        _ => Err(decode_error(DecodeReason::NoResult)),
    }
}

/// The values of `access_token` and `refresh_token` in a token endpoint's answer (JSON, possibly
/// cut short, possibly not a string), at least 8 bytes long: copies of them elsewhere in the
/// answer are redacted too.
fn token_values(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["\"access_token\"", "\"refresh_token\""] {
        for (at, _) in text.match_indices(key).take(16) {
            let rest =
                text[at + key.len()..].trim_start_matches(|c: char| c.is_whitespace() || c == ':');
            let rest = rest.strip_prefix('"').unwrap_or(rest);
            let end = rest.find(['"', ',', '}', ' ']).unwrap_or(rest.len());
            if end >= 8 {
                out.push(rest[..end].to_owned());
            }
        }
    }
    out
}

/// Replaces the values of `access_token` and `refresh_token` in a token endpoint's answer (JSON,
/// possibly cut short) by `***`.
pub(crate) fn scrub_token_values(mut text: String) -> String {
    for key in ["\"access_token\"", "\"refresh_token\""] {
        let mut from = 0;
        while let Some(found) = text[from..].find(key) {
            let bytes = text.as_bytes();
            let mut start = from + found + key.len();
            while start < bytes.len()
                && (bytes[start].is_ascii_whitespace() || bytes[start] == b':')
            {
                start += 1;
            }
            if start < bytes.len() && bytes[start] == b'"' {
                start += 1;
            }
            let end = text[start..]
                .find(['"', ',', '}'])
                .map_or(text.len(), |e| start + e);
            text.replace_range(start..end, "***");
            from = start + 3;
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> Vec<String> {
        vec!["old0refresh".into(), "app0secret".into()]
    }

    #[test]
    fn token_values_are_scrubbed_whole_or_cut() {
        assert_eq!(
            scrub_token_values(r#"{"access_token": "a1", "x": 1, "refresh_token":"r2"}"#.into()),
            r#"{"access_token": "***", "x": 1, "refresh_token":"***"}"#
        );
        assert_eq!(
            scrub_token_values(r#"{"expires":3600,"access_token":"abcdef"#.into()),
            r#"{"expires":3600,"access_token":"***"#
        );
        assert_eq!(
            scrub_token_values(r#"{"access_token""#.into()),
            r#"{"access_token"***"#
        );
        assert_eq!(
            scrub_token_values(r#"{"refresh_token": "ключ"}"#.into()),
            r#"{"refresh_token": "***"}"#
        );
        assert_eq!(
            scrub_token_values("<html>502</html>".into()),
            "<html>502</html>"
        );
    }

    #[test]
    fn an_issued_pair_is_kept_whatever_else_the_answer_says() {
        let bodies = [
            r#"{"access_token":"a","refresh_token":"r","expires_in":9223372036854775807}"#,
            r#"{"access_token":"a","refresh_token":"r","expires":-9223372036854775808}"#,
            r#"{"access_token":"a","refresh_token":"r","expires_in":"soon","member_id":{"x":1}}"#,
            r#"{"access_token":"a","refresh_token":"r","user_id":-1,"scope":[1],"error":"x"}"#,
            r#"{"access_token":"a","refresh_token":"r","expires_in":1e308,"expires":-1e308}"#,
        ];
        for body in bodies {
            let pair = decode(200, body.as_bytes(), false, &secrets())
                .unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!(
                (pair.expose_access_token(), pair.expose_refresh_token()),
                ("a", "r")
            );
        }
        let pair = decode(502, bodies[3].as_bytes(), false, &secrets()).expect("kept");
        assert_eq!(pair.user_id, None);
    }

    #[test]
    fn echoed_secrets_stay_out_of_fields_and_errors() {
        let body = r#"{"access_token":"new0a","refresh_token":"new0r","scope":"new0r,app0secret,old0refresh","member_id":"new0a"}"#;
        let pair = decode(200, body.as_bytes(), false, &secrets()).expect("pair");
        let shown = format!("{pair:?}");
        for secret in ["new0a", "new0r", "app0secret", "old0refresh"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        let refused = r#"{"error":"old0refresh","error_description":"app0secret"}"#;
        let err = decode(400, refused.as_bytes(), false, &secrets()).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains("old0refresh") && !shown.contains("app0secret"),
            "{shown}"
        );
        let huge = format!(r#"{{"error":"{}"}}"#, "x".repeat(1 << 20));
        let err = decode(400, huge.as_bytes(), false, &secrets()).unwrap_err();
        assert!(err.to_string().len() < 8 * 1024);
    }
}
