//! [`Reply`]: the answer an injected fault sends instead of the portal's.

use std::time::SystemTime;

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::FixedOffset;
use serde_json::{json, Value};

use super::body::{FaultBody, Source};
use crate::wire::envelope::{self, Timing};

const JSON: &str = "application/json; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

/// The page nginx in front of a portal answers when the portal is down.
const BAD_GATEWAY_PAGE: &str =
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// The page nginx answers when the portal is too slow.
const GATEWAY_TIMEOUT_PAGE: &str = "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n\
<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n\
</html>\r\n";

/// What the body is.
#[derive(Debug, Clone, PartialEq)]
enum Payload {
    /// Fixed bytes.
    Bytes(Bytes),
    /// `{"result":"xxx…"}` of this many bytes in all.
    Huge(u64),
    /// A success envelope around this result, with the `time` block of the moment it is sent.
    Envelope(Value),
}

/// An HTTP answer for a fault to send: any status, headers and body, possibly cut short.
///
/// ```
/// use b24_emulator::faults::Reply;
/// use serde_json::json;
/// let proxy_down = Reply::bad_gateway();
/// assert_eq!(proxy_down.status(), 502);
/// let custom = Reply::json(400, &json!({"error": "CHAT_ID", "error_description": "bad"}));
/// let dropped = Reply::wrong_shape(json!({"items": []})).cut_after(10);
/// # let _ = (custom, dropped);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    payload: Payload,
    cut_after: Option<u64>,
    /// Close without sending anything.
    hang_up: bool,
}

impl Reply {
    /// Any status, content type and body. A status outside `100..=999` is sent as 500.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
            payload: Payload::Bytes(Bytes::from(body.into())),
            cut_after: None,
            hang_up: false,
        }
    }

    /// A JSON body.
    pub fn json(status: u16, body: &Value) -> Self {
        Self::new(status, JSON, body.to_string())
    }

    /// A `text/plain` body.
    pub fn text(status: u16, text: impl Into<String>) -> Self {
        Self::new(status, "text/plain; charset=utf-8", text.into())
    }

    /// A `text/html` body.
    pub fn html(status: u16, html: impl Into<String>) -> Self {
        Self::new(status, HTML, html.into())
    }

    /// 502 with nginx's HTML page, as a proxy in front of a portal answers.
    pub fn bad_gateway() -> Self {
        Self::html(502, BAD_GATEWAY_PAGE)
    }

    /// 504 with nginx's HTML page.
    pub fn gateway_timeout() -> Self {
        Self::html(504, GATEWAY_TIMEOUT_PAGE)
    }

    /// The portal's error envelope: `{"error": code, "error_description": description}`.
    pub fn error(status: u16, code: &str, description: &str) -> Self {
        Self::json(
            status,
            &json!({"error": code, "error_description": description}),
        )
    }

    /// An error with an empty code, as some portals send: `{"error":"","error_description":…}`.
    pub fn empty_error(status: u16, description: &str) -> Self {
        Self::error(status, "", description)
    }

    /// 200 `application/json` whose body stops in the middle of the JSON (the whole body is sent
    /// and the connection stays usable: only the JSON is broken).
    pub fn truncated_json() -> Self {
        Self::new(
            200,
            JSON,
            r#"{"result":{"ID":"1","TITLE":"Truncated le"#.as_bytes(),
        )
    }

    /// 200 `application/json` `{"result":"xxx…"}` of `megabytes` MiB in all, generated while it
    /// is sent (not held in memory).
    pub fn huge(megabytes: u64) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".to_owned(), JSON.to_owned())],
            payload: Payload::Huge(megabytes.saturating_mul(1 << 20)),
            cut_after: None,
            hang_up: false,
        }
    }

    /// 200: a well-formed success envelope `{"result": result, "time": {…}}` whose `result` has
    /// whatever (wrong) shape is given.
    pub fn wrong_shape(result: Value) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".to_owned(), JSON.to_owned())],
            payload: Payload::Envelope(result),
            cut_after: None,
            hang_up: false,
        }
    }

    /// 200 with a success envelope of which only the first 20 bytes are sent before the connection
    /// is dropped: the client gets the status and headers, then an error reading the body.
    pub fn disconnect() -> Self {
        Self::wrong_shape(json!({"ID": "1", "TITLE": "never arrives"})).cut_after(20)
    }

    /// Closes the connection without answering anything: the client gets no status, only a
    /// connection closed before the message completed. Its [`status`](Reply::status) (and the
    /// journal's) is 0.
    pub fn hang_up() -> Self {
        let mut reply = Self::wrong_shape(Value::Null).cut_after(0);
        reply.status = 0;
        reply.hang_up = true;
        reply
    }

    /// Sends the headers (with the full `Content-Length`) and only the first `bytes` bytes of the
    /// body, then drops the connection. At most all but the last byte are sent.
    #[must_use]
    pub fn cut_after(mut self, bytes: u64) -> Self {
        self.cut_after = Some(bytes);
        self
    }

    /// Adds a header (a `content-type` replaces the one set).
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        let name = name.to_ascii_lowercase();
        if name == "content-type" {
            self.headers.retain(|(n, _)| *n != name);
        }
        self.headers.push((name, value.to_owned()));
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether the connection is dropped before the body is complete.
    pub fn drops_connection(&self) -> bool {
        self.cut_after.is_some()
    }

    /// Whether the connection is closed without any answer ([`Reply::hang_up`]).
    pub fn hangs_up(&self) -> bool {
        self.hang_up
    }

    /// The `error` code of a JSON error body, for the journal.
    pub(crate) fn error_code(&self) -> Option<String> {
        let Payload::Bytes(bytes) = &self.payload else {
            return None;
        };
        let value: Value = serde_json::from_slice(bytes).ok()?;
        value.get("error")?.as_str().map(str::to_owned)
    }

    /// The HTTP response; `utc_offset` dates the `time` block of [`Reply::wrong_shape`].
    pub(crate) fn to_response(&self, utc_offset: FixedOffset) -> Response {
        let source = match &self.payload {
            Payload::Bytes(bytes) => Source::Bytes(bytes.clone()),
            Payload::Huge(size) => {
                let prefix = Bytes::from_static(b"{\"result\":\"");
                let suffix = Bytes::from_static(b"\"}");
                let frame = (prefix.len() + suffix.len()) as u64;
                Source::Filled {
                    prefix,
                    filler: size.saturating_sub(frame),
                    suffix,
                }
            }
            Payload::Envelope(result) => {
                let now = SystemTime::now();
                let timing = Timing {
                    start: now,
                    finish: now,
                    processing: std::time::Duration::ZERO,
                    operating: std::time::Duration::ZERO,
                    operating_reset_at: None,
                    utc_offset,
                };
                Source::Bytes(Bytes::from(envelope::success(result, None, None, &timing)))
            }
        };
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut body = FaultBody::new(source, self.cut_after);
        if self.hang_up {
            body = body.without_flush();
        }
        let body = Body::new(body);
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.append(name, value);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_for_the_journal() {
        assert_eq!(
            Reply::error(503, "QUERY_LIMIT_EXCEEDED", "x")
                .error_code()
                .as_deref(),
            Some("QUERY_LIMIT_EXCEEDED")
        );
        assert_eq!(
            Reply::empty_error(400, "x").error_code().as_deref(),
            Some("")
        );
        assert_eq!(Reply::bad_gateway().error_code(), None);
        assert_eq!(Reply::huge(1).error_code(), None);
    }

    #[test]
    fn headers_replace_the_content_type() {
        let reply = Reply::text(200, "x").with_header("Content-Type", "text/csv");
        assert_eq!(
            reply.headers,
            vec![("content-type".to_owned(), "text/csv".to_owned())]
        );
        assert!(Reply::disconnect().drops_connection());
    }
}
