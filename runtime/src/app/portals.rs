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
//! - An installation whose save fails is not lost: its client (holding the pair the OAuth server
//!   issued) is cached, the installation kept in memory, and saved again in the background
//!   until the store takes it (or at once by [`Portals::save_unsaved`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use super::store::PortalTokens;
use super::{Installation, PortalError, PortalStore};
use crate::auth::Credentials;
use crate::client::{Client, ClientBuilder};
use crate::oauth::{OAuthApp, TokenPair};

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
    /// Installations whose save failed, by `member_id`: their clients are cached (they hold
    /// the pairs) and they are saved again until the store takes them.
    unsaved: Mutex<HashMap<String, Installation>>,
    /// Places for installation checks at the OAuth server ([`MAX_CHECKS`]).
    checks: tokio::sync::Semaphore,
}

/// The most installation checks (claims and authorization codes) asked of the OAuth server at
/// once. Anyone can POST an installation or call the redirect address: past this many, the
/// others are answered at once (503) rather than each holding an outgoing request.
pub const MAX_CHECKS: usize = 16;

/// The first wait before saving an unsaved installation again; it doubles up to
/// [`UNSAVED_RETRY_MAX`].
const UNSAVED_RETRY: Duration = Duration::from_secs(1);
const UNSAVED_RETRY_MAX: Duration = Duration::from_secs(60);

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
                unsaved: Mutex::new(HashMap::new()),
                checks: tokio::sync::Semaphore::new(MAX_CHECKS),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Client>> {
        self.inner.clients.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn unsaved(&self) -> std::sync::MutexGuard<'_, HashMap<String, Installation>> {
        self.inner.unsaved.lock().unwrap_or_else(|e| e.into_inner())
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

    /// A place for one installation check at the OAuth server, if one is free now.
    pub(crate) fn check_place(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.inner.checks.try_acquire().ok()
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

    /// The installation of `member_id`: the stored one, or one whose save failed and that is
    /// kept in memory until it is saved (with the pair its client uses now).
    pub async fn installation(&self, member_id: &str) -> Result<Option<Installation>, PortalError> {
        if let Some(portal) = self.unsaved_now(member_id) {
            return Ok(Some(portal));
        }
        self.inner
            .store
            .load(member_id)
            .await
            .map_err(PortalError::Store)
    }

    /// The unsaved installation of `member_id`, if any, with the pair its cached client uses now
    /// (the client may have renewed the one it was installed with).
    fn unsaved_now(&self, member_id: &str) -> Option<Installation> {
        let mut portal = self.unsaved().get(member_id)?.clone();
        if let Some(tokens) = self.tokens_in_use(member_id) {
            portal.tokens = tokens;
        }
        Some(portal)
    }

    /// The pair the cached client of `member_id` uses now.
    fn tokens_in_use(&self, member_id: &str) -> Option<TokenPair> {
        match self.lock().get(member_id)?.credentials() {
            Credentials::Renewing(session) => Some(session.tokens()),
            _ => None,
        }
    }

    /// How many installations are kept in memory because their save failed.
    pub fn unsaved_count(&self) -> usize {
        self.unsaved().len()
    }

    /// Saves every installation whose save failed (with the pair its client uses now), at once;
    /// they are also saved again in the background until the store takes them. The first store
    /// error if one is still unsaved.
    pub async fn save_unsaved(&self) -> Result<(), PortalError> {
        let ids: Vec<String> = self.unsaved().keys().cloned().collect();
        let mut first = None;
        for member_id in ids {
            if let Err(e) = self.save_unsaved_one(&member_id).await {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Saves the unsaved installation of `member_id` (nothing to do if it has none). Under the
    /// build lock, so that an installation of the same portal cannot come in between.
    async fn save_unsaved_one(&self, member_id: &str) -> Result<(), PortalError> {
        let _building = self.inner.building.lock().await;
        let Some(mut portal) = self.unsaved_now(member_id) else {
            return Ok(());
        };
        // Installed while the store could not be read: keep the application token it has.
        if portal.expose_application_token().is_none() {
            let stored = self
                .inner
                .store
                .load(member_id)
                .await
                .map_err(PortalError::Store)?;
            if let Some(token) = stored.as_ref().and_then(|s| s.expose_application_token()) {
                portal = portal.with_application_token(token);
            }
        }
        self.inner
            .store
            .save(&portal)
            .await
            .map_err(PortalError::Store)?;
        self.unsaved().remove(member_id);
        tracing::info!(member_id = %portal.member_id, "b24 portal installation saved after all");
        Ok(())
    }

    /// Saves `member_id`'s unsaved installation again and again (waits doubling from
    /// [`UNSAVED_RETRY`] to [`UNSAVED_RETRY_MAX`]) until it is saved or gone; stops when the
    /// registry is dropped.
    fn retry_unsaved(&self, member_id: String) {
        let registry: Weak<Inner> = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut wait = UNSAVED_RETRY;
            loop {
                tokio::time::sleep(wait).await;
                let Some(inner) = registry.upgrade() else {
                    return;
                };
                let portals = Portals { inner };
                // Saved, or nothing left to save (saved by another, uninstalled).
                if portals.save_unsaved_one(&member_id).await.is_ok() {
                    return;
                }
                wait = (wait * 2).min(UNSAVED_RETRY_MAX);
            }
        });
    }

    /// The `member_id` of every stored installation.
    pub async fn member_ids(&self) -> Result<Vec<String>, PortalError> {
        self.inner.store.list().await.map_err(PortalError::Store)
    }

    /// Stores `portal` (a new installation, or one installed again) and returns its new client.
    ///
    /// The client is cached before the save: when the save fails, the error is returned, but the
    /// pair the OAuth server issued is not lost. The client keeps working with it, the
    /// installation is kept in memory ([`installation`](Self::installation) returns it) and
    /// saved again in the background until the store takes it.
    pub async fn install(&self, portal: &Installation) -> Result<Client, PortalError> {
        let _building = self.inner.building.lock().await;
        let client = self.build(portal)?;
        self.lock().insert(portal.member_id.clone(), client.clone());
        match self.inner.store.save(portal).await {
            Ok(()) => {
                self.unsaved().remove(&portal.member_id);
                tracing::info!(member_id = %portal.member_id, domain = %portal.domain, "b24 portal installed");
                Ok(client)
            }
            Err(e) => {
                self.keep_unsaved(portal);
                Err(PortalError::Store(e))
            }
        }
    }

    /// Keeps `portal` in memory, to be saved in the background until the store takes it.
    fn keep_unsaved(&self, portal: &Installation) {
        let first = self
            .unsaved()
            .insert(portal.member_id.clone(), portal.clone())
            .is_none();
        tracing::error!(
            member_id = %portal.member_id,
            "b24 portal installed but not stored: kept in memory and saved again until the store takes it"
        );
        if first {
            self.retry_unsaved(portal.member_id.clone());
        }
    }

    /// Installs `portal` without trying the store now (the store just failed to be read): its
    /// client is cached and the installation saved in the background, taking the stored
    /// application token if it has none.
    pub(crate) async fn install_unsaved(
        &self,
        portal: &Installation,
    ) -> Result<Client, PortalError> {
        let _building = self.inner.building.lock().await;
        let client = self.build(portal)?;
        self.lock().insert(portal.member_id.clone(), client.clone());
        self.keep_unsaved(portal);
        Ok(client)
    }

    /// Removes the installation of `member_id` and its cached client; `true` if it was stored.
    pub async fn uninstall(&self, member_id: &str) -> Result<bool, PortalError> {
        let _building = self.inner.building.lock().await;
        self.lock().remove(member_id);
        self.unsaved().remove(member_id);
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
    /// from the store again, or from the installation kept in memory while its save fails).
    pub fn forget(&self, member_id: &str) {
        // An unsaved installation takes the pair the client uses now: it is the only copy.
        if let Some(tokens) = self.tokens_in_use(member_id) {
            if let Some(portal) = self.unsaved().get_mut(member_id) {
                portal.tokens = tokens;
            }
        }
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures::future::BoxFuture;

    use super::*;
    use crate::app::MemoryPortalStore;
    use crate::oauth::StoreError;

    /// A store whose next `fail_saves` saves fail (reads never do): a database that refuses
    /// writes for a while.
    #[derive(Default)]
    struct FlakyStore {
        inner: MemoryPortalStore,
        fail_saves: AtomicUsize,
    }

    impl PortalStore for FlakyStore {
        fn load<'a>(
            &'a self,
            member_id: &'a str,
        ) -> BoxFuture<'a, Result<Option<Installation>, StoreError>> {
            self.inner.load(member_id)
        }

        fn save<'a>(&'a self, portal: &'a Installation) -> BoxFuture<'a, Result<(), StoreError>> {
            let refuse = self
                .fail_saves
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if refuse {
                return Box::pin(async { Err("the database refuses writes".into()) });
            }
            self.inner.save(portal)
        }

        fn delete<'a>(&'a self, member_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
            self.inner.delete(member_id)
        }

        fn list(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
            self.inner.list()
        }

        fn save_tokens<'a>(
            &'a self,
            member_id: &'a str,
            tokens: &'a TokenPair,
        ) -> BoxFuture<'a, Result<(), StoreError>> {
            self.inner.save_tokens(member_id, tokens)
        }
    }

    fn portal(refresh: &str) -> Installation {
        Installation::new(
            "m1",
            "d.example",
            "https://d.example/rest/",
            TokenPair::new("a", refresh),
        )
    }

    fn registry(fail_saves: usize) -> (Portals, Arc<FlakyStore>) {
        let store = Arc::new(FlakyStore::default());
        store.fail_saves.store(fail_saves, Ordering::SeqCst);
        let portals = Portals::new(OAuthApp::new("app.id", "secret"), store.clone());
        (portals, store)
    }

    async fn stored_refresh(store: &FlakyStore) -> Option<String> {
        let portal = store.load("m1").await.unwrap()?;
        Some(portal.tokens.expose_refresh_token().to_owned())
    }

    /// An installation whose save fails keeps its pair: the client works with it, the
    /// installation is kept in memory (a client built again takes it from there), and it is
    /// saved once the store takes writes.
    #[tokio::test]
    async fn an_installation_the_store_refuses_is_kept_and_saved_later() {
        let (portals, store) = registry(usize::MAX);
        let err = portals.install(&portal("r1")).await.unwrap_err();
        assert!(matches!(err, PortalError::Store(_)), "{err:?}");
        assert_eq!(portals.unsaved_count(), 1);
        assert_eq!(stored_refresh(&store).await, None);
        let client = portals.client("m1").await.unwrap();
        assert!(matches!(client.credentials(), Credentials::Renewing(s)
            if s.tokens().expose_refresh_token() == "r1"));
        let kept = portals.installation("m1").await.unwrap().unwrap();
        assert_eq!(kept.tokens.expose_refresh_token(), "r1");
        // Dropped from the cache, the client is built again from the installation in memory.
        portals.forget("m1");
        let again = portals.client("m1").await.unwrap();
        assert!(matches!(again.credentials(), Credentials::Renewing(s)
            if s.tokens().expose_refresh_token() == "r1"));
        assert!(portals.save_unsaved().await.is_err());
        store.fail_saves.store(0, Ordering::SeqCst);
        portals.save_unsaved().await.unwrap();
        assert_eq!(portals.unsaved_count(), 0);
        assert_eq!(stored_refresh(&store).await.as_deref(), Some("r1"));
    }

    /// Without anyone asking, the installation is saved in the background once the store takes
    /// writes again.
    #[tokio::test(start_paused = true)]
    async fn an_unsaved_installation_is_saved_in_the_background() {
        // The install's save and the first retry fail; the second retry (3 s in) is taken.
        let (portals, store) = registry(2);
        assert!(portals.install(&portal("r1")).await.is_err());
        tokio::time::sleep(UNSAVED_RETRY).await;
        tokio::task::yield_now().await;
        assert_eq!(stored_refresh(&store).await, None);
        tokio::time::sleep(UNSAVED_RETRY * 3).await;
        assert_eq!(stored_refresh(&store).await.as_deref(), Some("r1"));
        assert_eq!(portals.unsaved_count(), 0);
    }

    /// Installed while the store could not be read, a portal without an application token
    /// takes the stored one when it is saved (an authorization does not drop it).
    #[tokio::test]
    async fn an_unsaved_installation_keeps_the_stored_application_token() {
        let (portals, store) = registry(0);
        portals
            .install(&portal("r0").with_application_token("t"))
            .await
            .unwrap();
        portals.install_unsaved(&portal("r1")).await.unwrap();
        assert_eq!(portals.unsaved_count(), 1);
        portals.save_unsaved().await.unwrap();
        let saved = store.load("m1").await.unwrap().unwrap();
        assert_eq!(saved.tokens.expose_refresh_token(), "r1");
        assert_eq!(saved.expose_application_token(), Some("t"));
    }

    /// At most `MAX_CHECKS` installation checks at once: past them, a claim and an
    /// authorization code are answered at once, without asking the OAuth server; with a place
    /// free again, they are tried (the OAuth server, nowhere here, cannot be reached).
    #[tokio::test]
    async fn installation_checks_are_bounded() {
        use crate::app::incoming::{InstallRequest, Secrets};
        use crate::app::{AuthorizeError, ReceiveError};
        let nowhere = OAuthApp::new("app.id", "secret")
            .token_url("http://127.0.0.1:9/oauth/token/")
            .unwrap();
        let portals = Portals::new(nowhere, Arc::new(MemoryPortalStore::new()));
        let claim = || InstallRequest {
            member_id: "m1".into(),
            domain: Some("d.example".into()),
            refresh_token: "r".into(),
            application_token: Some("t".into()),
            client_endpoint: None,
            status: None,
        };
        let held: Vec<_> = (0..MAX_CHECKS)
            .map(|_| portals.check_place().unwrap())
            .collect();
        let busy = portals.install_claim(claim(), &Secrets::default()).await;
        assert!(matches!(&busy, Err(ReceiveError::Busy)), "{busy:?}");
        assert_eq!(busy.unwrap_err().status(), 503);
        let busy = portals.authorize("code").await;
        assert!(matches!(busy, Err(AuthorizeError::Busy)), "{busy:?}");
        drop(held);
        let tried = portals.install_claim(claim(), &Secrets::default()).await;
        assert!(
            matches!(tried, Err(ReceiveError::OAuthServer(_))),
            "{tried:?}"
        );
        let tried = portals.authorize("code").await;
        assert!(matches!(tried, Err(AuthorizeError::Grant(_))), "{tried:?}");
    }

    /// Uninstalling forgets an unsaved installation too: nothing saves it afterwards.
    #[tokio::test]
    async fn uninstalling_drops_an_unsaved_installation() {
        let (portals, store) = registry(1);
        assert!(portals.install(&portal("r1")).await.is_err());
        portals.uninstall("m1").await.unwrap();
        assert_eq!(portals.unsaved_count(), 0);
        portals.save_unsaved().await.unwrap();
        assert_eq!(stored_refresh(&store).await, None);
    }
}
