//! Retries: which failures are retried and how long to wait between attempts.
//!
//! - `QUERY_LIMIT_EXCEEDED` and `OPERATION_TIME_LIMIT` are always retried: the portal did not run
//!   the call.
//! - A connection that could not be opened is always retried: nothing was sent.
//! - 5xx answers (JSON or an HTML page), timeouts and connections dropped mid-answer are retried
//!   only for methods declared idempotent, since the portal may have run the call.
//! - Everything else (a method's own error, auth errors, bad parameters) is returned at once.
//!
//! Waits grow exponentially with jitter, capped by [`RetryPolicy::max_delay`].

use std::time::Duration;

use crate::error::ErrorKind;
use crate::error_code::ErrorCode;

/// How often and how patiently calls are retried.
///
/// ```
/// use std::time::Duration;
/// use b24_runtime::RetryPolicy;
/// let patient = RetryPolicy::default().max_attempts(8).base_delay(Duration::from_secs(1));
/// let never = RetryPolicy::none();
/// assert_eq!(never.attempts(), 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Four attempts, waits from 250 ms doubling up to 20 s.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// No retries: every call is made once.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The most attempts a call makes, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The wait before the first retry; later waits double.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The longest wait between two attempts.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The most attempts a call makes.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait before attempt `attempt + 1` (after `attempt` failed attempts): between half and
    /// all of `base · 2^(attempt-1)`, capped by the maximum (jittered, so that many clients that
    /// failed together do not retry together).
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let cap = exp.min(self.max_delay);
        cap.mul_f64(0.5 + fastrand::f64() * 0.5)
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Return the error.
    Fail,
    /// Back off, then try again.
    Backoff,
    /// The rate limit was hit: mark the bucket full, back off, try again.
    RateLimited,
    /// The method's operating time is spent: hold it back until its reset, try again.
    OperatingLimited,
    /// The access token expired: renew it and replay.
    Renew,
}

/// Classifies a failed attempt.
pub(crate) fn verdict<E>(kind: &ErrorKind<E>, idempotent: bool) -> Verdict {
    match kind {
        ErrorKind::Api(api) => match api.code {
            ErrorCode::QueryLimitExceeded => Verdict::RateLimited,
            ErrorCode::OperationTimeLimit => Verdict::OperatingLimited,
            ErrorCode::ExpiredToken | ErrorCode::InvalidToken => Verdict::Renew,
            ErrorCode::OverloadLimit => Verdict::Fail,
            ErrorCode::InternalServerError | ErrorCode::ErrorUnexpectedAnswer if idempotent => {
                Verdict::Backoff
            }
            _ if idempotent && api.status >= 500 => Verdict::Backoff,
            _ => Verdict::Fail,
        },
        ErrorKind::Transport(t) if t.is_connect() || idempotent => Verdict::Backoff,
        ErrorKind::Decode(d) if idempotent && d.status >= 500 => Verdict::Backoff,
        _ => Verdict::Fail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ApiError, DecodeError, DecodeReason};
    use crate::method::NoMethodErrors;

    fn api(code: &str, status: u16) -> ErrorKind<NoMethodErrors> {
        ErrorKind::Api(ApiError {
            code: ErrorCode::parse(code),
            description: String::new(),
            status,
        })
    }

    #[test]
    fn limits_are_always_retried_server_failures_only_when_idempotent() {
        for idempotent in [false, true] {
            assert_eq!(
                verdict(&api("QUERY_LIMIT_EXCEEDED", 503), idempotent),
                Verdict::RateLimited
            );
            assert_eq!(
                verdict(&api("OPERATION_TIME_LIMIT", 429), idempotent),
                Verdict::OperatingLimited
            );
            assert_eq!(
                verdict(&api("expired_token", 401), idempotent),
                Verdict::Renew
            );
            assert_eq!(
                verdict(&api("OVERLOAD_LIMIT", 503), idempotent),
                Verdict::Fail
            );
            assert_eq!(verdict(&api("CHAT_ID", 400), idempotent), Verdict::Fail);
        }
        assert_eq!(
            verdict(&api("INTERNAL_SERVER_ERROR", 500), false),
            Verdict::Fail
        );
        assert_eq!(
            verdict(&api("INTERNAL_SERVER_ERROR", 500), true),
            Verdict::Backoff
        );
        let html = ErrorKind::<NoMethodErrors>::Decode(DecodeError {
            status: 502,
            content_type: None,
            body: String::new(),
            body_len: 0,
            reason: DecodeReason::NoResult,
        });
        assert_eq!(verdict(&html, false), Verdict::Fail);
        assert_eq!(verdict(&html, true), Verdict::Backoff);
    }

    #[test]
    fn waits_are_jittered() {
        let p = RetryPolicy::default().base_delay(Duration::from_millis(1000));
        let waits: Vec<Duration> = (0..200).map(|_| p.delay(1)).collect();
        let (min, max) = (waits.iter().min().unwrap(), waits.iter().max().unwrap());
        assert!(*min >= Duration::from_millis(500) && *max <= Duration::from_millis(1000));
        // Spread over the range, so that clients that failed together do not retry together.
        assert!(*max - *min > Duration::from_millis(300), "{min:?}..{max:?}");
    }

    #[test]
    fn delays_grow_and_are_capped() {
        let p = RetryPolicy::default()
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(350));
        let d1 = p.delay(1);
        assert!(d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100));
        let d3 = p.delay(3);
        assert!(d3 >= Duration::from_millis(175) && d3 <= Duration::from_millis(350));
        assert!(p.delay(30) <= Duration::from_millis(350));
    }
}
