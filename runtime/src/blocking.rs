//! [`Client`]: calls from synchronous code (scripts, CLI tools, a sync web framework), with the
//! async client's behaviour and errors. Feature `blocking`.
//!
//! ```no_run
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = b24_runtime::blocking::Client::from_webhook("https://example.bitrix24.com/rest/1/abc123/")?;
//! let me = client.call_raw("user.current", &serde_json::json!({}))?;
//! println!("{}", me.result);
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;

use crate::envelope::Response;
use crate::error::{ConfigError, Error};
use crate::method::Method;

/// A client for synchronous code: each call blocks the calling thread until the call (with its
/// retries, rate-limit waits and token renewals) is over.
///
/// It wraps an async [`crate::Client`] and a current-thread tokio runtime of its own, started
/// when the client is made; the runtime runs only while a call is being made. Clones share both
/// (and the rate-limit bucket), and may be used from several threads at once.
///
/// # Panics
///
/// The calls, and dropping the last clone, panic when made from inside an async runtime (a
/// runtime cannot be blocked on from one of its own tasks): async code uses [`crate::Client`].
#[derive(Clone)]
pub struct Client {
    inner: crate::Client,
    runtime: Arc<tokio::runtime::Runtime>,
}

/// Why a [`Client`] could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The URL or settings were refused, as by [`crate::ClientBuilder::build`].
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The client's runtime could not be started (the OS refused a timer or I/O driver).
    #[error("the blocking client's runtime could not be started: {0}")]
    Runtime(#[source] std::io::Error),
}

impl Client {
    /// Wraps an async client made with [`crate::Client::builder`] (rate limit, retries,
    /// OAuth renewal and token store, timeouts...).
    pub fn new(client: crate::Client) -> Result<Self, BuildError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("b24-blocking")
            .build()
            .map_err(BuildError::Runtime)?;
        Ok(Client {
            inner: client,
            runtime: Arc::new(runtime),
        })
    }

    /// A client for an incoming webhook URL with the default settings
    /// (see [`crate::Client::from_webhook`]).
    pub fn from_webhook(url: &str) -> Result<Self, BuildError> {
        Self::new(crate::Client::from_webhook(url)?)
    }

    /// A client for an OAuth 2.0 access token on `portal`, without renewal
    /// (see [`crate::Client::from_oauth`]).
    pub fn from_oauth(portal: &str, access_token: impl Into<String>) -> Result<Self, BuildError> {
        Self::new(crate::Client::from_oauth(portal, access_token)?)
    }

    /// Calls a declared method and returns its result: what `client.call(method).await` gives
    /// the async client.
    pub fn call<M: Method>(&self, method: M) -> Result<M::Output, Error<M::Error>> {
        self.runtime.block_on(self.inner.call(method))
    }

    /// Calls a declared method and returns the result with its envelope (`time`, `next`,
    /// `total`).
    pub fn call_with_meta<M: Method>(
        &self,
        method: M,
    ) -> Result<Response<M::Output>, Error<M::Error>> {
        self.runtime.block_on(self.inner.call(method).with_meta())
    }

    /// Calls a method that has no declaration, with JSON parameters, returning its raw result
    /// (see [`crate::Client::call_raw`]).
    pub fn call_raw(
        &self,
        method: &str,
        params: &serde_json::Value,
    ) -> Result<Response<serde_json::Value>, Error> {
        self.runtime.block_on(self.inner.call_raw(method, params))
    }

    /// The async client calls are made through: its credentials, rate-limit level and
    /// operating times.
    pub fn as_async(&self) -> &crate::Client {
        &self.inner
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("blocking::Client")
            .field(&self.inner)
            .finish()
    }
}
