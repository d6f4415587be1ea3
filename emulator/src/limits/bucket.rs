//! The leaky bucket of request intensity (`limits.md`, "Request Rate Limits").
//!
//! Every HTTP request to `/rest/` adds 1 to a counter shared by all credentials of the portal (a
//! `batch` request counts once); the counter drains `Y` per portal second. A request that would
//! take the counter above `X` is answered 503 `QUERY_LIMIT_EXCEEDED` without running and without
//! adding to the counter.

use std::time::Instant;

use crate::clock::Clock;

/// The bucket's size and drain rate: the plans of `limits.md`, or custom values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Plan {
    /// Every plan but Enterprise: `X` = 50, `Y` = 2 per second.
    Standard,
    /// Enterprise: `X` = 250, `Y` = 5 per second.
    Enterprise,
    /// Any other bucket.
    Custom {
        /// `X`: the counter may reach this value, not exceed it.
        limit: u32,
        /// `Y`: how much the counter drains per portal second (negative or NaN: no drain).
        drain_per_second: f64,
    },
}

impl Plan {
    /// `X`: the largest value the counter may reach.
    pub fn limit(&self) -> f64 {
        match self {
            Plan::Standard => 50.0,
            Plan::Enterprise => 250.0,
            Plan::Custom { limit, .. } => f64::from(*limit),
        }
    }

    /// `Y`: how much the counter drains per portal second.
    pub fn drain_per_second(&self) -> f64 {
        match self {
            Plan::Standard => 2.0,
            Plan::Enterprise => 5.0,
            Plan::Custom {
                drain_per_second, ..
            } if *drain_per_second > 0.0 => *drain_per_second,
            Plan::Custom { .. } => 0.0,
        }
    }
}

/// What the leaky bucket has seen, for tests to assert on.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RateStats {
    /// Requests let through (counted whether or not a plan is set).
    pub accepted: u64,
    /// Requests answered `QUERY_LIMIT_EXCEEDED`.
    pub rejected: u64,
    /// The counter now, drained up to this instant (0 without a plan).
    pub level: f64,
}

/// The bucket's state.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bucket {
    plan: Option<Plan>,
    level: f64,
    updated: Option<Instant>,
    accepted: u64,
    rejected: u64,
}

impl Bucket {
    /// The plan in force, if any.
    pub(crate) fn plan(&self) -> Option<Plan> {
        self.plan
    }

    /// Sets or removes the plan; the counter keeps its value.
    pub(crate) fn set_plan(&mut self, plan: Option<Plan>) {
        self.plan = plan;
    }

    /// The counter drained up to `now`.
    fn level_at(&self, now: Instant, clock: Clock) -> f64 {
        let Some(plan) = self.plan else {
            return 0.0;
        };
        let elapsed = self
            .updated
            .map(|updated| now.saturating_duration_since(updated))
            .unwrap_or_default();
        let drained = clock.portal_seconds(elapsed) * plan.drain_per_second();
        (self.level - drained).max(0.0)
    }

    /// Lets one request in (`true`) or rejects it (`false`).
    pub(crate) fn admit(&mut self, now: Instant, clock: Clock) -> bool {
        let Some(plan) = self.plan else {
            self.accepted += 1;
            return true;
        };
        self.level = self.level_at(now, clock);
        self.updated = Some(now);
        if self.level + 1.0 > plan.limit() {
            self.rejected += 1;
            false
        } else {
            self.level += 1.0;
            self.accepted += 1;
            true
        }
    }

    /// The counters as of `now`.
    pub(crate) fn stats(&self, now: Instant, clock: Clock) -> RateStats {
        RateStats {
            accepted: self.accepted,
            rejected: self.rejected,
            level: self.level_at(now, clock),
        }
    }

    /// Empties the bucket and zeroes the counters; the plan stays.
    pub(crate) fn reset(&mut self) {
        *self = Self {
            plan: self.plan,
            ..Self::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn rejects_past_the_limit_and_drains() {
        let mut bucket = Bucket::default();
        bucket.set_plan(Some(Plan::Standard));
        let clock = Clock::new(1.0);
        let start = Instant::now();
        for _ in 0..50 {
            assert!(bucket.admit(start, clock));
        }
        assert!(!bucket.admit(start, clock));
        let stats = bucket.stats(start, clock);
        assert_eq!((stats.accepted, stats.rejected, stats.level), (50, 1, 50.0));
        // Two per second: after one second two more fit, not three.
        let later = start + Duration::from_secs(1);
        assert!(bucket.admit(later, clock));
        assert!(bucket.admit(later, clock));
        assert!(!bucket.admit(later, clock));
    }

    #[test]
    fn scale_speeds_the_drain() {
        let mut bucket = Bucket::default();
        bucket.set_plan(Some(Plan::Custom {
            limit: 10,
            drain_per_second: 1.0,
        }));
        let clock = Clock::new(10.0);
        let start = Instant::now();
        for _ in 0..10 {
            bucket.admit(start, clock);
        }
        let level = bucket
            .stats(start + Duration::from_millis(500), clock)
            .level;
        assert!((level - 5.0).abs() < 1e-9, "{level}");
    }

    #[test]
    fn no_plan_lets_everything_in() {
        let mut bucket = Bucket::default();
        let now = Instant::now();
        for _ in 0..1000 {
            assert!(bucket.admit(now, Clock::default()));
        }
        assert_eq!(bucket.stats(now, Clock::default()).level, 0.0);
        let custom = Plan::Custom {
            limit: 0,
            drain_per_second: f64::NAN,
        };
        assert_eq!(custom.drain_per_second(), 0.0);
        bucket.set_plan(Some(custom));
        assert!(!bucket.admit(now, Clock::default()));
    }
}
