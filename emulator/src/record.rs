//! The journal of requests an emulator received, for tests to assert on.
//!
//! Every request to `/rest/` is recorded once answered, including those rejected by the limits
//! (503 `QUERY_LIMIT_EXCEEDED`, 429 `OPERATION_TIME_LIMIT`) and those answered by an injected fault
//! (with the fault's status and [`RecordedRequest::fault`]). A `batch` request is recorded as its
//! own entry, immediately followed by one entry per command it ran (with
//! [`RecordedRequest::batch_key`]). Requests to the OAuth token endpoint are not recorded (see
//! [`Portal::token_renewals`](crate::Portal::token_renewals)).

use std::time::{Duration, SystemTime};

use serde_json::Value;

/// How a request authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthKind {
    /// An incoming webhook: `/rest/<user_id>/<code>/<method>`.
    Webhook,
    /// An OAuth access token in the `auth` parameter: `/rest/<method>?auth=…`.
    OAuth,
}

/// One request the emulator received and how it answered.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// When it arrived.
    pub time: SystemTime,
    /// The HTTP method (`GET`, `POST`).
    pub http_method: String,
    /// The REST method name, lowercased, without a `.json` suffix.
    pub method: String,
    /// The kind of credentials the request carried (by its URL shape: a webhook path, or the
    /// OAuth path), whether or not they were valid.
    pub auth: AuthKind,
    /// The user the call ran as; `None` when authentication failed.
    pub user_id: Option<u64>,
    /// The parameters as the method saw them (query string and body merged), without the `auth`
    /// token. An empty object when the request could not be parsed.
    pub params: Value,
    /// The HTTP status answered; 0 when a fault closed the connection without an answer
    /// ([`Reply::hang_up`](crate::faults::Reply::hang_up)).
    pub status: u16,
    /// The `error` code answered, if the call failed.
    pub error: Option<String>,
    /// How long the emulator took to answer.
    pub elapsed: Duration,
    /// For a command run inside a `batch` request: its key in `cmd`. `None` for HTTP requests.
    pub batch_key: Option<String>,
    /// The injected fault that shaped the answer, described (`"respond 502"`, `"delay 2s"`,
    /// `"after: drop connection"`...), if any.
    pub fault: Option<String>,
}
