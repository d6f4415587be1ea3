//! A portal's leaky bucket in Redis (the in-process [`Bucket`] while Redis does not answer).

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ::redis::aio::ConnectionManager;
use ::redis::RedisError;
use futures::future::BoxFuture;

use super::health::Health;
use super::scripts::{Scripts, MAX_BLOCK};
use super::spawn_detached;
use crate::limits::backend::RateLimiter;
use crate::limits::bucket::{Bucket, HEADROOM, NO_ANSWER_LAG};
use crate::limits::operating::key_of;
use crate::limits::RateLimit;

/// A portal's leaky bucket in Redis.
pub(super) struct RedisBucket {
    pub(super) conn: ConnectionManager,
    pub(super) scripts: Arc<Scripts>,
    pub(super) key: String,
    /// The portal's operating-time blocks, checked in the same script (when the client keeps
    /// both limits here).
    pub(super) blocks_key: Option<String>,
    pub(super) limit: RateLimit,
    /// Used while Redis does not answer.
    pub(super) fallback: Bucket,
    /// The level the last script saw, in thousandths.
    pub(super) level_milli: AtomicU64,
    /// The last place this process took started a busy period (or joined one) whose drain waits
    /// for a first answer.
    pub(super) awaiting: AtomicBool,
    /// Whether Redis is asked (shared by the backend's limits).
    pub(super) health: Arc<Health>,
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
            // Negative only when the script's arithmetic overflowed: the longest wait.
            let wait =
                Duration::from_micros(u64::try_from(wait_us).unwrap_or(u64::MAX)).min(MAX_BLOCK);
            return Ok((wait, true));
        }
        self.level_milli
            .store(u64::try_from(level_milli).unwrap_or(0), Ordering::Relaxed);
        if awaiting == 1 {
            self.awaiting.store(true, Ordering::Relaxed);
        }
        // The script's numbers are bounded by the limit's; clamp anyway (a foreign script or a
        // tampered key may answer anything). A negative wait is an overflow in the script (a
        // drain rate near 0), not a free place: the longest wait.
        let wait = u64::try_from(wait_us)
            .unwrap_or(u64::MAX)
            .min(3_600_000_000);
        Ok((Duration::from_micros(wait), false))
    }
}

impl RateLimiter for RedisBucket {
    fn limit(&self) -> RateLimit {
        self.limit
    }

    fn acquire<'a>(&'a self, method: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let step = self.limit.step();
            let mut logged = false;
            loop {
                let Some(ask) = self.health.may_ask() else {
                    return self.fallback.acquire(method).await;
                };
                let wait = match self.try_take(method).await {
                    Ok((wait, true)) => {
                        self.health.answered(ask, "rate limit");
                        // Never a zero wait: a block that ends now is asked about again after a
                        // pause, not in a tight loop of round trips.
                        let wait = wait.max(Duration::from_millis(1));
                        tracing::debug!(
                            method,
                            wait_ms = wait.as_millis() as u64,
                            "another process saw the method's operating time spent: waiting"
                        );
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    Ok((wait, false)) => {
                        self.health.answered(ask, "rate limit");
                        wait
                    }
                    Err(error) => {
                        self.health.failed(ask, "rate limit", &error);
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
