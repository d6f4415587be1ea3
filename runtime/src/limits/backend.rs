//! Where a client keeps its limits: the [`RateLimiter`] and [`OperatingTime`] traits, the
//! [`LimitBackend`] that makes them per portal, and [`InProcess`], the default backend.
//!
//! A client built without a backend keeps its bucket and its operating-time accounting in its own
//! memory (shared by its clones): right for one process. Several processes (replicas of one
//! application) calling one portal share the portal's limit, so they need a shared backend,
//! such as `limits::redis::RedisLimits` (feature `redis`), given with
//! [`ClientBuilder::limit_backend`](crate::ClientBuilder::limit_backend).

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;

use super::bucket::Bucket;
use super::operating::Operating;
use super::{OperatingLimit, OperatingStatus, RateLimit};
use crate::envelope::{Time, Usage};

/// The request-rate limit of one portal: a leaky bucket that a call takes a place in before its
/// HTTP request goes out.
///
/// Implementations must not fail a call: when their shared state cannot be reached they fall
/// back to a bucket of their own (the portal's `QUERY_LIMIT_EXCEEDED` is retried anyway).
pub trait RateLimiter: Send + Sync + fmt::Debug + 'static {
    /// The bucket's size and drain rate.
    fn limit(&self) -> RateLimit;
    /// Waits for a place for one request of `method`. Dropping the future gives nothing back.
    fn acquire<'a>(&'a self, method: &'a str) -> BoxFuture<'a, ()>;
    /// An answer came back: the portal has seen a request, so its drain runs.
    fn answered(&self);
    /// The portal answered `QUERY_LIMIT_EXCEEDED`: the bucket is full.
    fn saturate(&self);
    /// Requests in the bucket, as this process last knew it.
    fn level(&self) -> f64;
}

/// The per-method operating-time accounting of one portal (see [`operating`](super::operating)).
pub trait OperatingTime: Send + Sync + fmt::Debug + 'static {
    /// Waits while `method` is held back.
    fn wait<'a>(&'a self, method: &'a str) -> BoxFuture<'a, ()>;
    /// Records the operating-time numbers of an answer of `method` (its `time` block).
    fn observe(&self, method: &str, usage: &Usage);
    /// The portal answered `OPERATION_TIME_LIMIT` for `method`.
    fn limit_reached(&self, method: &str);
    /// What is known of `method`'s operating time.
    fn status(&self, method: &str) -> Option<OperatingStatus>;
}

/// A client's bucket and operating-time accounting (each `None` when that limit is off).
pub type PortalLimits = (Option<Arc<dyn RateLimiter>>, Option<Arc<dyn OperatingTime>>);

/// Makes the limits of a portal. `portal` is the key the portal's state is kept under: its
/// domain by default, or what [`ClientBuilder::portal_key`](crate::ClientBuilder::portal_key)
/// says (e.g. its `member_id`, which does not change when the portal is renamed).
///
/// ```
/// use std::sync::Arc;
/// use b24_runtime::limits::{InProcess, LimitBackend, RateLimit};
///
/// let limiter = InProcess.rate_limiter("example.bitrix24.com", RateLimit::STANDARD);
/// assert_eq!(limiter.limit().burst, 50);
/// let client = b24_runtime::Client::builder()
///     .webhook("https://example.bitrix24.com/rest/1/abc123/")
///     .limit_backend(Arc::new(InProcess))
///     .build()
///     .unwrap();
/// ```
pub trait LimitBackend: Send + Sync + fmt::Debug + 'static {
    /// The leaky bucket of `portal`.
    fn rate_limiter(&self, portal: &str, limit: RateLimit) -> Arc<dyn RateLimiter>;
    /// The operating-time accounting of `portal`.
    fn operating_time(&self, portal: &str, limit: OperatingLimit) -> Arc<dyn OperatingTime>;

    /// Both for one client (`None` where the client has that limit off). By default the two
    /// above; a backend may make them work together (the Redis one checks a method's shared
    /// operating-time block in the same script that takes a place in the bucket).
    fn limits(
        &self,
        portal: &str,
        rate: Option<RateLimit>,
        operating: Option<OperatingLimit>,
    ) -> PortalLimits {
        (
            rate.map(|limit| self.rate_limiter(portal, limit)),
            operating.map(|limit| self.operating_time(portal, limit)),
        )
    }
}

/// The default backend: each client (with its clones) has its own bucket and accounting, in
/// memory. Right for one process per portal.
#[derive(Debug, Clone, Copy, Default)]
pub struct InProcess;

impl LimitBackend for InProcess {
    fn rate_limiter(&self, _portal: &str, limit: RateLimit) -> Arc<dyn RateLimiter> {
        Arc::new(Bucket::new(limit))
    }

    fn operating_time(&self, _portal: &str, limit: OperatingLimit) -> Arc<dyn OperatingTime> {
        Arc::new(Operating::new(limit))
    }
}

impl RateLimiter for Bucket {
    fn limit(&self) -> RateLimit {
        Bucket::limit(self)
    }
    fn acquire<'a>(&'a self, method: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(Bucket::acquire(self, method))
    }
    fn answered(&self) {
        Bucket::answered(self)
    }
    fn saturate(&self) {
        Bucket::saturate(self)
    }
    fn level(&self) -> f64 {
        Bucket::level(self)
    }
}

impl OperatingTime for Operating {
    fn wait<'a>(&'a self, method: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(Operating::wait(self, method))
    }
    fn observe(&self, method: &str, usage: &Usage) {
        Operating::observe_usage(self, method, usage)
    }
    fn limit_reached(&self, method: &str) {
        Operating::limit_reached(self, method)
    }
    fn status(&self, method: &str) -> Option<OperatingStatus> {
        Operating::status(self, method)
    }
}

/// The bucket a client holds: its own (no boxing on the call path, the default) or a backend's.
#[derive(Debug)]
pub(crate) enum RateHandle {
    Local(Bucket),
    Shared(Arc<dyn RateLimiter>),
}

/// The limits of a client: its own, or `backend`'s for `portal`.
pub(crate) fn handles(
    backend: Option<&dyn LimitBackend>,
    portal: &str,
    rate: Option<RateLimit>,
    operating: Option<OperatingLimit>,
) -> (Option<RateHandle>, Option<OperatingHandle>) {
    match backend {
        None => (
            rate.map(|limit| RateHandle::Local(Bucket::new(limit))),
            operating.map(|limit| OperatingHandle::Local(Operating::new(limit))),
        ),
        Some(backend) => {
            let (rate, operating) = backend.limits(portal, rate, operating);
            (
                rate.map(RateHandle::Shared),
                operating.map(OperatingHandle::Shared),
            )
        }
    }
}

impl RateHandle {
    /// A place taken at once (the in-process bucket, when it has room): `false` when the caller
    /// must [`acquire`](Self::acquire) instead (a shared backend is always asked there).
    pub(crate) fn try_acquire(&self) -> bool {
        match self {
            RateHandle::Local(bucket) => bucket.try_acquire(),
            RateHandle::Shared(_) => false,
        }
    }

    pub(crate) async fn acquire(&self, method: &str) {
        match self {
            RateHandle::Local(bucket) => bucket.acquire(method).await,
            RateHandle::Shared(shared) => shared.acquire(method).await,
        }
    }

    pub(crate) fn answered(&self) {
        match self {
            RateHandle::Local(bucket) => bucket.answered(),
            RateHandle::Shared(shared) => shared.answered(),
        }
    }

    pub(crate) fn saturate(&self) {
        match self {
            RateHandle::Local(bucket) => bucket.saturate(),
            RateHandle::Shared(shared) => shared.saturate(),
        }
    }

    pub(crate) fn level(&self) -> f64 {
        match self {
            RateHandle::Local(bucket) => bucket.level(),
            RateHandle::Shared(shared) => shared.level(),
        }
    }

    pub(crate) fn limit(&self) -> RateLimit {
        match self {
            RateHandle::Local(bucket) => bucket.limit(),
            RateHandle::Shared(shared) => shared.limit(),
        }
    }
}

/// The operating-time accounting a client holds: its own (the default) or a backend's.
#[derive(Debug)]
pub(crate) enum OperatingHandle {
    Local(Operating),
    Shared(Arc<dyn OperatingTime>),
}

impl OperatingHandle {
    /// Whether a call may have to [`wait`](Self::wait): the in-process accounting knows at once
    /// that no method is held back (the usual case); a shared backend is always asked.
    pub(crate) fn may_hold_back(&self) -> bool {
        match self {
            OperatingHandle::Local(local) => local.any_held_back(),
            OperatingHandle::Shared(_) => true,
        }
    }

    pub(crate) async fn wait(&self, method: &str) {
        match self {
            OperatingHandle::Local(local) => local.wait(method).await,
            OperatingHandle::Shared(shared) => shared.wait(method).await,
        }
    }

    pub(crate) fn observe(&self, method: &str, time: &Time) {
        self.observe_usage(method, &Usage::from(time));
    }

    pub(crate) fn observe_usage(&self, method: &str, usage: &Usage) {
        match self {
            OperatingHandle::Local(local) => local.observe_usage(method, usage),
            OperatingHandle::Shared(shared) => shared.observe(method, usage),
        }
    }

    pub(crate) fn limit_reached(&self, method: &str) {
        match self {
            OperatingHandle::Local(local) => local.limit_reached(method),
            OperatingHandle::Shared(shared) => shared.limit_reached(method),
        }
    }

    pub(crate) fn status(&self, method: &str) -> Option<OperatingStatus> {
        match self {
            OperatingHandle::Local(local) => local.status(method),
            OperatingHandle::Shared(shared) => shared.status(method),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-process backend behind the trait is the default bucket: a burst goes at once, the
    /// next request waits for the drain.
    #[tokio::test]
    async fn the_in_process_backend_is_the_default_bucket() {
        let limiter = InProcess.rate_limiter("p", RateLimit::new(3, 1.0));
        let started = std::time::Instant::now();
        limiter.acquire("a.b").await;
        limiter.acquire("a.b").await;
        assert!(started.elapsed() < std::time::Duration::from_millis(50));
        assert!((limiter.level() - 2.0).abs() < 0.01, "{}", limiter.level());
        limiter.saturate();
        assert!(limiter.level() > 2.9);
        let ops = InProcess.operating_time("p", OperatingLimit::default());
        ops.limit_reached("a.b");
        assert!(ops.status("A.B").unwrap().blocked_for.is_some());
    }
}
