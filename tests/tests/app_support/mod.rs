//! What the `app_*` tests share: an application served over HTTP on loopback, the emulated
//! portal it is installed on, and the open-lines event payload it handles.
//!
//! `SessionStart` is declared here with `#[b24_object]` until the generated event payloads land.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use b24::app::{Delivery, Handlers, PortalStore, Portals, Receiver};
use b24::{b24_object, Event, OAuthApp};
use b24_emulator::{Emulator, Portal};
use tokio::sync::mpsc;

/// The application's OAuth keys, registered on every emulated portal of these tests.
pub const CLIENT_ID: &str = "local.app0test";
pub const CLIENT_SECRET: &str = "app0client0secret";

/// `ONSESSIONSTART` (`imopenlines/openlines/events/on-session-start.md`).
#[b24_object(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(Debug, Clone)]
pub struct SessionStart {
    pub data: Vec<SessionStartItem>,
}

#[b24_object]
#[derive(Debug, Clone)]
pub struct SessionStartItem {
    pub connector: Connector,
    pub session: SessionInfo,
    pub chat: Id,
    pub user: Id,
}

#[b24_object]
#[derive(Debug, Clone)]
pub struct Connector {
    pub connector_id: String,
    pub line_id: u64,
    pub chat_id: u64,
    pub user_id: u64,
}

#[b24_object]
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id: u64,
    pub closed: String,
    pub parent_id: u64,
    pub close_term: u64,
}

#[b24_object]
#[derive(Debug, Clone)]
pub struct Id {
    pub id: u64,
}

impl Event for SessionStart {
    const NAME: &'static str = "ONSESSIONSTART";
}

/// The demo portal with the application registered.
pub fn portal(member_id: &str) -> Portal {
    let mut portal = Portal::demo();
    portal.add_oauth_app(CLIENT_ID, CLIENT_SECRET);
    portal.set_member_id(member_id);
    portal
}

pub async fn emulator(member_id: &str) -> Emulator {
    Emulator::start(portal(member_id))
        .await
        .expect("the emulator starts")
}

/// The application's keys, renewing at `emu`'s token endpoint.
pub fn oauth_app(emu: &Emulator) -> OAuthApp {
    OAuthApp::new(CLIENT_ID, CLIENT_SECRET)
        .token_url(&emu.token_url())
        .expect("a loopback token URL")
}

/// Portals of the application, with clients without the client-side rate limit.
pub fn portals(emu: &Emulator, store: Arc<dyn PortalStore>) -> Portals {
    Portals::with_clients(oauth_app(emu), store, |client| client.no_rate_limit())
}

/// The session starts a handler saw.
pub type Seen = mpsc::UnboundedReceiver<Delivery<SessionStart>>;

/// Handlers passing every `ONSESSIONSTART` on to the test.
pub fn session_handlers() -> (Handlers, Seen) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handlers = Handlers::new().on(move |delivery: Delivery<SessionStart>| {
        let tx = tx.clone();
        async move {
            tx.send(delivery).map_err(|_| "the test is gone")?;
            Ok::<_, &'static str>(())
        }
    });
    (handlers, rx)
}

/// The application, served on loopback.
pub struct App {
    /// Where it receives events and installations.
    pub url: String,
    pub receiver: Receiver,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl App {
    /// Serves the receiver `make` builds for the application's URL (`…/b24`), with the events
    /// it handles bound to that URL on installation.
    pub async fn serve(portals: Portals, handlers: Handlers) -> App {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("http://{}/b24", listener.local_addr().unwrap());
        let receiver = Receiver::new(portals, handlers).bind_to(&url);
        let router = b24::app::axum::Router::new()
            .route("/b24", b24::app::axum::post_handler(receiver.clone()));
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("the app serves");
        });
        App {
            url,
            receiver,
            task,
        }
    }

    pub fn portals(&self) -> &Portals {
        self.receiver.portals()
    }

    /// POSTs `body` (with `query`) to the application; its status and text.
    pub async fn post(&self, query: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
        let url = if query.is_empty() {
            self.url.clone()
        } else {
            format!("{}?{query}", self.url)
        };
        let answer = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("the app answers");
        let status = answer.status().as_u16();
        (status, answer.text().await.unwrap_or_default())
    }
}

/// The next delivery, within ten seconds.
pub async fn next(seen: &mut Seen) -> Delivery<SessionStart> {
    tokio::time::timeout(Duration::from_secs(10), seen.recv())
        .await
        .expect("an event within 10 s")
        .expect("the handler is alive")
}
