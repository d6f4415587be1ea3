//! [`Handlers`]: the typed event handlers of an application, by event name, shared by the
//! online [`Receiver`](super::Receiver) and the [`OfflinePoller`](super::OfflinePoller).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value;

use super::BoxError;
use crate::client::Client;
use crate::event::Event;

/// What a handler gets: the typed event, the portal's client, and where the event came from.
#[derive(Debug)]
#[non_exhaustive]
pub struct Delivery<E> {
    /// The event's `data`, decoded.
    pub event: E,
    /// The client of the portal the event came from (its own tokens and limits).
    pub client: Client,
    /// Where and when the event came from.
    pub meta: EventMeta,
}

/// Where and when an event came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventMeta {
    /// The event's name, upper case.
    pub name: String,
    /// The portal's `member_id` (for offline events, the one given to
    /// [`OfflinePoller::member_id`](super::OfflinePoller::member_id), else empty: the records
    /// carry none).
    pub member_id: String,
    /// The portal's address, as the event said.
    pub domain: Option<String>,
    /// When the event left the queue (`ts`, Unix time), if said.
    pub ts: Option<i64>,
    /// The handler registration's id (`event_handler_id`), if said.
    pub handler_id: Option<u64>,
    /// The offline queue record (`ID`, `MESSAGE_ID`) for offline events.
    pub offline: Option<(String, String)>,
}

/// A handler with its event type erased: decodes `data` and starts the handler.
pub(crate) trait Erased: Send + Sync {
    /// The handler's future, or the decoder's message when `data` does not decode.
    fn start(
        &self,
        data: Value,
        client: Client,
        meta: EventMeta,
    ) -> Result<BoxFuture<'static, Result<(), BoxError>>, String>;
}

/// A handler of the events `E`.
struct Typed<E, F> {
    handler: F,
    event: std::marker::PhantomData<fn() -> E>,
}

impl<E, F, Fut, Er> Erased for Typed<E, F>
where
    E: Event,
    F: Fn(Delivery<E>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Er>> + Send + 'static,
    Er: Into<BoxError>,
{
    fn start(
        &self,
        data: Value,
        client: Client,
        meta: EventMeta,
    ) -> Result<BoxFuture<'static, Result<(), BoxError>>, String> {
        let event: E = serde_json::from_value(data).map_err(|e| e.to_string())?;
        let future = (self.handler)(Delivery {
            event,
            client,
            meta,
        });
        Ok(Box::pin(async move { future.await.map_err(Into::into) }))
    }
}

/// The typed handlers of an application, one per event name (cheap to clone).
///
/// ```
/// use b24_runtime::app::{AppInstall, Delivery, Handlers};
///
/// let handlers = Handlers::new().on(|delivery: Delivery<AppInstall>| async move {
///     println!("installed on {}: {:?}", delivery.meta.member_id, delivery.event.version);
///     Ok::<_, std::convert::Infallible>(())
/// });
/// assert!(handlers.handles("ONAPPINSTALL"));
/// ```
#[derive(Clone, Default)]
pub struct Handlers {
    map: HashMap<&'static str, Arc<dyn Erased>>,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.map.keys()).finish()
    }
}

impl Handlers {
    /// No handlers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles the event `E` (replacing any handler of the same name). The handler gets a
    /// [`Delivery`] and returns `Ok` once the event is dealt with: an offline event is cleared
    /// from the portal's queue only then.
    pub fn on<E, F, Fut, Er>(mut self, handler: F) -> Self
    where
        E: Event,
        F: Fn(Delivery<E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Er>> + Send + 'static,
        Er: Into<BoxError>,
    {
        let typed = Typed {
            handler,
            event: std::marker::PhantomData::<fn() -> E>,
        };
        self.map.insert(E::NAME, Arc::new(typed));
        self
    }

    /// Whether an event of this name (any case) has a handler.
    pub fn handles(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The names of the handled events.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.map.keys().copied()
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Arc<dyn Erased>> {
        self.map.get(name.to_ascii_uppercase().as_str())
    }
}
