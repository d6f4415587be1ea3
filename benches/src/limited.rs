//! Shared pieces of the benchmarks that run under the portal's request-rate limit (`throughput`,
//! `bulk_read`): an emulator with the Standard plan's leaky bucket at a time scale (or without a
//! plan), b24 clients whose own bucket is time-scaled the same way, and what the emulator's journal
//! says about the traffic (HTTP requests, commands per request, rejections, the pace after the
//! burst).
//!
//! **The burst.** The Standard plan's bucket holds 50 requests and drains 2 per portal second. A
//! run that starts with an empty bucket gets its first 50 requests through at once, so a short run
//! can go faster than the steady-state ceiling (`2 × scale` requests per real second). Each
//! benchmark therefore reports three figures against that ceiling:
//!
//! - **raw**: everything done over the whole wall time, burst included;
//! - **burst-adjusted**: the same with the work carried by the first 50 HTTP requests (the ones the
//!   burst lets through free) taken out of the numerator, the time left as measured. A client
//!   that paced itself perfectly, with no latency, reaches 1.0;
//! - **steady**: the pace of the requests after the burst, as the emulator saw them arrive (from
//!   the arrival of the first request after the burst to the arrival of the last one), times the
//!   work each carried. This leaves out the start (the client's drain lag, connection set-up) and
//!   the end (the last answer's latency): it is the rate the client holds once the bucket is full.

use std::time::{Duration, SystemTime};

use b24::{Client, ClientBuilder, RateLimit};
use b24_emulator::{Emulator, Plan, Portal, DEMO_IDS};

/// The Standard plan's burst: requests the portal's bucket holds (`X`).
pub const BURST: usize = 50;
/// The Standard plan's drain: requests per portal second (`Y`).
pub const PER_SECOND: f64 = 2.0;

/// Whether the emulator enforces the Standard plan, and at which time scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// No plan on the emulator, `no_rate_limit()` on the client.
    Off,
    /// `Plan::Standard` on the emulator, its portal clock running `scale` times faster;
    /// `RateLimit::STANDARD.time_scaled(scale)` on the client.
    Standard {
        /// The time scale of both sides.
        scale: f64,
    },
}

impl Limit {
    /// The steady-state ceiling in HTTP requests per real second (`None` without a plan).
    pub fn requests_per_second(self) -> Option<f64> {
        match self {
            Limit::Off => None,
            Limit::Standard { scale } => Some(PER_SECOND * scale),
        }
    }
}

/// A running emulator with the demo portal and the demo admin's webhook.
pub struct Limited {
    /// The emulator.
    pub emu: Emulator,
    /// The demo admin's webhook URL.
    pub webhook: String,
}

impl Limited {
    /// Starts an emulator on `portal` (a [`Portal::demo`], possibly with leads) under `limit`.
    pub async fn start(mut portal: Portal, limit: Limit) -> Limited {
        apply(&mut portal, limit);
        let emu = Emulator::start(portal).await.expect("start the emulator");
        let webhook = emu
            .webhook_url(DEMO_IDS.admin_user)
            .expect("the demo admin has a webhook");
        Limited { emu, webhook }
    }

    /// Switches the emulator to `limit`, empties its bucket, zeroes its counters and forgets the
    /// journal: the state of a fresh emulator, without re-seeding it.
    pub fn reset(&self, limit: Limit) {
        let portal = self.emu.portal();
        let mut portal = portal.lock();
        apply(&mut portal, limit);
        portal.reset_limits();
        drop(portal);
        self.emu.clear_requests();
    }

    /// A b24 client on the demo admin's webhook with a client-side bucket matching `limit`
    /// (none for [`Limit::Off`]); `configure` adds anything else (auto-batching). Every other
    /// setting is default.
    pub fn client(
        &self,
        limit: Limit,
        configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
    ) -> Client {
        let builder = Client::builder().webhook(&self.webhook);
        let builder = match limit {
            Limit::Off => builder.no_rate_limit(),
            Limit::Standard { scale } => builder.rate_limit(RateLimit::STANDARD.time_scaled(scale)),
        };
        configure(builder).build().expect("build the b24 client")
    }

    /// What the emulator has received since it started or was last [`reset`](Self::reset).
    pub fn traffic(&self) -> Traffic {
        let mut accepted: Vec<(SystemTime, usize)> = Vec::new();
        let mut requests = 0;
        let mut refused = 0;
        let mut handling = Duration::ZERO;
        for r in self.emu.requests() {
            if r.batch_key.is_some() {
                continue; // a command inside a batch, recorded after its batch
            }
            requests += 1;
            handling += r.elapsed;
            if r.status == 503 {
                refused += 1;
                continue;
            }
            let commands = if r.method == "batch" {
                r.params
                    .get("cmd")
                    .and_then(|cmd| cmd.as_object())
                    .map_or(0, |cmd| cmd.len())
            } else {
                1
            };
            accepted.push((r.time, commands));
        }
        accepted.sort_by_key(|(time, _)| *time);
        let rejected = self.emu.portal().lock().rate_stats().rejected;
        Traffic {
            requests,
            refused,
            rejected,
            handling,
            accepted,
        }
    }
}

fn apply(portal: &mut Portal, limit: Limit) {
    match limit {
        Limit::Off => {
            portal.set_rate_limit(None);
            portal.set_time_scale(1.0);
        }
        Limit::Standard { scale } => {
            portal.set_time_scale(scale);
            portal.set_rate_limit(Some(Plan::Standard));
        }
    }
}

/// The HTTP traffic an emulator received.
#[derive(Debug, Clone)]
pub struct Traffic {
    /// HTTP requests to `/rest/`, rejected ones included.
    pub requests: usize,
    /// Of those, answered 503 (by the journal).
    pub refused: usize,
    /// `QUERY_LIMIT_EXCEEDED` answers, by the emulator's bucket (`rate_stats().rejected`).
    pub rejected: u64,
    /// The emulator's own time answering them, summed (the journal's `elapsed`; a batch's
    /// commands run inside their batch's).
    pub handling: Duration,
    /// The accepted requests, by arrival: when, and how many commands each carried (1 for a
    /// plain call, the size of `cmd` for a `batch`).
    pub accepted: Vec<(SystemTime, usize)>,
}

impl Traffic {
    /// Commands carried by all accepted requests.
    pub fn commands(&self) -> usize {
        self.accepted.iter().map(|(_, c)| c).sum()
    }

    /// Commands per accepted request, on average.
    pub fn fill(&self) -> f64 {
        self.commands() as f64 / self.accepted.len().max(1) as f64
    }

    /// Commands carried by the first `n` accepted requests.
    pub fn first_commands(&self, n: usize) -> usize {
        self.accepted.iter().take(n).map(|(_, c)| c).sum()
    }

    /// The pace after the first `skip` accepted requests: from the arrival of request `skip`
    /// (0-based) to that of the last, requests per second and commands per second (the commands
    /// of the requests after request `skip`). `None` when fewer than two requests remain.
    pub fn steady(&self, skip: usize) -> Option<Pace> {
        let window = self.accepted.get(skip..)?;
        let (first, last) = (window.first()?.0, window.last()?.0);
        let span = last.duration_since(first).unwrap_or(Duration::ZERO);
        if window.len() < 2 || span.is_zero() {
            return None;
        }
        let seconds = span.as_secs_f64();
        let commands: usize = window[1..].iter().map(|(_, c)| c).sum();
        Some(Pace {
            requests: window.len() - 1,
            span,
            requests_per_second: (window.len() - 1) as f64 / seconds,
            commands_per_second: commands as f64 / seconds,
        })
    }
}

/// A pace measured over a window of requests.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Requests in the window (after its first).
    pub requests: usize,
    /// From the arrival of the first to that of the last.
    pub span: Duration,
    /// Requests per second.
    pub requests_per_second: f64,
    /// Commands per second.
    pub commands_per_second: f64,
}

/// A tokio runtime: current-thread (emulator and client share one thread, as in the other
/// benchmarks) or multi-thread with 2 workers (one per core of the benchmark machine).
pub fn runtime(multi_thread: bool) -> tokio::runtime::Runtime {
    let mut builder = if multi_thread {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder.enable_all().build().expect("tokio runtime")
}

/// A fraction as `0.97` or `n/a`.
pub fn fraction(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}"))
}

/// The git revision of the workspace, with `+dirty` when files are modified, for reports.
pub fn revision() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let Some(head) = git(&["rev-parse", "--short", "HEAD"]) else {
        return "unknown".to_owned();
    };
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|s| s.lines().any(|l| !l.trim().is_empty()));
    if dirty {
        format!("{head}+dirty")
    } else {
        head
    }
}
