//! The portal's request-rate limit, mirrored on the client: a leaky bucket that fills by one per
//! HTTP request and drains at a fixed rate. Requests that would overflow it wait instead of
//! drawing `QUERY_LIMIT_EXCEEDED`. One client (and all its clones) shares one bucket.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The size and drain rate of a leaky bucket.
///
/// ```
/// use b24_runtime::limits::RateLimit;
/// assert_eq!(RateLimit::STANDARD.burst, 50);
/// let scaled = RateLimit::STANDARD.time_scaled(20.0); // for an emulator running 20x faster
/// assert_eq!(scaled.per_second, 40.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// How many requests may be made at once before the drain rate applies (`X` in the docs).
    pub burst: u32,
    /// How many requests per second the bucket drains (`Y` in the docs).
    pub per_second: f64,
}

impl RateLimit {
    /// Every plan but Enterprise: 50 requests of burst, 2 per second.
    pub const STANDARD: RateLimit = RateLimit {
        burst: 50,
        per_second: 2.0,
    };
    /// Enterprise plans: 250 requests of burst, 5 per second.
    pub const ENTERPRISE: RateLimit = RateLimit {
        burst: 250,
        per_second: 5.0,
    };

    /// A bucket of `burst` requests draining `per_second`.
    pub fn new(burst: u32, per_second: f64) -> Self {
        RateLimit { burst, per_second }
    }

    /// The same limit for a portal whose clock runs `scale` times faster (an emulator in tests).
    pub fn time_scaled(self, scale: f64) -> Self {
        RateLimit {
            burst: self.burst,
            per_second: self.per_second * scale,
        }
    }
}

/// The shared bucket. Reservations are taken in order, so concurrent tasks queue fairly.
#[derive(Debug)]
pub(crate) struct Bucket {
    limit: RateLimit,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Requests in the bucket (including reservations not yet sent).
    level: f64,
    at: Instant,
}

/// Requests of headroom kept below the portal's threshold, for requests that arrive closer
/// together than they were sent.
const HEADROOM: f64 = 1.0;

impl Bucket {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Bucket {
            limit,
            state: Mutex::new(State {
                level: 0.0,
                at: Instant::now(),
            }),
        }
    }

    fn drained(&self, state: &mut State, now: Instant) {
        let elapsed = now.saturating_duration_since(state.at).as_secs_f64();
        state.level = (state.level - elapsed * self.limit.per_second).max(0.0);
        state.at = now;
    }

    /// Reserves a place for one request and says how long to wait before sending it.
    pub(crate) fn reserve(&self) -> Duration {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        self.drained(&mut state, now);
        state.level += 1.0;
        let capacity = (f64::from(self.limit.burst) - HEADROOM).max(1.0);
        if state.level <= capacity || self.limit.per_second <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((state.level - capacity) / self.limit.per_second)
        }
    }

    /// Waits for a place for one request.
    pub(crate) async fn acquire(&self, method: &str) {
        let wait = self.reserve();
        if !wait.is_zero() {
            tracing::debug!(
                method,
                wait_ms = wait.as_millis() as u64,
                level = self.level(),
                "waiting for the rate limit (leaky bucket)"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// The portal said the bucket is full: believe it.
    pub(crate) fn saturate(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        self.drained(&mut state, now);
        state.level = state.level.max(f64::from(self.limit.burst));
    }

    /// The current level (requests in the bucket, including reservations).
    pub(crate) fn level(&self) -> f64 {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.drained(&mut state, Instant::now());
        state.level
    }

    pub(crate) fn limit(&self) -> RateLimit {
        self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_is_free_then_requests_are_spaced_by_the_drain_rate() {
        let bucket = Bucket::new(RateLimit::new(5, 10.0));
        for _ in 0..4 {
            assert_eq!(bucket.reserve(), Duration::ZERO);
        }
        let fifth = bucket.reserve();
        let sixth = bucket.reserve();
        assert!(fifth > Duration::from_millis(90) && fifth <= Duration::from_millis(100));
        assert!(sixth > Duration::from_millis(190) && sixth <= Duration::from_millis(200));
    }

    #[test]
    fn saturate_fills_the_bucket() {
        let bucket = Bucket::new(RateLimit::new(5, 10.0));
        bucket.saturate();
        assert!(bucket.level() > 4.9);
        assert!(bucket.reserve() > Duration::from_millis(100));
    }
}
