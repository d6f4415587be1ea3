//! A Bitrix24 *application*: installed on many portals, receiving their events.
//!
//! - [`Portals`]: the registry of installed portals, giving each portal's [`Client`](crate::Client)
//!   by `member_id` (its own tokens, bucket and operating-time accounting), built lazily from a
//!   [`PortalStore`]: [`MemoryPortalStore`] (default) or [`FilePortalStore`] (survives restarts).
//!   Renewed token pairs go back into the store before they are used.
//! - [`Receiver`]: what Bitrix24 POSTs to the application (framework-free; `app::axum`
//!   with the `axum` feature): installations (`ONAPPINSTALL`, an installation page's `AUTH_ID`
//!   POST), checked at the OAuth server and stored; uninstallations; and events, checked against
//!   the portal's `application_token` in constant time and handed to typed [`Handlers`] with the
//!   portal's client. Forged, unknown-portal and malformed requests get a typed [`Rejection`].
//! - [`OfflinePoller`]: the same handlers fed from the portal's offline event queue, at least
//!   once.
//! - [`bind`], [`unbind`], [`bound`]: `event.bind`, `event.unbind`, `event.get`.
//! - [`form`]: the bounded reader of PHP-style form bodies.
//!
//! ```no_run
//! use std::sync::Arc;
//! use b24_runtime::app::{Delivery, FilePortalStore, Handlers, Portals, Receiver};
//! use b24_runtime::{Event, OAuthApp};
//!
//! #[derive(serde::Deserialize)]
//! struct SessionStart { #[serde(rename = "DATA")] data: Vec<serde_json::Value> }
//! impl Event for SessionStart { const NAME: &'static str = "ONSESSIONSTART"; }
//!
//! # fn demo() -> std::io::Result<()> {
//! let store = Arc::new(FilePortalStore::open("portals.json")?);
//! let portals = Portals::new(OAuthApp::new("app.id", "secret"), store);
//! let handlers = Handlers::new().on(|delivery: Delivery<SessionStart>| async move {
//!     // `delivery.client` calls the portal the event came from.
//!     delivery.client.call_raw("imopenlines.dialog.get", &serde_json::json!({})).await?;
//!     Ok::<_, b24_runtime::Error>(())
//! });
//! let receiver = Receiver::new(portals, handlers).bind_to("https://app.example.com/b24");
//! # Ok(()) }
//! ```

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
mod bind;
mod error;
mod events;
mod file_store;
pub mod form;
mod handlers;
mod incoming;
mod install;
mod installation;
mod offline;
mod portals;
mod receiver;
mod store;

pub use bind::{bind, bound, unbind, Binding, Bound};
pub use error::{BoxError, PortalError, ReceiveError, Rejection};
pub use events::{AppInstall, AppUninstall};
pub use file_store::FilePortalStore;
pub use handlers::{Delivery, EventMeta, Handlers};
pub use install::AuthorizeError;
pub use installation::Installation;
pub use offline::{OfflinePoller, PollReport};
pub use portals::{Portals, MAX_CHECKS};
pub use receiver::{Receipt, Receiver};
pub use store::{MemoryPortalStore, PortalStore};

/// Now, in Unix seconds.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
