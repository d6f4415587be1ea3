//! An emulated Bitrix24 portal that speaks the real REST wire protocol over HTTP on `127.0.0.1`.
//!
//! It is an independent oracle of the protocol (see `PROTOCOL.md` and the method pages of the
//! Bitrix24 REST docs): clients are tested against it as they would run against a portal, through
//! real HTTP, webhook and OAuth URLs, JSON, form and multipart bodies, the `result`/`time` envelope
//! and the error envelope with the portal's codes and statuses.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use b24_emulator::{Emulator, Portal, DEMO_IDS};
//! use serde_json::{json, Value};
//!
//! let emu = Emulator::start(Portal::demo()).await?;
//! let webhook = emu.webhook_url(DEMO_IDS.admin_user).expect("the demo admin has a webhook");
//!
//! let answer: Value = reqwest::Client::new()
//!     .post(format!("{webhook}imopenlines.session.start"))
//!     .json(&json!({"CHAT_ID": DEMO_IDS.lines_chat_id}))
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! assert_eq!(answer["result"], true);
//! assert!(answer["time"]["duration"].is_number());
//!
//! // The call changed the portal: chat 101 now has a third session, handled by user 1.
//! let portal = emu.portal();
//! let portal = portal.lock();
//! assert_eq!(portal.sessions_of_chat(DEMO_IDS.lines_chat_id).count(), 3);
//! assert_eq!(emu.requests()[0].method, "imopenlines.session.start");
//! # Ok(()) }
//! ```
//!
//! Where things live:
//! - [`Emulator`] (`server`): starts the HTTP server, gives URLs, the portal handle, the journal of
//!   requests, and registers custom methods;
//! - `dispatch`: the single function every request passes through (route → parameters →
//!   authentication → method → envelope → journal);
//! - [`wire`]: PHP-style parameter parsing and the answer envelope;
//! - `auth`: webhook and OAuth authentication;
//! - [`state`]: the [`Portal`] (users, credentials, open lines, chats, sessions, messages, files),
//!   its shared [`PortalHandle`] and the demo data ([`DemoIds`]);
//! - [`handlers`]: the [`Handler`] trait, [`CallContext`] and [`Registry`];
//! - [`params`]: [`Params`], lenient PHP-like parameter readers;
//! - [`methods`]: the built-in `imopenlines` methods;
//! - [`error`][mod@error]: [`ApiError`];
//! - [`record`][mod@record]: [`RecordedRequest`].

#![warn(missing_docs)]

mod auth;
mod dispatch;
pub mod error;
pub mod handlers;
pub mod methods;
pub mod params;
pub mod record;
mod server;
pub mod state;
pub mod wire;

pub use error::ApiError;
pub use handlers::{CallContext, Handler, Registry};
pub use params::Params;
pub use record::{AuthKind, RecordedRequest};
pub use server::Emulator;
pub use state::model::{
    AccessToken, Chat, ChatKind, File, Message, OpenLine, ReadMark, Session, User,
};
pub use state::{DemoIds, Portal, PortalHandle, DEMO_IDS};
