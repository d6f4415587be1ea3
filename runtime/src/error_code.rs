//! The system-wide error codes any method may return (`_includes/system-errors.md`, its Russian
//! copy for `OPERATION_TIME_LIMIT`, and the codes the portal and the OAuth server are known to
//! send). Codes are matched ASCII-case-insensitively; anything else is kept verbatim in
//! [`ErrorCode::Other`], never dropped.

use std::fmt;

use crate::scrub::{scrub, Redact};

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $wire:literal ),* $(,)?) => {
        /// A system-wide Bitrix24 error code.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
            /// A code this crate does not know, as the portal sent it: verbatim up to
            /// [`ErrorCode::MAX_LEN`] bytes (longer codes are cut and end in `…`); in errors of
            /// a call, with the client's secrets replaced by `***`.
            Other(String),
        }

        impl ErrorCode {
            /// Parses a code as the portal sends it (case-insensitively). An unknown code is kept
            /// in [`ErrorCode::Other`], cut to [`ErrorCode::MAX_LEN`] bytes.
            pub fn parse(code: &str) -> Self {
                Self::from_wire(code, &|code| code)
            }

            /// Parses a code as it came from the server: a known code is matched on the code as
            /// sent; an unknown one is kept redacted (by the client's `redact`) and bounded.
            pub(crate) fn from_wire(code: &str, redact: Redact<'_>) -> Self {
                $( if code.eq_ignore_ascii_case($wire) { return ErrorCode::$variant; } )*
                ErrorCode::Other(scrub(code, Self::MAX_LEN, redact))
            }

            /// The code as documented (for [`ErrorCode::Other`], as it came back).
            pub fn as_str(&self) -> &str {
                match self {
                    $( ErrorCode::$variant => $wire, )*
                    ErrorCode::Other(code) => code,
                }
            }
        }
    };
}

codes! {
    /// 500: an internal server error.
    InternalServerError = "INTERNAL_SERVER_ERROR",
    /// 500: the server returned an unexpected answer.
    ErrorUnexpectedAnswer = "ERROR_UNEXPECTED_ANSWER",
    /// 503: the request rate limit (leaky bucket) was exceeded; the call did not run.
    QueryLimitExceeded = "QUERY_LIMIT_EXCEEDED",
    /// 429: the method's operating-time budget is spent; the call did not run.
    OperationTimeLimit = "OPERATION_TIME_LIMIT",
    /// 405: the method may not be called inside `batch`.
    ErrorBatchMethodNotAllowed = "ERROR_BATCH_METHOD_NOT_ALLOWED",
    /// 400: more than 50 commands in one `batch`.
    ErrorBatchLengthExceeded = "ERROR_BATCH_LENGTH_EXCEEDED",
    /// 401: wrong access token or webhook code.
    NoAuthFound = "NO_AUTH_FOUND",
    /// 400: HTTPS is required.
    InvalidRequest = "INVALID_REQUEST",
    /// 503: the REST API was blocked by hand for this client; do not retry.
    OverloadLimit = "OVERLOAD_LIMIT",
    /// 403: REST is only available on commercial plans (or another access refusal).
    AccessDenied = "ACCESS_DENIED",
    /// 403: the user behind the token or webhook lacks the permissions.
    InvalidCredentials = "INVALID_CREDENTIALS",
    /// 404: the manifest is not available.
    ErrorManifestIsNotAvailable = "ERROR_MANIFEST_IS_NOT_AVAILABLE",
    /// 403: the token or webhook lacks the method's scope.
    InsufficientScope = "insufficient_scope",
    /// 401: the OAuth access token has expired: renew it and replay the call.
    ExpiredToken = "expired_token",
    /// 401: the OAuth access token is invalid.
    InvalidToken = "INVALID_TOKEN",
    /// 403: the user has no access to the application.
    UserAccessError = "user_access_error",
    /// The portal was deleted or its public part is closed.
    PortalDeleted = "PORTAL_DELETED",
    /// 404: no such method.
    ErrorMethodNotFound = "ERROR_METHOD_NOT_FOUND",
    /// 401: an administrator must confirm the method for this application.
    MethodConfirmWaiting = "METHOD_CONFIRM_WAITING",
    /// 403: an administrator refused the method for this application.
    MethodConfirmDenied = "METHOD_CONFIRM_DENIED",
    /// 403: the method needs another kind of authorization.
    WrongAuthType = "WRONG_AUTH_TYPE",
    /// 400: the request body was not UTF-8.
    WrongEncoding = "WRONG_ENCODING",
    /// The application's paid period is over (OAuth server).
    PaymentRequired = "PAYMENT_REQUIRED",
    /// The refresh token or authorization code is invalid or revoked (OAuth server).
    InvalidGrant = "invalid_grant",
    /// The client id or secret is wrong (OAuth server).
    InvalidClient = "invalid_client",
}

impl ErrorCode {
    /// The longest [`ErrorCode::Other`] kept, in bytes: real codes are a few dozen; an answer
    /// whose `error` is megabytes long makes a code of this size.
    pub const MAX_LEN: usize = 256;

    /// Whether the portal refused the call before running it, so that repeating it later is
    /// safe for any method: the rate limit and the operating-time limit.
    pub fn call_did_not_run(&self) -> bool {
        matches!(
            self,
            ErrorCode::QueryLimitExceeded | ErrorCode::OperationTimeLimit
        )
    }

    /// Whether the code says the OAuth access token must be renewed.
    pub fn is_expired_token(&self) -> bool {
        matches!(self, ErrorCode::ExpiredToken | ErrorCode::InvalidToken)
    }

    /// Whether the code is a server-side failure (the call may or may not have run).
    pub fn is_server_failure(&self) -> bool {
        matches!(
            self,
            ErrorCode::InternalServerError | ErrorCode::ErrorUnexpectedAnswer
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively_and_keeps_unknown_codes() {
        assert_eq!(ErrorCode::parse("expired_token"), ErrorCode::ExpiredToken);
        assert_eq!(ErrorCode::parse("EXPIRED_TOKEN"), ErrorCode::ExpiredToken);
        assert_eq!(
            ErrorCode::parse("query_limit_exceeded"),
            ErrorCode::QueryLimitExceeded
        );
        assert_eq!(
            ErrorCode::parse("SOMETHING_NEW"),
            ErrorCode::Other("SOMETHING_NEW".into())
        );
        assert_eq!(ErrorCode::parse("SOMETHING_NEW").as_str(), "SOMETHING_NEW");
        assert_eq!(ErrorCode::InsufficientScope.as_str(), "insufficient_scope");
    }

    #[test]
    fn unknown_codes_are_bounded_and_redacted() {
        let huge = "X".repeat(8 << 20);
        let code = ErrorCode::parse(&huge);
        assert!(code.as_str().len() <= ErrorCode::MAX_LEN && code.as_str().ends_with('…'));
        let hide = |s: String| s.replace("s3cret", "***");
        assert_eq!(
            ErrorCode::from_wire("BAD_s3cret", &hide),
            ErrorCode::Other("BAD_***".into())
        );
        assert_eq!(
            ErrorCode::from_wire("expired_token", &hide),
            ErrorCode::ExpiredToken
        );
    }
}
