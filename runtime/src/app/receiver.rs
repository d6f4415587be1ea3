//! [`Receiver`]: the framework-free entry for what Bitrix24 POSTs to an application: events and
//! installations. Give it the query string and the body of a request; answer with the status of
//! the outcome ([`ReceiveError::status`], 200 on success). The `axum` feature wraps it in a
//! router ([`crate::app::axum`]).
//!
//! What it does with a request, in order:
//! 1. refuses a body over [`Receiver::max_body`] (413) and a form that is not one (400: not
//!    UTF-8, too many fields, too deep, a required field missing);
//! 2. `ONAPPINSTALL`, or an installation page's POST (`AUTH_ID`, `REFRESH_ID`, `member_id`…):
//!    checks the tokens at the OAuth server and stores the portal (403 if the server refuses
//!    them or says they are another portal's, 503 if it cannot be asked), binds the handled events if [`Receiver::bind_to`] is set, then runs the
//!    `ONAPPINSTALL` handler, if any, with the new portal's client;
//! 3. any other event: the portal must be stored (403) and `auth[application_token]` must be its
//!    token, compared in constant time (403); `ONAPPUNINSTALL` then removes the portal (after its
//!    handler, if any, ran);
//! 4. decodes `data` into the handler's type (422 if it does not decode) and runs the handler
//!    with the portal's client; an event without a handler is acknowledged and dropped.
//!
//! Refusals are logged at `warn` without secrets (the request's tokens are redacted from every
//! string shown), and never reach a handler.

use std::sync::Arc;

use serde_json::Value;

use super::bind::{bind, bound, Binding};
use super::form::FormLimits;
use super::incoming::{self, EventRequest, Incoming, Secrets};
use super::{AppInstall, AppUninstall, EventMeta, Handlers, Portals, ReceiveError, Rejection};
use crate::event::Event;

/// What became of a request that was not refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Receipt {
    /// A portal was installed (or installed again).
    Installed {
        /// Its `member_id`.
        member_id: String,
    },
    /// A portal was uninstalled.
    Uninstalled {
        /// Its `member_id`.
        member_id: String,
    },
    /// An event was handled.
    Handled {
        /// The event's name.
        event: String,
        /// The portal's `member_id`.
        member_id: String,
    },
    /// A verified event nobody handles: acknowledged and dropped.
    Ignored {
        /// The event's name.
        event: String,
        /// The portal's `member_id`.
        member_id: String,
    },
}

/// Receives events and installations for an application's [`Portals`] (cheap to clone).
///
/// ```no_run
/// use std::sync::Arc;
/// use b24_runtime::app::{Handlers, MemoryPortalStore, Portals, Receiver};
/// use b24_runtime::OAuthApp;
/// # async fn demo(query: Option<&str>, body: &[u8]) {
/// let portals = Portals::new(OAuthApp::new("app.id", "secret"), Arc::new(MemoryPortalStore::new()));
/// let receiver = Receiver::new(portals, Handlers::new());
/// // In any web framework's handler of `POST /b24`:
/// let status = match receiver.receive(query, body).await {
///     Ok(_) => 200,
///     Err(e) => e.status(),
/// };
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Receiver {
    inner: Arc<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    portals: Portals,
    handlers: Handlers,
    max_body: usize,
    limits: FormLimits,
    bind_to: Option<String>,
}

impl Receiver {
    /// The default bound on a request body (1 MiB; an event is a few KiB).
    pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

    /// A receiver for `portals` running `handlers`.
    pub fn new(portals: Portals, handlers: Handlers) -> Self {
        Receiver {
            inner: Arc::new(Inner {
                portals,
                handlers,
                max_body: Self::DEFAULT_MAX_BODY,
                limits: FormLimits::default(),
                bind_to: None,
            }),
        }
    }

    /// The settings, copied first if a clone shares them (clones keep theirs).
    fn inner_mut(&mut self) -> &mut Inner {
        Arc::make_mut(&mut self.inner)
    }

    /// The largest body accepted (default [`Self::DEFAULT_MAX_BODY`]).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.inner_mut().max_body = bytes;
        self
    }

    /// The bounds of the form (default [`FormLimits::default`]).
    pub fn form_limits(mut self, limits: FormLimits) -> Self {
        self.inner_mut().limits = limits;
        self
    }

    /// On every installation, bind each handled event (and `ONAPPUNINSTALL`) to `url`, the
    /// address this receiver is reachable at, as Bitrix24 asks applications to do in their
    /// installer.
    pub fn bind_to(mut self, url: impl Into<String>) -> Self {
        self.inner_mut().bind_to = Some(url.into());
        self
    }

    /// The portals.
    pub fn portals(&self) -> &Portals {
        &self.inner.portals
    }

    /// The handlers.
    pub fn handlers(&self) -> &Handlers {
        &self.inner.handlers
    }

    /// The largest body accepted.
    pub fn body_limit(&self) -> usize {
        self.inner.max_body
    }

    /// Receives one request: its query string and its body (`application/x-www-form-urlencoded`).
    pub async fn receive(&self, query: Option<&str>, body: &[u8]) -> Result<Receipt, ReceiveError> {
        let outcome = self.run(query, body).await;
        match &outcome {
            Ok(receipt) => tracing::debug!(?receipt, "b24 request received"),
            Err(ReceiveError::Rejected(rejection)) => {
                tracing::warn!(status = rejection.status(), %rejection, "b24 request refused");
            }
            Err(error) => tracing::error!(status = error.status(), %error, "b24 request failed"),
        }
        outcome
    }

    async fn run(&self, query: Option<&str>, body: &[u8]) -> Result<Receipt, ReceiveError> {
        if body.len() > self.inner.max_body {
            return Err(Rejection::TooLarge {
                limit: self.inner.max_body,
            }
            .into());
        }
        let (secrets, incoming) = incoming::read(query, body, self.inner.limits);
        match incoming? {
            Incoming::InstallPage(claim) => {
                let (portal, _) = self.inner.portals.install_claim(claim, &secrets).await?;
                self.after_install(&portal.member_id, None, &secrets)
                    .await?;
                Ok(Receipt::Installed {
                    member_id: portal.member_id,
                })
            }
            Incoming::Event(event) if event.name == AppInstall::NAME => {
                let claim = event.install_claim(&secrets)?;
                let (portal, _) = self.inner.portals.install_claim(claim, &secrets).await?;
                self.after_install(&portal.member_id, Some(event), &secrets)
                    .await?;
                Ok(Receipt::Installed {
                    member_id: portal.member_id,
                })
            }
            Incoming::Event(event) => self.event(event, &secrets).await,
        }
    }

    /// Binds the handled events, then runs the `ONAPPINSTALL` handler.
    async fn after_install(
        &self,
        member_id: &str,
        event: Option<EventRequest>,
        secrets: &Secrets,
    ) -> Result<(), ReceiveError> {
        let client = self.inner.portals.client(member_id).await?;
        if let Some(url) = &self.inner.bind_to {
            let failed = |e: crate::Error| ReceiveError::Handler {
                event: AppInstall::NAME.into(),
                source: Box::new(e),
            };
            // An installation may come twice (the page and ONAPPINSTALL): bind what is missing.
            let existing = bound(&client).await.map_err(failed)?;
            let mut names: Vec<&str> = self
                .inner
                .handlers
                .names()
                .filter(|name| *name != AppInstall::NAME && *name != AppUninstall::NAME)
                .collect();
            names.sort_unstable();
            names.push(AppUninstall::NAME);
            for name in names {
                let done = existing
                    .iter()
                    .any(|b| b.event == name && b.handler == *url && !b.offline);
                if !done {
                    bind(&client, &Binding::online(name, url.as_str()))
                        .await
                        .map_err(failed)?;
                }
            }
        }
        let (data, meta) = match event {
            Some(event) => {
                let meta = meta_of(&event);
                (event.data, meta)
            }
            None => (
                Value::Object(Default::default()),
                EventMeta {
                    name: AppInstall::NAME.into(),
                    member_id: member_id.to_owned(),
                    domain: None,
                    ts: None,
                    handler_id: None,
                    offline: None,
                },
            ),
        };
        self.dispatch(data, client, meta, secrets).await.map(drop)
    }

    async fn event(&self, event: EventRequest, secrets: &Secrets) -> Result<Receipt, ReceiveError> {
        let portal = self.inner.portals.installation(&event.member_id).await?;
        let Some(portal) = portal else {
            return Err(Rejection::UnknownPortal {
                event: event.name,
                member_id: event.member_id,
            }
            .into());
        };
        if !portal.application_token_matches(&event.application_token) {
            return Err(Rejection::Forged {
                event: event.name,
                member_id: event.member_id,
            }
            .into());
        }
        let member_id = event.member_id.clone();
        let name = event.name.clone();
        let handled = self.inner.handlers.handles(&name);
        if handled {
            let client = self.inner.portals.client(&member_id).await?;
            let meta = meta_of(&event);
            self.dispatch(event.data, client, meta, secrets).await?;
        }
        if name == AppUninstall::NAME {
            self.inner.portals.uninstall(&member_id).await?;
            return Ok(Receipt::Uninstalled { member_id });
        }
        Ok(if handled {
            Receipt::Handled {
                event: name,
                member_id,
            }
        } else {
            tracing::debug!(event = %name, "b24 event without a handler: dropped");
            Receipt::Ignored {
                event: name,
                member_id,
            }
        })
    }

    /// Runs the handler of `meta.name`, if any; `false` when there is none.
    async fn dispatch(
        &self,
        data: Value,
        client: crate::Client,
        meta: EventMeta,
        secrets: &Secrets,
    ) -> Result<bool, ReceiveError> {
        let Some(handler) = self.inner.handlers.get(&meta.name) else {
            return Ok(false);
        };
        let name = meta.name.clone();
        let future = handler
            .start(data, client, meta)
            .map_err(|reason| Rejection::Payload {
                event: name.clone(),
                reason: secrets.show(&reason, 256),
            })?;
        future.await.map_err(|source| ReceiveError::Handler {
            event: name,
            source,
        })?;
        Ok(true)
    }
}

fn meta_of(event: &EventRequest) -> EventMeta {
    EventMeta {
        name: event.name.clone(),
        member_id: event.member_id.clone(),
        domain: event.domain.clone(),
        ts: event.ts,
        handler_id: event.handler_id,
        offline: None,
    }
}
