//! [`Client`]: the handle every call goes through, and its [`ClientBuilder`].
//!
//! A call goes: wait for the method's operating-time reset if it is held back → wait for a place
//! in the leaky bucket → one HTTP exchange → decode → on failure, the [retry]
//! verdict decides: renew the token and replay, back off and retry, or return the error.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use tracing::{field, Instrument};

use crate::auth::{self, Credentials, OAuthToken, Webhook};
use crate::autobatch::{AutoBatch, AutoBatcher};
use crate::batch::{typed, PendingCall, SubOutcome};
use crate::call::Call;
use crate::de::Lenient;
use crate::endpoint::Endpoints;
use crate::envelope::{
    self, declared_into, declares, Declared, Declares, Opened, Reply, Response, TimeBlock,
};
use crate::error::{ConfigError, DecodeReason, Error, ErrorKind, TransportError};
use crate::error_code::ErrorCode;
use crate::limits::backend::{self, OperatingHandle, RateHandle};
use crate::limits::{LimitBackend, OperatingLimit, OperatingStatus, RateLimit};
use crate::method::{ApiVersion, Method, MethodError, NoMethodErrors};
use crate::oauth::{
    MemoryTokenStore, OAuthApp, OAuthSession, RenewalError, RenewalLock, TokenPair, TokenStore,
};
use crate::rest_v3;
use crate::retry::{self, RetryPolicy, Verdict};
use crate::transport::{self, BodyBudget, HttpReply};

/// A Bitrix24 REST client for one portal and one set of credentials.
///
/// Cheap to clone: clones share the HTTP connection pool, the credentials, the rate-limit bucket
/// and the operating-time accounting.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = b24_runtime::Client::from_webhook("https://example.bitrix24.com/rest/1/abc123/")?;
/// let me = client.call_raw("user.current", &serde_json::json!({})).await?;
/// println!("{}", me.result);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    credentials: Credentials,
    /// The REST roots (including the webhook code: never logged) and the method URLs.
    endpoints: Endpoints,
    timeout: Duration,
    max_body: usize,
    body_budget: BodyBudget,
    retry: RetryPolicy,
    bucket: Option<RateHandle>,
    operating: Option<OperatingHandle>,
    autobatch: Option<AutoBatcher>,
    max_list_rows: u64,
}

impl Client {
    /// A client for an incoming webhook URL (`https://<portal>/rest/<user_id>/<code>/`) with the
    /// default settings.
    pub fn from_webhook(url: &str) -> Result<Self, ConfigError> {
        Client::builder().webhook(url).build()
    }

    /// A client for an OAuth 2.0 access token on the portal at `portal` (no renewal).
    pub fn from_oauth(portal: &str, access_token: impl Into<String>) -> Result<Self, ConfigError> {
        Client::builder().oauth(portal, access_token).build()
    }

    /// A builder for a client with non-default settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The credentials calls are made with (their secrets redacted in `Debug`).
    pub fn credentials(&self) -> &Credentials {
        &self.inner.credentials
    }

    /// The HTTP client this client sends through (it never follows redirects), to send other
    /// requests over the same connection pool.
    pub fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The client-side rate limit and the bucket's current level (requests in it), if limiting
    /// is on.
    pub fn rate_limit(&self) -> Option<(RateLimit, f64)> {
        self.inner.bucket.as_ref().map(|b| (b.limit(), b.level()))
    }

    /// What the client knows of `method`'s operating time (from the portal's `time` blocks).
    pub fn operating_time(&self, method: &str) -> Option<OperatingStatus> {
        self.inner.operating.as_ref()?.status(method)
    }

    /// A call of a declared method; await it to make it.
    ///
    /// ```no_run
    /// # use b24_runtime::{Client, Method};
    /// # async fn demo<M: Method>(client: Client, method: M) {
    /// let result = client.call(method).await;
    /// # }
    /// ```
    pub fn call<M: Method>(&self, method: M) -> Call<'_, M> {
        Call::new(self, method)
    }

    /// Calls a method that has no declaration, with JSON parameters, returning its raw result.
    ///
    /// The call is treated as not idempotent.
    pub async fn call_raw(
        &self,
        method: &str,
        params: &serde_json::Value,
    ) -> Result<Response<serde_json::Value>, Error> {
        if !is_method_name(method) {
            return Err(Error::new(
                ErrorKind::Config(ConfigError::InvalidMethodName {
                    name: method.to_owned(),
                }),
                method.to_owned(),
            ));
        }
        self.send::<_, serde_json::Value, NoMethodErrors>(method.to_owned(), false, params)
            .await
    }

    pub(crate) async fn execute<M: Method>(
        &self,
        method: &M,
    ) -> Result<Response<M::Output>, Error<M::Error>> {
        let batcher = self.inner.autobatch.as_ref();
        if let Some(batcher) = batcher.filter(|_| self.batches(M::API_VERSION)) {
            let params = match serde_json::to_value(method) {
                Ok(params) => params,
                Err(e) => {
                    let message = e.to_string();
                    let kind = ErrorKind::Config(ConfigError::Params { message });
                    return Err(Error::new(kind, M::NAME));
                }
            };
            let call = PendingCall {
                key: String::new(),
                method: M::NAME.into(),
                idempotent: M::IDEMPOTENT,
                params,
            };
            // A sub-call refused by a limit did not run: queue it again (its batch waits for the
            // method's operating-time reset), as a direct call would be retried.
            let mut submitted = 0;
            loop {
                submitted += 1;
                // A held-back method waits for its reset here, on its own: in a batch it would
                // hold back the other methods' calls coalesced with it.
                if let Some(operating) = self.operating() {
                    operating.wait(M::NAME).await;
                }
                let outcome = batcher.submit(self, call.clone()).await;
                let limited = matches!(&outcome, SubOutcome::Err { code, .. }
                    if ErrorCode::parse(code).call_did_not_run());
                if !limited || submitted >= self.inner.retry.attempts() {
                    return typed(outcome, M::NAME, M::IDEMPOTENT, &|s| self.redact(s));
                }
                tracing::debug!(
                    method = M::NAME,
                    "auto-batched call refused by a limit: again"
                );
                tokio::time::sleep(self.inner.retry.delay(submitted)).await;
            }
        }
        self.send_as::<_, M::Output, M::Error>(M::NAME, M::IDEMPOTENT, M::API_VERSION, method)
            .await
    }

    pub(crate) fn autobatcher(&self) -> Option<&AutoBatcher> {
        self.inner.autobatch.as_ref()
    }

    pub(crate) fn operating(&self) -> Option<&OperatingHandle> {
        self.inner.operating.as_ref()
    }

    pub(crate) fn max_list_rows(&self) -> u64 {
        self.inner.max_list_rows
    }

    /// A call through the classic REST API (batch and paging requests).
    pub(crate) async fn send<P, T, E>(
        &self,
        name: impl Into<Cow<'static, str>>,
        idempotent: bool,
        params: &P,
    ) -> Result<Response<T>, Error<E>>
    where
        P: Serialize + ?Sized,
        T: Lenient,
        E: MethodError,
    {
        self.send_as(name, idempotent, ApiVersion::V2, params).await
    }

    /// A call through the REST API `api`, the whole envelope decoded.
    ///
    /// Only the ends are generic (the parameters' encoding, the result's and the error's
    /// decoding): the attempts in between are [`Client::attempts`], the same code for every
    /// method.
    pub(crate) async fn send_as<P, T, E>(
        &self,
        name: impl Into<Cow<'static, str>>,
        idempotent: bool,
        api: ApiVersion,
        params: &P,
    ) -> Result<Response<T>, Error<E>>
    where
        P: Serialize + ?Sized,
        T: Lenient,
        E: MethodError,
    {
        let name = name.into();
        let exchanged = match encode(params) {
            Ok(body) => {
                let name = &*name;
                self.attempts(name, idempotent, api, body, TimeBlock::Full, declares::<E>)
                    .await
            }
            Err(kind) => Exchanged::failed(kind),
        };
        self.finish(name, idempotent, exchanged)
    }

    /// Whether a call of the API `api` goes through the auto-batcher.
    pub(crate) fn batches(&self, api: ApiVersion) -> bool {
        // REST 3.0 methods are not part of the classic `batch`: they are always sent directly.
        self.inner.autobatch.is_some() && api == ApiVersion::V2
    }

    /// The attempts of a call whose caller reads only its result ([`Call`]'s `.await`): the
    /// `time` block is read only for the operating-time accounting.
    pub(crate) fn launch(
        &self,
        name: &'static str,
        idempotent: bool,
        api: ApiVersion,
        params: Vec<u8>,
        declares: Declares,
    ) -> Attempts<'_> {
        self.attempts(name, idempotent, api, params, TimeBlock::Usage, declares)
    }

    /// The generic end of a call: the result decoded into `T`, an error into `E`'s terms.
    pub(crate) fn finish<T: Lenient, E: MethodError>(
        &self,
        name: Cow<'static, str>,
        idempotent: bool,
        exchanged: Exchanged,
    ) -> Result<Response<T>, Error<E>> {
        let redact = |s: String| self.redact(s);
        let Exchanged { outcome, attempts } = exchanged;
        let outcome = match outcome {
            Ok((reply, opened)) => envelope::finish(reply_of(&reply), opened, &redact),
            Err(kind) => Err(declared_into(kind, &redact)),
        };
        outcome.map_err(|kind| {
            Error::new(kind, name)
                .with_idempotent(idempotent)
                .with_attempts(attempts)
        })
    }

    /// All attempts of one call, in a `b24.call` span (entered only when a subscriber wants it).
    /// Boxed here, in code that is the same for every method: one allocation per call, and no
    /// layer between the box and the attempt loop.
    fn attempts<'a>(
        &'a self,
        name: &'a str,
        idempotent: bool,
        api: ApiVersion,
        params: Vec<u8>,
        time: TimeBlock,
        declares: Declares,
    ) -> Attempts<'a> {
        // While no subscriber wants DEBUG (the test the span macro begins with) the span is not
        // even made: a disabled span is still recorded for the `log` crate on every call when
        // tracing's `log` feature is on and no subscriber is set.
        let span = tracing::level_enabled!(tracing::Level::DEBUG)
            .then(|| tracing::debug_span!("b24.call", method = name, attempts = field::Empty))
            .filter(|span| !span.is_disabled());
        let run = |traced| self.run(name, idempotent, api, params, time, declares, traced);
        match span {
            None => Box::pin(run(false)),
            Some(span) => Box::pin(run(true).instrument(span)),
        }
    }

    /// The attempt loop: limits, renewal and retries around single exchanges.
    ///
    /// A REST 3.0 call carries one idempotency key across all its attempts, so the failures that
    /// may come after the portal ran it are retried as for an idempotent method.
    #[allow(clippy::too_many_arguments)]
    async fn run(
        &self,
        name: &str,
        idempotent: bool,
        api: ApiVersion,
        params: Vec<u8>,
        time: TimeBlock,
        declares: Declares,
        traced: bool,
    ) -> Exchanged {
        let inner = &self.inner;
        let params = Bytes::from(params);
        let idempotency_key = (api == ApiVersion::V3).then(rest_v3::idempotency_key);
        let retry_safe = idempotent || idempotency_key.is_some();
        let mut attempts = 0u32;
        let mut failures = 0u32;
        let mut renewed = false;
        let done = |outcome, attempts| Exchanged { outcome, attempts };
        // Only the HTTP exchange is awaited in line: the waits that most calls skip (a method
        // held back, a full bucket, a token to fetch or renew, a back-off) are boxed, so that
        // neither their state nor their code sits in every call's future.
        loop {
            if let Some(operating) = &inner.operating {
                if operating.may_hold_back() {
                    Box::pin(operating.wait(name)).await;
                }
            }
            if let Some(bucket) = &inner.bucket {
                if !bucket.try_acquire() {
                    Box::pin(bucket.acquire(name)).await;
                }
            }
            let authorized = match &inner.credentials {
                Credentials::Webhook(_) => Ok((0, params.clone())),
                Credentials::OAuth(token) => Ok((0, with_auth(&params, token.expose()).into())),
                Credentials::Renewing(session) => Box::pin(self.renewing(session, &params)).await,
            };
            let (generation, body) = match authorized {
                Ok(pair) => pair,
                Err(e) => return done(Err(ErrorKind::Renewal(e)), attempts),
            };
            attempts += 1;
            if traced {
                tracing::Span::current().record("attempts", attempts);
            }
            // The clock is read only for the log line of the answer.
            let started = tracing::enabled!(tracing::Level::DEBUG).then(Instant::now);
            let url = inner.endpoints.url(api, name);
            let reply = transport::post_json(
                &inner.http,
                url,
                body,
                inner.timeout,
                inner.max_body,
                &inner.body_budget,
                idempotency_key.as_deref(),
            )
            .await;
            // The outcome is matched where it is made, so that neither it nor the error is kept
            // across the waits below (they would take room in every call's future).
            let next = match self.opened(reply, started, api, time, declares) {
                Ok(answer) => {
                    if let Some(bucket) = &inner.bucket {
                        bucket.answered(); // the portal has seen a request: its drain runs
                    }
                    if let (Some(operating), Some(usage)) = (&inner.operating, &answer.1.usage) {
                        operating.observe_usage(name, usage);
                    }
                    return done(Ok(answer), attempts);
                }
                Err(kind) => {
                    if let Some(bucket) = &inner.bucket {
                        if !matches!(kind, ErrorKind::Transport(_)) {
                            bucket.answered();
                        }
                    }
                    let failed = Failed {
                        name,
                        attempts,
                        retry_safe,
                        renewed,
                    };
                    match self.after(failed, kind, &mut failures) {
                        Ok(next) => next,
                        Err(kind) => return done(Err(kind), attempts),
                    }
                }
            };
            match next {
                Next::Renew => {
                    let Credentials::Renewing(session) = &inner.credentials else {
                        continue; // `after` renews only renewing credentials
                    };
                    renewed = true;
                    tracing::debug!("access token expired: renewing and replaying");
                    if let Err(e) = Box::pin(session.renew(generation, &inner.http)).await {
                        return done(Err(ErrorKind::Renewal(e)), attempts);
                    }
                }
                Next::Sleep(delay) => Box::pin(tokio::time::sleep(delay)).await,
                Next::Again => {}
            }
        }
    }

    /// What follows a failed attempt: the error to return, or how to try again. Reports what the
    /// portal said about its limits to the client's accounting, whether or not the call is
    /// retried.
    fn after(
        &self,
        failed: Failed<'_>,
        kind: ErrorKind<Declared>,
        failures: &mut u32,
    ) -> Result<Next, ErrorKind<Declared>> {
        let inner = &self.inner;
        let verdict = retry::verdict(&kind, failed.retry_safe);
        match verdict {
            Verdict::Fail => return Err(kind),
            Verdict::Renew => {
                return match &inner.credentials {
                    Credentials::Renewing(_) if !failed.renewed => Ok(Next::Renew),
                    _ => Err(kind),
                }
            }
            Verdict::Backoff | Verdict::RateLimited | Verdict::OperatingLimited => {}
        }
        let held_back = match verdict {
            Verdict::RateLimited => {
                if let Some(bucket) = &inner.bucket {
                    bucket.saturate();
                }
                false
            }
            Verdict::OperatingLimited => match &inner.operating {
                Some(operating) => {
                    operating.limit_reached(failed.name);
                    true
                }
                None => false,
            },
            _ => false,
        };
        *failures += 1;
        if *failures >= inner.retry.attempts() {
            return Err(kind);
        }
        if held_back {
            return Ok(Next::Again); // the wait for the method's reset is at the top of the loop
        }
        let delay = inner.retry.delay(*failures);
        tracing::debug!(
            attempt = failed.attempts,
            delay_ms = delay.as_millis() as u64,
            error = %ErrorSummary(&kind),
            "retrying"
        );
        Ok(Next::Sleep(delay))
    }

    /// The body of an attempt with renewing OAuth credentials (the current token as `auth`) and
    /// the token's generation.
    async fn renewing(
        &self,
        session: &Arc<OAuthSession>,
        params: &[u8],
    ) -> Result<(u64, Bytes), RenewalError> {
        let (generation, token) = session.token(&self.inner.http).await?;
        Ok((generation, with_auth(params, &token).into()))
    }

    /// The reading of one exchange's answer: its envelope opened, or the error it is.
    fn opened(
        &self,
        reply: Result<HttpReply, TransportError>,
        started: Option<Instant>,
        api: ApiVersion,
        time: TimeBlock,
        declares: Declares,
    ) -> Result<(HttpReply, Opened), ErrorKind<Declared>> {
        let reply = match reply {
            Ok(reply) => reply,
            Err(e) => return Err(transport_failure(e)),
        };
        if let Some(started) = started {
            log_answer(&reply, started);
        }
        let redact = |s: String| self.redact(s);
        if reply.truncated {
            let reason = DecodeReason::TooLarge { limit: reply.limit };
            return Err(ErrorKind::Decode(reply_of(&reply).fail(reason, &redact)));
        }
        if api == ApiVersion::V3 && !(200..300).contains(&reply.status) {
            let error = rest_v3::decode_error::<NoMethodErrors>(reply.status, &reply.body, &redact);
            if let Some(error) = error {
                return Err(envelope::declared_of(error, declares));
            }
        }
        let opened = envelope::open(reply_of(&reply), time, declares, &redact)?;
        Ok((reply, opened))
    }

    /// Replaces every secret the client holds by `***`.
    /// (Also a start of one at the very end of `text`: an answer cut short mid-secret.)
    pub(crate) fn redact(&self, text: String) -> String {
        crate::scrub::redact_secrets(text, self.inner.credentials.secrets())
    }
}

/// A failed exchange, logged (out of line: the path of every answer stays short).
#[cold]
#[inline(never)]
fn transport_failure(e: TransportError) -> ErrorKind<Declared> {
    tracing::debug!(error = %e, "transport failure");
    ErrorKind::Transport(e)
}

/// The log line of an answer (when DEBUG is on: out of line).
#[inline(never)]
fn log_answer(reply: &HttpReply, started: Instant) {
    tracing::debug!(
        status = reply.status,
        bytes = reply.body.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        replayed = reply.replayed,
        "answer"
    );
}

/// Where a call stands after a failed attempt.
struct Failed<'a> {
    name: &'a str,
    attempts: u32,
    retry_safe: bool,
    /// The token has been renewed once already.
    renewed: bool,
}

/// How a call goes on after a failed attempt.
enum Next {
    /// Renew the access token, then replay.
    Renew,
    /// Back off, then try again.
    Sleep(Duration),
    /// Try again at once (the top of the loop waits for what must be waited for).
    Again,
}

/// The attempts of a call once it has started (boxed: one type for every method).
pub(crate) type Attempts<'a> = Pin<Box<dyn Future<Output = Exchanged> + Send + 'a>>;

/// What the attempts of a call left: the answer with its envelope read (the result not decoded
/// yet), or the error; and how many attempts were made.
pub(crate) struct Exchanged {
    outcome: Result<(HttpReply, Opened), ErrorKind<Declared>>,
    attempts: u32,
}

impl Exchanged {
    /// A call that failed before its first attempt.
    pub(crate) fn failed(kind: ErrorKind<Declared>) -> Self {
        Exchanged {
            outcome: Err(kind),
            attempts: 0,
        }
    }
}

/// A call's parameters as the JSON body.
pub(crate) fn encode<P: Serialize + ?Sized>(params: &P) -> Result<Vec<u8>, ErrorKind<Declared>> {
    serde_json::to_vec(params).map_err(|e| {
        let message = e.to_string();
        ErrorKind::Config(ConfigError::Params { message })
    })
}

/// An HTTP reply as the envelope's decoder reads it.
fn reply_of(reply: &HttpReply) -> Reply<'_> {
    Reply {
        status: reply.status,
        headers: Some(&reply.headers),
        body: &reply.body,
    }
}

/// A short description of a failed attempt for logs (never the body).
struct ErrorSummary<'a, E>(&'a ErrorKind<E>);

impl<E: fmt::Display> fmt::Display for ErrorSummary<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            ErrorKind::Method { error, status } => write!(f, "{error} (HTTP {status})"),
            ErrorKind::Api(api) => write!(f, "{} (HTTP {})", api.code, api.status),
            ErrorKind::Transport(t) => write!(f, "{}", t.kind()),
            ErrorKind::Decode(d) => write!(f, "undecodable answer (HTTP {})", d.status),
            ErrorKind::Config(c) => write!(f, "{c}"),
            ErrorKind::Renewal(r) => write!(f, "{r}"),
            ErrorKind::Batch(b) => write!(f, "{b}"),
            ErrorKind::Paging(p) => write!(f, "{p}"),
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("credentials", &self.inner.credentials)
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .field(
                "rate_limit",
                &self.inner.bucket.as_ref().map(RateHandle::limit),
            )
            .finish_non_exhaustive()
    }
}

/// Prepends `"auth": "<token>"` to a JSON object.
fn with_auth(params: &[u8], token: &str) -> Vec<u8> {
    let auth = serde_json::to_string(token).unwrap_or_else(|_| "\"\"".into());
    let mut out = Vec::with_capacity(params.len() + auth.len() + 10);
    out.extend_from_slice(b"{\"auth\":");
    out.extend_from_slice(auth.as_bytes());
    match params.first() {
        Some(b'{') => {
            let rest = &params[1..];
            if !rest.iter().all(|b| b.is_ascii_whitespace() || *b == b'}') {
                out.push(b',');
            }
            out.extend_from_slice(rest);
        }
        // Not an object (a declaration always serializes to one): send the token alone.
        _ => out.push(b'}'),
    }
    out
}

/// Whether `name` can be a Bitrix24 method name (and so is safe in a URL path).
pub(crate) fn is_method_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .split('.')
            .all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// The key of a portal in a shared limit backend: its host and port.
fn default_portal_key(rest_root: &url::Url) -> String {
    let host = rest_root.host_str().unwrap_or("");
    match rest_root.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// Builds a [`Client`].
///
/// ```
/// use std::time::Duration;
/// use b24_runtime::{Client, RateLimit, RetryPolicy};
/// let client = Client::builder()
///     .webhook("https://example.bitrix24.com/rest/1/abc123/")
///     .timeout(Duration::from_secs(30))
///     .rate_limit(RateLimit::ENTERPRISE)
///     .retry(RetryPolicy::default().max_attempts(6))
///     .build()
///     .unwrap();
/// ```
#[must_use]
pub struct ClientBuilder {
    credentials: Option<Result<CredentialsSpec, ConfigError>>,
    http: Option<reqwest::ClientBuilder>,
    shared_http: Option<reqwest::Client>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    max_body: Option<usize>,
    body_budget: Option<usize>,
    allow_insecure_http: bool,
    retry: RetryPolicy,
    rate_limit: Option<RateLimit>,
    operating: Option<OperatingLimit>,
    token_store: Option<Arc<dyn TokenStore>>,
    renewal_lock: Option<Arc<dyn RenewalLock>>,
    limit_backend: Option<Arc<dyn LimitBackend>>,
    portal_key: Option<String>,
    autobatch: Option<AutoBatch>,
    max_list_rows: u64,
}

enum CredentialsSpec {
    Ready(Credentials),
    Renewing(Box<(url::Url, TokenPair, OAuthApp)>),
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            credentials: None,
            http: None,
            shared_http: None,
            timeout: None,
            connect_timeout: None,
            max_body: None,
            body_budget: None,
            allow_insecure_http: false,
            retry: RetryPolicy::default(),
            rate_limit: Some(RateLimit::STANDARD),
            operating: Some(OperatingLimit::default()),
            token_store: None,
            renewal_lock: None,
            limit_backend: None,
            portal_key: None,
            autobatch: None,
            max_list_rows: Self::DEFAULT_MAX_LIST_ROWS,
        }
    }
}

impl ClientBuilder {
    /// Default timeout of one HTTP exchange: the portal runs a request for at most 60 s.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(65);
    /// Default limit on the size of an answer.
    pub const DEFAULT_MAX_BODY: usize = 64 * 1024 * 1024;
    /// Default ceiling on the rows a list claims (see [`Self::max_list_rows`]).
    pub const DEFAULT_MAX_LIST_ROWS: u64 = 10_000_000;
    /// Default limit on the answer bodies one client (with its clones) holds in memory at once.
    pub const DEFAULT_BODY_BUDGET: usize = 256 * 1024 * 1024;

    /// Authorize with an incoming webhook URL (`https://<portal>/rest/<user_id>/<code>/`).
    pub fn webhook(mut self, url: &str) -> Self {
        self.credentials =
            Some(Webhook::parse(url).map(|w| CredentialsSpec::Ready(Credentials::Webhook(w))));
        self
    }

    /// Authorize with a static OAuth 2.0 access token on the portal at `portal`.
    pub fn oauth(mut self, portal: &str, access_token: impl Into<String>) -> Self {
        self.credentials = Some(
            OAuthToken::new(portal, access_token)
                .map(|t| CredentialsSpec::Ready(Credentials::OAuth(t))),
        );
        self
    }

    /// Authorize with an OAuth 2.0 token pair that is renewed through `app` when the access
    /// token expires. New pairs go to the [token store](Self::token_store) before use.
    pub fn oauth_renewing(mut self, portal: &str, tokens: TokenPair, app: OAuthApp) -> Self {
        self.credentials = Some(
            auth::rest_root_of(portal)
                .map(|portal| CredentialsSpec::Renewing(Box::new((portal, tokens, app)))),
        );
        self
    }

    /// Where renewed token pairs are saved (default: a [`MemoryTokenStore`]).
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.token_store = Some(store);
        self
    }

    /// Coordinate token renewal with other processes through `lock` (e.g.
    /// `oauth::redis::RedisRenewalLock`, feature `redis`): when several replicas meet an expired
    /// token, the one holding the lock renews and the others load the new pair from the
    /// [token store](Self::token_store), which must then be shared too (see
    /// [`RenewalLock`]). Without a lock, renewal is single-flight within this process only.
    pub fn renewal_lock(mut self, lock: Arc<dyn RenewalLock>) -> Self {
        self.renewal_lock = Some(lock);
        self
    }

    /// Keep the rate-limit bucket and the operating-time accounting in `backend` (e.g.
    /// `limits::redis::RedisLimits`, feature `redis`, shared by several processes), under the
    /// [portal key](Self::portal_key). Default: in this client's memory.
    pub fn limit_backend(mut self, backend: Arc<dyn LimitBackend>) -> Self {
        self.limit_backend = Some(backend);
        self
    }

    /// The key a shared [limit backend](Self::limit_backend) keeps this portal's state under
    /// (default: the portal's host and port). The portal's `member_id` survives a change of
    /// its domain.
    pub fn portal_key(mut self, key: impl Into<String>) -> Self {
        self.portal_key = Some(key.into());
        self
    }

    /// Authorize with prepared credentials.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(Ok(CredentialsSpec::Ready(credentials)));
        self
    }

    /// Build the HTTP client from the caller's own `reqwest::ClientBuilder` (proxies, TLS roots,
    /// pool settings). Its timeouts apply in addition to this builder's.
    ///
    /// Its redirect policy is replaced: redirects are never followed, since following one would
    /// send the body (with an OAuth access token) or the token request (with the refresh token
    /// and client secret) to whatever host the redirect names. A built `reqwest::Client` is not
    /// accepted for this reason: its policy cannot be checked or changed.
    pub fn http_client(mut self, http: reqwest::ClientBuilder) -> Self {
        self.http = Some(http);
        self
    }

    /// Send through the connection pool of another b24 client (which b24 built, so it never
    /// follows redirects), e.g. one client per portal or per set of credentials over one pool.
    /// Overrides [`http_client`](Self::http_client).
    pub fn share_http(mut self, other: &Client) -> Self {
        self.shared_http = Some(other.inner.http.clone());
        self
    }

    /// The timeout of one HTTP exchange (default [`Self::DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The timeout for opening a connection (default 10 s; not set on the builder given to
    /// [`http_client`](Self::http_client)).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The largest answer accepted, in bytes (default [`Self::DEFAULT_MAX_BODY`]).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = Some(bytes);
        self
    }

    /// The most bytes of answers the client, with all its clones, holds in memory at once
    /// (default [`Self::DEFAULT_BODY_BUDGET`]). A call reserves its answer's length before
    /// reading it, waiting for room; an answer that outgrows its reservation when the budget is
    /// spent is cut and returned as `Decode(TooLarge)`.
    pub fn body_budget(mut self, bytes: usize) -> Self {
        self.body_budget = Some(bytes);
        self
    }

    /// Allow plain `http://` to hosts that are not loopback. Off by default: tokens and
    /// webhook codes would cross the network in clear text.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]; [`RetryPolicy::none`] turns retries
    /// off).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The client-side leaky bucket (default [`RateLimit::STANDARD`]).
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// No client-side rate limiting (the portal's own limit still applies).
    pub fn no_rate_limit(mut self) -> Self {
        self.rate_limit = None;
        self
    }

    /// The per-method operating-time budget (default [`OperatingLimit::default`]).
    pub fn operating_limit(mut self, limit: OperatingLimit) -> Self {
        self.operating = Some(limit);
        self
    }

    /// No operating-time accounting.
    pub fn no_operating_limit(mut self) -> Self {
        self.operating = None;
        self
    }

    /// Coalesce concurrent calls into `batch` requests (see [`crate::autobatch`]). Off by
    /// default.
    pub fn auto_batch(mut self, settings: AutoBatch) -> Self {
        self.autobatch = Some(settings);
        self
    }

    /// The most rows a list may claim or yield (default [`Self::DEFAULT_MAX_LIST_ROWS`]): a
    /// `total` above it makes [`Client::list_parallel`] refuse the list, a `next` above it ends
    /// [`Client::list`], and [`Client::list_fast`] stops after that many rows, each with
    /// [`PagingError::TooManyRows`](crate::PagingError::TooManyRows), instead of paging through
    /// whatever a broken or hostile portal claims.
    pub fn max_list_rows(mut self, rows: u64) -> Self {
        self.max_list_rows = rows;
        self
    }

    /// Builds the client, checking the URL and scheme.
    pub fn build(self) -> Result<Client, ConfigError> {
        let credentials = match self.credentials.ok_or(ConfigError::MissingCredentials)?? {
            CredentialsSpec::Ready(c) => c,
            CredentialsSpec::Renewing(spec) => {
                let (portal, tokens, app) = *spec;
                let store = self
                    .token_store
                    .unwrap_or_else(|| Arc::new(MemoryTokenStore::new()));
                let session = OAuthSession::new(portal, tokens, app, store);
                let session = match self.renewal_lock {
                    Some(lock) => session.with_lock(lock),
                    None => session,
                };
                Credentials::Renewing(Arc::new(session))
            }
        };
        auth::check_scheme(credentials.rest_root(), self.allow_insecure_http)?;
        let http = match (self.shared_http, self.http) {
            (Some(shared), _) => shared,
            (None, builder) => builder
                .unwrap_or_else(|| {
                    reqwest::Client::builder()
                        .user_agent(concat!("b24-rust/", env!("CARGO_PKG_VERSION")))
                        .connect_timeout(self.connect_timeout.unwrap_or(Duration::from_secs(10)))
                })
                // A redirect is answered, not followed: following it would re-send the body with the
                // access token (or the token request with the refresh token and client secret) to
                // wherever it points (307/308), or drop the parameters and run the method without them
                // (301/302/303 turn a POST into a GET).
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(ConfigError::Http)?,
        };
        let max_body = self.max_body.unwrap_or(Self::DEFAULT_MAX_BODY);
        let portal_key = self
            .portal_key
            .unwrap_or_else(|| default_portal_key(credentials.rest_root()));
        let (bucket, operating) = backend::handles(
            self.limit_backend.as_deref(),
            &portal_key,
            self.rate_limit,
            self.operating,
        );
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                endpoints: Endpoints::new(
                    credentials.endpoint_secret(),
                    credentials.endpoint_v3_secret(),
                ),
                credentials,
                timeout: self.timeout.unwrap_or(Self::DEFAULT_TIMEOUT),
                max_body,
                body_budget: BodyBudget::new(self.body_budget.unwrap_or(Self::DEFAULT_BODY_BUDGET)),
                retry: self.retry,
                bucket,
                operating,
                autobatch: self.autobatch.map(AutoBatcher::new),
                max_list_rows: self.max_list_rows,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeError;
    use crate::transport::test_server::{Answer, Server};

    #[test]
    fn auth_is_spliced_into_the_body() {
        let body = with_auth(br#"{"CHAT_ID":2043}"#, "t\"k");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v, serde_json::json!({"auth": "t\"k", "CHAT_ID": 2043}));
        let body = with_auth(b"{}", "t\"k");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v, serde_json::json!({"auth": "t\"k"}));
    }

    fn client_of(server: &Server) -> ClientBuilder {
        Client::builder().webhook(&format!("{}rest/1/hook0code/", server.url))
    }

    #[tokio::test]
    async fn limit_answers_hold_back_later_calls_even_without_retries() {
        let server = Server::start(vec![
            Answer::json(
                429,
                r#"{"error":"OPERATION_TIME_LIMIT","error_description":"x"}"#,
            ),
            Answer::json(
                503,
                r#"{"error":"QUERY_LIMIT_EXCEEDED","error_description":"x"}"#,
            ),
        ])
        .await;
        let client = client_of(&server)
            .retry(RetryPolicy::none())
            .rate_limit(RateLimit::new(10, 1.0))
            .operating_limit(OperatingLimit {
                budget: Duration::from_secs(480),
                fallback_wait: Duration::from_secs(60),
            })
            .build()
            .unwrap();
        let err = client
            .call_raw("a.b", &serde_json::json!({}))
            .await
            .unwrap_err();
        assert_eq!((err.attempts(), err.is_retryable()), (1, true));
        let held = client.operating_time("a.b").and_then(|s| s.blocked_for);
        assert!(
            held.is_some_and(|d| d > Duration::from_secs(50)),
            "{held:?}"
        );
        assert!(client.operating_time("c.d").is_none());

        let err = client
            .call_raw("c.d", &serde_json::json!({}))
            .await
            .unwrap_err();
        assert_eq!((err.attempts(), err.is_retryable()), (1, true));
        let (_, level) = client.rate_limit().unwrap();
        assert!(level > 9.9, "the bucket is marked full: {level}");
        assert_eq!(server.requests().len(), 2);
    }

    #[tokio::test]
    async fn the_copy_of_a_body_over_the_limit_is_redacted_before_it_is_cut() {
        // The webhook code echoed across byte 4096, the end of the copy kept in the error.
        let body = format!("{}hook0code{}", "x".repeat(4090), "x".repeat(3000));
        let server = Server::start(vec![Answer::json(200, &body)]).await;
        let client = client_of(&server).max_body(6000).build().unwrap();
        let err = client
            .call_raw("a.b", &serde_json::json!({}))
            .await
            .unwrap_err();
        let ErrorKind::Decode(decode) = err.kind() else {
            panic!("{err:?}")
        };
        assert!(matches!(
            decode.reason,
            DecodeReason::TooLarge { limit: 6000 }
        ));
        assert!(decode.body.len() <= DecodeError::BODY_LIMIT);
        assert!(!decode.body.contains("hook0"), "{}", &decode.body[4080..]);
    }

    #[tokio::test]
    async fn redirects_are_answered_not_followed() {
        let elsewhere = Server::start(vec![Answer::json(200, r#"{"result":true}"#)]).await;
        let server = Server::start(vec![Answer::json(307, "").header(
            "location",
            &format!("{}rest/1/hook0code/a.b", elsewhere.url),
        )])
        .await;
        let client = client_of(&server).build().unwrap();
        let err = client
            .call_raw("a.b", &serde_json::json!({"auth_like": 1}))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(307));
        assert!(matches!(err.kind(), ErrorKind::Decode(_)), "{err:?}");
        assert_eq!((err.attempts(), err.is_retryable()), (1, false));
        assert!(elsewhere.requests().is_empty(), "the redirect was followed");
    }

    /// A declared method for the tests below: `x.chat.start`, idempotent, with two codes of its
    /// own (one of which the runtime would otherwise retry).
    #[derive(Debug, serde::Serialize)]
    struct Start {
        #[serde(rename = "CHAT_ID")]
        chat_id: u64,
    }

    #[derive(Debug, PartialEq)]
    enum StartError {
        ChatId(String),
        Internal(String),
    }

    impl fmt::Display for StartError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}: {}", self.code(), self.description())
        }
    }

    impl MethodError for StartError {
        fn from_code(code: &str, _: u16, description: &str) -> Option<Self> {
            match code {
                "CHAT_ID" => Some(StartError::ChatId(description.to_owned())),
                "INTERNAL_SERVER_ERROR" => Some(StartError::Internal(description.to_owned())),
                _ => None,
            }
        }

        fn code(&self) -> &'static str {
            match self {
                StartError::ChatId(_) => "CHAT_ID",
                StartError::Internal(_) => "INTERNAL_SERVER_ERROR",
            }
        }

        fn description(&self) -> &str {
            match self {
                StartError::ChatId(d) | StartError::Internal(d) => d,
            }
        }
    }

    impl Method for Start {
        const NAME: &'static str = "x.chat.start";
        const SCOPE: &'static str = "x";
        const IDEMPOTENT: bool = true;
        type Output = bool;
        type Error = StartError;
    }

    /// A success with a cloud portal's whole `time` block: `operating` seconds used, the reset
    /// 0.2 s after `finish`, and `extra` keys added to the block.
    fn answer_with_time(operating: f64, extra: &str) -> Answer {
        Answer::json(
            200,
            &format!(
                r#"{{"result": true, "time": {{"start": 1773660718.412935,
                "finish": 1773660718.441807, "duration": 0.028872013092041016,
                "processing": 0.0043570995330810547, "date_start": "2026-03-16T14:31:58+01:00",
                "date_finish": "2026-03-16T14:31:58+01:00", "operating_reset_at": 1773660718.641807,
                "operating": {operating}{extra}}}}}"#
            ),
        )
    }

    fn budget_of_ten_seconds(server: &Server) -> Client {
        client_of(server)
            .no_rate_limit()
            .operating_limit(OperatingLimit {
                budget: Duration::from_secs(10),
                fallback_wait: Duration::from_secs(60),
            })
            .build()
            .unwrap()
    }

    /// A call awaited for its result alone reads only the accounting's numbers of the `time`
    /// block, and they feed the operating-time accounting as the whole block did; `with_meta`
    /// still gets the whole block, dates included.
    #[tokio::test]
    async fn plain_calls_feed_the_accounting_and_with_meta_gets_the_whole_time_block() {
        let server =
            Server::start(vec![answer_with_time(11.5, ""), answer_with_time(3.0, "")]).await;
        let client = budget_of_ten_seconds(&server);
        assert!(client.operating_time(Start::NAME).is_none());

        assert!(client.call(Start { chat_id: 1 }).await.unwrap());
        let status = client.operating_time(Start::NAME).expect("observed");
        assert_eq!(status.operating, Duration::from_millis(11_500));
        let blocked = status.blocked_for.expect("budget spent: held back");
        assert!(blocked <= Duration::from_millis(200), "{blocked:?}");
        assert!(status.reset_in.is_some());

        // Held back until the reset, then sent.
        let started = Instant::now();
        let reply = client.call(Start { chat_id: 1 }).with_meta().await.unwrap();
        assert!(started.elapsed() >= blocked.saturating_sub(Duration::from_millis(20)));
        assert!(reply.result);
        let time = reply.time.expect("the whole block");
        assert_eq!(time.start, 1773660718.412935);
        assert_eq!(time.finish, 1773660718.441807);
        assert_eq!(time.duration, 0.028872013092041016);
        assert_eq!(time.processing, 0.004_357_099_533_081_055);
        assert_eq!(
            (time.operating, time.operating_reset_at),
            (Some(3.0), Some(1773660718.641807))
        );
        let date = time.date_start.expect("date_start");
        assert_eq!(
            (date.timestamp(), date.offset().local_minus_utc()),
            (1773667918, 3600)
        );
        assert!(time.date_finish.is_some());
        let status = client.operating_time(Start::NAME).expect("observed");
        assert_eq!(status.operating, Duration::from_secs(3));
        assert!(status.blocked_for.is_none());
        assert_eq!(server.requests().len(), 2);
    }

    /// A `time` block with a bad value where the accounting does not look: the block is
    /// dropped from the envelope (with a warning), the result kept, and the accounting fed
    /// alike on both kinds of call. One where it does look feeds nothing (nothing is known of
    /// the method: calling it is not knowing its operating time).
    #[tokio::test]
    async fn a_bad_time_block_is_dropped_beside_the_result_on_both_paths() {
        let (fed, nothing) = (Some(Duration::from_secs(2)), None);
        for (extra, observed) in [
            (r#", "duration": "1e999""#, fed),
            (r#", "date_start": "yesterday""#, fed), // a duplicate key, and no date
            (r#", "operating": 2"#, nothing),        // a duplicate key
            (r#", "finish": "NaN""#, nothing),       // duplicate, and not finite
        ] {
            let server = Server::start(vec![answer_with_time(2.0, extra)]).await;
            let client = budget_of_ten_seconds(&server);
            assert!(client.call(Start { chat_id: 1 }).await.unwrap(), "{extra}");
            let seen = client.operating_time(Start::NAME).map(|s| s.operating);
            assert_eq!(seen, observed, "plain call, {extra}");

            let client = budget_of_ten_seconds(&server);
            let reply = client.call(Start { chat_id: 1 }).with_meta().await.unwrap();
            assert!(reply.result && reply.time.is_none(), "{extra}");
            let seen = client.operating_time(Start::NAME).map(|s| s.operating);
            assert_eq!(seen, observed, "with_meta, {extra}");
        }
    }

    /// The method's own codes are told apart by the part of the call that does not know the
    /// method's types: they come back as the method's error and are never retried, even a code
    /// the runtime would otherwise retry for an idempotent method.
    #[tokio::test]
    async fn declared_codes_are_the_methods_errors_and_are_not_retried() {
        for (status, body, declared) in [
            (
                400,
                r#"{"error": "CHAT_ID", "error_description": "no chat"}"#,
                true,
            ),
            (
                500,
                r#"{"error": "INTERNAL_SERVER_ERROR", "error_description": "x"}"#,
                true,
            ),
            (
                400,
                r#"{"error": "ACCESS_DENIED", "error_description": "x"}"#,
                false,
            ),
        ] {
            let server = Server::start(vec![Answer::json(status, body)]).await;
            let client = client_of(&server)
                .retry(RetryPolicy::default().base_delay(Duration::from_millis(1)))
                .build()
                .unwrap();
            let err = client.call(Start { chat_id: 1 }).await.unwrap_err();
            assert_eq!(err.method_error().is_some(), declared, "{body}: {err:?}");
            assert_eq!((err.attempts(), err.status()), (1, Some(status)), "{body}");
            assert_eq!(err.method(), Start::NAME);
            if let Some(StartError::ChatId(description)) = err.method_error() {
                assert_eq!(description, "no chat");
            }
            let err = client
                .call(Start { chat_id: 1 })
                .with_meta()
                .await
                .unwrap_err();
            assert_eq!(err.method_error().is_some(), declared, "with_meta, {body}");
        }
    }

    #[test]
    fn method_names() {
        assert!(is_method_name("imopenlines.session.start"));
        assert!(is_method_name("tasks.flow.Flow.get"));
        for bad in ["", ".a", "a..b", "a/b", "a.b?x=1", "a b"] {
            assert!(!is_method_name(bad), "{bad}");
        }
    }

    #[test]
    fn builder_refuses_remote_http_and_missing_credentials() {
        assert!(matches!(
            Client::builder().build(),
            Err(ConfigError::MissingCredentials)
        ));
        let err = Client::from_webhook("http://ex.com/rest/1/code/").unwrap_err();
        assert!(matches!(err, ConfigError::InsecureUrl { .. }));
        assert!(Client::builder()
            .webhook("http://ex.com/rest/1/code/")
            .allow_insecure_http(true)
            .build()
            .is_ok());
        let client = Client::from_webhook("http://127.0.0.1:1/rest/1/hush/").unwrap();
        assert!(!format!("{client:?}").contains("hush"));
    }
}
