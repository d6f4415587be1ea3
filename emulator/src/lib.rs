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
//! # Beyond the methods: limits, OAuth renewal, faults, batch, lists
//!
//! Everything below is off or empty by default, so a plain [`Portal::demo`] behaves as before.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use b24_emulator::{Emulator, Fault, Plan, Portal, Reply, DEMO_IDS};
//!
//! let mut portal = Portal::demo();
//! portal.set_time_scale(100.0); // portal time runs 100× faster: windows and drains shrink
//! portal.set_rate_limit(Some(Plan::Standard)); // leaky bucket: 50 requests, drains 2/s (×100)
//! portal.set_operating_budget(Some(480.0)); // per method and credential, over 10 portal minutes
//! portal.set_method_cost("imopenlines.session.start", 30.0); // portal seconds per call
//! portal.add_oauth_app("local.app", "secret"); // for the token endpoint
//! portal.seed_leads(100_000); // crm.lead.list rows with ids 1..=100000
//! let (access, refresh) = portal.issue_tokens(DEMO_IDS.admin_user, "local.app");
//!
//! let emu = Emulator::start(portal).await?;
//! emu.faults().add(Fault::on("imopenlines.dialog.get").nth(2).respond(Reply::bad_gateway()));
//!
//! let renewed: serde_json::Value = reqwest::get(format!(
//!     "{}?grant_type=refresh_token&client_id=local.app&client_secret=secret&refresh_token={refresh}",
//!     emu.token_url()
//! ))
//! .await?
//! .json()
//! .await?;
//! assert_eq!(renewed["client_endpoint"], emu.rest_url());
//! assert_ne!(renewed["access_token"], access.as_str());
//! assert_eq!(emu.token_renewals(), 1);
//! assert_eq!(emu.portal().lock().rate_stats().accepted, 0);
//! # Ok(()) }
//! ```
//!
//! - **Time scale** — [`Portal::set_time_scale`]: the portal clock runs `scale` times faster than
//!   real time. Durations are divided by the scale (bucket drain, operating baskets, token
//!   lifetimes); reported instants (`time.start`/`finish`, `operating_reset_at`, `expires`) stay
//!   real unix times.
//! - **Leaky bucket** ([`limits::bucket`]) — [`Portal::set_rate_limit`] with [`Plan::Standard`]
//!   (X = 50, Y = 2), [`Plan::Enterprise`] (250, 5) or [`Plan::Custom`]. One counter per portal,
//!   +1 per HTTP request to `/rest/` (`batch` counts once); a request that would take it above X
//!   gets 503 `QUERY_LIMIT_EXCEEDED` without running or counting. [`Portal::rate_stats`] gives
//!   accepted and rejected totals and the current level; [`Portal::reset_limits`] empties it.
//! - **Operating time** ([`limits::operating`]) — [`Portal::set_operating_budget`] (e.g.
//!   `Some(`[`DEFAULT_OPERATING_BUDGET`]`)`), [`Portal::set_method_cost`] /
//!   [`Portal::clear_method_cost`]. Each call costs its real handler time or the fixed cost, summed
//!   per credential (webhook code; OAuth application and user) and method in one-minute baskets
//!   counting ten minutes. `time.operating` is the sum, `time.operating_reset_at` when the oldest
//!   basket expires (whole seconds at scale 1, microseconds otherwise). A call whose method is
//!   already over budget gets 429 `OPERATION_TIME_LIMIT`. `batch` itself is not charged; each
//!   command is, and reports it in `result_time`.
//! - **OAuth token endpoint** ([`Emulator::token_url`], `GET` or `POST /oauth/token/`) —
//!   [`Portal::add_oauth_app`], [`Portal::issue_tokens`], [`Portal::renew_tokens`] (what the
//!   endpoint does), [`Portal::revoke_refresh_token`], [`Portal::set_access_token_lifetime`]
//!   (default one portal hour), [`Emulator::token_renewals`]. Renewal rotates the pair; a used,
//!   revoked, expired or foreign refresh token gets 400 `invalid_grant`, wrong keys 401
//!   `invalid_client`, a missing parameter 400 `invalid_request`.
//! - **Faults** ([`faults`]) — [`Emulator::faults`]`.add(`[`Fault`]`::on(method)…)`: the nth, next
//!   k or every matching request; a [`Reply`] (any status/body; helpers for nginx 502/504 pages,
//!   truncated JSON, empty error codes, N MiB bodies, wrong result shapes, connections dropped
//!   mid-body), a delay, or both; before the method runs (no state change) or
//!   [`after`](Fault::after) it.
//! - **Journal** ([`record`]) — rejected (503/429) and faulted requests are recorded with their
//!   status; a batch is recorded, followed by one entry per command ([`RecordedRequest::batch_key`]).
//! - **`batch`** ([`methods::batch`]) — JSON or form-encoded `cmd`, at most 50 commands,
//!   `$result[key][field]…` references, `halt`, PHP-style `[]` for empty maps.
//! - **`crm.lead.list`** ([`methods::crm::lead`]) — [`Portal::seed_leads`] /
//!   [`Portal::seed_leads_with_gaps`], `order`/`filter`/`select`/`start`, pages of 50 with `next` and
//!   `total`, `start=-1` without them.
//!
//! Where things live:
//! - [`Emulator`] (`server`): starts the HTTP server, gives URLs, the portal handle, the journal of
//!   requests, the faults, and registers custom methods;
//! - `dispatch`: the single function every request passes through (route → faults → leaky bucket
//!   → parameters → authentication → batch or method (operating time, handler) → envelope →
//!   journal);
//! - [`wire`]: PHP-style parameter parsing, PHP-style JSON arrays and the answer envelope;
//! - `auth`: webhook and OAuth authentication; `oauth_server`: the token endpoint;
//! - `clock`: the scaled portal clock; [`limits`]: the leaky bucket and operating time;
//! - [`faults`]: [`Fault`], [`Reply`], [`Faults`];
//! - [`state`]: the [`Portal`] (users, credentials, OAuth apps, open lines, chats, sessions,
//!   messages, files, leads, limit settings), its shared [`PortalHandle`] and the demo data
//!   ([`DemoIds`]);
//! - [`handlers`]: the [`Handler`] trait, [`CallContext`] and [`Registry`];
//! - [`params`]: [`Params`], lenient PHP-like parameter readers;
//! - [`methods`]: the built-in `imopenlines` methods, `crm.lead.list`, `batch`, list paging, and
//!   [documented answers](methods::documented) for every other method of the docs (its page's
//!   success example, after checking its required parameters);
//! - [`error`][mod@error]: [`ApiError`];
//! - [`record`][mod@record]: [`RecordedRequest`].

#![warn(missing_docs)]

mod auth;
mod clock;
mod dispatch;
pub mod error;
pub mod events;
pub mod faults;
pub mod handlers;
pub mod limits;
pub mod methods;
mod oauth_server;
pub mod params;
pub mod record;
mod server;
pub mod state;
pub mod wire;

pub use error::ApiError;
pub use faults::{Fault, FaultId, Faults, Reply};
pub use handlers::{CallContext, Handler, Registry};
pub use limits::{Plan, RateStats, DEFAULT_OPERATING_BUDGET};
pub use params::Params;
pub use record::{AuthKind, RecordedRequest};
pub use server::Emulator;
pub use state::model::{
    AccessToken, Chat, ChatKind, File, Message, OpenLine, ReadMark, Session, User,
};
pub use state::{
    DemoIds, IssuedTokens, Lead, OAuthApp, Portal, PortalHandle, SeedError, Seeded, DEMO_IDS,
    MAX_SEEDED_LEADS,
};
