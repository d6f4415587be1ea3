//! The running emulator: an HTTP server on loopback in a tokio task, and the handle to it.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::response::Response;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::dispatch::{dispatch, json_response};
use crate::wire::envelope;
use serde_json::Value;

use crate::error::ApiError;
use crate::faults::Faults;
use crate::handlers::{CallContext, Handler, Registry};
use crate::params::Params;
use crate::record::RecordedRequest;
use crate::state::{Portal, PortalHandle};

/// How long [`Emulator::shutdown`] waits for open connections before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What the server task and the [`Emulator`] handle share.
pub(crate) struct Shared {
    pub(crate) portal: PortalHandle,
    registry: RwLock<Registry>,
    journal: Mutex<Vec<RecordedRequest>>,
    /// `http://127.0.0.1:PORT/`.
    pub(crate) base_url: String,
    /// The injected faults.
    pub(crate) faults: Faults,
}

impl Shared {
    pub(crate) fn handler(&self, method: &str) -> Option<Arc<dyn Handler>> {
        self.registry
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(method)
    }

    pub(crate) fn handler_v3(&self, method: &str) -> Option<Arc<dyn Handler>> {
        self.registry
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get_v3(method)
    }

    /// Appends entries to the journal, next to each other.
    pub(crate) fn record_all(&self, entries: Vec<RecordedRequest>) {
        self.journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(entries);
    }
}

/// An emulated Bitrix24 portal serving the REST protocol on `127.0.0.1`.
///
/// ```
/// # async fn demo() -> std::io::Result<()> {
/// use b24_emulator::{Emulator, Portal, DEMO_IDS};
/// let emu = Emulator::start(Portal::demo()).await?;
/// let url = emu.webhook_url(DEMO_IDS.admin_user).expect("the demo admin has a webhook");
/// assert_eq!(url, format!("{}rest/1/demo0webhook0code/", emu.base_url()));
/// emu.shutdown().await;
/// # Ok(()) }
/// ```
///
/// The server runs until [`Emulator::shutdown`] or until the `Emulator` is dropped.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Runs each request in its own task, so that a client giving up (a timeout, a closed
/// connection) does not cancel it: the call still runs and is journaled, as on a real server.
async fn entry(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    match tokio::spawn(dispatch(shared, request)).await {
        Ok(response) => response,
        Err(_) => json_response(500, envelope::error(&ApiError::internal()), None),
    }
}

impl Emulator {
    /// Serves `portal` on an ephemeral port of `127.0.0.1`. Must be called inside a tokio runtime.
    pub async fn start(portal: Portal) -> std::io::Result<Self> {
        Self::start_on(portal, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Serves `portal` on the given address (port 0 picks a free port).
    pub async fn start_on(portal: Portal, addr: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            portal: PortalHandle::new(portal),
            registry: RwLock::new(Registry::with_builtins()),
            journal: Mutex::new(Vec::new()),
            base_url: format!("http://{addr}/"),
            faults: Faults::default(),
        });
        let router = Router::new()
            .fallback(entry)
            .with_state(Arc::clone(&shared));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    // Either a shutdown request or the handle being dropped.
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "b24-emulator server stopped");
            }
        });
        tracing::debug!(%addr, "b24-emulator listening");
        Ok(Self {
            addr,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The state shared with the server task.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// `http://127.0.0.1:PORT/rest/`: append a method name and pass the token as `auth`.
    pub fn rest_url(&self) -> String {
        format!("{}rest/", self.shared.base_url)
    }

    /// `http://127.0.0.1:PORT/rest/<user_id>/<code>/` for the user's first webhook (by code), or
    /// `None` when the user has none.
    pub fn webhook_url(&self, user_id: u64) -> Option<String> {
        let portal = self.shared.portal.lock();
        let code = portal.webhooks_of(user_id).first()?.to_string();
        Some(self.webhook_url_with_code(user_id, &code))
    }

    /// `http://127.0.0.1:PORT/rest/<user_id>/<code>/` for any user id and code, valid or not.
    pub fn webhook_url_with_code(&self, user_id: u64, code: &str) -> String {
        format!("{}rest/{user_id}/{code}/", self.shared.base_url)
    }

    /// `http://127.0.0.1:PORT/oauth/token/`: the OAuth token endpoint, standing for
    /// `https://oauth.bitrix.info/oauth/token/` (see [`Portal::renew_tokens`]).
    pub fn token_url(&self) -> String {
        format!(
            "{}{}",
            self.shared.base_url,
            crate::oauth_server::TOKEN_PATH
        )
    }

    /// How many renewals the token endpoint has granted ([`Portal::token_renewals`]).
    pub fn token_renewals(&self) -> u64 {
        self.shared.portal.lock().token_renewals()
    }

    /// The faults injected into this emulator's answers; see [`crate::faults`].
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// The shared portal state.
    pub fn portal(&self) -> PortalHandle {
        self.shared.portal.clone()
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        self.shared
            .journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Adds a method (name in any case), replacing any handler of that name, built-ins included.
    ///
    /// ```
    /// # async fn demo() -> std::io::Result<()> {
    /// use b24_emulator::{ApiError, Emulator, Portal};
    /// use serde_json::json;
    /// let emu = Emulator::start(Portal::demo()).await?;
    /// emu.register("user.current", |ctx, _params| {
    ///     let user = ctx.user().ok_or_else(|| ApiError::new("USER_ID", "No user"))?;
    ///     Ok(json!({ "ID": user.id.to_string(), "NAME": user.first_name }))
    /// });
    /// # Ok(()) }
    /// ```
    pub fn register<F>(&self, method: &str, handler: F)
    where
        F: Fn(&mut CallContext<'_>, &Params) -> Result<Value, ApiError> + Send + Sync + 'static,
    {
        self.register_handler(method, handler);
    }

    /// Adds a method implemented by any [`Handler`] (a struct with its own state, say); see
    /// [`Emulator::register`] for closures.
    pub fn register_handler(&self, method: &str, handler: impl Handler) {
        self.shared
            .registry
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .register(method, handler);
    }

    /// Adds a REST 3.0 method (name in any case), served at `/rest/api/<method>` and
    /// `/rest/api/<user_id>/<code>/<method>` only (`api-reference/rest-v3.md`): JSON bodies,
    /// errors as `{"error": {"code", "message"}}`, and `Idempotency-Key` honoured (a repeat of a
    /// call that succeeded, with the same key and parameters, within 24 h of portal time, gets the
    /// stored answer with `Idempotent-Replayed: true` and does not run the handler again).
    ///
    /// ```
    /// # async fn demo() -> std::io::Result<()> {
    /// use b24_emulator::{Emulator, Portal};
    /// use serde_json::json;
    /// let emu = Emulator::start(Portal::demo()).await?;
    /// emu.register_v3("tasks.task.add", |_ctx, params| {
    ///     Ok(json!({ "item": { "id": 42, "title": params.text("title") } }))
    /// });
    /// # Ok(()) }
    /// ```
    pub fn register_v3<F>(&self, method: &str, handler: F)
    where
        F: Fn(&mut CallContext<'_>, &Params) -> Result<Value, ApiError> + Send + Sync + 'static,
    {
        self.shared
            .registry
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .register_v3(method, handler);
    }

    /// Removes a method; calls to it then answer `ERROR_METHOD_NOT_FOUND` (its documented answer
    /// too, until it is registered again). Returns whether a handler was registered.
    pub fn unregister(&self, method: &str) -> bool {
        self.shared
            .registry
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .unregister(method)
    }

    /// Turns [documented answers](crate::methods::documented) on (the default) or off: a method
    /// of the docs without a handler answers its page's success example, or
    /// `ERROR_METHOD_NOT_FOUND` when they are off.
    pub fn set_documented_answers(&self, on: bool) {
        self.shared
            .registry
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .documented_answers(on);
    }

    /// Stops accepting connections, lets open ones finish (up to a few seconds) and stops.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn handles_can_cross_threads() {
        assert_send_sync::<Emulator>();
        assert_send_sync::<PortalHandle>();
        assert_send_sync::<Portal>();
        assert_send_sync::<RecordedRequest>();
        assert_send_sync::<Faults>();
    }
}
