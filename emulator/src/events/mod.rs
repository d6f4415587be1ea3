//! Applications and events (`api-reference/events/`, `settings/app-installation/`): what a portal
//! does for an installed application.
//!
//! - **Installation** ([`Emulator::install_app`](crate::Emulator::install_app)): the portal
//!   issues the installing administrator's tokens and an `application_token`, and POSTs
//!   `ONAPPINSTALL` (form-encoded, `auth[…]` with both tokens) to the application's URL, or the
//!   installation page's POST (`AUTH_ID`, `REFRESH_ID`, `member_id`, `DOMAIN` in the query…)
//!   with [`Emulator::install_app_page`](crate::Emulator::install_app_page).
//!   [`Emulator::uninstall_app`](crate::Emulator::uninstall_app) sends `ONAPPUNINSTALL` to the
//!   application's handlers of it, drops its handlers and queue and revokes its tokens.
//! - **Handlers** ([`bindings`]): `event.bind`, `event.unbind`, `event.get`, with the
//!   application's token only (a webhook gets 403 `WRONG_AUTH_TYPE`); offline handlers and
//!   another user's `auth_type` need an administrator (403 `ACCESS_DENIED`); an unknown event is
//!   400 `ERROR_EVENT_NOT_FOUND` (the names the emulator knows: [`KNOWN_EVENTS`]).
//! - **Firing** ([`Portal::fire_event`](crate::Portal::fire_event)): an event reaches every
//!   handler bound to it: online ones get a form-encoded POST
//!   (`event`, `event_handler_id`, `data[…]`, `ts`, `auth[…]` with an access token of the user and
//!   the application's `application_token`) after the call that raised it has answered; offline
//!   ones are queued. `imopenlines.session.start` fires `ONSESSIONSTART` ([`openlines`]).
//! - **Offline queue** ([`offline`]): `event.offline.get` (with `clear=0` a batch is reserved
//!   under a `process_id`; the same `process_id` gets its unfinished batch back),
//!   `event.offline.clear`, `event.offline.error`, `event.offline.list`; administrators only.
//!   The queue keeps one record per event and data: firing it again only moves its time.
//! - **Deliveries** ([`Emulator::event_deliveries`](crate::Emulator::event_deliveries)): every
//!   POST made, with the status the application answered.
//! - **The full OAuth protocol**
//!   ([`Emulator::authorization_code`](crate::Emulator::authorization_code)): the one-time code
//!   of a user's authorisation, exchanged at the token endpoint with
//!   `grant_type=authorization_code` (once, within 30 seconds, by its application).
//! - **One OAuth server for several portals**
//!   ([`Emulator::share_oauth_server`](crate::Emulator::share_oauth_server)), as
//!   `oauth.bitrix.info` serves every portal: an application installed on two emulated portals
//!   renews both portals' tokens at one token endpoint.

mod authorize;
pub mod bindings;
mod deliver;
mod fire;
pub mod form;
mod install;
mod oauth_hub;
pub mod offline;
pub mod openlines;

pub use deliver::EventDelivery;
pub use install::{InstallError, Installed};

use std::collections::BTreeMap;

use serde_json::Value;

use crate::handlers::Registry;
use crate::state::PortalHandle;

pub(crate) use authorize::exchange_code;
pub(crate) use deliver::deliver_pending;
pub(crate) use oauth_hub::renew_at_peers;

/// The event names `event.bind` accepts.
pub const KNOWN_EVENTS: &[&str] = &[
    "ONAPPINSTALL",
    "ONAPPUNINSTALL",
    "ONAPPUPDATE",
    "ONAPPTEST",
    "ONOFFLINEEVENT",
    "ONSESSIONSTART",
    "ONSESSIONFINISH",
    "ONOPENLINEMESSAGEADD",
    "ONOPENLINEMESSAGEUPDATE",
    "ONOPENLINEMESSAGEDELETE",
    "ONIMCONNECTORMESSAGEADD",
    "ONIMCONNECTORMESSAGEUPDATE",
    "ONIMCONNECTORMESSAGEDELETE",
    "ONIMCONNECTORDIALOGSTART",
    "ONIMCONNECTORDIALOGFINISH",
    "ONIMCONNECTORSTATUSDELETE",
    "ONIMCONNECTORLINEDELETE",
    "ONCRMLEADADD",
    "ONCRMLEADUPDATE",
    "ONCRMLEADDELETE",
];

/// The most deliveries remembered (the oldest are forgotten).
const MAX_DELIVERIES: usize = 10_000;

/// An application installed on the portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledApp {
    /// Its `client_id`.
    pub client_id: String,
    /// The token its event handlers check.
    pub application_token: String,
}

/// A registered handler (`event.bind`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Its id (`event_handler_id`).
    pub id: u64,
    /// The application that bound it.
    pub client_id: String,
    /// The event, upper case.
    pub event: String,
    /// The URL, empty for offline handlers.
    pub handler: String,
    /// The user the events act for (`0`: the one who raised them).
    pub auth_type: u64,
    /// An offline handler.
    pub offline: bool,
    /// The offline queue's source key.
    pub auth_connector: String,
}

/// A record of the offline queue.
#[derive(Debug, Clone, PartialEq)]
pub struct OfflineRecord {
    /// `ID`.
    pub id: u64,
    /// `MESSAGE_ID`.
    pub message_id: u64,
    /// The application whose queue it is in.
    pub client_id: String,
    /// The source key.
    pub auth_connector: String,
    /// `EVENT_NAME`.
    pub event: String,
    /// `EVENT_DATA`.
    pub data: Value,
    /// The user who raised it.
    pub user_id: u64,
    /// `TIMESTAMP_X`.
    pub time: chrono::DateTime<chrono::Utc>,
    /// `PROCESS_ID`: empty until reserved.
    pub process_id: String,
    /// `ERROR`.
    pub error: bool,
}

/// A delivery due: an online handler to call.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) binding_id: u64,
    pub(crate) client_id: String,
    pub(crate) url: String,
    pub(crate) event: String,
    pub(crate) data: Value,
    /// The user whose token goes along (`None`: no token, as for `ONAPPUNINSTALL`).
    pub(crate) user_id: Option<u64>,
}

/// The events state of a portal.
#[derive(Debug, Clone, Default)]
pub struct EventState {
    pub(crate) apps: BTreeMap<String, InstalledApp>,
    pub(crate) bindings: Vec<Binding>,
    pub(crate) next_binding: u64,
    pub(crate) queue: Vec<OfflineRecord>,
    pub(crate) next_record: u64,
    pub(crate) next_process: u64,
    pub(crate) outbox: Vec<Outgoing>,
    pub(crate) deliveries: Vec<EventDelivery>,
    /// Codes of the `authorization_code` grant not exchanged yet.
    pub(crate) codes: std::collections::HashMap<String, authorize::CodeGrant>,
    /// Other portals whose tokens this portal's token endpoint renews.
    pub(crate) oauth_peers: Vec<(PortalHandle, String)>,
}

/// Registers `event.bind`, `event.unbind`, `event.get` and `event.offline.*`.
pub(crate) fn register(registry: &mut Registry) {
    bindings::register(registry);
    offline::register(registry);
}

/// A fresh token of 32 hex digits, as `application_token`s look.
pub(crate) fn fresh_token(salt: u64) -> String {
    use std::hash::{BuildHasher, Hasher};
    let state = std::collections::hash_map::RandomState::new();
    let mut out = String::with_capacity(32);
    for round in 0..2u64 {
        let mut hasher = state.build_hasher();
        hasher.write_u64(salt);
        hasher.write_u64(round);
        out.push_str(&format!("{:016x}", hasher.finish()));
    }
    out
}
