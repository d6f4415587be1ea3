//! When a renewed access token expires, read from what the OAuth server said, and when the client
//! renews it ahead of time.
//!
//! The OAuth server's `expires_in` (seconds) and `expires` (Unix time) are wire numbers: any
//! value may come (`i64::MAX`, negative, a float, a string, nothing). None of them can fail or
//! overflow here, and none can make the client renew on every call:
//!
//! - `expires_in` wins when it is a positive number of seconds: the expiry is *our* clock plus
//!   `expires_in`, clamped to [`MAX_LIFETIME`] (so clock skew between the OAuth server and this
//!   host cannot make a fresh token look expired);
//! - else `expires`, if it lies in `(now, now + MAX_LIFETIME]`;
//! - else the expiry is unknown (warned about): the token is renewed only when the portal answers
//!   `expired_token`, never ahead of time.
//!
//! Proactive renewal: a token is renewed before a call when it expires within
//! `min(lifetime / 4, 60 s)` (30 s when its lifetime is unknown, for pairs the application made).
//! A pair the client renewed itself is therefore used for at least three quarters of its
//! lifetime: renewals cannot come faster than one per `0.75 × lifetime`, whatever the number of
//! concurrent calls (they share one renewal, see the session).

use serde_json::Value;

/// The longest lifetime believed (24 h; Bitrix24 issues one-hour tokens). Longer claims are
/// clamped: a token that really lives longer is renewed a little early, one that lives shorter
/// is renewed when the portal says it expired.
pub const MAX_LIFETIME: i64 = 24 * 3600;

/// Renew ahead of expiry by at most this much (seconds).
const MAX_MARGIN: i64 = 60;

/// Renew ahead of expiry by this much when the lifetime is unknown (seconds).
const UNKNOWN_LIFETIME_MARGIN: i64 = 30;

/// A whole number of seconds from a JSON number or numeric string; `None` for anything else
/// (NaN, infinities, objects, text). Floats are truncated and saturated to `i64`.
pub(crate) fn seconds(value: &Value) -> Option<i64> {
    let float = |f: f64| f.is_finite().then(|| f.trunc() as i64); // `as` saturates
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX)))
            .or_else(|| n.as_f64().and_then(float)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().and_then(float))
        }
        _ => None,
    }
}

/// The expiry (Unix time) and lifetime (seconds) of a token issued at `now`, from the answer's
/// `expires` and `expires_in`; both `None` when neither is usable.
pub(crate) fn of_answer(
    expires: Option<&Value>,
    expires_in: Option<&Value>,
    now: i64,
) -> (Option<i64>, Option<i64>) {
    if let Some(lifetime) = expires_in.and_then(seconds).filter(|s| *s > 0) {
        if lifetime > MAX_LIFETIME {
            tracing::warn!(
                expires_in = lifetime,
                "the OAuth server's expires_in is absurd: clamped to 24 h"
            );
        }
        let lifetime = lifetime.min(MAX_LIFETIME);
        return (Some(now.saturating_add(lifetime)), Some(lifetime));
    }
    if let Some(at) = expires.and_then(seconds) {
        let lifetime = at.saturating_sub(now);
        if lifetime > 0 && lifetime <= MAX_LIFETIME {
            return (Some(at), Some(lifetime));
        }
    }
    if expires.is_some() || expires_in.is_some() {
        tracing::warn!(
            "the OAuth server's expires/expires_in are unusable: the token is renewed when the \
             portal says it expired"
        );
    }
    (None, None)
}

/// Whether a token expiring at `expires` (with `lifetime`, if known) is renewed before a call at
/// `now`.
pub(crate) fn renew_ahead(expires: Option<i64>, lifetime: Option<i64>, now: i64) -> bool {
    let margin = match lifetime {
        Some(lifetime) => (lifetime / 4).clamp(0, MAX_MARGIN),
        None => UNKNOWN_LIFETIME_MARGIN,
    };
    expires.is_some_and(|at| at.saturating_sub(margin) <= now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_numbers_of_any_shape_never_overflow() {
        let now = 1_700_000_000;
        let day = MAX_LIFETIME;
        type Expected = (Option<i64>, Option<i64>);
        let cases: &[(Value, Value, Expected)] = &[
            (json!(null), json!(3600), (Some(now + 3600), Some(3600))),
            (json!(null), json!("3600"), (Some(now + 3600), Some(3600))),
            (json!(null), json!(3600.9), (Some(now + 3600), Some(3600))),
            (json!(null), json!(i64::MAX), (Some(now + day), Some(day))),
            (json!(null), json!(u64::MAX), (Some(now + day), Some(day))),
            (json!(null), json!(1e308), (Some(now + day), Some(day))),
            (json!(null), json!("NaN"), (None, None)),
            (json!(null), json!("inf"), (None, None)),
            (json!(null), json!(0), (None, None)),
            (json!(null), json!(-5), (None, None)),
            (json!(null), json!(i64::MIN), (None, None)),
            (json!(null), json!({"x": 1}), (None, None)),
            // `expires` is used only when `expires_in` is not, and only when it is plausible.
            (json!(now + 600), json!(null), (Some(now + 600), Some(600))),
            (json!(i64::MIN), json!(null), (None, None)),
            (json!(i64::MAX), json!(null), (None, None)),
            (json!(now - 10), json!(null), (None, None)),
            (json!(i64::MIN), json!(3600), (Some(now + 3600), Some(3600))),
        ];
        for (expires, expires_in, want) in cases {
            let got = of_answer(Some(expires), Some(expires_in), now);
            assert_eq!(got, *want, "expires {expires}, expires_in {expires_in}");
        }
        assert_eq!(of_answer(None, None, now), (None, None));
        assert_eq!(
            of_answer(None, Some(&json!(60)), i64::MAX),
            (Some(i64::MAX), Some(60))
        );
    }

    #[test]
    fn renewal_ahead_of_time_leaves_three_quarters_of_a_lifetime() {
        let now = 1_000_000;
        // An hour: 60 s ahead.
        assert!(!renew_ahead(Some(now + 61), Some(3600), now));
        assert!(renew_ahead(Some(now + 60), Some(3600), now));
        // 18 s (an hour on a portal running 200 times faster): 4 s ahead.
        assert!(!renew_ahead(Some(now + 18), Some(18), now));
        assert!(!renew_ahead(Some(now + 5), Some(18), now));
        assert!(renew_ahead(Some(now + 4), Some(18), now));
        // A lifetime of a second or two: only when it expired.
        assert!(!renew_ahead(Some(now + 1), Some(2), now));
        assert!(renew_ahead(Some(now), Some(2), now));
        // Unknown lifetime (a pair the application made): 30 s ahead.
        assert!(!renew_ahead(Some(now + 31), None, now));
        assert!(renew_ahead(Some(now + 30), None, now));
        // Unknown expiry: never ahead of time. Absurd stored values do not overflow.
        assert!(!renew_ahead(None, None, now));
        assert!(renew_ahead(Some(i64::MIN), Some(i64::MAX), now));
        assert!(!renew_ahead(Some(i64::MAX), Some(i64::MIN), now));
    }
}
