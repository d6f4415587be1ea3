//! Client-side limits that keep a client inside the portal's: the request-rate
//! [leaky bucket](bucket) and the per-method [operating-time budget](operating).

pub mod bucket;
pub mod operating;

pub use bucket::RateLimit;
pub use operating::{OperatingLimit, OperatingStatus};
