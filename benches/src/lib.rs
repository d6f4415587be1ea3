//! Shared pieces of the b24 benchmarks: the two callers (one b24 client and one hand-written
//! `reqwest` caller, [`Callers`]), the hand-written caller itself ([`baseline_session_start`]),
//! timed loops of either ([`Side::run`], [`Side::run_concurrent`]), and two rigs to point them at:
//!
//! - [`Rig`], **in-process**: a loopback emulator in the same process (and, on a current-thread
//!   runtime, the same thread) as the callers. A call's time and instructions include the
//!   emulator's, the same for both sides; the ratio b24 / baseline is diluted by it.
//! - [`fixed`], **out-of-process**: a fixed-answer server (`fixed_server`) in a child process,
//!   so that the client process's CPU time and instructions are the client's alone.
//!
//! Both sides call `imopenlines.session.start` through a webhook, over keep-alive HTTP/1.1
//! connections of identically configured `reqwest` clients.
//!
//! Every `imopenlines.session.start` adds a session to the emulated portal, and the emulator
//! walks all sessions on each start, so a long run on one emulator slows down call by call.
//! [`timed`] therefore spreads a run over fresh emulators of at most [`CHUNK`] calls each; the
//! setup of each is not timed.
//!
//! [`limited`] holds the rig of the benchmarks under the portal's rate limit (`throughput`,
//! `bulk_read`).

pub mod fixed;
pub mod limited;
pub mod stats;

use std::fmt;
use std::hint::black_box;
use std::time::{Duration, Instant};

use b24::imopenlines;
use b24_emulator::{Emulator, Portal, DEMO_IDS};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

/// The user agent b24's default HTTP client sends; the baseline sends the same bytes.
pub const USER_AGENT: &str = concat!("b24-rust/", env!("CARGO_PKG_VERSION"));
/// b24's default connect timeout (`ClientBuilder::connect_timeout`), used by the baseline too.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// b24's default per-exchange timeout (`ClientBuilder::DEFAULT_TIMEOUT`), set per request by
/// the baseline too (it arms a timer on every request in both cases).
pub const REQUEST_TIMEOUT: Duration = b24::ClientBuilder::DEFAULT_TIMEOUT;
/// The most calls made against one emulator before a fresh one is started.
pub const CHUNK: u64 = 500;

/// Which caller a timed loop drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `b24::imopenlines::session_start(&client, chat)` on a client without client-side rate
    /// limiting (all other settings default, operating-time accounting included).
    B24,
    /// As [`Side::B24`] with operating-time accounting off too: attributes that part of the cost.
    B24NoOperating,
    /// The hand-written `reqwest` + `serde_json` caller ([`baseline_session_start`]).
    Baseline,
    /// The same hand-written caller with the URL parsed once and cloned for each call
    /// ([`baseline_session_start_parsed`]), as b24 does: the plain baseline hands reqwest the
    /// URL as text, which reqwest parses on every call. b24 against this side is b24's own
    /// overhead, like for like.
    BaselineParsedUrl,
}

impl Side {
    /// Every side.
    pub const ALL: [Side; 4] = [
        Side::B24,
        Side::B24NoOperating,
        Side::Baseline,
        Side::BaselineParsedUrl,
    ];

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Side::B24 => "b24",
            Side::B24NoOperating => "b24 (no operating-time accounting)",
            Side::Baseline => "baseline (reqwest + serde_json)",
            Side::BaselineParsedUrl => "baseline, URL parsed once",
        }
    }

    /// Makes `n` calls one after the other and returns the wall time they took. Panics if a
    /// call fails or answers anything but `true`: a benchmark of failing calls measures nothing.
    pub async fn run(self, callers: &Callers, n: u64) -> Duration {
        let started = Instant::now();
        for _ in 0..n {
            self.call(callers).await;
        }
        started.elapsed()
    }

    /// Makes `n` calls with up to `in_flight` of them in flight at once (a new one starts as
    /// one ends), all polled by the current task, and returns the wall time they took. Panics as
    /// [`Side::run`].
    pub async fn run_concurrent(self, callers: &Callers, n: u64, in_flight: usize) -> Duration {
        let started = Instant::now();
        futures::stream::iter(0..n)
            .map(|_| self.call(callers))
            .buffer_unordered(in_flight.max(1))
            .for_each(|()| async {})
            .await;
        started.elapsed()
    }

    /// One call, checked (panics unless it answers `true`).
    pub async fn call(self, callers: &Callers) {
        let chat = callers.chat;
        match self {
            Side::B24 | Side::B24NoOperating => {
                let client = if self == Side::B24 {
                    &callers.client
                } else {
                    &callers.client_no_operating
                };
                check(black_box(
                    imopenlines::session_start(client, black_box(chat)).await,
                ));
            }
            Side::Baseline => {
                check(black_box(
                    baseline_session_start(&callers.http, &callers.webhook, black_box(chat)).await,
                ));
            }
            Side::BaselineParsedUrl => {
                check(black_box(
                    baseline_session_start_parsed(&callers.http, &callers.url, black_box(chat))
                        .await,
                ));
            }
        }
    }
}

fn check<E: fmt::Display>(outcome: Result<bool, E>) {
    match outcome {
        Ok(true) => {}
        Ok(false) => panic!("imopenlines.session.start answered false"),
        Err(e) => panic!("imopenlines.session.start failed: {e}"),
    }
}

/// The callers of every [`Side`], pointed at one webhook.
pub struct Callers {
    /// b24, no client-side rate limit.
    pub client: b24::Client,
    /// b24, no client-side rate limit and no operating-time accounting.
    pub client_no_operating: b24::Client,
    /// The baseline's HTTP client, configured as b24's default one.
    pub http: reqwest::Client,
    /// The webhook URL, `http://127.0.0.1:PORT/rest/<user>/<code>/`.
    pub webhook: String,
    /// The URL of `imopenlines.session.start` on that webhook, parsed once.
    pub url: reqwest::Url,
    /// The open line chat to start sessions in.
    pub chat: i64,
}

impl Callers {
    /// Callers of `webhook`, starting sessions in `chat`. No connection is opened yet.
    pub fn new(webhook: &str, chat: i64) -> Callers {
        // The default client paces itself to the portal's leaky bucket (2 requests/s): this
        // measures per-call overhead, so the client-side limit is off. Everything else is default.
        let client = b24::Client::builder()
            .webhook(webhook)
            .no_rate_limit()
            .build()
            .expect("build the b24 client");
        let client_no_operating = b24::Client::builder()
            .webhook(webhook)
            .no_rate_limit()
            .no_operating_limit()
            .build()
            .expect("build the b24 client");
        Callers {
            client,
            client_no_operating,
            http: baseline_http_client(),
            webhook: webhook.to_owned(),
            url: session_start_url(webhook),
            chat,
        }
    }

    /// As [`Callers::new`], but every side sends through one `reqwest::Client` (b24's default one,
    /// shared with `ClientBuilder::share_http` and taken by the baseline with `Client::http`), so that all
    /// sides share one pool of connections: K calls in flight keep K connections open, not K per
    /// side. Per call, the same work as [`Callers::new`].
    pub fn sharing_pool(webhook: &str, chat: i64) -> Callers {
        let client = b24::Client::builder()
            .webhook(webhook)
            .no_rate_limit()
            .build()
            .expect("build the b24 client");
        let client_no_operating = b24::Client::builder()
            .webhook(webhook)
            .share_http(&client)
            .no_rate_limit()
            .no_operating_limit()
            .build()
            .expect("build the b24 client");
        Callers {
            http: client.http().clone(),
            client,
            client_no_operating,
            webhook: webhook.to_owned(),
            url: session_start_url(webhook),
            chat,
        }
    }
}

/// An emulated portal in this process and the callers pointed at it. Dropping it closes the
/// clients' connections, then stops the emulator.
pub struct Rig {
    /// The callers, pointed at the demo admin's webhook and the demo open line chat.
    pub callers: Callers,
    // Declared last: dropped after the clients.
    emu: Emulator,
}

impl Rig {
    /// Starts an emulator with the demo portal and makes one call of each kind (opening each
    /// client's connection), so that timed calls all reuse a warm connection.
    pub async fn start() -> Rig {
        let emu = Emulator::start(Portal::demo())
            .await
            .expect("start the emulator");
        let webhook = emu
            .webhook_url(DEMO_IDS.admin_user)
            .expect("the demo admin has a webhook");
        let rig = Rig {
            callers: Callers::new(&webhook, DEMO_IDS.lines_chat_id as i64),
            emu,
        };
        for side in Side::ALL {
            side.run(&rig.callers, 1).await;
        }
        rig.emu.clear_requests();
        rig
    }
}

/// A `reqwest::Client` built exactly as b24 builds its default one (user agent, connect timeout,
/// redirects answered rather than followed).
pub fn baseline_http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("build the reqwest client")
}

/// `n` calls of `side`, spread over fresh emulators of at most [`CHUNK`] calls each; only the
/// calls are timed.
pub async fn timed(side: Side, n: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = n;
    while left > 0 {
        let k = left.min(CHUNK);
        let rig = Rig::start().await;
        total += side.run(&rig.callers, k).await;
        drop(rig);
        left -= k;
    }
    total
}

/// The parameters of `imopenlines.session.start`.
#[derive(Serialize)]
struct SessionStartParams {
    #[serde(rename = "CHAT_ID")]
    chat_id: i64,
}

/// The envelope as a careful hand-written caller reads it: the result, or the error code and its
/// description (other keys, such as `time`, are skipped).
#[derive(Deserialize)]
struct Envelope {
    result: Option<bool>,
    error: Option<String>,
    error_description: Option<String>,
}

/// What can go wrong in [`baseline_session_start`].
#[derive(Debug)]
pub enum BaselineError {
    /// The request could not be made or the answer not read.
    Transport(reqwest::Error),
    /// The answer is not the JSON envelope.
    Json {
        /// The HTTP status.
        status: u16,
        /// serde_json's message.
        error: serde_json::Error,
    },
    /// The portal answered with an error code.
    Api {
        /// The HTTP status.
        status: u16,
        /// The `error` code.
        code: String,
        /// The `error_description`.
        description: String,
    },
    /// An error status without an error code, or a success without a result.
    Unexpected {
        /// The HTTP status.
        status: u16,
    },
}

impl fmt::Display for BaselineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BaselineError::Transport(e) => write!(f, "transport: {e}"),
            BaselineError::Json { status, error } => write!(f, "HTTP {status}, not JSON: {error}"),
            BaselineError::Api {
                status,
                code,
                description,
            } => write!(f, "{code} (HTTP {status}): {description}"),
            BaselineError::Unexpected { status } => write!(f, "HTTP {status} without a result"),
        }
    }
}

impl std::error::Error for BaselineError {}

/// The hand-written caller: POSTs `{"CHAT_ID": chat_id}` as JSON to
/// `<webhook>imopenlines.session.start` with the headers and timeout b24 sends, reads the body,
/// decodes `{"result": bool}` and checks the `error` field and the status, as a careful caller
/// without a framework would.
pub async fn baseline_session_start(
    http: &reqwest::Client,
    webhook: &str,
    chat_id: i64,
) -> Result<bool, BaselineError> {
    baseline_call(http, format!("{webhook}imopenlines.session.start"), chat_id).await
}

/// [`baseline_session_start`] with the URL parsed once by the caller ([`session_start_url`])
/// and cloned for each call.
pub async fn baseline_session_start_parsed(
    http: &reqwest::Client,
    url: &reqwest::Url,
    chat_id: i64,
) -> Result<bool, BaselineError> {
    baseline_call(http, url.clone(), chat_id).await
}

/// The URL of `imopenlines.session.start` on `webhook`.
pub fn session_start_url(webhook: &str) -> reqwest::Url {
    reqwest::Url::parse(&format!("{webhook}imopenlines.session.start")).expect("a webhook URL")
}

/// The hand-written call, to a URL given as text or parsed.
async fn baseline_call(
    http: &reqwest::Client,
    url: impl reqwest::IntoUrl,
    chat_id: i64,
) -> Result<bool, BaselineError> {
    let body = serde_json::to_vec(&SessionStartParams { chat_id })
        .map_err(|error| BaselineError::Json { status: 0, error })?;
    let response = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::ACCEPT, "application/json")
        .timeout(REQUEST_TIMEOUT)
        .body(body)
        .send()
        .await
        .map_err(BaselineError::Transport)?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(BaselineError::Transport)?;
    let envelope: Envelope =
        serde_json::from_slice(&bytes).map_err(|error| BaselineError::Json { status, error })?;
    if let Some(code) = envelope.error {
        return Err(BaselineError::Api {
            status,
            code,
            description: envelope.error_description.unwrap_or_default(),
        });
    }
    match envelope.result {
        Some(result) if (200..300).contains(&status) => Ok(result),
        _ => Err(BaselineError::Unexpected { status }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rig works and both callers read the same answers, errors included.
    #[tokio::test]
    async fn both_sides_agree() {
        let rig = Rig::start().await;
        let rig = &rig.callers;
        for side in Side::ALL {
            side.run(rig, 3).await;
        }
        let group = DEMO_IDS.group_chat_id as i64;
        match baseline_session_start(&rig.http, &rig.webhook, group).await {
            Err(BaselineError::Api { status, code, .. }) => {
                assert_eq!((status, code.as_str()), (400, "CHAT_TYPE"))
            }
            other => panic!("expected CHAT_TYPE, got {other:?}"),
        }
        let err = imopenlines::session_start(&rig.client, group)
            .await
            .expect_err("an ordinary chat is not an open line");
        assert!(matches!(
            err.method_error(),
            Some(imopenlines::SessionStartError::ChatType { .. })
        ));
    }
}
