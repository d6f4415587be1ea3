//! What a declared method is: the [`Method`] trait that `#[b24_method]` implements, and the
//! [`MethodError`] trait of each method's own error codes.

use std::fmt;

use serde::Serialize;

use crate::de::Lenient;

/// A Bitrix24 REST method together with its parameters: the request.
///
/// Implemented by `#[b24_method("scope.name")]`; the struct's fields are the parameters and its
/// [`Serialize`] impl is their wire form (the JSON body the portal receives).
pub trait Method: Serialize + Send + Sync {
    /// The method's name exactly as the portal knows it, e.g. `imopenlines.session.start`.
    const NAME: &'static str;
    /// The permission scope the method belongs to, e.g. `imopenlines`.
    const SCOPE: &'static str;
    /// Whether repeating the call is harmless (reads are). Only idempotent calls are retried after
    /// a failure that may have happened after the portal ran the call (5xx, timeout, dropped
    /// connection).
    const IDEMPOTENT: bool;
    /// Which REST API the method is called through: the classic `/rest/<method>` (the default)
    /// or REST 3.0 (`/rest/api/<method>`, JSON only, `Idempotency-Key` on writes).
    const API_VERSION: ApiVersion = ApiVersion::V2;
    /// The decoded `result` of a successful call.
    type Output: Lenient + Send;
    /// The method's own documented error codes.
    type Error: MethodError;
}

/// The REST API a method is called through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ApiVersion {
    /// The classic REST API: `https://<portal>/rest/<method>` (webhook: `/rest/<user>/<code>/<method>`).
    #[default]
    V2,
    /// REST 3.0: `https://<portal>/rest/api/<method>` (`api-reference/rest-v3.md`): JSON bodies only,
    /// errors as `{"error": {"code", "message", "validation"}}`, and writes made safe to retry by
    /// an `Idempotency-Key` header.
    V3,
}

/// The documented error codes of one method, as a generated enum.
pub trait MethodError: fmt::Debug + fmt::Display + Send + Sync + Sized + 'static {
    /// Maps the portal's `error` code (and HTTP status) to one of the method's declared codes.
    ///
    /// Returns `None` when the code is not one of this method's: the runtime then reports it as a
    /// system or unknown code, never dropping it. A `status` of 0 means the status is unknown
    /// (a call inside a `batch`, whose errors carry none): declared statuses are not checked.
    fn from_code(code: &str, status: u16, description: &str) -> Option<Self>;

    /// The wire code of this error, e.g. `CHAT_ID`.
    fn code(&self) -> &'static str;

    /// The server's `error_description` as it came back.
    fn description(&self) -> &str;
}

/// The error type of methods that declare no error codes of their own (and of raw calls).
///
/// It has no values: every code such a method receives is reported as an [`ApiError`](crate::ApiError).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoMethodErrors {}

impl fmt::Display for NoMethodErrors {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

impl std::error::Error for NoMethodErrors {}

impl MethodError for NoMethodErrors {
    fn from_code(_: &str, _: u16, _: &str) -> Option<Self> {
        None
    }

    fn code(&self) -> &'static str {
        match *self {}
    }

    fn description(&self) -> &str {
        match *self {}
    }
}
