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
//!   process falls back to a bucket of its own for that call, with a warning; the portal's
//!   `QUERY_LIMIT_EXCEEDED` is retried as always. Calls never fail because of Redis.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{RedisError, Script};
use futures::future::BoxFuture;

use super::backend::{LimitBackend, OperatingTime, PortalLimits, RateLimiter};
use super::bucket::{Bucket, HEADROOM, NO_ANSWER_LAG};
use super::operating::{key_of, Operating};
use super::{OperatingLimit, OperatingStatus, RateLimit};
use crate::envelope::Time;

/// Takes a place in the bucket: returns `{wait_us, level_milli, awaiting, blocked}`; `wait_us` 0
/// means the place is taken. With `KEYS[2]` (the operating-time blocks) and `ARGV[5]` (a method),
/// a method another process saw blocked takes no place: `blocked` is 1 and `wait_us` the time
/// left.
const ACQUIRE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
if KEYS[2] then
  local until_ms = tonumber(redis.call('HGET', KEYS[2], ARGV[5]) or '0') or 0
  if until_ms > now then
    return {math.ceil((until_ms - now) * 1000), 0, 0, 1}
  end
end
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2]) / 1000
local headroom = tonumber(ARGV[3])
local lag = tonumber(ARGV[4])
local s = redis.call('HMGET', KEYS[1], 'level', 'at', 'awaiting')
local level = tonumber(s[1]) or 0
local at = tonumber(s[2]) or now
local awaiting = s[3] == '1'
if now > at then
  level = math.max(0, level - (now - at) * rate)
  at = now
end
if level <= 0 then
  at = now + lag
  awaiting = true
end
local capacity = math.max(1, burst - headroom)
local wait = 0
if level + 1 <= capacity or rate <= 0 then
  level = level + 1
else
  wait = math.max(0, at - now) + (level + 1 - capacity) / rate
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(at), 'awaiting', awaiting and '1' or '0')
local ttl = lag + 60000
if rate > 0 then ttl = ttl + math.min(level / rate, 86400000) else ttl = 86400000 end
redis.call('PEXPIRE', KEYS[1], math.ceil(ttl))
return {math.ceil(wait * 1000), math.floor(level * 1000), awaiting and 1 or 0, 0}
"#;

/// An answer came back: the drain of the busy period starts now if it was waiting for one.
const ANSWERED: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local s = redis.call('HMGET', KEYS[1], 'at', 'awaiting')
if s[2] == '1' then
  local at = tonumber(s[1]) or now
  if at > now then at = now end
  redis.call('HSET', KEYS[1], 'at', tostring(at), 'awaiting', '0')
end
return 1
"#;

/// The portal said the bucket is full: drain up to now, then fill it to `burst`.
const SATURATE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2]) / 1000
local s = redis.call('HMGET', KEYS[1], 'level', 'at')
local level = tonumber(s[1]) or 0
local at = tonumber(s[2]) or now
if now > at then
  level = math.max(0, level - (now - at) * rate)
  at = now
end
level = math.max(level, burst)
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(at), 'awaiting', '0')
redis.call('PEXPIRE', KEYS[1], 86400000)
return 1
"#;

/// Holds `ARGV[1]` (a method) back for `ARGV[2]` ms from now (keeping a later block).
const BLOCK: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local until_ms = now + tonumber(ARGV[2])
local old = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') or 0
if until_ms > old then redis.call('HSET', KEYS[1], ARGV[1], tostring(until_ms)) end
local ttl = redis.call('PTTL', KEYS[1])
local want = math.ceil(until_ms - now) + 1000
if ttl < want then redis.call('PEXPIRE', KEYS[1], want) end
return 1
"#;

/// How long `ARGV[1]` (a method) is still held back, in ms (0: not held back).
const BLOCKED_FOR: &str = r#"
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local left = (tonumber(v) or 0) - now
if left <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) return 0 end
return math.ceil(left)
"#;

/// The longest a method is held back on the word of another process (the portal's window).
const MAX_BLOCK: Duration = Duration::from_secs(600);

struct Scripts {
    acquire: Script,
    answered: Script,
    saturate: Script,
    block: Script,
    blocked_for: Script,
}

impl Scripts {
    fn new() -> Self {
        Scripts {
            acquire: Script::new(ACQUIRE),
            answered: Script::new(ANSWERED),
            saturate: Script::new(SATURATE),
            block: Script::new(BLOCK),
            blocked_for: Script::new(BLOCKED_FOR),
        }
    }
}

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
            limit,
            fallback: Bucket::new(limit),
            level_milli: AtomicU64::new(0),
            awaiting: AtomicBool::new(false),
            degraded: AtomicBool::new(false),
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
            degraded: AtomicBool::new(false),
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

/// Warns when Redis starts failing and says when it is back, not on every call.
fn note_failure(degraded: &AtomicBool, what: &str, error: &RedisError) {
    if !degraded.swap(true, Ordering::Relaxed) {
        tracing::warn!(%error, "{what}: Redis failed, using this process's own state until it answers");
    }
}

fn note_success(degraded: &AtomicBool, what: &str) {
    if degraded.swap(false, Ordering::Relaxed) {
        tracing::info!("{what}: Redis answers again");
    }
}

/// Runs `f` on the current tokio runtime, if there is one (writes nobody waits for).
fn spawn_detached(f: impl std::future::Future<Output = ()> + Send + 'static) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        drop(runtime.spawn(f));
    }
}

/// A portal's leaky bucket in Redis.
struct RedisBucket {
    conn: ConnectionManager,
    scripts: Arc<Scripts>,
    key: String,
    /// The portal's operating-time blocks, checked in the same script (when the client keeps
    /// both limits here).
    blocks_key: Option<String>,
    limit: RateLimit,
    /// Used while Redis does not answer.
    fallback: Bucket,
    /// The level the last script saw, in thousandths.
    level_milli: AtomicU64,
    /// The last place this process took started a busy period (or joined one) whose drain waits
    /// for a first answer.
    awaiting: AtomicBool,
    degraded: AtomicBool,
}

impl fmt::Debug for RedisBucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBucket")
            .field("key", &self.key)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl RedisBucket {
    /// One try: zero if a place was taken, else how long until there may be one, and whether
    /// that is the method's operating-time block.
    async fn try_take(&self, method: &str) -> Result<(Duration, bool), RedisError> {
        let mut conn = self.conn.clone();
        let mut script = self.scripts.acquire.key(&self.key);
        script
            .arg(self.limit.burst)
            .arg(self.limit.per_second)
            .arg(HEADROOM)
            .arg(NO_ANSWER_LAG.as_millis() as u64);
        if let Some(blocks) = &self.blocks_key {
            script.key(blocks).arg(key_of(method).as_ref());
        }
        let (wait_us, level_milli, awaiting, blocked): (i64, i64, i64, i64) =
            script.invoke_async(&mut conn).await?;
        if blocked == 1 {
            let wait = Duration::from_micros(u64::try_from(wait_us).unwrap_or(0)).min(MAX_BLOCK);
            return Ok((wait, true));
        }
        self.level_milli
            .store(u64::try_from(level_milli).unwrap_or(0), Ordering::Relaxed);
        if awaiting == 1 {
            self.awaiting.store(true, Ordering::Relaxed);
        }
        // The script's numbers are bounded by the limit's; clamp anyway (a foreign script or a
        // tampered key may answer anything).
        let wait = u64::try_from(wait_us).unwrap_or(0).min(3_600_000_000);
        Ok((Duration::from_micros(wait), false))
    }
}

impl RateLimiter for RedisBucket {
    fn limit(&self) -> RateLimit {
        self.limit
    }

    fn acquire<'a>(&'a self, method: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let step = Duration::from_secs_f64(1.0 / self.limit.per_second.max(0.001))
                .max(Duration::from_millis(2));
            let mut logged = false;
            loop {
                let wait = match self.try_take(method).await {
                    Ok((wait, true)) => {
                        tracing::debug!(
                            method,
                            wait_ms = wait.as_millis() as u64,
                            "another process saw the method's operating time spent: waiting"
                        );
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    Ok((wait, false)) => {
                        note_success(&self.degraded, "rate limit");
                        wait
                    }
                    Err(error) => {
                        note_failure(&self.degraded, "rate limit", &error);
                        return self.fallback.acquire(method).await;
                    }
                };
                if wait.is_zero() {
                    return;
                }
                if !logged {
                    logged = true;
                    tracing::debug!(
                        method,
                        wait_ms = wait.as_millis() as u64,
                        "waiting for the shared rate limit (leaky bucket in Redis)"
                    );
                }
                tokio::time::sleep(wait.min(step)).await;
            }
        })
    }

    fn answered(&self) {
        self.fallback.answered();
        if !self.awaiting.swap(false, Ordering::Relaxed) {
            return;
        }
        let (mut conn, scripts, key) = (
            self.conn.clone(),
            Arc::clone(&self.scripts),
            self.key.clone(),
        );
        spawn_detached(async move {
            let done: Result<i64, _> = scripts.answered.key(&key).invoke_async(&mut conn).await;
            if let Err(error) = done {
                tracing::debug!(%error, "could not mark the shared bucket answered");
            }
        });
    }

    fn saturate(&self) {
        self.fallback.saturate();
        self.level_milli.store(
            u64::from(self.limit.burst).saturating_mul(1000),
            Ordering::Relaxed,
        );
        let (mut conn, scripts, key, limit) = (
            self.conn.clone(),
            Arc::clone(&self.scripts),
            self.key.clone(),
            self.limit,
        );
        spawn_detached(async move {
            let done: Result<i64, _> = scripts
                .saturate
                .key(&key)
                .arg(limit.burst)
                .arg(limit.per_second)
                .invoke_async(&mut conn)
                .await;
            if let Err(error) = done {
                tracing::debug!(%error, "could not mark the shared bucket full");
            }
        });
    }

    fn level(&self) -> f64 {
        self.level_milli.load(Ordering::Relaxed) as f64 / 1000.0
    }
}

/// A portal's operating-time accounting: this process's own (from its answers) plus the blocks
/// every process of the portal put in Redis.
struct RedisOperating {
    conn: ConnectionManager,
    scripts: Arc<Scripts>,
    key: String,
    local: Operating,
    /// The portal's bucket (in Redis too) checks the shared blocks: no round trip here.
    bucket_checks: bool,
    degraded: AtomicBool,
}

impl fmt::Debug for RedisOperating {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisOperating")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl RedisOperating {
    /// Puts this process's block of `method` (if any) in Redis, for the other processes.
    fn share_block(&self, method: &str) {
        let Some(blocked) = self.local.status(method).and_then(|s| s.blocked_for) else {
            return;
        };
        let (mut conn, scripts, key) = (
            self.conn.clone(),
            Arc::clone(&self.scripts),
            self.key.clone(),
        );
        let method = key_of(method).into_owned();
        let ms = blocked.min(MAX_BLOCK).as_millis() as u64;
        spawn_detached(async move {
            let done: Result<i64, _> = scripts
                .block
                .key(&key)
                .arg(&method)
                .arg(ms)
                .invoke_async(&mut conn)
                .await;
            if let Err(error) = done {
                tracing::debug!(%error, "could not share an operating-time block");
            }
        });
    }
}

impl OperatingTime for RedisOperating {
    fn wait<'a>(&'a self, method: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            self.local.wait(method).await;
            if self.bucket_checks {
                return;
            }
            let mut conn = self.conn.clone();
            let left: Result<i64, _> = self
                .scripts
                .blocked_for
                .key(&self.key)
                .arg(key_of(method).as_ref())
                .invoke_async(&mut conn)
                .await;
            match left {
                Ok(ms) => {
                    note_success(&self.degraded, "operating time");
                    let left = Duration::from_millis(u64::try_from(ms).unwrap_or(0)).min(MAX_BLOCK);
                    if !left.is_zero() {
                        tracing::debug!(
                            method,
                            wait_ms = left.as_millis() as u64,
                            "another process saw the method's operating time spent: waiting"
                        );
                        tokio::time::sleep(left).await;
                    }
                }
                Err(error) => note_failure(&self.degraded, "operating time", &error),
            }
        })
    }

    fn observe(&self, method: &str, time: &Time) {
        self.local.observe(method, time);
        self.share_block(method);
    }

    fn limit_reached(&self, method: &str) {
        self.local.limit_reached(method);
        self.share_block(method);
    }

    fn status(&self, method: &str) -> Option<OperatingStatus> {
        self.local.status(method)
    }
}
