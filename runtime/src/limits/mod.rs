//! Client-side limits that keep a client inside the portal's: the request-rate
//! [leaky bucket](bucket) and the per-method [operating-time budget](operating), kept in the
//! client's memory or in a shared [backend] (e.g. Redis: `limits::redis`, feature
//! `redis`), for several processes calling one portal.

pub mod backend;
pub mod bucket;
pub mod operating;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;

pub use backend::{InProcess, LimitBackend, OperatingTime, PortalLimits, RateLimiter};
pub use bucket::RateLimit;
pub use operating::{OperatingLimit, OperatingStatus};
