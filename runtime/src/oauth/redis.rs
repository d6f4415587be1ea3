//! A portal's token pair and renewal lock in Redis, shared by several processes (replicas):
//! [`RedisTokenStore`] and [`RedisRenewalLock`] (see [`RenewalLock`] for how renewal goes).
//!
//! Keys: `<prefix>:{<portal>}:tokens` (the pair, as JSON: it holds the tokens in clear, like any
//! token store; protect the Redis accordingly) and `<prefix>:{<portal>}:renewal` (the lock: a
//! random [`Lease`] value set with `NX PX`, released by a script only by its holder).
//!
//! ```no_run
//! # async fn demo() -> Result<(), b24_runtime::oauth::StoreError> {
//! use std::sync::Arc;
//! use b24_runtime::limits::redis::{connect, RedisLimits};
//! use b24_runtime::oauth::redis::{RedisRenewalLock, RedisTokenStore};
//! use b24_runtime::{Client, OAuthApp};
//!
//! let conn = connect("redis://127.0.0.1:6379/").await?;
//! let member_id = "a223c6b3710f85df22e9377d6c4f7553";
//! let store = RedisTokenStore::new(conn.clone(), member_id);
//! let tokens = store.current().await?.expect("the pair saved at installation");
//! let client = Client::builder()
//!     .oauth_renewing("https://example.bitrix24.com", tokens, OAuthApp::new("app.id", "secret"))
//!     .token_store(Arc::new(store))
//!     .renewal_lock(Arc::new(RedisRenewalLock::new(conn.clone(), member_id)))
//!     .limit_backend(Arc::new(RedisLimits::new(conn)))
//!     .portal_key(member_id)
//!     .build()?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::time::Duration;

use ::redis::aio::ConnectionManager;
use ::redis::Script;
use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{Lease, RenewalLock, StoreError, TokenPair, TokenStore};
use crate::limits::redis::portal_key;

/// A portal's token pair in Redis.
#[derive(Clone)]
pub struct RedisTokenStore {
    conn: ConnectionManager,
    key: String,
}

impl fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenStore")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// The stored pair could not be read back (not JSON, or without its two tokens). Its content is
/// never shown: it holds tokens.
#[derive(Debug, thiserror::Error)]
#[error("the token pair stored in Redis under {key} is not one b24 wrote")]
pub struct CorruptPair {
    key: String,
}

impl RedisTokenStore {
    /// The pair of `portal` (its `member_id` or domain) under the key prefix `b24`.
    pub fn new(conn: ConnectionManager, portal: &str) -> Self {
        Self::with_prefix(conn, "b24", portal)
    }

    /// The pair of `portal` under the key prefix `prefix`.
    pub fn with_prefix(conn: ConnectionManager, prefix: &str, portal: &str) -> Self {
        RedisTokenStore {
            conn,
            key: portal_key(prefix, portal, "tokens"),
        }
    }

    /// The stored pair, if any (what [`TokenStore::load`] gives).
    pub async fn current(&self) -> Result<Option<TokenPair>, StoreError> {
        let mut conn = self.conn.clone();
        let text: Option<String> = ::redis::cmd("GET")
            .arg(&self.key)
            .query_async(&mut conn)
            .await?;
        match text {
            None => Ok(None),
            Some(text) => decode(&text).map(Some).ok_or_else(|| {
                Box::new(CorruptPair {
                    key: self.key.clone(),
                }) as StoreError
            }),
        }
    }
}

/// The pair as JSON, every field kept (the lifetime decides when it is renewed ahead).
fn encode(pair: &TokenPair) -> String {
    json!({
        "access_token": pair.expose_access_token(),
        "refresh_token": pair.expose_refresh_token(),
        "expires": pair.expires,
        "lifetime": pair.lifetime,
        "member_id": pair.member_id,
        "scope": pair.scope,
        "user_id": pair.user_id,
        "client_endpoint": pair.client_endpoint,
    })
    .to_string()
}

fn decode(text: &str) -> Option<TokenPair> {
    let value: Value = serde_json::from_str(text).ok()?;
    let token = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let text = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
    let mut pair = TokenPair::new(token("access_token")?, token("refresh_token")?);
    pair.expires = value.get("expires").and_then(Value::as_i64);
    pair.lifetime = value.get("lifetime").and_then(Value::as_i64);
    pair.member_id = text("member_id");
    pair.scope = text("scope");
    pair.user_id = value.get("user_id").and_then(Value::as_u64);
    pair.client_endpoint = text("client_endpoint");
    Some(pair)
}

impl TokenStore for RedisTokenStore {
    fn save<'a>(&'a self, tokens: &'a TokenPair) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            ::redis::cmd("SET")
                .arg(&self.key)
                .arg(encode(tokens))
                .query_async::<()>(&mut conn)
                .await?;
            Ok(())
        })
    }

    fn load(&self) -> BoxFuture<'_, Result<Option<TokenPair>, StoreError>> {
        Box::pin(self.current())
    }
}

/// Deletes the lock only if it still holds the caller's lease.
const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"#;

/// A portal's renewal lock in Redis (`SET NX PX` with a random lease value; checked release).
#[derive(Clone)]
pub struct RedisRenewalLock {
    conn: ConnectionManager,
    key: String,
    lease: Duration,
    release: std::sync::Arc<Script>,
}

impl fmt::Debug for RedisRenewalLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRenewalLock")
            .field("key", &self.key)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

impl RedisRenewalLock {
    /// Default lease: longer than the lock may be held with the default timeouts: a load of the
    /// stored pair (10 s for the store), the OAuth server (30 s), the save (10 s), and a margin.
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

    /// The lock of `portal` (its `member_id` or domain) under the key prefix `b24`.
    pub fn new(conn: ConnectionManager, portal: &str) -> Self {
        Self::with_prefix(conn, "b24", portal)
    }

    /// The lock of `portal` under the key prefix `prefix`.
    pub fn with_prefix(conn: ConnectionManager, prefix: &str, portal: &str) -> Self {
        RedisRenewalLock {
            conn,
            key: portal_key(prefix, portal, "renewal"),
            lease: Self::DEFAULT_LEASE,
            release: std::sync::Arc::new(Script::new(RELEASE)),
        }
    }

    /// How long a lease lasts (default [`Self::DEFAULT_LEASE`]; at least a millisecond, at most a
    /// day).
    pub fn with_lease(mut self, lease: Duration) -> Self {
        // Redis takes `PX` up to about 292 million years; a day is longer than any renewal.
        self.lease = lease.clamp(Duration::from_millis(1), Duration::from_secs(86_400));
        self
    }
}

impl RenewalLock for RedisRenewalLock {
    fn try_acquire(&self) -> BoxFuture<'_, Result<Option<Lease>, StoreError>> {
        Box::pin(async move {
            let lease = Lease::random();
            let mut conn = self.conn.clone();
            let ms = u64::try_from(self.lease.as_millis()).unwrap_or(u64::MAX);
            let set: Option<String> = ::redis::cmd("SET")
                .arg(&self.key)
                .arg(lease.as_str())
                .arg("NX")
                .arg("PX")
                .arg(ms)
                .query_async(&mut conn)
                .await?;
            Ok(set.map(|_| lease))
        })
    }

    fn release<'a>(&'a self, lease: &'a Lease) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let _: i64 = self
                .release
                .key(&self.key)
                .arg(lease.as_str())
                .invoke_async(&mut conn)
                .await?;
            Ok(())
        })
    }

    fn lease(&self) -> Duration {
        self.lease
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_survives_the_round_trip_and_garbage_is_refused() {
        let mut pair = TokenPair::new("a0", "r0").expires_at(1_900_000_000);
        pair.lifetime = Some(3600);
        pair.member_id = Some("m".into());
        pair.user_id = Some(7);
        let back = decode(&encode(&pair)).expect("decodes");
        assert_eq!(
            (back.expose_access_token(), back.expose_refresh_token()),
            ("a0", "r0")
        );
        assert_eq!(
            (back.expires, back.lifetime, back.user_id),
            (Some(1_900_000_000), Some(3600), Some(7))
        );
        assert_eq!(back.member_id.as_deref(), Some("m"));
        for bad in [
            "",
            "null",
            "[]",
            r#"{"access_token":"a"}"#,
            r#"{"access_token":"","refresh_token":"r"}"#,
            r#"{"access_token":1,"refresh_token":"r"}"#,
        ] {
            assert!(decode(bad).is_none(), "{bad}");
        }
        let err = CorruptPair { key: "k".into() }.to_string();
        assert!(!err.contains("r0"));
    }
}
