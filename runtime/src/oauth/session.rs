//! [`OAuthSession`]: the pair in use, single-flight renewal, and saving to the [`TokenStore`].
//!
//! - One renewal attempt at a time (a tokio mutex). A call that waited for the mutex while an
//!   attempt ran gets that attempt's outcome, whatever it was (a new pair, a refusal, an HTML
//!   502, a transport failure, a timeout, a store failure): twenty calls that meet one expired
//!   token make one request to the OAuth server.
//! - An attempt runs in its own task, so dropping the call that started it cannot cut it between
//!   the OAuth server's answer and the store.
//! - Saves run in their own tasks, one at a time, each handing the store the newest unsaved pair.
//! - With a [`RenewalLock`] (several processes on one portal), an attempt first takes a pair
//!   another process saved to the store, and renews only holding the lock (see [`super::lock`]).
//!   In-process waiters still share one attempt; the lock coordinates processes.
//! - A refresh token the OAuth server refuses with `invalid_grant` may have been spent by another
//!   process or client sharing the store: if the store holds another pair, it is taken instead.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use url::Url;

use super::{
    endpoint, Lease, OAuthApp, RenewalError, RenewalLock, StoreError, TokenPair, TokenStore,
};

/// After a failed renewal ahead of expiry, calls keep the still-valid token and do not try again
/// before this long: a failing OAuth server is not asked on every call.
const PROACTIVE_RETRY: Duration = Duration::from_secs(5);

struct State {
    /// Bumped whenever the token in use changes.
    generation: u64,
    tokens: TokenPair,
    /// `tokens` is in use but the store has not confirmed it (its save timed out).
    unsaved: bool,
    /// A renewed pair the store refused: not used until the store takes it.
    pending: Option<TokenPair>,
    /// A save task is running or waiting for its turn.
    saving: bool,
    /// Renewal attempts finished so far, and the outcome of the last one.
    attempts: u64,
    last: Option<Result<(), RenewalError>>,
    /// No renewal ahead of expiry before this instant (after a failed one).
    proactive_not_before: Option<Instant>,
}

/// A renewing OAuth session: the state behind [`Credentials::Renewing`](crate::Credentials).
pub struct OAuthSession {
    rest_root: Url,
    app: OAuthApp,
    store: Arc<dyn TokenStore>,
    renewal_lock: Option<Arc<dyn RenewalLock>>,
    state: Mutex<State>,
    renewal: Arc<tokio::sync::Mutex<()>>,
    /// Held by the save task that is talking to the store.
    save_turn: Arc<tokio::sync::Mutex<()>>,
    renewals: std::sync::atomic::AtomicU64,
}

impl fmt::Debug for OAuthSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthSession")
            .field("rest_root", &self.rest_root.as_str())
            .field("app", &self.app)
            .field("generation", &self.lock().generation)
            .finish_non_exhaustive()
    }
}

impl OAuthSession {
    pub(crate) fn new(
        rest_root: Url,
        tokens: TokenPair,
        app: OAuthApp,
        store: Arc<dyn TokenStore>,
    ) -> Self {
        OAuthSession {
            rest_root,
            app,
            store,
            renewal_lock: None,
            state: Mutex::new(State {
                generation: 0,
                tokens,
                unsaved: false,
                pending: None,
                saving: false,
                attempts: 0,
                last: None,
                proactive_not_before: None,
            }),
            renewal: Arc::new(tokio::sync::Mutex::new(())),
            save_turn: Arc::new(tokio::sync::Mutex::new(())),
            renewals: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Renewals coordinate with other processes through `lock`.
    pub(crate) fn with_lock(mut self, lock: Arc<dyn RenewalLock>) -> Self {
        self.renewal_lock = Some(lock);
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn rest_root(&self) -> &Url {
        &self.rest_root
    }

    /// The pair in use now.
    pub fn tokens(&self) -> TokenPair {
        self.lock().tokens.clone()
    }

    /// Whether the store has every pair this session renewed (`false` while a save is late or
    /// failed: the pair in use, or a pending one, exists only in memory).
    pub fn saved(&self) -> bool {
        let state = self.lock();
        !state.unsaved && state.pending.is_none()
    }

    /// How many renewals this session has completed.
    pub fn renewals(&self) -> u64 {
        self.renewals.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn secrets(&self) -> Vec<String> {
        let state = self.lock();
        let mut out = vec![
            state.tokens.expose_access_token().to_owned(),
            state.tokens.expose_refresh_token().to_owned(),
            self.app.client_secret.expose_secret().to_owned(),
        ];
        if let Some(p) = &state.pending {
            out.push(p.expose_access_token().to_owned());
            out.push(p.expose_refresh_token().to_owned());
        }
        out
    }

    /// The token to call with and its generation: saves a pending pair first, renews a token
    /// that expires soon, and starts a background save of a pair the store does not have yet.
    pub(crate) async fn token(
        self: &Arc<Self>,
        http: &reqwest::Client,
    ) -> Result<(u64, String), RenewalError> {
        let (generation, pending, ahead, expired) = {
            let mut state = self.lock();
            if state.unsaved && !state.saving {
                state.saving = true;
                drop(self.spawn_save());
            }
            let cooled = !matches!(state.proactive_not_before, Some(at) if Instant::now() < at);
            (
                state.generation,
                state.pending.is_some(),
                cooled && state.tokens.expires_soon(),
                state.tokens.expired(),
            )
        };
        if pending {
            self.renew(generation, http).await?;
        } else if ahead {
            if let Err(e) = self.renew(generation, http).await {
                if expired {
                    return Err(e);
                }
                tracing::warn!(error = %e, "renewal ahead of expiry failed: the token in use is still valid");
                self.lock().proactive_not_before = Some(Instant::now() + PROACTIVE_RETRY);
            }
        }
        let state = self.lock();
        Ok((
            state.generation,
            state.tokens.expose_access_token().to_owned(),
        ))
    }

    /// Renews the token that had generation `seen`, unless another call already did; a call that
    /// waited while an attempt ran gets that attempt's outcome.
    pub(crate) async fn renew(
        self: &Arc<Self>,
        seen: u64,
        http: &reqwest::Client,
    ) -> Result<(), RenewalError> {
        let attempts_before = self.lock().attempts;
        let guard = self.renewal.clone().lock_owned().await;
        {
            let state = self.lock();
            if state.attempts != attempts_before {
                if let Some(outcome) = &state.last {
                    return outcome.clone(); // the attempt we waited for
                }
            }
            if state.generation != seen && state.pending.is_none() {
                return Ok(()); // renewed before we asked
            }
        }
        // The attempt runs in its own task holding the lock, so dropping this call cannot cut
        // it between the OAuth server's answer and the store.
        let session = Arc::clone(self);
        let http = http.clone();
        let task = tokio::spawn(async move {
            let outcome = session.attempt(&http).await;
            let mut state = session.lock();
            state.attempts += 1;
            state.last = Some(outcome.clone());
            drop(state);
            drop(guard);
            outcome
        });
        match task.await {
            Ok(outcome) => outcome,
            Err(join) => Err(RenewalError::Store(Arc::new(join))),
        }
    }

    /// One renewal attempt (the renewal lock held): a pending pair is saved, else a new pair is
    /// requested and saved.
    async fn attempt(self: &Arc<Self>, http: &reqwest::Client) -> Result<(), RenewalError> {
        let pending = self.lock().pending.clone();
        let lease = match (&pending, &self.renewal_lock) {
            (None, Some(lock)) => match self.take_lock(lock).await? {
                Taken::Held(lease) => Some((Arc::clone(lock), lease)),
                Taken::Adopted => return Ok(()),
            },
            _ => None,
        };
        let fresh = match pending {
            Some(pair) => pair,
            None => {
                let refresh = self.lock().tokens.expose_refresh_token().to_owned();
                let pair = match endpoint::request(http, &self.app, &refresh, &self.secrets()).await
                {
                    Ok(pair) => pair,
                    Err(e) => {
                        let refused = matches!(&e, RenewalError::Refused { code, .. }
                            if code.as_str().eq_ignore_ascii_case("invalid_grant"));
                        // Another process (or client) may have spent the refresh token and saved
                        // the pair it got: take that one.
                        let adopted = refused
                            && matches!(
                                self.adopt_stored().await,
                                Ok(Adoption::Fresh | Adoption::Stale)
                            );
                        release(lease, self.app.store_timeout).await;
                        if adopted {
                            tracing::info!(
                                "refresh token refused as used: took the newer pair from the store"
                            );
                            return Ok(());
                        }
                        return Err(e);
                    }
                };
                self.renewals
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tracing::info!("OAuth access token renewed");
                self.lock().pending = Some(pair.clone());
                pair
            }
        };
        self.lock().saving = true;
        let mut save = self.spawn_save();
        let saved = tokio::time::timeout(self.app.store_timeout, &mut save).await;
        if saved.is_ok() {
            release(lease, self.app.store_timeout).await;
        } else if let Some(lease) = lease {
            // The others may take the lock once the pair is in the store (or the lease ran out).
            let within = self.app.store_timeout;
            tokio::spawn(async move {
                let _ = save.await;
                release(Some(lease), within).await;
            });
        }
        match saved {
            Ok(Ok(Ok(()))) => Ok(()), // the save task installed the pair
            Ok(Ok(Err(e))) => {
                tracing::warn!(error = %e, "token store failed; the renewed pair stays pending");
                Err(RenewalError::Store(e))
            }
            Ok(Err(join)) => Err(RenewalError::Store(Arc::new(join))),
            Err(_) => {
                tracing::warn!(
                    timeout = ?self.app.store_timeout,
                    "token store did not answer in time: the renewed pair is used from memory \
                     and saved in the background"
                );
                let mut state = self.lock();
                if state.pending.as_ref().is_some_and(|p| p.same_as(&fresh)) {
                    state.pending = None;
                    state.tokens = fresh;
                    state.unsaved = true;
                    state.generation += 1;
                }
                Ok(())
            }
        }
    }

    /// Takes the renewal lock, or a pair another process saved to the store while waiting for it
    /// (see [`super::lock`]). Waits at most a lease plus one renewal's time.
    async fn take_lock(
        self: &Arc<Self>,
        lock: &Arc<dyn RenewalLock>,
    ) -> Result<Taken, RenewalError> {
        // A lease or timeouts of any length (`Duration::MAX` included) make a deadline, at most
        // a day away.
        let patience = lock
            .lease()
            .saturating_add(self.app.timeout)
            .saturating_add(self.app.store_timeout)
            .min(Duration::from_secs(86_400));
        let deadline = Instant::now() + patience;
        let mut pause = Duration::from_millis(5);
        loop {
            if self.adopt_stored().await? == Adoption::Fresh {
                return Ok(Taken::Adopted);
            }
            let taken = tokio::time::timeout(self.app.store_timeout, lock.try_acquire())
                .await
                .map_err(|_| store_error("the renewal lock did not answer in time"))?
                .map_err(|e| RenewalError::Store(Arc::from(e)))?;
            if let Some(lease) = taken {
                // A renewal may have ended between the load above and the lock.
                match self.adopt_stored().await {
                    Ok(Adoption::None | Adoption::Stale) => return Ok(Taken::Held(lease)),
                    Ok(Adoption::Fresh) => {
                        release(Some((Arc::clone(lock), lease)), self.app.store_timeout).await;
                        return Ok(Taken::Adopted);
                    }
                    Err(e) => {
                        release(Some((Arc::clone(lock), lease)), self.app.store_timeout).await;
                        return Err(e);
                    }
                }
            }
            if Instant::now() >= deadline {
                return Err(store_error(
                    "another process held the renewal lock past its lease and a renewal's time",
                ));
            }
            tracing::debug!("another process is renewing the token: waiting");
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }

    /// Puts the store's pair in use if it is another than the one in use: another process
    /// renewed, and the store holds the newest pair. A pair of this session that the store does
    /// not have yet is newer than the store's: then nothing is loaded.
    async fn adopt_stored(&self) -> Result<Adoption, RenewalError> {
        {
            let state = self.lock();
            if state.unsaved || state.pending.is_some() {
                return Ok(Adoption::None);
            }
        }
        let loaded = tokio::time::timeout(self.app.store_timeout, self.store.load())
            .await
            .map_err(|_| store_error("the token store did not answer in time"))?
            .map_err(|e| RenewalError::Store(Arc::from(e)))?;
        let Some(pair) = loaded else {
            return Ok(Adoption::None);
        };
        let mut state = self.lock();
        if pair.same_as(&state.tokens) || state.unsaved || state.pending.is_some() {
            return Ok(Adoption::None);
        }
        let adoption = if pair.expires_soon() {
            Adoption::Stale
        } else {
            Adoption::Fresh
        };
        state.tokens = pair;
        state.generation += 1;
        state.proactive_not_before = None;
        drop(state);
        tracing::info!("took the token pair another process renewed from the store");
        Ok(adoption)
    }

    /// Starts a task that waits for its turn and hands the store the newest pair it does not
    /// have yet (a pending pair before the one in use). On success the pair is marked saved, and
    /// a pending pair is put in use.
    fn spawn_save(
        self: &Arc<Self>,
    ) -> tokio::task::JoinHandle<Result<(), Arc<dyn std::error::Error + Send + Sync>>> {
        let session = Arc::clone(self);
        tokio::spawn(async move {
            let _turn = session.save_turn.clone().lock_owned().await;
            let pair = {
                let state = session.lock();
                state
                    .pending
                    .clone()
                    .or_else(|| state.unsaved.then(|| state.tokens.clone()))
            };
            let outcome = match &pair {
                Some(pair) => session.store.save(pair).await.map_err(Arc::from),
                None => Ok(()),
            };
            let mut state = session.lock();
            state.saving = false;
            if let (Ok(()), Some(pair)) = (&outcome, pair) {
                if state.pending.as_ref().is_some_and(|p| p.same_as(&pair)) {
                    state.pending = None;
                    state.tokens = pair;
                    state.unsaved = false;
                    state.generation += 1;
                } else if state.tokens.same_as(&pair) {
                    state.unsaved = false;
                }
            }
            outcome
        })
    }
}

/// What loading the store's pair did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Adoption {
    /// The store holds the pair in use (or none, or this session's is newer).
    None,
    /// The store's pair is in use now.
    Fresh,
    /// The store's pair is in use now, but it expires soon: renew it.
    Stale,
}

/// What waiting for the renewal lock gave.
enum Taken {
    /// This process holds the lock.
    Held(Lease),
    /// Another process renewed: its pair is in use.
    Adopted,
}

/// Releases a held lease, waiting at most `within` (as every other call to the store); a failure
/// only means others wait for the lease to run out.
async fn release(lease: Option<(Arc<dyn RenewalLock>, Lease)>, within: Duration) {
    if let Some((lock, lease)) = lease {
        match tokio::time::timeout(within, lock.release(&lease)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "could not release the renewal lock: others wait for its lease")
            }
            Err(_) => tracing::warn!(
                "the renewal lock did not answer the release in time: others wait for its lease"
            ),
        }
    }
}

fn store_error(message: &'static str) -> RenewalError {
    let error: StoreError = message.into();
    RenewalError::Store(Arc::from(error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::MemoryTokenStore;
    use crate::transport::test_server::{Answer, Server};

    fn session(server: &Server) -> Arc<OAuthSession> {
        let app = OAuthApp::new("app.id", "app0secret")
            .token_url(&format!("{}oauth/token/", server.url))
            .unwrap();
        Arc::new(OAuthSession::new(
            Url::parse(&format!("{}rest/", server.url)).unwrap(),
            TokenPair::new("old0access", "old0refresh"),
            app,
            Arc::new(MemoryTokenStore::new()),
        ))
    }

    #[tokio::test]
    async fn calls_waiting_for_a_refused_renewal_share_the_refusal() {
        let refusal = r#"{"error":"invalid_grant","error_description":"Invalid refresh token"}"#;
        let server = Server::start(vec![Answer::json(400, refusal); 20]).await;
        let session = session(&server);
        let http = reqwest::Client::new();
        let renewals = (0..10).map(|_| {
            let (session, http) = (Arc::clone(&session), http.clone());
            tokio::spawn(async move { session.renew(0, &http).await })
        });
        for renewal in futures::future::join_all(renewals).await {
            match renewal.unwrap() {
                Err(RenewalError::Refused { code, status, .. }) => {
                    assert_eq!((code.as_str(), status), ("invalid_grant", 400));
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(server.requests().len(), 1);
        assert_eq!(
            session.tokens().expose_refresh_token(),
            "old0refresh",
            "the old pair stays"
        );
        // A later call asks again (the refresh token may have been fixed on the server's side).
        assert!(session.renew(0, &http).await.is_err());
        assert_eq!(server.requests().len(), 2);
    }

    #[tokio::test]
    async fn answers_that_are_not_a_pair_do_not_show_their_tokens() {
        let server = Server::start(vec![
            Answer::json(
                200,
                r#"{"access_token":"new0access0secret","expires_in":3600}"#,
            ),
            Answer::json(
                200,
                r#"{"refresh_token":"new0refresh0secret","access_token":"new0acc"#,
            ),
            Answer::json(
                400,
                r#"{"error":"invalid_grant","error_description":"old0refresh is revoked"}"#,
            ),
        ])
        .await;
        let session = session(&server);
        let http = reqwest::Client::new();
        for _ in 0..3 {
            let err = session.renew(0, &http).await.unwrap_err();
            let text = format!("{err} {err:?}");
            for secret in [
                "new0access0secret",
                "new0refresh0secret",
                "new0acc",
                "old0refresh",
            ] {
                assert!(!text.contains(secret), "{secret} in {text}");
            }
        }
        assert_eq!(session.tokens().expose_access_token(), "old0access");
    }
}
