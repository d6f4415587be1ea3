//! Sending events to online handlers: the form of each delivery, the POST, and the record of
//! what the application answered.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::{InstalledApp, Outgoing, MAX_DELIVERIES};
use crate::server::{Emulator, Shared};
use crate::state::{Portal, PortalHandle};

/// How long a handler has to answer.
const HANDLER_TIMEOUT: Duration = Duration::from_secs(10);

/// The authorisation server's REST address, as the real one reports it.
const SERVER_ENDPOINT: &str = "https://oauth.bitrix.info/rest/";

/// One POST the portal made to an application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventDelivery {
    /// The event (or `INSTALL` for an installation page's POST).
    pub event: String,
    /// Where it went.
    pub url: String,
    /// The handler's id (`0` for installations).
    pub handler_id: u64,
    /// The status the application answered, or `None` when it could not be reached.
    pub status: Option<u16>,
}

/// A delivery ready to send.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) event: String,
    pub(crate) url: String,
    pub(crate) handler_id: u64,
    pub(crate) body: String,
}

fn http() -> &'static reqwest::Client {
    static HTTP: OnceLock<reqwest::Client> = OnceLock::new();
    HTTP.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(HANDLER_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    })
}

/// `127.0.0.1:PORT` of `http://127.0.0.1:PORT/`.
pub(crate) fn domain_of(base_url: &str) -> String {
    base_url
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_owned()
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The application's record, made on first use for an application that was not installed
/// through the emulator (its token was issued directly).
pub(crate) fn app_of<'a>(portal: &'a mut Portal, client_id: &str) -> &'a InstalledApp {
    let salt = portal
        .events
        .next_binding
        .wrapping_add(portal.events.next_record);
    portal
        .events
        .apps
        .entry(client_id.to_owned())
        .or_insert_with(|| InstalledApp {
            client_id: client_id.to_owned(),
            application_token: super::fresh_token(salt),
        })
}

/// The `auth` block of a delivery: the portal's identity, the application's token and, when a
/// user is given, an access token of that user for the application (and the refresh token
/// when `with_refresh`).
pub(crate) fn auth_block(
    portal: &mut Portal,
    base_url: &str,
    client_id: &str,
    user_id: Option<u64>,
    with_refresh: bool,
) -> Value {
    let application_token = app_of(portal, client_id).application_token.clone();
    let (scope, status) = portal.oauth_app(client_id).map_or_else(
        || ("".to_owned(), "L".to_owned()),
        |app| (app.scope.clone(), app.status.clone()),
    );
    let mut auth = json!({
        "domain": domain_of(base_url),
        "server_endpoint": SERVER_ENDPOINT,
        "client_endpoint": format!("{base_url}rest/"),
        "member_id": portal.member_id(),
        "application_token": application_token,
    });
    if let Some(user) = user_id {
        let (access, refresh) = portal.issue_tokens(user, client_id);
        auth["access_token"] = json!(access);
        auth["expires"] = json!(unix_now() + 3600);
        auth["expires_in"] = json!(3600);
        auth["scope"] = json!(scope);
        auth["status"] = json!(status);
        auth["user_id"] = json!(user);
        if with_refresh {
            auth["refresh_token"] = json!(refresh);
        }
    }
    auth
}

/// The form of one event delivery.
fn prepare(portal: &mut Portal, base_url: &str, out: Outgoing) -> Prepared {
    let auth = auth_block(portal, base_url, &out.client_id, out.user_id, false);
    let form = json!({
        "event": out.event,
        "event_handler_id": out.binding_id,
        "data": out.data,
        "ts": unix_now(),
        "auth": auth,
    });
    Prepared {
        event: out.event,
        url: out.url,
        handler_id: out.binding_id,
        body: super::form::encode(&form),
    }
}

/// Takes the deliveries due and makes their forms.
pub(crate) fn take(portal: &PortalHandle, base_url: &str) -> Vec<Prepared> {
    let mut portal = portal.lock();
    let due = std::mem::take(&mut portal.events.outbox);
    due.into_iter()
        .map(|out| prepare(&mut portal, base_url, out))
        .collect()
}

/// POSTs one delivery (with `query` in the URL) and records the answer.
pub(crate) async fn post(
    portal: PortalHandle,
    prepared: Prepared,
    query: Option<String>,
) -> EventDelivery {
    let url = match &query {
        Some(query) if prepared.url.contains('?') => format!("{}&{query}", prepared.url),
        Some(query) => format!("{}?{query}", prepared.url),
        None => prepared.url.clone(),
    };
    let status = http()
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(prepared.body)
        .send()
        .await
        .map(|answer| answer.status().as_u16());
    if let Err(error) = &status {
        tracing::debug!(%error, event = %prepared.event, "b24-emulator could not deliver an event");
    }
    let delivery = EventDelivery {
        event: prepared.event,
        url: prepared.url,
        handler_id: prepared.handler_id,
        status: status.ok(),
    };
    let mut portal = portal.lock();
    let log = &mut portal.events.deliveries;
    if log.len() >= MAX_DELIVERIES {
        log.remove(0);
    }
    log.push(delivery.clone());
    delivery
}

/// Sends the deliveries due in the background (after a call has answered).
pub(crate) fn deliver_pending(shared: &Arc<Shared>) {
    let due = take(&shared.portal, &shared.base_url);
    for prepared in due {
        tokio::spawn(post(shared.portal.clone(), prepared, None));
    }
}

impl Emulator {
    /// Sends the event deliveries due now and waits for the applications' answers (calls send
    /// theirs in the background after answering; this is for state changed through
    /// [`Emulator::portal`], e.g. [`Portal::fire_event`](crate::Portal::fire_event)).
    pub async fn deliver_events(&self) -> Vec<EventDelivery> {
        let shared = self.shared();
        let due = take(&shared.portal, &shared.base_url);
        let mut deliveries = Vec::with_capacity(due.len());
        for prepared in due {
            deliveries.push(post(shared.portal.clone(), prepared, None).await);
        }
        deliveries
    }

    /// Every event delivery and installation POST made so far (the last 10 000), oldest first.
    pub fn event_deliveries(&self) -> Vec<EventDelivery> {
        self.shared().portal.lock().events.deliveries.clone()
    }
}
