//! [`Client`]: the handle every call goes through, and its [`ClientBuilder`].

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tracing::Instrument;

use crate::auth::{self, Credentials, OAuthToken, Webhook};
use crate::call::Call;
use crate::de::Lenient;
use crate::envelope::{self, Reply, Response};
use crate::error::{ConfigError, DecodeError, DecodeReason, Error, ErrorKind};
use crate::method::{Method, MethodError, NoMethodErrors};
use crate::transport;

/// A Bitrix24 REST client for one portal and one set of credentials.
///
/// Cheap to clone: clones share the HTTP connection pool and credentials.
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
    /// The REST root including the webhook code: never logged.
    endpoint: String,
    timeout: Duration,
    max_body: usize,
}

impl Client {
    /// A client for an incoming webhook URL (`https://<portal>/rest/<user_id>/<code>/`) with the
    /// default settings.
    pub fn from_webhook(url: &str) -> Result<Self, ConfigError> {
        Client::builder().webhook(url).build()
    }

    /// A client for an OAuth 2.0 access token on the portal at `portal`.
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
        self.send::<_, M::Output, M::Error>(M::NAME, M::IDEMPOTENT, method)
            .await
    }

    async fn send<P, T, E>(
        &self,
        name: impl Into<std::borrow::Cow<'static, str>>,
        idempotent: bool,
        params: &P,
    ) -> Result<Response<T>, Error<E>>
    where
        P: Serialize + ?Sized,
        T: Lenient,
        E: MethodError,
    {
        let name = name.into();
        let span = tracing::debug_span!("b24.call", method = %name);
        let outcome = async {
            let body = self.body(params)?;
            self.attempt::<T, E>(&name, body).await
        }
        .instrument(span)
        .await;
        outcome.map_err(|kind| Error::new(kind, name).with_idempotent(idempotent))
    }

    /// The JSON body: the parameters, plus the OAuth token as `auth`.
    fn body<P: Serialize + ?Sized, E>(&self, params: &P) -> Result<Vec<u8>, ErrorKind<E>> {
        let params = serde_json::to_vec(params).map_err(|e| {
            ErrorKind::Config(ConfigError::Params {
                message: e.to_string(),
            })
        })?;
        match &self.inner.credentials {
            Credentials::Webhook(_) => Ok(params),
            Credentials::OAuth(token) => Ok(with_auth(params, token)),
        }
    }

    /// One HTTP exchange and its decoding.
    async fn attempt<T: Lenient, E: MethodError>(
        &self,
        name: &str,
        body: Vec<u8>,
    ) -> Result<Response<T>, ErrorKind<E>> {
        let url = format!("{}{}", self.inner.endpoint, name);
        let started = Instant::now();
        let reply = transport::post_json(
            &self.inner.http,
            &url,
            body,
            self.inner.timeout,
            self.inner.max_body,
        )
        .await
        .map_err(|e| {
            tracing::debug!(error = %e, "transport failure");
            ErrorKind::Transport(e)
        })?;
        tracing::debug!(
            status = reply.status,
            bytes = reply.body.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "answer"
        );
        let redact = |s: String| self.redact(s);
        if reply.truncated {
            let cut = reply.body.len().min(DecodeError::BODY_LIMIT);
            return Err(ErrorKind::Decode(DecodeError {
                status: reply.status,
                content_type: reply.content_type,
                body: redact(String::from_utf8_lossy(&reply.body[..cut]).into_owned()),
                body_len: reply.body.len(),
                reason: DecodeReason::TooLarge {
                    limit: self.inner.max_body,
                },
            }));
        }
        envelope::decode(
            Reply {
                status: reply.status,
                content_type: reply.content_type.as_deref(),
                body: &reply.body,
            },
            &redact,
        )
    }

    /// Replaces every secret the client holds by `***`.
    fn redact(&self, mut text: String) -> String {
        for secret in self.inner.credentials.secrets() {
            if !secret.is_empty() && text.contains(secret) {
                text = text.replace(secret, "***");
            }
        }
        text
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("credentials", &self.inner.credentials)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

/// Inserts `"auth": "<token>"` at the front of a JSON object.
fn with_auth(mut params: Vec<u8>, token: &OAuthToken) -> Vec<u8> {
    let auth = serde_json::to_string(token.expose()).unwrap_or_else(|_| "\"\"".into());
    let rest_is_empty = params.iter().skip(1).all(|b| b.is_ascii_whitespace() || *b == b'}');
    if params.first() != Some(&b'{') {
        // Not an object (a declaration always serializes to one): send the token alone.
        return format!("{{\"auth\":{auth}}}").into_bytes();
    }
    let head = if rest_is_empty {
        format!("{{\"auth\":{auth}")
    } else {
        format!("{{\"auth\":{auth},")
    };
    params.splice(0..1, head.into_bytes());
    params
}

/// Whether `name` can be a Bitrix24 method name (and so is safe in a URL path).
pub(crate) fn is_method_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .split('.')
            .all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// Builds a [`Client`].
///
/// ```
/// use std::time::Duration;
/// let client = b24_runtime::Client::builder()
///     .webhook("https://example.bitrix24.com/rest/1/abc123/")
///     .timeout(Duration::from_secs(30))
///     .build()
///     .unwrap();
/// ```
#[derive(Default)]
#[must_use]
pub struct ClientBuilder {
    credentials: Option<Result<Credentials, ConfigError>>,
    http: Option<reqwest::Client>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    max_body: Option<usize>,
    allow_insecure_http: bool,
}

impl ClientBuilder {
    /// Default timeout of one HTTP exchange: the portal runs a request for at most 60 s.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(65);
    /// Default limit on the size of an answer.
    pub const DEFAULT_MAX_BODY: usize = 64 * 1024 * 1024;

    /// Authorize with an incoming webhook URL (`https://<portal>/rest/<user_id>/<code>/`).
    pub fn webhook(mut self, url: &str) -> Self {
        self.credentials = Some(Webhook::parse(url).map(Credentials::Webhook));
        self
    }

    /// Authorize with an OAuth 2.0 access token on the portal at `portal`.
    pub fn oauth(mut self, portal: &str, access_token: impl Into<String>) -> Self {
        self.credentials = Some(OAuthToken::new(portal, access_token).map(Credentials::OAuth));
        self
    }

    /// Authorize with prepared credentials.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(Ok(credentials));
        self
    }

    /// Use the caller's own `reqwest::Client` (proxies, TLS roots, middleware-free pooling).
    /// Its own timeouts apply in addition to this builder's.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// The timeout of one HTTP exchange (default [`Self::DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The timeout for opening a connection (default 10 s; ignored with
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

    /// Allow plain `http://` to hosts that are not loopback. Off by default: tokens and
    /// webhook codes would cross the network in clear text.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Builds the client, checking the URL and scheme.
    pub fn build(self) -> Result<Client, ConfigError> {
        let credentials = self.credentials.ok_or(ConfigError::MissingCredentials)??;
        auth::check_scheme(credentials.rest_root(), self.allow_insecure_http)?;
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .user_agent(concat!("b24-rust/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(self.connect_timeout.unwrap_or(Duration::from_secs(10)))
                .build()
                .map_err(ConfigError::Http)?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                endpoint: credentials.endpoint_secret(),
                credentials,
                timeout: self.timeout.unwrap_or(Self::DEFAULT_TIMEOUT),
                max_body: self.max_body.unwrap_or(Self::DEFAULT_MAX_BODY),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_is_spliced_into_the_body() {
        let token = OAuthToken::new("https://ex.com", "t\"k").unwrap();
        let body = with_auth(br#"{"CHAT_ID":2043}"#.to_vec(), &token);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v, serde_json::json!({"auth": "t\"k", "CHAT_ID": 2043}));
        let body = with_auth(b"{}".to_vec(), &token);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v, serde_json::json!({"auth": "t\"k"}));
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
