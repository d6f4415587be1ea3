//! A portal's operating-time accounting with its blocks shared in Redis.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ::redis::aio::ConnectionManager;
use futures::future::BoxFuture;

use super::health::Health;
use super::scripts::{Scripts, MAX_BLOCK};
use super::spawn_detached;
use crate::envelope::Usage;
use crate::limits::backend::OperatingTime;
use crate::limits::operating::{key_of, Operating};
use crate::limits::OperatingStatus;

/// A portal's operating-time accounting: this process's own (from its answers) plus the blocks
/// every process of the portal put in Redis.
pub(super) struct RedisOperating {
    pub(super) conn: ConnectionManager,
    pub(super) scripts: Arc<Scripts>,
    pub(super) key: String,
    pub(super) local: Operating,
    /// The portal's bucket (in Redis too) checks the shared blocks: no round trip here.
    pub(super) bucket_checks: bool,
    /// Whether Redis is asked (shared by the backend's limits).
    pub(super) health: Arc<Health>,
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
            let Some(ask) = self.health.may_ask() else {
                return;
            };
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
                    self.health.answered(ask, "operating time");
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
                Err(error) => self.health.failed(ask, "operating time", &error),
            }
        })
    }

    fn observe(&self, method: &str, usage: &Usage) {
        self.local.observe_usage(method, usage);
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
