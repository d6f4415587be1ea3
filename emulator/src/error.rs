//! The error a REST call answers with: `{"error": "CODE", "error_description": "text"}` plus an HTTP
//! status.
//!
//! Method handlers return [`ApiError`] for their own errors (status 400 by default, as the method
//! pages document); the system errors every method may produce (`_includes/system-errors.md` and
//! `PROTOCOL.md`) have named constructors here so that their codes, texts and statuses live in one
//! place.

use serde_json::{json, Value};

/// An error answer of the REST API.
///
/// Serialised as `{"error": code, "error_description": description}` with no `time` block, sent with
/// [`status`](ApiError::status).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} ({status}): {description}")]
pub struct ApiError {
    code: String,
    description: String,
    status: u16,
}

impl ApiError {
    /// A method error with the default status 400 (`CHAT_ID`, `ACCESS_DENIED`, ...).
    pub fn new(code: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            description: description.into(),
            status: 400,
        }
    }

    /// The same error answered with another HTTP status.
    ///
    /// A status outside `100..=999` cannot be sent; it is answered as 500.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The `error` field: the error code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The `error_description` field.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The JSON body of the answer.
    pub fn to_body(&self) -> Value {
        json!({ "error": self.code, "error_description": self.description })
    }

    /// 401 `NO_AUTH_FOUND` "Wrong authorization data": unknown webhook code or user, missing or
    /// unknown access token.
    pub fn no_auth_found() -> Self {
        Self::new("NO_AUTH_FOUND", "Wrong authorization data").with_status(401)
    }

    /// 401 `expired_token` "The access token provided has expired".
    pub fn expired_token() -> Self {
        Self::new("expired_token", "The access token provided has expired").with_status(401)
    }

    /// 404 `ERROR_METHOD_NOT_FOUND` "Method not found!".
    pub fn method_not_found() -> Self {
        Self::new("ERROR_METHOD_NOT_FOUND", "Method not found!").with_status(404)
    }

    /// 400 `WRONG_ENCODING`: the request was not UTF-8.
    pub fn wrong_encoding() -> Self {
        Self::new("WRONG_ENCODING", "Wrong request encoding")
    }

    /// 400 `INVALID_REQUEST` with a description of what is wrong with the request itself.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("INVALID_REQUEST", description)
    }

    /// 500 `INTERNAL_SERVER_ERROR` "Internal server error".
    pub fn internal() -> Self {
        Self::new("INTERNAL_SERVER_ERROR", "Internal server error").with_status(500)
    }

    /// 503 `QUERY_LIMIT_EXCEEDED` "Too many requests": the leaky bucket overflowed.
    pub fn query_limit_exceeded() -> Self {
        Self::new("QUERY_LIMIT_EXCEEDED", "Too many requests").with_status(503)
    }

    /// 429 `OPERATION_TIME_LIMIT` "Method is blocked due to operation time limit": the method's
    /// operating-time budget is spent.
    pub fn operation_time_limit() -> Self {
        Self::new(
            "OPERATION_TIME_LIMIT",
            "Method is blocked due to operation time limit",
        )
        .with_status(429)
    }

    /// 400 `ERROR_BATCH_LENGTH_EXCEEDED` "Max batch length exceeded": a `batch` command beyond the
    /// 50th.
    pub fn batch_length_exceeded() -> Self {
        Self::new("ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded")
    }

    /// 405 `ERROR_BATCH_METHOD_NOT_ALLOWED` "Method is not allowed for batch usage": `batch` inside
    /// `batch`.
    pub fn batch_method_not_allowed() -> Self {
        Self::new(
            "ERROR_BATCH_METHOD_NOT_ALLOWED",
            "Method is not allowed for batch usage",
        )
        .with_status(405)
    }

    /// 503 `OVERLOAD_LIMIT` "REST API is blocked due to overload".
    pub fn overload_limit() -> Self {
        Self::new("OVERLOAD_LIMIT", "REST API is blocked due to overload").with_status(503)
    }

    /// 403 `insufficient_scope`.
    pub fn insufficient_scope() -> Self {
        Self::new(
            "insufficient_scope",
            "The request requires higher privileges than provided by the webhook token",
        )
        .with_status(403)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_only_code_and_description() {
        let err = ApiError::new("CHAT_ID", "bad");
        assert_eq!(err.status(), 400);
        assert_eq!(
            err.to_body(),
            json!({"error": "CHAT_ID", "error_description": "bad"})
        );
    }

    #[test]
    fn system_errors_carry_their_statuses() {
        assert_eq!(ApiError::no_auth_found().status(), 401);
        assert_eq!(ApiError::expired_token().code(), "expired_token");
        assert_eq!(ApiError::method_not_found().status(), 404);
        assert_eq!(ApiError::wrong_encoding().status(), 400);
        assert_eq!(ApiError::query_limit_exceeded().status(), 503);
        assert_eq!(ApiError::operation_time_limit().status(), 429);
        assert_eq!(ApiError::batch_length_exceeded().status(), 400);
        assert_eq!(ApiError::batch_method_not_allowed().status(), 405);
    }
}
