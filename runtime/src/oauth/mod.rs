//! OAuth 2.0 renewal: an access token that renews itself when the portal says it expired.
//!
//! - Renewal is single-flight: however many calls meet an expired token at once, one request
//!   goes to the OAuth server and every call replays with the new token.
//! - Every new token pair goes to the [`TokenStore`] *before* it is used, so an application can
//!   persist it; the portal rotates refresh tokens, and a pair that is not stored is lost.
//! - A renewal runs to its end even if the call that started it is dropped, so a pair the OAuth
//!   server has issued is never lost half-way.
//! - A failed renewal (revoked refresh token, `invalid_grant`, an HTML 502, a timeout) is a
//!   [`RenewalError`], shared by every call that waited for that renewal, and the old tokens stay
//!   as they were.
//! - The exchange with the OAuth server is bounded: [`OAuthApp::timeout`] (default 30 s) and an
//!   answer of at most [`MAX_ANSWER`] bytes; so is the wait for the store
//!   ([`OAuthApp::store_timeout`], default 10 s): a store that does not answer in time does not
//!   hold calls back; the pair is used from memory and handed to the store again until it takes
//!   it (see [`TokenStore`]).
//! - Expiry fields of any value are safe, and the token is renewed ahead of time within
//!   `min(lifetime / 4, 60 s)` of its expiry (see [`expiry`] for the rules).
//! - Several processes on one portal share the pair through a store that can [`TokenStore::load`]
//!   and renew one at a time through a [`RenewalLock`] (feature `redis`: `oauth::redis`).

mod endpoint;
pub mod expiry;
mod lock;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;
mod session;

pub use endpoint::MAX_ANSWER;
pub use lock::{Lease, RenewalLock};
pub use session::OAuthSession;

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::error::{ConfigError, DecodeError, TransportError};
use crate::error_code::ErrorCode;

/// The address of Bitrix24's OAuth server's token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://oauth.bitrix.info/oauth/token/";

/// An application's OAuth credentials: its client id and secret, and the OAuth server.
#[derive(Clone)]
pub struct OAuthApp {
    client_id: String,
    client_secret: SecretString,
    token_url: Url,
    timeout: Duration,
    store_timeout: Duration,
}

impl OAuthApp {
    /// The application with `client_id` and `client_secret`, renewing at
    /// [`DEFAULT_TOKEN_URL`].
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        OAuthApp {
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
            token_url: Url::parse(DEFAULT_TOKEN_URL).expect("the default token URL parses"),
            timeout: Self::DEFAULT_TIMEOUT,
            store_timeout: Self::DEFAULT_STORE_TIMEOUT,
        }
    }

    /// Default timeout of one exchange with the OAuth server, answer included.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default wait for [`TokenStore::save`] before the renewed pair is used from memory.
    pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_secs(10);

    /// The timeout of one exchange with the OAuth server, from connecting to the end of its
    /// answer (default [`Self::DEFAULT_TIMEOUT`]). Calls waiting for a renewal wait at most this
    /// plus the [store timeout](Self::store_timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long a renewal waits for [`TokenStore::save`] (default
    /// [`Self::DEFAULT_STORE_TIMEOUT`]). A save that takes longer goes on in the background
    /// while the new pair is used from memory; see [`TokenStore`].
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout;
        self
    }

    /// Renew at another OAuth server (an emulator in tests, a proxy in production).
    pub fn token_url(mut self, url: &str) -> Result<Self, ConfigError> {
        self.token_url = Url::parse(url).map_err(|e| ConfigError::InvalidUrl {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(self)
    }

    /// The OAuth server's token endpoint.
    pub fn token_endpoint(&self) -> &Url {
        &self.token_url
    }
}

impl fmt::Debug for OAuthApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthApp")
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("token_url", &self.token_url.as_str())
            .field("timeout", &self.timeout)
            .field("store_timeout", &self.store_timeout)
            .finish()
    }
}

/// An access token and the refresh token that renews it.
#[derive(Clone)]
#[non_exhaustive]
pub struct TokenPair {
    access_token: SecretString,
    refresh_token: SecretString,
    /// When the access token expires (Unix time), if known.
    pub expires: Option<i64>,
    /// The portal's unique id (`member_id`), if the OAuth server said.
    pub member_id: Option<String>,
    /// The scopes granted, comma-separated, if the OAuth server said.
    pub scope: Option<String>,
    /// The user the token acts for, if the OAuth server said.
    pub user_id: Option<u64>,
    /// The portal's REST address as the OAuth server gave it.
    pub client_endpoint: Option<String>,
    /// How long the access token lived when issued (seconds), if the OAuth server said.
    lifetime: Option<i64>,
}

impl TokenPair {
    /// A pair from its two tokens.
    pub fn new(access_token: impl Into<String>, refresh_token: impl Into<String>) -> Self {
        TokenPair {
            access_token: SecretString::from(access_token.into()),
            refresh_token: SecretString::from(refresh_token.into()),
            expires: None,
            member_id: None,
            scope: None,
            user_id: None,
            client_endpoint: None,
            lifetime: None,
        }
    }

    /// The same pair with a known expiry (Unix time).
    pub fn expires_at(mut self, unix: i64) -> Self {
        self.expires = Some(unix);
        self
    }

    /// The access token, for persisting it. Handle with care.
    pub fn expose_access_token(&self) -> &str {
        self.access_token.expose_secret()
    }

    /// The refresh token, for persisting it. Handle with care.
    pub fn expose_refresh_token(&self) -> &str {
        self.refresh_token.expose_secret()
    }

    /// Whether the access token is renewed before a call made now ([`expiry::renew_ahead`]).
    fn expires_soon(&self) -> bool {
        expiry::renew_ahead(self.expires, self.lifetime, unix_now())
    }

    /// Whether the access token is known to have expired.
    fn expired(&self) -> bool {
        self.expires.is_some_and(|at| at <= unix_now())
    }

    /// Whether `other` is the same pair (same refresh token).
    fn same_as(&self, other: &TokenPair) -> bool {
        self.refresh_token.expose_secret() == other.refresh_token.expose_secret()
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("access_token", &"***")
            .field("refresh_token", &"***")
            .field("expires", &self.expires)
            .field("member_id", &self.member_id)
            .field("scope", &self.scope)
            .field("user_id", &self.user_id)
            .finish()
    }
}

/// The error type of a [`TokenStore`].
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;

/// Where renewed token pairs are kept. Called with every new pair before it is used.
///
/// The OAuth server rotates the refresh token on every renewal: the pair it answers is the only
/// one that works from then on, so the runtime never drops it:
///
/// - `save` returns `Ok`: the pair is used.
/// - `save` returns an error: the pair is kept *pending* in memory and not used; the call gets
///   [`RenewalError::Store`], and the next call hands the same pair to the store again (no new
///   renewal is made while a pair is pending).
/// - `save` does not return within [`OAuthApp::store_timeout`]: the pair is used from memory so
///   that calls go on (the old refresh token is spent either way: holding the pair back would
///   not make it safer), the save goes on in the background, and if it fails a later call saves
///   the pair again. Saves never run concurrently and always hand over the newest pair, so an
///   old pair can never overwrite a newer one. Until the store has it, the pair exists only in
///   this process's memory: `OAuthSession::tokens` is the way to get at it.
///
/// ```
/// use b24_runtime::oauth::{TokenPair, TokenStore, StoreError};
/// use futures::future::BoxFuture;
///
/// struct FileStore(std::path::PathBuf);
///
/// impl TokenStore for FileStore {
///     fn save<'a>(&'a self, tokens: &'a TokenPair) -> BoxFuture<'a, Result<(), StoreError>> {
///         Box::pin(async move {
///             let line = format!("{} {}", tokens.expose_access_token(), tokens.expose_refresh_token());
///             std::fs::write(&self.0, line)?;
///             Ok(())
///         })
///     }
/// }
/// ```
pub trait TokenStore: Send + Sync + 'static {
    /// Persists `tokens`. An error keeps the pair pending: it is not used, and saving is tried
    /// again on the next call.
    fn save<'a>(&'a self, tokens: &'a TokenPair) -> BoxFuture<'a, Result<(), StoreError>>;

    /// The newest pair the store holds (`None` if it holds none, the default). A store shared by
    /// several processes must implement it: with a [`RenewalLock`], a process that did not renew
    /// takes the pair another one saved from here, and so does one whose refresh token the OAuth
    /// server refused (`invalid_grant`: another process spent it).
    fn load(&self) -> BoxFuture<'_, Result<Option<TokenPair>, StoreError>> {
        Box::pin(async { Ok(None) })
    }
}

/// The default store: keeps the latest pair in memory.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    latest: Mutex<Option<TokenPair>>,
    saves: std::sync::atomic::AtomicUsize,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The last pair saved.
    pub fn latest(&self) -> Option<TokenPair> {
        self.latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many pairs were saved.
    pub fn saves(&self) -> usize {
        self.saves.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl TokenStore for MemoryTokenStore {
    fn save<'a>(&'a self, tokens: &'a TokenPair) -> BoxFuture<'a, Result<(), StoreError>> {
        *self.latest.lock().unwrap_or_else(|e| e.into_inner()) = Some(tokens.clone());
        self.saves.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async { Ok(()) })
    }

    fn load(&self) -> BoxFuture<'_, Result<Option<TokenPair>, StoreError>> {
        let latest = self.latest();
        Box::pin(async move { Ok(latest) })
    }
}

/// A failed renewal. The old tokens were not overwritten.
///
/// Every call that waited for a renewal attempt gets a copy of its outcome (hence `Clone`).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RenewalError {
    /// The OAuth server refused (`invalid_grant` for a revoked or used refresh token,
    /// `invalid_client`, `PAYMENT_REQUIRED` …).
    #[error("the OAuth server refused to renew the token: {code} (HTTP {status}): {description}")]
    Refused {
        /// The OAuth server's code.
        code: ErrorCode,
        /// Its description.
        description: String,
        /// The HTTP status.
        status: u16,
    },
    /// The OAuth server could not be reached.
    #[error("the OAuth server could not be reached: {0}")]
    Transport(#[source] TransportError),
    /// The OAuth server answered with something that is not a token pair.
    #[error("the OAuth server's answer is not a token pair: {0}")]
    Decode(#[source] DecodeError),
    /// The token store failed; the new pair is kept pending and saved on the next call.
    #[error("the token store failed to save the renewed tokens: {0}")]
    Store(#[source] Arc<dyn std::error::Error + Send + Sync>),
    /// The call was made with a static token that cannot be renewed.
    #[error("the access token expired and the client has no refresh token to renew it")]
    NotRenewable,
}
