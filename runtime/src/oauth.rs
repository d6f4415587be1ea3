//! OAuth 2.0 renewal: an access token that renews itself when the portal says it expired.
//!
//! - Renewal is single-flight: however many calls meet an expired token at once, one request
//!   goes to the OAuth server and every call replays with the new token.
//! - Every new token pair goes to the [`TokenStore`] *before* it is used, so an application can
//!   persist it; the portal rotates refresh tokens, and a pair that is not stored is lost.
//! - A renewal runs to its end even if the call that started it is dropped, so a pair the OAuth
//!   server has issued is never lost half-way.
//! - A failed renewal (revoked refresh token, `invalid_grant`) is a [`RenewalError`], and the old
//!   tokens stay as they were.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::de::lenient;
use crate::error::{ConfigError, DecodeError, DecodeReason, TransportError};
use crate::error_code::ErrorCode;

/// The address of Bitrix24's OAuth server's token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://oauth.bitrix.info/oauth/token/";

/// An application's OAuth credentials: its client id and secret, and the OAuth server.
#[derive(Clone)]
pub struct OAuthApp {
    client_id: String,
    client_secret: SecretString,
    token_url: Url,
}

impl OAuthApp {
    /// The application with `client_id` and `client_secret`, renewing at
    /// [`DEFAULT_TOKEN_URL`].
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        OAuthApp {
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
            token_url: Url::parse(DEFAULT_TOKEN_URL).expect("the default token URL parses"),
        }
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

    fn expires_soon(&self) -> bool {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs() as i64;
        self.expires_soon_at(now)
    }

    /// Whether the access token expires within 30 s of `now` (within half its lifetime, for a
    /// token that lives less than a minute: otherwise every call would renew it).
    fn expires_soon_at(&self, now: i64) -> bool {
        let margin = self
            .lifetime
            .map_or(30, |lifetime| (lifetime / 2).clamp(0, 30));
        self.expires.is_some_and(|exp| exp - margin <= now)
    }
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
}

/// A failed renewal. The old tokens were not overwritten.
#[derive(Debug, thiserror::Error)]
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
    Store(#[source] StoreError),
    /// The call was made with a static token that cannot be renewed.
    #[error("the access token expired and the client has no refresh token to renew it")]
    NotRenewable,
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    expires: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    expires_in: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    member_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    scope: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    user_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    client_endpoint: Option<String>,
    #[serde(default)]
    error: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "lenient")]
    error_description: Option<String>,
}

struct State {
    /// Bumped whenever the token in use changes.
    generation: u64,
    tokens: TokenPair,
    /// A renewed pair the store has not accepted yet.
    pending: Option<TokenPair>,
    /// Renewal requests answered (or failed) so far.
    answers: u64,
    /// The OAuth server's refusal of the last renewal request, if it refused.
    refused: Option<Refusal>,
}

/// A refusal, kept so that the calls that waited for the renewal share it.
#[derive(Clone)]
struct Refusal {
    generation: u64,
    code: ErrorCode,
    description: String,
    status: u16,
}

/// A renewing OAuth session: the state behind [`Credentials::Renewing`](crate::Credentials).
pub struct OAuthSession {
    rest_root: Url,
    app: OAuthApp,
    store: Arc<dyn TokenStore>,
    state: Mutex<State>,
    renewal: Arc<tokio::sync::Mutex<()>>,
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
            state: Mutex::new(State {
                generation: 0,
                tokens,
                pending: None,
                answers: 0,
                refused: None,
            }),
            renewal: Arc::new(tokio::sync::Mutex::new(())),
            renewals: std::sync::atomic::AtomicU64::new(0),
        }
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

    /// The token to call with and its generation; saves a pending pair or renews an expiring
    /// token first.
    pub(crate) async fn token(
        self: &Arc<Self>,
        http: &reqwest::Client,
    ) -> Result<(u64, String), RenewalError> {
        let (generation, needs_work) = {
            let state = self.lock();
            (
                state.generation,
                state.pending.is_some() || state.tokens.expires_soon(),
            )
        };
        if needs_work {
            self.renew(generation, http).await?;
        }
        let state = self.lock();
        Ok((
            state.generation,
            state.tokens.expose_access_token().to_owned(),
        ))
    }

    /// Renews the token that had generation `seen`, unless another call already did (or the
    /// OAuth server refused to, while this call waited).
    pub(crate) async fn renew(
        self: &Arc<Self>,
        seen: u64,
        http: &reqwest::Client,
    ) -> Result<(), RenewalError> {
        let answers_before = self.lock().answers;
        let guard = self.renewal.clone().lock_owned().await;
        {
            let state = self.lock();
            if state.generation != seen && state.pending.is_none() {
                return Ok(()); // another call renewed while we waited
            }
            match &state.refused {
                // The OAuth server refused to renew this pair while we waited: asking again with
                // the same refresh token would only be refused again.
                Some(refusal) if state.answers != answers_before && refusal.generation == seen => {
                    return Err(RenewalError::Refused {
                        code: refusal.code.clone(),
                        description: refusal.description.clone(),
                        status: refusal.status,
                    });
                }
                _ => {}
            }
        }
        // The renewal runs in its own task holding the lock, so dropping this call cannot cut
        // it between the OAuth server's answer and the store.
        let session = Arc::clone(self);
        let http = http.clone();
        let task = tokio::spawn(async move {
            let _guard = guard;
            session.renew_locked(&http).await
        });
        match task.await {
            Ok(result) => result,
            Err(join) => Err(RenewalError::Store(Box::new(join))),
        }
    }

    async fn renew_locked(&self, http: &reqwest::Client) -> Result<(), RenewalError> {
        let pending = self.lock().pending.clone();
        let fresh = match pending {
            Some(pair) => pair,
            None => {
                let (refresh, generation) = {
                    let state = self.lock();
                    let refresh = state.tokens.expose_refresh_token().to_owned();
                    (refresh, state.generation)
                };
                let answer = self.request(http, &refresh).await;
                {
                    let mut state = self.lock();
                    state.answers += 1;
                    state.refused = match &answer {
                        Err(RenewalError::Refused {
                            code,
                            description,
                            status,
                        }) => Some(Refusal {
                            generation,
                            code: code.clone(),
                            description: description.clone(),
                            status: *status,
                        }),
                        _ => None,
                    };
                }
                let pair = answer?;
                self.renewals
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tracing::info!("OAuth access token renewed");
                self.lock().pending = Some(pair.clone());
                pair
            }
        };
        if let Err(e) = self.store.save(&fresh).await {
            tracing::warn!(error = %e, "token store failed; the renewed pair stays pending");
            return Err(RenewalError::Store(e));
        }
        let mut state = self.lock();
        state.tokens = fresh;
        state.pending = None;
        state.generation += 1;
        Ok(())
    }

    /// One `refresh_token` grant at the OAuth server.
    async fn request(
        &self,
        http: &reqwest::Client,
        refresh_token: &str,
    ) -> Result<TokenPair, RenewalError> {
        let response = http
            .get(self.app.token_url.clone())
            .query(&[
                ("grant_type", "refresh_token"),
                ("client_id", self.app.client_id.as_str()),
                ("client_secret", self.app.client_secret.expose_secret()),
                ("refresh_token", refresh_token),
            ])
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| RenewalError::Transport(TransportError::new(e)))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| RenewalError::Transport(TransportError::new(e)))?;
        // The answer may hold new tokens, whole or cut short, that no redaction list knows yet.
        let redact = |text: String| {
            let mut text = scrub_token_values(text);
            for secret in self.secrets() {
                if !secret.is_empty() {
                    text = text.replace(&secret, "***");
                }
            }
            text
        };
        let decode_error = |reason: DecodeReason| {
            RenewalError::Decode(DecodeError::of_answer(status, None, &body, reason, &redact))
        };
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
            decode_error(DecodeReason::NotJson {
                message: e.to_string(),
            })
        })?;
        if let Some(error) = answer.error {
            let code = match error {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            return Err(RenewalError::Refused {
                code: ErrorCode::parse(&code),
                description: redact(answer.error_description.unwrap_or_default()),
                status,
            });
        }
        match (answer.access_token, answer.refresh_token) {
            (Some(access), Some(refresh)) if !access.is_empty() && !refresh.is_empty() => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs() as i64;
                let expires = answer.expires.or(answer.expires_in.map(|s| now + s));
                Ok(TokenPair {
                    expires,
                    lifetime: answer.expires_in.or(expires.map(|e| e - now)),
                    member_id: answer.member_id,
                    scope: answer.scope,
                    user_id: answer.user_id,
                    client_endpoint: answer.client_endpoint,
                    ..TokenPair::new(access, refresh)
                })
            }
            _ => Err(decode_error(DecodeReason::NoResult)),
        }
    }
}

/// Replaces the values of `access_token` and `refresh_token` in a token endpoint's answer (JSON,
/// possibly cut short) by `***`.
fn scrub_token_values(mut text: String) -> String {
    for key in ["\"access_token\"", "\"refresh_token\""] {
        let mut from = 0;
        while let Some(found) = text[from..].find(key) {
            let bytes = text.as_bytes();
            let mut start = from + found + key.len();
            while start < bytes.len()
                && (bytes[start].is_ascii_whitespace() || bytes[start] == b':')
            {
                start += 1;
            }
            if start < bytes.len() && bytes[start] == b'"' {
                start += 1;
            }
            let end = text[start..]
                .find(['"', ',', '}'])
                .map_or(text.len(), |e| start + e);
            text.replace_range(start..end, "***");
            from = start + 3;
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn short_lived_tokens_are_not_renewed_on_every_call() {
        let now = 1_000_000;
        let pair = |expires: i64, lifetime: Option<i64>| TokenPair {
            lifetime,
            ..TokenPair::new("a", "r").expires_at(expires)
        };
        // Unknown lifetime (a pair the application made): 30 s before expiry.
        assert!(!pair(now + 31, None).expires_soon_at(now));
        assert!(pair(now + 30, None).expires_soon_at(now));
        // An hour: the same 30 s.
        assert!(!pair(now + 31, Some(3600)).expires_soon_at(now));
        assert!(pair(now + 29, Some(3600)).expires_soon_at(now));
        // 18 s (an hour on a portal running 200 times faster): fresh is not "soon".
        assert!(!pair(now + 18, Some(18)).expires_soon_at(now));
        assert!(!pair(now + 10, Some(18)).expires_soon_at(now));
        assert!(pair(now + 9, Some(18)).expires_soon_at(now));
        assert!(pair(now, Some(0)).expires_soon_at(now));
        assert!(!TokenPair::new("a", "r").expires_soon_at(now));
    }

    #[test]
    fn token_values_are_scrubbed_whole_or_cut() {
        assert_eq!(
            scrub_token_values(r#"{"access_token": "a1", "x": 1, "refresh_token":"r2"}"#.into()),
            r#"{"access_token": "***", "x": 1, "refresh_token":"***"}"#
        );
        assert_eq!(
            scrub_token_values(r#"{"expires":3600,"access_token":"abcdef"#.into()),
            r#"{"expires":3600,"access_token":"***"#
        );
        assert_eq!(
            scrub_token_values(r#"{"access_token""#.into()),
            r#"{"access_token"***"#
        );
        assert_eq!(
            scrub_token_values(r#"{"refresh_token": "ключ"}"#.into()),
            r#"{"refresh_token": "***"}"#
        );
        assert_eq!(
            scrub_token_values("<html>502</html>".into()),
            "<html>502</html>"
        );
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
