//! The per-method operating-time budget: the portal sums each method's execution time over ten
//! one-minute baskets and, past the budget (480 s on cloud portals), answers
//! `OPERATION_TIME_LIMIT` until the oldest basket expires (`operating_reset_at`). The client reads
//! `time.operating` from every answer and holds back calls of a method whose budget is spent until
//! its reset time, while other methods go on.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::envelope::Usage;

/// When to hold a method back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OperatingLimit {
    /// The budget of one method in the ten-minute window (default 480 s, the cloud's).
    pub budget: Duration,
    /// How long to hold a method back after `OPERATION_TIME_LIMIT` when no reset time is known.
    pub fallback_wait: Duration,
}

impl Default for OperatingLimit {
    fn default() -> Self {
        OperatingLimit {
            budget: Duration::from_secs(480),
            fallback_wait: Duration::from_secs(60),
        }
    }
}

/// What the client knows of one method's operating time.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct OperatingStatus {
    /// The method's operating time in the current window, as last reported.
    pub operating: Duration,
    /// Time until the oldest basket expires, if known.
    pub reset_in: Option<Duration>,
    /// Time until calls of the method go out again, if it is held back.
    pub blocked_for: Option<Duration>,
}

/// The portal's window: the oldest basket expires within ten minutes, so a reset time further
/// away than that is the portal's (or a clock's) error, and is read as this.
const WINDOW: Duration = Duration::from_secs(600);

/// The most operating time taken as reported: a day. More cannot be spent in a ten-minute window
/// by any concurrency a portal allows; larger reports are clamped (with a warning).
const MAX_OPERATING: Duration = Duration::from_secs(86_400);

#[derive(Debug, Default)]
struct MethodState {
    operating: Duration,
    reset_at: Option<Instant>,
    blocked_until: Option<Instant>,
}

/// The portal lowercases method names: `crm.deal.list` and `CRM.DEAL.LIST` are one method, and
/// share one budget. Borrowed when the name is lowercase already (declared names are).
pub(crate) fn key_of(method: &str) -> std::borrow::Cow<'_, str> {
    // A fold, not `any`: no early exit, so the compiler checks the name many bytes at a time.
    if method
        .bytes()
        .fold(false, |upper, b| upper | b.is_ascii_uppercase())
    {
        std::borrow::Cow::Owned(method.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(method)
    }
}

/// The hash of a method name in the accounting's map, looked up on every call: a multiply and
/// rotate per eight bytes (FxHash's scheme) instead of SipHash. The keys are the program's own
/// method names, not the wire's, so there is no flooding to resist.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct NameHasher(u64);

impl NameHasher {
    const K: u64 = 0x517c_c1b7_2722_0a95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Methods = HashMap<String, MethodState, BuildHasherDefault<NameHasher>>;

#[derive(Debug)]
pub(crate) struct Operating {
    limit: OperatingLimit,
    methods: Mutex<Methods>,
    /// How many methods are held back (have a `blocked_until`), changed under the lock: while
    /// none is, [`wait`](Self::wait) looks nothing up.
    blocked: AtomicUsize,
}

impl Operating {
    pub(crate) fn new(limit: OperatingLimit) -> Self {
        Operating {
            limit,
            methods: Mutex::new(Methods::default()),
            blocked: AtomicUsize::new(0),
        }
    }

    /// Holds `state`'s method back until `until`, counting it if it was not held back yet.
    fn block(&self, state: &mut MethodState, until: Instant) {
        if state.blocked_until.replace(until).is_none() {
            self.blocked.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn with<R>(&self, method: &str, f: impl FnOnce(&mut MethodState) -> R) -> R {
        let key = key_of(method);
        let mut methods = self.methods.lock().unwrap_or_else(|e| e.into_inner());
        // Every call looks its method up (twice): allocate the key only on the first one.
        if let Some(state) = methods.get_mut(key.as_ref()) {
            return f(state);
        }
        f(methods.entry(key.into_owned()).or_default())
    }

    /// Records the `time` block of an answer of `method`.
    ///
    /// The numbers come from the server: a reset further than the window is read as the window's
    /// end, an absurd operating time is clamped, and a block that is not finite numbers (which
    /// decoding does not produce, but a `Time` may hold) is ignored, each with a warning.
    #[cfg(test)]
    pub(crate) fn observe(&self, method: &str, time: &crate::envelope::Time) {
        self.observe_usage(method, &Usage::from(time));
    }

    /// Records the accounting's numbers of a `time` block (what a call decodes when its caller
    /// does not ask for the whole block), as [`observe`](Self::observe).
    pub(crate) fn observe_usage(&self, method: &str, time: &Usage) {
        let (Some(operating), Some(reset_at)) = (time.operating, time.operating_reset_at) else {
            return;
        };
        // The reset time relative to the portal's own clock, so that clock skew does not matter.
        let now_on_portal = if time.finish > 0.0 {
            time.finish
        } else {
            time.start
        };
        let reset_in = reset_at - now_on_portal;
        if !(operating >= 0.0 && operating.is_finite() && reset_in.is_finite()) {
            return warn_not_finite(method);
        }
        if reset_in > WINDOW.as_secs_f64() {
            warn_beyond_window(method, reset_in);
        }
        let reset_in = Duration::from_secs_f64(reset_in.clamp(0.0, WINDOW.as_secs_f64()));
        let operating = match Duration::try_from_secs_f64(operating) {
            Ok(d) if d <= MAX_OPERATING => d,
            _ => {
                warn_absurd(method, operating);
                MAX_OPERATING
            }
        };
        let reset_at = Instant::now() + reset_in;
        let spent = operating >= self.limit.budget;
        self.with(method, |state| {
            state.operating = operating;
            state.reset_at = Some(reset_at);
            if spent {
                self.block(state, reset_at);
            }
        });
        if spent {
            log_spent(method, operating, reset_in);
        }
    }

    /// The portal answered `OPERATION_TIME_LIMIT` for `method`.
    pub(crate) fn limit_reached(&self, method: &str) {
        let now = Instant::now();
        let fallback = self.limit.fallback_wait;
        let until = self.with(method, |state| {
            let until = match state.reset_at {
                Some(reset) if reset > now => reset,
                // A configured wait past what `Instant` can hold (`Duration::MAX` for "never")
                // holds the method back for the window.
                _ => now.checked_add(fallback).unwrap_or(now + WINDOW),
            };
            self.block(state, until);
            until
        });
        tracing::info!(
            method,
            wait_ms = until.saturating_duration_since(now).as_millis() as u64,
            "OPERATION_TIME_LIMIT: holding the method back"
        );
    }

    /// Whether any method is held back: without a lock or a lookup. A block set at this very
    /// moment by another call is missed as it would be a moment earlier.
    pub(crate) fn any_held_back(&self) -> bool {
        self.blocked.load(Ordering::Relaxed) != 0
    }

    /// Waits while `method` is held back.
    pub(crate) async fn wait(&self, method: &str) {
        // No method is held back (the usual case): no lock, no lookup.
        if !self.any_held_back() {
            return;
        }
        let until = self.with(method, |state| state.blocked_until);
        if let Some(until) = until {
            let now = Instant::now();
            if until > now {
                tracing::debug!(
                    method,
                    wait_ms = (until - now).as_millis() as u64,
                    "waiting for the method's operating-time reset"
                );
                tokio::time::sleep_until(until.into()).await;
            }
            self.with(method, |state| {
                if state.blocked_until.is_some_and(|u| u <= Instant::now()) {
                    state.blocked_until = None;
                    self.blocked.fetch_sub(1, Ordering::Relaxed);
                }
            });
        }
    }

    pub(crate) fn status(&self, method: &str) -> Option<OperatingStatus> {
        let methods = self.methods.lock().unwrap_or_else(|e| e.into_inner());
        let state = methods.get(key_of(method).as_ref())?;
        let now = Instant::now();
        Some(OperatingStatus {
            operating: state.operating,
            reset_in: state.reset_at.map(|r| r.saturating_duration_since(now)),
            blocked_for: state.blocked_until.filter(|u| *u > now).map(|u| u - now),
        })
    }
}

// The log lines of `observe_usage`, out of line: it runs on every answer, these almost never.

#[cold]
#[inline(never)]
fn warn_not_finite(method: &str) {
    tracing::warn!(
        method,
        "ignoring an operating time or reset that is not a finite non-negative number"
    );
}

#[cold]
#[inline(never)]
fn warn_beyond_window(method: &str, reset_in: f64) {
    tracing::warn!(
        method,
        reset_in_s = reset_in,
        "operating_reset_at is beyond the ten-minute window: reading it as the window's end"
    );
}

#[cold]
#[inline(never)]
fn warn_absurd(method: &str, operating: f64) {
    tracing::warn!(
        method,
        operating,
        "clamping an absurd operating time to a day"
    );
}

#[cold]
#[inline(never)]
fn log_spent(method: &str, operating: Duration, reset_in: Duration) {
    tracing::info!(
        method,
        operating_s = operating.as_secs_f64(),
        reset_in_ms = reset_in.as_millis() as u64,
        "operating-time budget spent: holding the method back until its reset"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Time;

    fn time(operating: f64, reset_in: f64) -> Time {
        Time {
            start: 1000.0,
            finish: 1000.0,
            operating: Some(operating),
            operating_reset_at: Some(1000.0 + reset_in),
            ..Time::default()
        }
    }

    #[tokio::test]
    async fn spent_budget_holds_back_only_that_method() {
        let ops = Operating::new(OperatingLimit {
            budget: Duration::from_secs(10),
            ..OperatingLimit::default()
        });
        ops.observe("a.b", &time(11.0, 0.2));
        ops.observe("c.d", &time(1.0, 0.2));
        assert!(ops.status("A.B").unwrap().blocked_for.is_some());
        assert!(ops.status("c.d").unwrap().blocked_for.is_none());
        // One method whatever the case of its name, in either direction.
        ops.observe("E.f", &time(11.0, 0.2));
        assert!(ops.status("e.F").unwrap().blocked_for.is_some());
        let started = Instant::now();
        ops.wait("c.d").await;
        assert!(started.elapsed() < Duration::from_millis(50));
        assert_eq!(ops.blocked.load(Ordering::Relaxed), 2, "a.b and e.f");
        ops.wait("a.b").await;
        assert!(started.elapsed() >= Duration::from_millis(190));
        assert!(ops.status("a.b").unwrap().blocked_for.is_none());
        assert_eq!(ops.blocked.load(Ordering::Relaxed), 1, "e.f");
        // Blocking a method held back already does not count it twice.
        ops.limit_reached("e.f");
        assert_eq!(ops.blocked.load(Ordering::Relaxed), 1);
    }

    /// Whatever numbers a `time` block holds, observing it and reading the status never panic,
    /// and a method is never held back for longer than the window.
    #[test]
    fn absurd_numbers_are_clamped_or_ignored() {
        let ops = Operating::new(OperatingLimit::default());
        let absurd = [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e308,
            -1e308,
            -1.0,
            0.0,
            f64::MIN_POSITIVE,
        ];
        for &operating in &absurd {
            for &reset in &absurd {
                for &finish in &absurd {
                    let t = Time {
                        start: finish,
                        finish,
                        operating: Some(operating),
                        operating_reset_at: Some(reset),
                        ..Time::default()
                    };
                    ops.observe("a.b", &t);
                    let status = ops.status("a.b");
                    if let Some(status) = status {
                        assert!(status.operating <= MAX_OPERATING);
                        assert!(status.blocked_for.unwrap_or_default() <= WINDOW);
                        assert!(status.reset_in.unwrap_or_default() <= WINDOW);
                    }
                }
            }
        }
    }

    #[tokio::test]
    async fn limit_error_waits_for_the_known_reset_or_the_fallback() {
        let ops = Operating::new(OperatingLimit {
            budget: Duration::from_secs(480),
            fallback_wait: Duration::from_millis(100),
        });
        ops.limit_reached("x.y");
        let blocked = ops.status("x.y").unwrap().blocked_for.unwrap();
        assert!(blocked <= Duration::from_millis(100) && blocked > Duration::from_millis(50));

        // A fallback past what `Instant` holds ("never") holds the method back for the window.
        let never = Operating::new(OperatingLimit {
            budget: Duration::from_secs(480),
            fallback_wait: Duration::MAX,
        });
        never.limit_reached("x.y");
        let blocked = never.status("x.y").unwrap().blocked_for.unwrap();
        assert!(blocked <= WINDOW && blocked > WINDOW - Duration::from_secs(1));
    }
}
