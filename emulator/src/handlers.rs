//! Method handlers: the [`Handler`] trait, the [`CallContext`] a handler runs in, and the
//! [`Registry`] mapping method names to handlers.
//!
//! The nine `imopenlines` methods and `crm.lead.list` are built in ([`crate::methods`]; `batch` is
//! handled by the dispatcher itself), every other method of the docs answers its page's example
//! ([`crate::methods::documented`]); more can be added at runtime with
//! [`Emulator::register`](crate::Emulator::register). A handler is synchronous: it runs with the
//! portal locked, so one call's changes are atomic with respect to others.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::ApiError;
use crate::params::Params;
use crate::record::AuthKind;
use crate::state::model::User;
use crate::state::Portal;

/// The code behind one REST method.
///
/// Implemented for every `Fn(&mut CallContext<'_>, &Params) -> Result<Value, ApiError>` closure
/// that is `Send + Sync + 'static`. `Ok(value)` is answered as `{"result": value, "time": …}`;
/// `Err(error)` as `{"error": …, "error_description": …}` with the error's status.
pub trait Handler: Send + Sync + 'static {
    /// Runs the method for one call.
    fn call(&self, ctx: &mut CallContext<'_>, params: &Params) -> Result<Value, ApiError>;
}

impl<F> Handler for F
where
    F: Fn(&mut CallContext<'_>, &Params) -> Result<Value, ApiError> + Send + Sync + 'static,
{
    fn call(&self, ctx: &mut CallContext<'_>, params: &Params) -> Result<Value, ApiError> {
        self(ctx, params)
    }
}

/// Everything a handler knows about the call besides its parameters: who calls, the portal, and
/// the extra envelope fields it may set.
pub struct CallContext<'a> {
    portal: &'a mut Portal,
    user_id: u64,
    auth: AuthKind,
    method: &'a str,
    base_url: &'a str,
    now: DateTime<Utc>,
    next: Option<u64>,
    total: Option<u64>,
    client_id: Option<String>,
}

impl<'a> CallContext<'a> {
    /// A context for a call of `method` by `user_id`; `base_url` is the emulator's
    /// `http://127.0.0.1:PORT/`.
    pub fn new(
        portal: &'a mut Portal,
        user_id: u64,
        auth: AuthKind,
        method: &'a str,
        base_url: &'a str,
    ) -> Self {
        Self {
            portal,
            user_id,
            auth,
            method,
            base_url,
            now: Utc::now(),
            next: None,
            total: None,
            client_id: None,
        }
    }

    /// The same context for a call made with a token of the OAuth application `client_id`.
    pub fn with_client_id(mut self, client_id: Option<String>) -> Self {
        self.client_id = client_id;
        self
    }

    /// The OAuth application whose token the call carries (`None` for webhooks and tokens added
    /// without an application).
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// The id of the calling user: the webhook's owner or the token's user. The user may no longer
    /// exist in the portal (see [`CallContext::user`]).
    pub fn user_id(&self) -> u64 {
        self.user_id
    }

    /// The calling user, or `None` when it was deleted from the portal after its webhook or token
    /// was issued (the portal's methods answer `USER_ID` then).
    pub fn user(&self) -> Option<&User> {
        self.portal.user(self.user_id)
    }

    /// How the call authenticated.
    pub fn auth(&self) -> AuthKind {
        self.auth
    }

    /// The method name, lowercased.
    pub fn method(&self) -> &str {
        self.method
    }

    /// The emulator's base URL, `http://127.0.0.1:PORT/`, for links in answers.
    pub fn base_url(&self) -> &str {
        self.base_url
    }

    /// When the call started.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The portal, to read.
    pub fn portal(&self) -> &Portal {
        self.portal
    }

    /// The portal, to change.
    pub fn portal_mut(&mut self) -> &mut Portal {
        self.portal
    }

    /// Adds `"next": next` to the answer (list methods: the offset of the next page).
    pub fn set_next(&mut self, next: u64) {
        self.next = Some(next);
    }

    /// Adds `"total": total` to the answer (list methods: the number of rows).
    pub fn set_total(&mut self, total: u64) {
        self.total = Some(total);
    }

    /// The `next` set by the handler.
    pub fn next(&self) -> Option<u64> {
        self.next
    }

    /// The `total` set by the handler.
    pub fn total(&self) -> Option<u64> {
        self.total
    }
}

/// Method name → handler. Names are stored lowercased. REST 3.0 methods (served at
/// `/rest/api/…` only) are kept apart from the classic ones (served at `/rest/…`).
///
/// With [documented answers](crate::methods::documented) on (the default of
/// [`Registry::with_builtins`]), a method of the docs with no handler answers its page's example.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Arc<dyn Handler>>,
    v3: HashMap<String, Arc<dyn Handler>>,
    documented: bool,
    /// Methods unregistered by name: not served by their documented answer either.
    removed: HashSet<String>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names = self.names();
        names.sort_unstable();
        f.debug_struct("Registry").field("methods", &names).finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry with the built-in methods ([`crate::methods`]) and
    /// [documented answers](crate::methods::documented) for every other method of the docs.
    pub fn with_builtins() -> Self {
        let mut registry = Self::new();
        crate::methods::register_all(&mut registry);
        registry.documented = true;
        registry
    }

    /// Turns [documented answers](crate::methods::documented) on or off: with them, a method of
    /// the docs that has no handler answers its page's success example (after checking the
    /// page's required parameters); without them, `ERROR_METHOD_NOT_FOUND`.
    pub fn documented_answers(&mut self, on: bool) {
        self.documented = on;
    }

    /// Adds a method, replacing any handler already registered under that name (built-ins too).
    pub fn register(&mut self, method: &str, handler: impl Handler) {
        let name = method.to_lowercase();
        self.removed.remove(&name);
        self.handlers.insert(name, Arc::new(handler));
    }

    /// Removes a method; calls to it then answer `ERROR_METHOD_NOT_FOUND` (its documented answer
    /// too is off until it is registered again). Returns whether a handler was registered.
    pub fn unregister(&mut self, method: &str) -> bool {
        let name = method.to_lowercase();
        let had = self.handlers.remove(&name).is_some();
        self.removed.insert(name);
        had
    }

    /// The handler of a method (name in any case): the registered one, else its documented
    /// answer.
    pub fn get(&self, method: &str) -> Option<Arc<dyn Handler>> {
        let name = method.to_lowercase();
        if let Some(handler) = self.handlers.get(&name) {
            return Some(handler.clone());
        }
        self.documented(&name, false)
    }

    /// Adds a REST 3.0 method, served at `/rest/api/<method>` (not at `/rest/<method>`),
    /// replacing any REST 3.0 handler of that name.
    pub fn register_v3(&mut self, method: &str, handler: impl Handler) {
        self.v3.insert(method.to_lowercase(), Arc::new(handler));
    }

    /// The handler of a REST 3.0 method (name in any case): the registered one, else its
    /// documented answer.
    pub fn get_v3(&self, method: &str) -> Option<Arc<dyn Handler>> {
        let name = method.to_lowercase();
        if let Some(handler) = self.v3.get(&name) {
            return Some(handler.clone());
        }
        self.documented(&name, true)
    }

    fn documented(&self, name: &str, rest_v3: bool) -> Option<Arc<dyn Handler>> {
        if !self.documented || self.removed.contains(name) {
            return None;
        }
        let method = crate::methods::documented::lookup(name, rest_v3)?;
        Some(Arc::new(method))
    }

    /// The registered method names, lowercased, in no particular order.
    pub fn names(&self) -> Vec<&str> {
        self.handlers.keys().map(String::as_str).collect()
    }
}
