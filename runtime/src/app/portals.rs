//! [`Portals`]: the registry of the portals an application is installed on, giving the
//! [`Client`] of each by `member_id`.
//!
//! - A portal's client is built the first time it is asked for, from its stored
//!   [`Installation`], and cached: each portal has its own leaky bucket, operating-time
//!   accounting and renewing OAuth session, and all share one HTTP connection pool.
//! - Concurrent first requests for one portal build one client (the build is single-flight).
//! - Every pair a portal's client renews is saved into its installation in the
//!   [`PortalStore`] before it is used, so a restarted application carries on with it.
//! - Installing again replaces the cached client; uninstalling drops it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::store::PortalTokens;
use super::{Installation, PortalError, PortalStore};
use crate::client::{Client, ClientBuilder};
use crate::oauth::OAuthApp;

type Configure = dyn Fn(ClientBuilder) -> ClientBuilder + Send + Sync;

/// The portals an application is installed on (cheap to clone: clones share the cache).
///
/// ```no_run
/// use std::sync::Arc;
/// use b24_runtime::app::{MemoryPortalStore, Portals};
/// use b24_runtime::OAuthApp;
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let portals = Portals::new(OAuthApp::new("app.id", "secret"), Arc::new(MemoryPortalStore::new()));
/// let client = portals.client("a223c6b3710f85df22e9377d6c4f7553").await?;
/// let me = client.call_raw("user.current", &serde_json::json!({})).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Portals {
    inner: Arc<Inner>,
}

struct Inner {
    app: OAuthApp,
    store: Arc<dyn PortalStore>,
    configure: Box<Configure>,
    clients: Mutex<HashMap<String, Client>>,
    /// Held while a client is built, so that one portal gets one client.
    building: tokio::sync::Mutex<()>,
    /// The first client built: the others share its connection pool.
    pool: OnceLock<Client>,
    /// For the OAuth server (installation checks); never follows redirects.
    http: reqwest::Client,
}

impl std::fmt::Debug for Portals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cached = self.lock().len();
        f.debug_struct("Portals")
            .field("app", &self.inner.app)
            .field("cached_clients", &cached)
            .finish_non_exhaustive()
    }
}

impl Portals {
    /// The registry of `app`'s portals, kept in `store`, with clients of default settings.
    pub fn new(app: OAuthApp, store: Arc<dyn PortalStore>) -> Self {
        Self::with_clients(app, store, |builder| builder)
    }

    /// [`Portals::new`] with every portal's client configured by `configure` (rate limit,
    /// retries, timeouts, `http_client`…); credentials and the token store are set by the
    /// registry after it.
    pub fn with_clients(
        app: OAuthApp,
        store: Arc<dyn PortalStore>,
        configure: impl Fn(ClientBuilder) -> ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(concat!("b24-rust/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Portals {
            inner: Arc::new(Inner {
                app,
                store,
                configure: Box::new(configure),
                clients: Mutex::new(HashMap::new()),
                building: tokio::sync::Mutex::new(()),
                pool: OnceLock::new(),
                http,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Client>> {
        self.inner.clients.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The application's OAuth credentials.
    pub fn oauth_app(&self) -> &OAuthApp {
        &self.inner.app
    }

    /// The store installations are kept in.
    pub fn store(&self) -> &Arc<dyn PortalStore> {
        &self.inner.store
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The client of the portal `member_id`: cached, or built from its stored installation.
    pub async fn client(&self, member_id: &str) -> Result<Client, PortalError> {
        if let Some(client) = self.lock().get(member_id) {
            return Ok(client.clone());
        }
        let _building = self.inner.building.lock().await;
        if let Some(client) = self.lock().get(member_id) {
            return Ok(client.clone());
        }
        let portal =
            self.installation(member_id)
                .await?
                .ok_or_else(|| PortalError::NotInstalled {
                    member_id: crate::scrub::cut(member_id.to_owned(), 64),
                })?;
        let client = self.build(&portal)?;
        self.lock().insert(member_id.to_owned(), client.clone());
        Ok(client)
    }

    /// The stored installation of `member_id`.
    pub async fn installation(&self, member_id: &str) -> Result<Option<Installation>, PortalError> {
        self.inner
            .store
            .load(member_id)
            .await
            .map_err(PortalError::Store)
    }

    /// The `member_id` of every stored installation.
    pub async fn member_ids(&self) -> Result<Vec<String>, PortalError> {
        self.inner.store.list().await.map_err(PortalError::Store)
    }

    /// Stores `portal` (a new installation, or one installed again) and returns its new client.
    pub async fn install(&self, portal: &Installation) -> Result<Client, PortalError> {
        let _building = self.inner.building.lock().await;
        let client = self.build(portal)?;
        self.inner
            .store
            .save(portal)
            .await
            .map_err(PortalError::Store)?;
        self.lock().insert(portal.member_id.clone(), client.clone());
        tracing::info!(member_id = %portal.member_id, domain = %portal.domain, "b24 portal installed");
        Ok(client)
    }

    /// Removes the installation of `member_id` and its cached client; `true` if it was stored.
    pub async fn uninstall(&self, member_id: &str) -> Result<bool, PortalError> {
        let _building = self.inner.building.lock().await;
        self.lock().remove(member_id);
        let removed = self
            .inner
            .store
            .delete(member_id)
            .await
            .map_err(PortalError::Store)?;
        tracing::info!(member_id = %crate::scrub::cut(member_id.to_owned(), 64), removed, "b24 portal uninstalled");
        Ok(removed)
    }

    /// Drops the cached client of `member_id` (the next [`client`](Self::client) builds one
    /// from the store again).
    pub fn forget(&self, member_id: &str) {
        self.lock().remove(member_id);
    }

    fn build(&self, portal: &Installation) -> Result<Client, PortalError> {
        let mut builder = (self.inner.configure)(Client::builder());
        if let Some(pool) = self.inner.pool.get() {
            builder = builder.share_http(pool);
        }
        let client = builder
            .oauth_renewing(
                &portal.client_endpoint,
                portal.tokens.clone(),
                self.inner.app.clone(),
            )
            .token_store(Arc::new(PortalTokens {
                member_id: portal.member_id.clone(),
                store: Arc::clone(&self.inner.store),
            }))
            .build()?;
        let _ = self.inner.pool.set(client.clone());
        Ok(client)
    }
}
