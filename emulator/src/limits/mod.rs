//! The portal's limits (`limits.md`): the leaky bucket of requests ([`bucket`]) and the per-method
//! operating time ([`operating`]), both measured with the portal clock (time scale).
//!
//! Both are off by default; turn them on through [`Portal`](crate::Portal):
//! [`set_rate_limit`](crate::Portal::set_rate_limit),
//! [`set_operating_budget`](crate::Portal::set_operating_budget),
//! [`set_time_scale`](crate::Portal::set_time_scale).

pub mod bucket;
pub mod operating;

pub use bucket::{Plan, RateStats};
pub use operating::DEFAULT_OPERATING_BUDGET;

use crate::clock::Clock;

/// The limiters of one portal and the clock they run on.
#[derive(Debug, Clone, Default)]
pub(crate) struct Limits {
    pub(crate) clock: Clock,
    pub(crate) bucket: bucket::Bucket,
    pub(crate) ledger: operating::Ledger,
}
