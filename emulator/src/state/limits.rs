//! The portal's settings for limits and time: [`Portal::set_time_scale`],
//! [`Portal::set_rate_limit`], [`Portal::set_operating_budget`], [`Portal::set_method_cost`].

use std::time::{Instant, SystemTime};

use super::Portal;
use crate::clock::Clock;
use crate::limits::operating::{Account, Usage};
use crate::limits::{Plan, RateStats};

impl Portal {
    /// How many times faster than real time the portal clock runs (default 1).
    pub fn time_scale(&self) -> f64 {
        self.limits.clock.scale()
    }

    /// Makes the portal clock run `scale` times faster than real time, so that limits and token
    /// lifetimes elapse sooner: the bucket drains `Y × scale` per real second, operating-time
    /// baskets last `60 / scale` real seconds and count for `600 / scale`, access tokens live
    /// `lifetime / scale`. Reported instants (`time.start`, `operating_reset_at`, `expires`) stay real
    /// unix times. The scale is clamped to `0.001..=1_000_000` (NaN: 1).
    pub fn set_time_scale(&mut self, scale: f64) {
        self.limits.clock = Clock::new(scale);
    }

    /// The leaky bucket's plan, or `None` when requests are not limited (the default).
    pub fn rate_limit(&self) -> Option<Plan> {
        self.limits.bucket.plan()
    }

    /// Turns the leaky bucket on with a plan ([`Plan::Standard`]: 50 requests, draining 2 per
    /// second), or off with `None`. The counter keeps its level.
    pub fn set_rate_limit(&mut self, plan: Option<Plan>) {
        self.limits.bucket.set_plan(plan);
    }

    /// The bucket's counters: requests accepted and rejected so far, and the level now.
    pub fn rate_stats(&self) -> RateStats {
        self.limits.bucket.stats(Instant::now(), self.limits.clock)
    }

    /// The operating-time budget per method and account (portal seconds), or `None` when the
    /// limit is off (the default: `time.operating` then reports each call's own processing time).
    pub fn operating_budget(&self) -> Option<f64> {
        self.limits.ledger.budget()
    }

    /// Turns the operating-time limit on with a budget in portal seconds
    /// ([`DEFAULT_OPERATING_BUDGET`](crate::limits::DEFAULT_OPERATING_BUDGET) is the cloud's 480),
    /// or off with `None`. Negative budgets are 0.
    pub fn set_operating_budget(&mut self, budget: Option<f64>) {
        self.limits.ledger.set_budget(budget);
    }

    /// Charges every call of `method` (any case) `seconds` portal seconds of operating time instead
    /// of its real handler time. Negative or NaN costs are 0.
    pub fn set_method_cost(&mut self, method: &str, seconds: f64) {
        self.limits.ledger.set_cost(method, seconds);
    }

    /// Goes back to charging `method` its real handler time.
    pub fn clear_method_cost(&mut self, method: &str) {
        self.limits.ledger.clear_cost(method);
    }

    /// Empties the leaky bucket, zeroes its counters and forgets all operating time; plans,
    /// budgets, costs and the time scale stay.
    pub fn reset_limits(&mut self) {
        self.limits.bucket.reset();
        self.limits.ledger.reset();
    }

    // ----- used by dispatch -----

    /// The portal clock.
    pub(crate) fn clock(&self) -> Clock {
        self.limits.clock
    }

    /// Counts one HTTP request in the leaky bucket; `false` when it must be rejected.
    pub(crate) fn admit_request(&mut self) -> bool {
        let clock = self.limits.clock;
        self.limits.bucket.admit(Instant::now(), clock)
    }

    /// Whether `method` is blocked for `account` by the operating-time limit.
    pub(crate) fn operating_blocked(&mut self, account: &Account, method: &str) -> bool {
        let clock = self.limits.clock;
        self.limits
            .ledger
            .blocked(account, method, SystemTime::now(), clock)
    }

    /// Charges a call that ran for `processing_seconds` (real); `None` when the limit is off.
    pub(crate) fn charge_operating(
        &mut self,
        account: &Account,
        method: &str,
        processing_seconds: f64,
    ) -> Option<Usage> {
        self.limits.ledger.budget()?;
        let clock = self.limits.clock;
        let cost = self
            .limits
            .ledger
            .cost(method)
            .unwrap_or(processing_seconds);
        Some(
            self.limits
                .ledger
                .charge(account, method, cost, SystemTime::now(), clock),
        )
    }
}
