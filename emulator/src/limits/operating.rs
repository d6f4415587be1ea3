//! Per-method operating time (`limits.md`, "Resource Intensity Limits").
//!
//! Each call's cost (portal seconds) is added to the basket of the current portal minute, kept per
//! account (webhook, or OAuth app and user) and method. A basket counts for ten portal minutes from
//! the first call recorded in it. Before a call runs, if the sum of the live baskets is already over
//! the budget, the call is answered 429 `OPERATION_TIME_LIMIT`.

use std::collections::{HashMap, VecDeque};
use std::time::SystemTime;

use crate::clock::{later, unix_seconds, Clock};

/// The cloud's budget of operating time per method and account, in portal seconds.
pub const DEFAULT_OPERATING_BUDGET: f64 = 480.0;

/// How long a basket counts, in portal seconds.
const WINDOW: f64 = 600.0;
/// How long a basket collects, in portal seconds.
const BASKET: f64 = 60.0;

/// Whose operating time a call is charged to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Account {
    /// An incoming webhook, by code.
    Webhook(String),
    /// An OAuth token: the application it was issued to (`None` for tokens added directly to the
    /// portal) and the user.
    OAuth {
        client_id: Option<String>,
        user_id: u64,
    },
}

/// One minute's sum.
#[derive(Debug, Clone, PartialEq)]
struct Basket {
    /// The portal minute (portal seconds since the epoch / 60).
    minute: i64,
    /// The first call recorded in it.
    opened_at: SystemTime,
    /// Portal seconds charged in it.
    seconds: f64,
}

/// What a charged call reports in its `time` block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Usage {
    /// The method's sum over the live baskets, this call included (portal seconds).
    pub(crate) operating: f64,
    /// When the oldest live basket stops counting (real).
    pub(crate) reset_at: SystemTime,
}

/// The budget, the per-method costs and the baskets.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ledger {
    budget: Option<f64>,
    costs: HashMap<String, f64>,
    baskets: HashMap<(Account, String), VecDeque<Basket>>,
}

impl Ledger {
    /// The budget, when the limit is on.
    pub(crate) fn budget(&self) -> Option<f64> {
        self.budget
    }

    /// Turns the limit on with a budget (portal seconds), or off.
    pub(crate) fn set_budget(&mut self, budget: Option<f64>) {
        self.budget = budget.map(|b| if b.is_nan() { 0.0 } else { b.max(0.0) });
    }

    /// The fixed cost of a method (lowercased name), if one was set.
    pub(crate) fn cost(&self, method: &str) -> Option<f64> {
        self.costs.get(&method.to_lowercase()).copied()
    }

    /// Fixes a method's cost; negative or NaN costs are 0.
    pub(crate) fn set_cost(&mut self, method: &str, seconds: f64) {
        let seconds = if seconds.is_nan() {
            0.0
        } else {
            seconds.max(0.0)
        };
        self.costs.insert(method.to_lowercase(), seconds);
    }

    /// Goes back to charging a method its real handler time.
    pub(crate) fn clear_cost(&mut self, method: &str) {
        self.costs.remove(&method.to_lowercase());
    }

    /// Forgets every basket.
    pub(crate) fn reset(&mut self) {
        self.baskets.clear();
    }

    /// The live baskets of an account and method, expired ones dropped.
    fn live(
        &mut self,
        account: &Account,
        method: &str,
        now: SystemTime,
        clock: Clock,
    ) -> &mut VecDeque<Basket> {
        let window = clock.real(WINDOW);
        let baskets = self
            .baskets
            .entry((account.clone(), method.to_owned()))
            .or_default();
        while baskets
            .front()
            .is_some_and(|oldest| later(oldest.opened_at, window) <= now)
        {
            baskets.pop_front();
        }
        baskets
    }

    /// The method's sum for the account now (portal seconds).
    pub(crate) fn spent(
        &mut self,
        account: &Account,
        method: &str,
        now: SystemTime,
        clock: Clock,
    ) -> f64 {
        self.live(account, method, now, clock)
            .iter()
            .map(|b| b.seconds)
            .sum()
    }

    /// Whether the limit is on and the method's sum is already over the budget.
    pub(crate) fn blocked(
        &mut self,
        account: &Account,
        method: &str,
        now: SystemTime,
        clock: Clock,
    ) -> bool {
        match self.budget {
            Some(budget) => self.spent(account, method, now, clock) > budget,
            None => false,
        }
    }

    /// Adds a call's cost to the current basket and reports the sum.
    pub(crate) fn charge(
        &mut self,
        account: &Account,
        method: &str,
        seconds: f64,
        now: SystemTime,
        clock: Clock,
    ) -> Usage {
        let minute = (clock.portal_timestamp(now) / BASKET).floor() as i64;
        let baskets = self.live(account, method, now, clock);
        match baskets.back_mut() {
            Some(current) if current.minute == minute => current.seconds += seconds,
            _ => baskets.push_back(Basket {
                minute,
                opened_at: now,
                seconds,
            }),
        }
        let operating = baskets.iter().map(|b| b.seconds).sum();
        let opened = baskets.front().map_or(now, |oldest| oldest.opened_at);
        Usage {
            operating,
            reset_at: later(opened, clock.real(WINDOW)),
        }
    }
}

/// `operating_reset_at` as sent: whole seconds (rounded up) at scale 1 as the portal sends it,
/// microseconds otherwise so that scaled windows stay exact.
pub(crate) fn reset_at_value(reset_at: SystemTime, clock: Clock) -> f64 {
    let seconds = unix_seconds(reset_at);
    if clock.scale() == 1.0 {
        seconds.ceil()
    } else {
        (seconds * 1e6).ceil() / 1e6
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn hook() -> Account {
        Account::Webhook("code".into())
    }

    #[test]
    fn blocks_over_budget_until_the_oldest_basket_expires() {
        let mut ledger = Ledger::default();
        ledger.set_budget(Some(480.0));
        let clock = Clock::new(1.0);
        let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        // 20 s per call: 25 calls over five minutes reach 500 s.
        for call in 0..25u64 {
            let at = t0 + Duration::from_secs(call * 12);
            assert!(!ledger.blocked(&hook(), "m", at, clock), "call {call}");
            ledger.charge(&hook(), "m", 20.0, at, clock);
        }
        let at = t0 + Duration::from_secs(301);
        assert!(ledger.blocked(&hook(), "m", at, clock));
        // Other methods and accounts are not affected.
        assert!(!ledger.blocked(&hook(), "other", at, clock));
        let app = Account::OAuth {
            client_id: None,
            user_id: 1,
        };
        assert!(!ledger.blocked(&app, "m", at, clock));
        // The first minute (5 calls, 100 s) expires at t0 + 600.
        assert!(ledger.blocked(&hook(), "m", t0 + Duration::from_secs(599), clock));
        assert!(!ledger.blocked(&hook(), "m", t0 + Duration::from_secs(600), clock));
        let usage = ledger.charge(&hook(), "m", 1.0, t0 + Duration::from_secs(600), clock);
        assert_eq!(usage.operating, 401.0);
        assert_eq!(usage.reset_at, t0 + Duration::from_secs(660));
    }

    #[test]
    fn scaled_windows() {
        let mut ledger = Ledger::default();
        let clock = Clock::new(100.0);
        let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let usage = ledger.charge(&hook(), "m", 30.0, t0, clock);
        assert_eq!(usage.reset_at, t0 + Duration::from_secs(6));
        assert_eq!(
            ledger.spent(&hook(), "m", t0 + Duration::from_secs(6), clock),
            0.0
        );
        assert_eq!(reset_at_value(t0, clock), 1_800_000_000.0);
    }

    #[test]
    fn costs_are_sanitised() {
        let mut ledger = Ledger::default();
        ledger.set_cost("A.B", -3.0);
        assert_eq!(ledger.cost("a.b"), Some(0.0));
        ledger.clear_cost("a.B");
        assert_eq!(ledger.cost("a.b"), None);
        ledger.set_budget(Some(f64::NAN));
        assert_eq!(ledger.budget(), Some(0.0));
    }
}
