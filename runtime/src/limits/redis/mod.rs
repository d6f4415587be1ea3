//! [`RedisLimits`]: the leaky bucket and the operating-time blocks of a portal kept in Redis, so
//! that several processes (replicas) calling one portal together stay inside its limit.
//!
//! - Each change is one Lua script, so it is atomic whatever the number of processes.
//! - Time is the Redis server's (`TIME`), never a replica's clock: replicas whose clocks disagree
//!   still drain one bucket at one rate.
//! - Keys are `<prefix>:{<portal>}:bucket` and `<prefix>:{<portal>}:blocked` (the braces keep a
//!   portal's keys on one Redis Cluster slot); they expire when idle.
//! - The bucket follows the in-process one ([`bucket`](super::bucket)): one request of headroom,
//!   and the drain of a busy period counted from its first answer.
//! - Redis unreachable or slow (a command times out after [`RedisLimits::COMMAND_TIMEOUT`]): the
//!   process falls back to a bucket of its own, with a warning, and asks Redis again only after
//!   a pause that doubles with each failure in a row (250 ms to 30 s; one call probes, the others
//!   go on without it), so a hung Redis costs one timeout per pause, not one per call; the
//!   portal's `QUERY_LIMIT_EXCEEDED` is retried as always. Calls never fail because of Redis.

mod bucket;
mod health;
mod operating;
mod scripts;

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::RedisError;

use self::bucket::RedisBucket;
use self::health::Health;
use self::operating::RedisOperating;
use self::scripts::Scripts;
use super::backend::{LimitBackend, OperatingTime, PortalLimits, RateLimiter};
use super::bucket::Bucket;
use super::operating::Operating;
use super::{OperatingLimit, RateLimit};

/// The limits of every portal, kept in one Redis (see the [module docs](self)).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use b24_runtime::limits::redis::RedisLimits;
///
/// let limits = RedisLimits::connect("redis://127.0.0.1:6379/").await?;
/// let client = b24_runtime::Client::builder()
///     .webhook("https://example.bitrix24.com/rest/1/abc123/")
///     .limit_backend(Arc::new(limits))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisLimits {
    conn: ConnectionManager,
    prefix: Arc<str>,
    scripts: Arc<Scripts>,
    health: Arc<Health>,
}

impl fmt::Debug for RedisLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimits")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisLimits {
    /// The timeout of one Redis command made by [`connect`](Self::connect)ed backends and
    /// stores (connecting included).
    pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

    /// Limits kept through `conn` under the key prefix `b24`.
    pub fn new(conn: ConnectionManager) -> Self {
        RedisLimits {
            conn,
            prefix: Arc::from("b24"),
            scripts: Arc::new(Scripts::new()),
            health: Arc::new(Health::default()),
        }
    }

    /// Connects to the Redis at `url` (`redis://host:port/db`, `unix:///path/to/socket`), with
    /// [`COMMAND_TIMEOUT`](Self::COMMAND_TIMEOUT) on every command and reconnection.
    pub async fn connect(url: &str) -> Result<Self, RedisError> {
        Ok(RedisLimits::new(connect(url).await?))
    }

    /// Keys start with `prefix` instead of `b24` (several applications on one Redis).
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = Arc::from(prefix);
        self
    }

    fn key(&self, portal: &str, what: &str) -> String {
        portal_key(&self.prefix, portal, what)
    }
}

/// A connection with [`RedisLimits::COMMAND_TIMEOUT`] on commands and connecting.
pub async fn connect(url: &str) -> Result<ConnectionManager, RedisError> {
    let client = ::redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(RedisLimits::COMMAND_TIMEOUT))
        .set_connection_timeout(Some(RedisLimits::COMMAND_TIMEOUT))
        .set_number_of_retries(2);
    ConnectionManager::new_with_config(client, config).await
}

/// `<prefix>:{<portal>}:<what>`, braces in `portal` replaced (they would change the Cluster
/// hash tag).
pub(crate) fn portal_key(prefix: &str, portal: &str, what: &str) -> String {
    let portal: String = portal
        .chars()
        .map(|c| if matches!(c, '{' | '}') { '_' } else { c })
        .collect();
    format!("{prefix}:{{{portal}}}:{what}")
}

impl RedisLimits {
    fn bucket(&self, portal: &str, limit: RateLimit, check_blocks: bool) -> RedisBucket {
        RedisBucket {
            conn: self.conn.clone(),
            scripts: Arc::clone(&self.scripts),
            key: self.key(portal, "bucket"),
            blocks_key: check_blocks.then(|| self.key(portal, "blocked")),
            limit: limit.usable(),
            fallback: Bucket::new(limit),
            level_milli: AtomicU64::new(0),
            awaiting: AtomicBool::new(false),
            health: Arc::clone(&self.health),
        }
    }

    fn operating(
        &self,
        portal: &str,
        limit: OperatingLimit,
        bucket_checks: bool,
    ) -> RedisOperating {
        RedisOperating {
            conn: self.conn.clone(),
            scripts: Arc::clone(&self.scripts),
            key: self.key(portal, "blocked"),
            local: Operating::new(limit),
            bucket_checks,
            health: Arc::clone(&self.health),
        }
    }
}

impl LimitBackend for RedisLimits {
    fn rate_limiter(&self, portal: &str, limit: RateLimit) -> Arc<dyn RateLimiter> {
        Arc::new(self.bucket(portal, limit, false))
    }

    fn operating_time(&self, portal: &str, limit: OperatingLimit) -> Arc<dyn OperatingTime> {
        Arc::new(self.operating(portal, limit, false))
    }

    /// With both limits on, the bucket's script also checks the method's shared operating-time
    /// block: one Redis round trip per call instead of two.
    fn limits(
        &self,
        portal: &str,
        rate: Option<RateLimit>,
        operating: Option<OperatingLimit>,
    ) -> PortalLimits {
        let both = rate.is_some() && operating.is_some();
        (
            rate.map(|limit| Arc::new(self.bucket(portal, limit, both)) as Arc<dyn RateLimiter>),
            operating.map(|limit| {
                Arc::new(self.operating(portal, limit, both)) as Arc<dyn OperatingTime>
            }),
        )
    }
}

/// Runs `f` on the current tokio runtime, if there is one (writes nobody waits for).
pub(super) fn spawn_detached(f: impl std::future::Future<Output = ()> + Send + 'static) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        drop(runtime.spawn(f));
    }
}
