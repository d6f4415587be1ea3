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

    /// The limit a bucket runs on: a drain rate that is not a number is read as 0 (no pacing,
    /// as any rate ≤ 0), so that no arithmetic on it can panic.
    pub(crate) fn usable(self) -> Self {
        RateLimit {
            burst: self.burst,
            per_second: if self.per_second.is_nan() {
                0.0
            } else {
                self.per_second
            },
        }
    }

    /// How often a task waiting for a place looks again: once per drained request, at least 2 ms
    /// apart and at most 1,000 s.
    pub(crate) fn step(self) -> Duration {
        Duration::from_secs_f64(1.0 / self.per_second.max(0.001)).max(Duration::from_millis(2))
    }
}

/// The longest one wait for a place is counted as (a drain rate close to 0 would give centuries).
const MAX_WAIT: Duration = Duration::from_secs(86_400);

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
    /// Drained up to this instant; in the future while a busy period's drain has not started.
    at: Instant,
    /// A busy period started and no answer has come back yet.
    awaiting_answer: bool,
}

/// Requests of headroom kept below the portal's threshold, for requests that arrive closer
/// together than they were sent.
pub(crate) const HEADROOM: f64 = 1.0;

/// The portal's bucket drains from the moment the first request of a busy period (one sent into
/// an empty bucket) *arrives*, a connection set-up and a transfer after it was sent. The client
/// counts on the drain only from the first answer of the busy period, which came after that
/// arrival; if no answer comes (the call was dropped), from this long after the request was sent.
pub(crate) const NO_ANSWER_LAG: Duration = Duration::from_secs(1);

impl Bucket {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Bucket {
            limit: limit.usable(),
            state: Mutex::new(State {
                level: 0.0,
                at: Instant::now(),
                awaiting_answer: false,
            }),
        }
    }

    fn drained(&self, state: &mut State, now: Instant) {
        if now > state.at {
            let elapsed = (now - state.at).as_secs_f64();
            state.level = (state.level - elapsed * self.limit.per_second).max(0.0);
            state.at = now;
        }
    }

    /// Takes a place for one request if there is one (returns zero), or says how long until
    /// there may be one.
    fn try_take_at(&self, now: Instant) -> Duration {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.drained(&mut state, now);
        if state.level <= 0.0 {
            // A busy period starts: the portal drains once this request has reached it.
            state.at = now + NO_ANSWER_LAG;
            state.awaiting_answer = true;
        }
        let capacity = (f64::from(self.limit.burst) - HEADROOM).max(1.0);
        if state.level + 1.0 <= capacity || self.limit.per_second <= 0.0 {
            state.level += 1.0;
            Duration::ZERO
        } else {
            let undrained = state.at.saturating_duration_since(now);
            let drain = (state.level + 1.0 - capacity) / self.limit.per_second;
            undrained + Duration::try_from_secs_f64(drain).map_or(MAX_WAIT, |d| d.min(MAX_WAIT))
        }
    }

    /// An answer came back: the portal has seen the busy period's first request, so its drain
    /// has started.
    pub(crate) fn answered(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.awaiting_answer {
            state.awaiting_answer = false;
            let now = Instant::now();
            if state.at > now {
                state.at = now;
            }
        }
    }

    /// Waits for a place for one request. Waiting tasks look again at least once per drained
    /// request, so the first answer of a busy period lets them go as soon as it arrives;
    /// dropping the future gives nothing back because nothing was taken.
    /// Takes a place for one request if there is one now: what [`acquire`](Self::acquire)
    /// does without waiting (the usual case), so that a caller awaits it only when it must wait.
    pub(crate) fn try_acquire(&self) -> bool {
        self.try_take_at(Instant::now()).is_zero()
    }

    pub(crate) async fn acquire(&self, method: &str) {
        let step = self.limit.step();
        let mut logged = false;
        loop {
            let wait = self.try_take_at(Instant::now());
            if wait.is_zero() {
                return;
            }
            if !logged {
                logged = true;
                tracing::debug!(
                    method,
                    wait_ms = wait.as_millis() as u64,
                    level = self.level(),
                    "waiting for the rate limit (leaky bucket)"
                );
            }
            tokio::time::sleep(wait.min(step)).await;
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

    const MS: Duration = Duration::from_millis(1);

    /// A rate that is not a number paces nothing (as 0 does); one close to 0 makes a bounded wait.
    /// Neither panics.
    #[test]
    fn absurd_rates_neither_panic_nor_wait_forever() {
        let start = Instant::now();
        let nan = Bucket::new(RateLimit::new(2, f64::NAN));
        for _ in 0..10 {
            assert_eq!(nan.try_take_at(start), Duration::ZERO);
        }
        assert_eq!(nan.limit.step(), Duration::from_secs(1000));
        let tiny = Bucket::new(RateLimit::new(2, 1e-300));
        assert_eq!(tiny.try_take_at(start), Duration::ZERO);
        let wait = tiny.try_take_at(start);
        assert!(
            wait > Duration::ZERO && wait <= MAX_WAIT + NO_ANSWER_LAG,
            "{wait:?}"
        );
    }

    #[test]
    fn burst_is_free_then_requests_are_spaced_by_the_drain_rate() {
        let bucket = Bucket::new(RateLimit::new(5, 10.0));
        let start = Instant::now();
        for _ in 0..4 {
            assert_eq!(bucket.try_take_at(start), Duration::ZERO);
        }
        // Full (4 = 5 - headroom); before any answer the drain has not started.
        let before_answer = bucket.try_take_at(start);
        assert!(before_answer >= NO_ANSWER_LAG, "{before_answer:?}");
        bucket.answered();
        let wait = bucket.try_take_at(Instant::now());
        assert!(wait > 90 * MS && wait <= 100 * MS, "{wait:?}");
        // 100 ms after the answer one request has drained: the fifth goes, the sixth waits.
        let later = Instant::now() + 101 * MS;
        assert_eq!(bucket.try_take_at(later), Duration::ZERO);
        assert!(bucket.try_take_at(later) > 90 * MS);
    }

    #[test]
    fn the_drain_of_a_busy_period_starts_at_its_first_answer() {
        let bucket = Bucket::new(RateLimit::new(5, 1000.0));
        let start = Instant::now();
        assert_eq!(bucket.try_take_at(start), Duration::ZERO);
        // Long after the request was sent the bucket would have drained at 1000/s; it has not,
        // because the portal may not have seen that request yet.
        {
            let mut state = bucket.state.lock().unwrap();
            bucket.drained(&mut state, start + NO_ANSWER_LAG / 2);
            assert_eq!(state.level, 1.0);
        }
        bucket.answered();
        let mut state = bucket.state.lock().unwrap();
        bucket.drained(&mut state, Instant::now() + 10 * MS);
        assert_eq!(state.level, 0.0);
    }

    #[test]
    fn without_an_answer_the_drain_starts_after_the_lag() {
        let bucket = Bucket::new(RateLimit::new(5, 1000.0));
        let start = Instant::now();
        assert_eq!(bucket.try_take_at(start), Duration::ZERO);
        let mut state = bucket.state.lock().unwrap();
        bucket.drained(&mut state, start + NO_ANSWER_LAG + 10 * MS);
        assert_eq!(state.level, 0.0);
    }

    #[test]
    fn steady_traffic_is_not_held_back() {
        let bucket = Bucket::new(RateLimit::new(3, 1.0));
        let start = Instant::now();
        assert_eq!(bucket.try_take_at(start), Duration::ZERO);
        bucket.answered();
        // Still busy when the next requests come: no new busy period, plain drain rate.
        let busy = Instant::now() + 100 * MS;
        assert_eq!(bucket.try_take_at(busy), Duration::ZERO);
        let wait = bucket.try_take_at(busy);
        assert!(wait > 890 * MS && wait <= 1000 * MS, "{wait:?}");
    }

    #[tokio::test]
    async fn waiting_tasks_go_when_the_first_answer_arrives() {
        let bucket = std::sync::Arc::new(Bucket::new(RateLimit::new(3, 100.0)));
        bucket.acquire("a").await;
        bucket.acquire("a").await;
        let waiting = {
            let bucket = bucket.clone();
            tokio::spawn(async move { bucket.acquire("a").await })
        };
        tokio::time::sleep(50 * MS).await;
        assert!(!waiting.is_finished(), "no drain before the first answer");
        bucket.answered();
        tokio::time::timeout(Duration::from_millis(500), waiting)
            .await
            .expect("goes within a few drain steps")
            .unwrap();
    }

    #[test]
    fn saturate_fills_the_bucket() {
        let bucket = Bucket::new(RateLimit::new(5, 10.0));
        bucket.saturate();
        assert!(bucket.level() > 4.9);
        assert!(bucket.try_take_at(Instant::now()) > 100 * MS);
    }
}
