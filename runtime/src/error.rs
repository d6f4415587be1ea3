//! What a failed call tells you: [`Error`], its [`ErrorKind`] and the detail types.
//!
//! Every error names the method, says how many attempts were made, whether a retry could succeed
//! ([`Error::is_retryable`]) and carries what came back. None of them ever contains a webhook
//! code, token or client secret: URLs are stripped from transport errors and body copies are
//! redacted.

use std::borrow::Cow;
use std::fmt;

use crate::error_code::ErrorCode;
use crate::method::{MethodError, NoMethodErrors};
use crate::scrub::{scrub, scrub_bytes, Redact, SECRET_WINDOW};

/// The error of a call of method `M`, whose own error codes are `E` (`M::Error`).
///
/// ```
/// # async fn demo(client: b24_runtime::Client) {
/// # use b24_runtime::{Error, ErrorKind, ErrorCode, NoMethodErrors};
/// match client.call_raw("user.current", &serde_json::json!({})).await {
///     Ok(reply) => println!("{}", reply.result),
///     Err(err) if err.is_retryable() => eprintln!("try again later: {err}"),
///     Err(err) => match err.kind() {
///         ErrorKind::Api(api) if api.code == ErrorCode::InsufficientScope => eprintln!("grant the scope"),
///         _ => eprintln!("{err}"),
///     },
/// }
/// # }
/// ```
pub struct Error<E = NoMethodErrors> {
    kind: Box<ErrorKind<E>>,
    method: Cow<'static, str>,
    attempts: u32,
    idempotent: bool,
}

/// What went wrong in a call.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind<E> {
    /// One of the method's own documented error codes.
    Method {
        /// The method's error.
        error: E,
        /// The HTTP status it came with.
        status: u16,
    },
    /// A system-wide code, or a code the method's declaration does not list (kept verbatim).
    Api(ApiError),
    /// The portal could not be reached, the connection dropped, or the call timed out.
    Transport(TransportError),
    /// The portal answered with something that is not the expected Bitrix24 envelope.
    Decode(DecodeError),
    /// The access token expired and could not be renewed.
    Renewal(crate::oauth::RenewalError),
    /// A call in a batch has no result of its own (not run, or its batch request failed).
    Batch(crate::batch::BatchFailure),
    /// A list could not be paged to its end: the portal's `next`, cursor or `total` would never
    /// let it finish.
    Paging(PagingError),
    /// The call could not be made as configured (bad URL, unusable method name, parameters that
    /// do not serialize, failed token renewal …).
    Config(ConfigError),
}

impl<E> Error<E> {
    pub(crate) fn new(kind: ErrorKind<E>, method: impl Into<Cow<'static, str>>) -> Self {
        Error {
            kind: Box::new(kind),
            method: method.into(),
            attempts: 0,
            idempotent: false,
        }
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    pub(crate) fn with_idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind<E> {
        &self.kind
    }

    /// What went wrong, by value.
    pub fn into_kind(self) -> ErrorKind<E> {
        *self.kind
    }

    /// The method that was called.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// How many HTTP attempts were made before giving up (0 when the call was refused before
    /// anything was sent; for a call inside a batch, the attempts of its batch request).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The method's own error, if the portal answered with one of its declared codes.
    pub fn method_error(&self) -> Option<&E> {
        match &*self.kind {
            ErrorKind::Method { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The system or undeclared error, if the portal answered with one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match &*self.kind {
            ErrorKind::Api(api) => Some(api),
            _ => None,
        }
    }

    /// The HTTP status of the answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        match &*self.kind {
            ErrorKind::Method { status, .. } => Some(*status),
            ErrorKind::Api(api) => Some(api.status),
            ErrorKind::Decode(decode) => Some(decode.status),
            ErrorKind::Renewal(crate::oauth::RenewalError::Refused { status, .. }) => Some(*status),
            ErrorKind::Batch(crate::batch::BatchFailure::Request(e)) => e.status(),
            ErrorKind::Transport(_)
            | ErrorKind::Config(_)
            | ErrorKind::Renewal(_)
            | ErrorKind::Batch(_)
            | ErrorKind::Paging(_) => None,
        }
    }

    /// Whether the call may succeed if made again, and making it again is safe.
    ///
    /// The rate limit (`QUERY_LIMIT_EXCEEDED`) and the operating-time limit
    /// (`OPERATION_TIME_LIMIT`) always qualify: the portal did not run the call. A connection that
    /// could not be opened qualifies too. Server failures (5xx, an HTML error page), timeouts and
    /// dropped connections qualify only for idempotent methods, since the call may have run. So
    /// does a call a batch answer says nothing about ([`BatchFailure::Missing`](crate::batch::BatchFailure::Missing)).
    pub fn is_retryable(&self) -> bool {
        match &*self.kind {
            ErrorKind::Method { .. }
            | ErrorKind::Config(_)
            | ErrorKind::Renewal(_)
            | ErrorKind::Paging(_) => false,
            ErrorKind::Api(api) => {
                api.code.call_did_not_run()
                    || (self.idempotent && (api.code.is_server_failure() || api.status >= 500))
                        && api.code != ErrorCode::OverloadLimit
            }
            ErrorKind::Transport(t) => t.is_connect() || self.idempotent,
            ErrorKind::Decode(d) => self.idempotent && d.status >= 500,
            ErrorKind::Batch(crate::batch::BatchFailure::NotExecuted) => true,
            ErrorKind::Batch(crate::batch::BatchFailure::Missing) => self.idempotent,
            ErrorKind::Batch(crate::batch::BatchFailure::Request(e)) => e.is_retryable(),
        }
    }

    /// Turns the error into one without the method's own type, keeping everything else
    /// (the method error becomes an [`ApiError`] with its code).
    pub fn erase(self) -> Error<NoMethodErrors>
    where
        E: MethodError,
    {
        let kind = match *self.kind {
            ErrorKind::Method { error, status } => ErrorKind::Api(ApiError {
                code: ErrorCode::parse(error.code()),
                description: error.description().to_owned(),
                status,
            }),
            ErrorKind::Api(a) => ErrorKind::Api(a),
            ErrorKind::Transport(t) => ErrorKind::Transport(t),
            ErrorKind::Decode(d) => ErrorKind::Decode(d),
            ErrorKind::Config(c) => ErrorKind::Config(c),
            ErrorKind::Renewal(r) => ErrorKind::Renewal(r),
            ErrorKind::Batch(b) => ErrorKind::Batch(b),
            ErrorKind::Paging(p) => ErrorKind::Paging(p),
        };
        Error {
            kind: Box::new(kind),
            method: self.method,
            attempts: self.attempts,
            idempotent: self.idempotent,
        }
    }
}

/// One order for every error that came back from the portal: `<method> failed: <what> (HTTP
/// <status>…): <detail>`, then ` (after N attempts)` when there were several:
///
/// - a method's own code: `imopenlines.session.start failed: CHAT_TYPE (HTTP 400): The specified
///   chat is not an open line`;
/// - another code ([`ApiError`]): `… failed: QUERY_LIMIT_EXCEEDED (HTTP 503): Too many requests`;
/// - an answer that is no envelope ([`DecodeError`]): `… failed: unexpected answer (HTTP 502,
///   150 bytes): the body is not valid JSON: …`;
/// - a refused renewal: `… failed: the OAuth server refused to renew the token: invalid_grant
///   (HTTP 400): …`.
impl<E: MethodError> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: ", self.method)?;
        match &*self.kind {
            ErrorKind::Method { error, status } => write!(
                f,
                "{} ({}): {}",
                error.code(),
                HttpStatus(*status),
                error.description()
            )?,
            ErrorKind::Api(e) => write!(f, "{e}")?,
            ErrorKind::Transport(e) => write!(f, "{e}")?,
            ErrorKind::Decode(e) => write!(f, "{e}")?,
            ErrorKind::Config(e) => write!(f, "{e}")?,
            ErrorKind::Renewal(e) => write!(f, "{e}")?,
            ErrorKind::Batch(e) => write!(f, "{e}")?,
            ErrorKind::Paging(e) => write!(f, "{e}")?,
        }
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug> fmt::Debug for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("method", &self.method)
            .field("kind", &self.kind)
            .field("attempts", &self.attempts)
            .field("idempotent", &self.idempotent)
            .finish()
    }
}

impl<E: MethodError> std::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.kind {
            ErrorKind::Transport(t) => Some(t),
            ErrorKind::Decode(d) => Some(d),
            ErrorKind::Api(a) => Some(a),
            ErrorKind::Config(c) => Some(c),
            ErrorKind::Renewal(r) => Some(r),
            ErrorKind::Batch(b) => Some(b),
            ErrorKind::Paging(p) => Some(p),
            ErrorKind::Method { .. } => None,
        }
    }
}

/// `HTTP 400`, or `in a batch` for status 0 (a `batch` command's error carries no status).
struct HttpStatus(u16);

impl fmt::Display for HttpStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("in a batch"),
            status => write!(f, "HTTP {status}"),
        }
    }
}

/// An error code the portal answered with that is not one of the method's declared codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} ({}): {description}", HttpStatus(*status))]
pub struct ApiError {
    /// The code, parsed; unknown codes are kept in [`ErrorCode::Other`] (secrets redacted, at
    /// most [`ErrorCode::MAX_LEN`] bytes).
    pub code: ErrorCode,
    /// The portal's `error_description` (empty if it sent none; secrets redacted, at most
    /// [`DecodeError::BODY_LIMIT`] bytes).
    pub description: String,
    /// The HTTP status.
    pub status: u16,
}

impl ApiError {
    /// The error of a code and description as they came from the server: both redacted and
    /// bounded. Known codes are matched on the code as sent.
    pub(crate) fn from_wire(
        code: &str,
        description: String,
        status: u16,
        redact: Redact<'_>,
    ) -> Self {
        ApiError {
            code: ErrorCode::from_wire(code, redact),
            description,
            status,
        }
    }
}

/// The code of an `error` field as it came (a string; REST 3.0's `{"code": …}`; anything else
/// as its JSON text), unscrubbed: for matching, then for [`ErrorCode::from_wire`]. Empty when
/// there is none.
pub(crate) fn code_of(error: &serde_json::Value) -> Cow<'_, str> {
    match error {
        serde_json::Value::String(code) => Cow::Borrowed(code),
        serde_json::Value::Object(obj) => match obj.get("code") {
            Some(serde_json::Value::String(code)) => Cow::Borrowed(code),
            Some(other) if !other.is_null() => Cow::Owned(other.to_string()),
            _ => Cow::Borrowed(""),
        },
        serde_json::Value::Null | serde_json::Value::Bool(false) => Cow::Borrowed(""),
        other => Cow::Owned(other.to_string()),
    }
}

/// A description as it came from the server, redacted and bounded.
pub(crate) fn description_of(text: &str, redact: Redact<'_>) -> String {
    scrub(text, DecodeError::BODY_LIMIT, redact)
}

/// A failure to exchange a request and a response with the portal.
///
/// `Display` shows the kind and the chain of causes ("could not connect to the portal: error
/// sending request: client error (Connect): tcp connect error: Connection refused (os error
/// 111)"), never the URL (which may hold a webhook code).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind}: {causes}")]
pub struct TransportError {
    kind: TransportErrorKind,
    /// The causes' messages, outermost first, joined by `: ` (bounded).
    causes: String,
    #[source]
    source: std::sync::Arc<reqwest::Error>,
}

/// The kind of a [`TransportError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be opened: nothing was sent.
    Connect,
    /// The call did not complete within the timeout.
    Timeout,
    /// The connection dropped while the response was being read.
    Body,
    /// Any other failure of the HTTP client.
    Other,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportErrorKind::Connect => "could not connect to the portal",
            TransportErrorKind::Timeout => "the call timed out",
            TransportErrorKind::Body => "the connection dropped while reading the answer",
            TransportErrorKind::Other => "HTTP error",
        })
    }
}

impl TransportError {
    /// Wraps a reqwest error, dropping its URL (which holds the webhook code).
    pub(crate) fn new(source: reqwest::Error) -> Self {
        let kind = if source.is_timeout() {
            TransportErrorKind::Timeout
        } else if source.is_connect() {
            TransportErrorKind::Connect
        } else if source.is_body() || source.is_decode() {
            TransportErrorKind::Body
        } else {
            TransportErrorKind::Other
        };
        let source = source.without_url();
        TransportError {
            kind,
            causes: cause_chain(&source),
            source: std::sync::Arc::new(source),
        }
    }

    /// The causes' messages, outermost first, joined by `: `.
    pub fn causes(&self) -> &str {
        &self.causes
    }

    /// What kind of failure it was.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether the connection could not be opened (so nothing reached the portal).
    pub fn is_connect(&self) -> bool {
        self.kind == TransportErrorKind::Connect
    }

    /// Whether the call timed out.
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportErrorKind::Timeout
    }
}

/// The portal answered with something that is not a Bitrix24 envelope of the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unexpected answer (HTTP {status}, {body_len} bytes): {reason}")]
pub struct DecodeError {
    /// The HTTP status of the answer.
    pub status: u16,
    /// The `Content-Type` of the answer, if any.
    pub content_type: Option<String>,
    /// The start of the body as it came back (at most [`DecodeError::BODY_LIMIT`] bytes, secrets
    /// redacted, invalid UTF-8 replaced).
    pub body: String,
    /// The length of the whole body in bytes.
    pub body_len: usize,
    /// Why it could not be decoded.
    pub reason: DecodeReason,
}

impl DecodeError {
    /// How much of the body a [`DecodeError`] keeps.
    pub const BODY_LIMIT: usize = 4096;

    /// An answer that could not be decoded: a copy of its start, redacted before it is cut (so
    /// that a secret across the cut leaves no prefix behind), then bounded.
    pub(crate) fn of_answer(
        status: u16,
        content_type: Option<String>,
        body: &[u8],
        reason: DecodeReason,
        redact: &dyn Fn(String) -> String,
    ) -> Self {
        DecodeError {
            status,
            content_type: content_type.map(|t| scrub(&t, Self::BODY_LIMIT, redact)),
            body: scrub_bytes(body, Self::BODY_LIMIT, redact),
            body_len: body.len(),
            reason,
        }
    }

    /// A `result` (or a part of one: a batch sub-result, a list row) that is not of the declared
    /// shape. The copy of the value, the path (whose map keys came from the server) and the
    /// message (which may quote a value) are redacted, then bounded.
    pub(crate) fn result_shape(
        value: &serde_json::Value,
        path: &str,
        message: &str,
        redact: &dyn Fn(String) -> String,
    ) -> Self {
        let write = |head: &mut Head| {
            let _ = serde_json::to_writer(head, value);
        };
        Self::shape_of(write, path, message, redact)
    }

    /// [`result_shape`](Self::result_shape) of a value given as its JSON text.
    pub(crate) fn raw_result_shape(
        text: &str,
        path: &str,
        message: &str,
        redact: &dyn Fn(String) -> String,
    ) -> Self {
        let write = |head: &mut Head| {
            let _ = std::io::Write::write_all(head, text.as_bytes());
        };
        Self::shape_of(write, path, message, redact)
    }

    fn shape_of(
        write: impl FnOnce(&mut Head),
        path: &str,
        message: &str,
        redact: &dyn Fn(String) -> String,
    ) -> Self {
        // Only the start of the value's text is kept: a value of megabytes is not copied whole.
        let mut head = Head {
            kept: Vec::new(),
            room: Self::BODY_LIMIT + SECRET_WINDOW,
            len: 0,
        };
        write(&mut head);
        DecodeError {
            status: 200,
            content_type: None,
            body_len: head.len,
            body: scrub_bytes(&head.kept, Self::BODY_LIMIT, redact),
            reason: DecodeReason::shape(path, message, redact),
        }
    }
}

/// A writer that keeps the first `room` bytes written to it and counts them all.
struct Head {
    kept: Vec<u8>,
    room: usize,
    len: usize,
}

impl std::io::Write for Head {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let take = buf.len().min(self.room - self.kept.len());
        self.kept.extend_from_slice(&buf[..take]);
        self.len += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl DecodeReason {
    /// [`DecodeReason::NotJson`] with the parser's message (which may quote the body), redacted
    /// and bounded.
    pub(crate) fn not_json(message: &str, redact: Redact<'_>) -> Self {
        DecodeReason::NotJson {
            message: scrub(message, DecodeError::BODY_LIMIT, redact),
        }
    }

    /// [`DecodeReason::ResultShape`] from a `serde_path_to_error` path (`.` for the root) and a
    /// message, both redacted and bounded.
    pub(crate) fn shape(path: &str, message: &str, redact: Redact<'_>) -> Self {
        let path = match path {
            "" | "." => String::new(),
            path => scrub(&format!(".{path}"), DecodeError::BODY_LIMIT, redact),
        };
        DecodeReason::ResultShape {
            path,
            message: scrub(message, DecodeError::BODY_LIMIT, redact),
        }
    }
}

/// Why an answer could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeReason {
    /// The body is not JSON (an HTML error page, truncated JSON, nothing at all …).
    #[error("the body is not valid JSON: {message}")]
    NotJson {
        /// The JSON parser's message.
        message: String,
    },
    /// The error envelope had an empty or missing `error` code.
    #[error("the error envelope has an empty code (description: \"{description}\")")]
    EmptyErrorCode {
        /// The `error_description`, if any.
        description: String,
    },
    /// The envelope had neither `result` nor `error`.
    #[error("the answer has neither `result` nor `error`")]
    NoResult,
    /// `result` did not have the declared shape.
    #[error("`result{path}` does not match the declared type: {message}")]
    ResultShape {
        /// Where in `result` decoding failed, e.g. `.users.103.avatarId`.
        path: String,
        /// What was wrong there.
        message: String,
    },
    /// The body was larger than the client accepts.
    #[error("the body exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
}

/// The client or the call is not usable as configured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The URL could not be parsed or is not of the expected form.
    #[error("invalid URL {url}: {reason}")]
    InvalidUrl {
        /// The URL with any secret in it replaced by `***`.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A plain-http URL for a host that is not loopback, without the explicit opt-in.
    #[error("refusing plain http to {host}: use https, or opt in with ClientBuilder::allow_insecure_http")]
    InsecureUrl {
        /// The host.
        host: String,
    },
    /// No credentials were given to the builder.
    #[error("no credentials: call ClientBuilder::webhook or ClientBuilder::oauth")]
    MissingCredentials,
    /// A method name that cannot be a Bitrix24 method.
    #[error("invalid method name {name:?}: use dot-separated segments of letters, digits and _")]
    InvalidMethodName {
        /// The name.
        name: String,
    },
    /// The parameters could not be serialized.
    #[error("the parameters do not serialize: {message}")]
    Params {
        /// The serializer's message.
        message: String,
    },
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built: {0}")]
    Http(#[source] reqwest::Error),
}

/// A list that cannot be paged to its end ([`ErrorKind::Paging`]): following the portal's
/// answers would never finish, or would claim more than the client accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PagingError {
    /// `next` does not move past the page just read (the same start, an earlier one, or 0).
    #[error("the portal's `next` ({next}) does not advance past the page at start={start}")]
    Stalled {
        /// The `start` of the page just read.
        start: u64,
        /// The `next` it answered with.
        next: u64,
    },
    /// Fast mode: the last row's cursor field does not move past the previous page's (or is
    /// not a number).
    #[error(
        "the cursor field `{field}` of the last row does not advance past the previous page's"
    )]
    CursorStalled {
        /// The cursor field (e.g. `ID`).
        field: &'static str,
    },
    /// Parallel paging: the first page names a `next` but no usable `total`, so the pages to
    /// fetch are unknown (`Client::list` follows `next` instead).
    #[error("the portal's first page names a next page ({next}) but no usable `total`")]
    NoTotal {
        /// The `next` it answered with.
        next: u64,
    },
    /// `total` or `next` is above the client's ceiling
    /// ([`ClientBuilder::max_list_rows`](crate::ClientBuilder::max_list_rows)).
    #[error("the portal claims {rows} rows, above the client's ceiling of {limit}")]
    TooManyRows {
        /// The `total` (or `next`) the portal answered with.
        rows: u64,
        /// The ceiling.
        limit: u64,
    },
}

/// The messages of `error` and its sources, outermost first, joined by `: `; a message already
/// contained in the one before it is skipped (wrappers often repeat their cause). At most eight
/// levels, and bounded like copied text.
fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut previous = String::new();
    let mut next = Some(error);
    for _ in 0..8 {
        let Some(error) = next else { break };
        let message = error.to_string();
        if !message.is_empty() && !previous.contains(&message) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&message);
        }
        previous = message;
        next = error.source();
    }
    crate::scrub::cut(out, DecodeError::BODY_LIMIT)
}

#[cfg(test)]
mod display_order {
    use super::*;

    /// A method's own codes, as `#[b24_method]` declares them.
    #[derive(Debug, Clone, PartialEq)]
    enum StartError {
        ChatType(String),
    }

    impl fmt::Display for StartError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}: {}", self.code(), self.description())
        }
    }

    impl MethodError for StartError {
        fn from_code(code: &str, _: u16, description: &str) -> Option<Self> {
            (code == "CHAT_TYPE").then(|| StartError::ChatType(description.to_owned()))
        }
        fn code(&self) -> &'static str {
            "CHAT_TYPE"
        }
        fn description(&self) -> &str {
            let StartError::ChatType(description) = self;
            description
        }
    }

    const METHOD: &str = "imopenlines.session.start";

    fn api(code: &str, status: u16, description: &str) -> ErrorKind<StartError> {
        ErrorKind::Api(ApiError {
            code: ErrorCode::parse(code),
            description: description.to_owned(),
            status,
        })
    }

    fn decode(status: u16, body: &str, reason: DecodeReason) -> ErrorKind<StartError> {
        ErrorKind::Decode(DecodeError {
            status,
            content_type: None,
            body: body.to_owned(),
            body_len: body.len(),
            reason,
        })
    }

    #[test]
    fn method_api_and_decode_errors_say_what_then_status_then_detail() {
        let chat_type = "The specified chat is not an open line";
        let cases: Vec<(ErrorKind<StartError>, u32, &str)> = vec![
            (
                ErrorKind::Method {
                    error: StartError::ChatType(chat_type.to_owned()),
                    status: 400,
                },
                1,
                "CHAT_TYPE (HTTP 400): The specified chat is not an open line",
            ),
            (
                api("QUERY_LIMIT_EXCEEDED", 503, "Too many requests"),
                4,
                "QUERY_LIMIT_EXCEEDED (HTTP 503): Too many requests (after 4 attempts)",
            ),
            (
                api("SOME_NEW_CODE", 400, "text"),
                1,
                "SOME_NEW_CODE (HTTP 400): text",
            ),
            // A batch command's error has no HTTP status of its own.
            (
                ErrorKind::Method {
                    error: StartError::ChatType(chat_type.to_owned()),
                    status: 0,
                },
                1,
                "CHAT_TYPE (in a batch): The specified chat is not an open line",
            ),
            (
                api("ACCESS_DENIED", 0, "denied"),
                1,
                "ACCESS_DENIED (in a batch): denied",
            ),
            (
                decode(
                    502,
                    "<html>",
                    DecodeReason::NotJson {
                        message: "expected value at line 1 column 1".to_owned(),
                    },
                ),
                1,
                "unexpected answer (HTTP 502, 6 bytes): the body is not valid JSON: expected value at line 1 column 1",
            ),
            (
                decode(200, "{}", DecodeReason::NoResult),
                2,
                "unexpected answer (HTTP 200, 2 bytes): the answer has neither `result` nor `error` (after 2 attempts)",
            ),
        ];
        for (kind, attempts, detail) in cases {
            let error = Error::new(kind, METHOD).with_attempts(attempts);
            let shown = error.to_string();
            assert_eq!(shown, format!("{METHOD} failed: {detail}"));
            // The one order: what, then the status in parentheses, then ": " and the detail.
            let rest = shown.strip_prefix(&format!("{METHOD} failed: ")).unwrap();
            let status_at = rest
                .find(" (HTTP ")
                .or_else(|| rest.find(" (in a batch)"))
                .expect("a status");
            let detail_at = rest[status_at..].find("): ").expect("a detail") + status_at;
            assert!(status_at > 0 && detail_at > status_at, "{shown}");
        }
    }
}
