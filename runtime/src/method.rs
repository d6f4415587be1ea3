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
    /// The decoded `result` of a successful call.
    type Output: Lenient + Send;
    /// The method's own documented error codes.
    type Error: MethodError;
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
