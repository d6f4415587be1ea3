//! Throughput under the portal's request-rate limit: N `imopenlines.session.start` calls against
//! an emulator enforcing the Standard plan's leaky bucket (50 requests of burst, draining 2 per
//! second) with its clock running `scale` times faster, through a b24 client whose own bucket is
//! `RateLimit::STANDARD.time_scaled(scale)`.
//!
//! ```sh
//! cargo run --release -p b24-benches --bin throughput                    # N=5000, scale 20
//! cargo run --release -p b24-benches --bin throughput -- --calls 50000   # long: the burst fades
//! cargo run --release -p b24-benches --bin throughput -- --scale 100 --multi-thread
//! ```
//!
//! Modes, each on a fresh emulator (empty bucket, the demo portal) with a fresh client:
//!
//! - **auto-batch, join_all**: `ClientBuilder::auto_batch(AutoBatch::default())` (5 ms window),
//!   `join_all` over all N call futures at once;
//! - **auto-batch, bounded**: the same client, at most `--bounded` (250) call futures in flight at a
//!   time (`buffer_unordered`: a sliding window, a new call starts as soon as one ends);
//! - **plain batch**: `client.call_many(N requests)`: one `Batch`, sent as `ceil(N / 50)` `batch`
//!   requests at once, paced by the client's bucket;
//! - **single calls**: no auto-batching, `join_all` over M (500) calls, one HTTP request each.
//!
//! The steady-state ceiling is `2 × scale` requests per second, `2 × 50 × scale` calls per second
//! when every request carries 50 calls (2,000 calls/s at scale 20), `2 × scale` calls per second for
//! single calls. See `b24_benches::limited` for the three figures reported against it (raw,
//! burst-adjusted, steady).
//!
//! The method: every `session.start` closes the chat's open sessions and adds one, so the
//! emulator walks all sessions on each call; at N = 5000 that is a few microseconds per call, well
//! below the 25 ms between requests at scale 20 (the journal's per-request handling time is
//! printed to show it).

use std::time::{Duration, Instant};

use b24::exports::futures::future::join_all;
use b24::exports::futures::{stream, StreamExt};
use b24::imopenlines::{SessionStart, SessionStartError};
use b24::{AutoBatch, Client, Error};
use b24_benches::limited::{fraction, revision, runtime, Limit, Limited, BURST};
use b24_emulator::{Portal, DEMO_IDS};

struct Options {
    calls: usize,
    single_calls: usize,
    bounded: usize,
    scale: f64,
    window: Duration,
    multi_thread: bool,
}

fn options() -> Options {
    let mut options = Options {
        calls: 5000,
        single_calls: 500,
        bounded: 250,
        scale: 20.0,
        window: AutoBatch::default().window,
        multi_thread: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> f64 {
            args.next()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0)
                .unwrap_or_else(|| usage(&format!("{name} takes a number")))
        };
        match arg.as_str() {
            "--calls" => options.calls = number("--calls") as usize,
            "--single-calls" => options.single_calls = number("--single-calls") as usize,
            "--bounded" => options.bounded = number("--bounded") as usize,
            "--scale" => options.scale = number("--scale"),
            "--window-ms" => options.window = Duration::from_secs_f64(number("--window-ms") / 1e3),
            "--multi-thread" => options.multi_thread = true,
            "--bench" => {}
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if options.scale <= 0.0 {
        usage("--scale must be positive");
    }
    options
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("throughput: {problem}");
    }
    eprintln!(
        "usage: throughput [--calls N (5000)] [--single-calls M (500; 0 skips)] \
         [--bounded K (250; 0 skips)] [--scale S (20)] [--window-ms W (5)] [--multi-thread]"
    );
    std::process::exit(if problem.is_empty() { 0 } else { 2 })
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    AutoJoinAll,
    AutoBounded(usize),
    CallMany,
    Single,
}

impl Mode {
    fn name(self) -> String {
        match self {
            Mode::AutoJoinAll => "auto-batch, join_all".to_owned(),
            Mode::AutoBounded(k) => format!("auto-batch, ≤{k} in flight"),
            Mode::CallMany => "plain batch (call_many)".to_owned(),
            Mode::Single => "single calls, join_all".to_owned(),
        }
    }
}

fn main() {
    let options = options();
    runtime(options.multi_thread).block_on(run(&options));
}

async fn run(options: &Options) {
    let scale = options.scale;
    let limit = Limit::Standard { scale };
    let per_request = limit.requests_per_second().unwrap_or(0.0);
    println!(
        "imopenlines.session.start (chat {}) under the Standard plan (burst {BURST}, 2 req/s) at \
         time scale {scale}; client bucket RateLimit::STANDARD.time_scaled({scale}); {} runtime; \
         b24 at {}",
        DEMO_IDS.lines_chat_id,
        if options.multi_thread {
            "multi-thread (2 workers)"
        } else {
            "current-thread"
        },
        revision(),
    );
    println!(
        "ceiling: {per_request} requests/s = {} calls/s batched (50 a request), {per_request} \
         calls/s single; auto-batch window {:?}",
        per_request * 50.0,
        options.window
    );
    println!();
    println!(
        "{:<28} {:>6} {:>8} {:>9} {:>6} {:>10} {:>7} {:>6} {:>9} {:>8} {:>6} {:>9}",
        "mode",
        "calls",
        "time",
        "calls/s",
        "raw",
        "burst-adj",
        "steady",
        "HTTP",
        "calls/req",
        "rejected",
        "errors",
        "emu/req"
    );
    let mut modes = vec![Mode::AutoJoinAll];
    if options.bounded > 0 {
        modes.push(Mode::AutoBounded(options.bounded));
    }
    modes.push(Mode::CallMany);
    if options.single_calls > 0 {
        modes.push(Mode::Single);
    }
    for mode in modes {
        let n = match mode {
            Mode::Single => options.single_calls,
            _ => options.calls,
        };
        measure(mode, n, limit, options.window).await;
    }
    println!();
    println!(
        "raw: calls / wall time; burst-adj: (calls − those carried by the first {BURST} requests) \
         / wall time; steady: the emulator's arrival pace after the first {BURST} requests × calls \
         per request; all as fractions of the ceiling for the mode (batched: 50 calls a request)."
    );
}

async fn measure(mode: Mode, n: usize, limit: Limit, window: Duration) {
    let rig = Limited::start(Portal::demo(), limit).await;
    let client = rig.client(limit, |b| match mode {
        Mode::AutoJoinAll | Mode::AutoBounded(_) => b.auto_batch(AutoBatch { window }),
        Mode::CallMany | Mode::Single => b,
    });
    let chat = DEMO_IDS.lines_chat_id as i64;
    let sessions_before = sessions(&rig);

    let started = Instant::now();
    let results = match mode {
        Mode::AutoJoinAll | Mode::Single => join_all((0..n).map(|_| call(&client, chat))).await,
        Mode::AutoBounded(k) => {
            stream::iter((0..n).map(|_| call(&client, chat)))
                .buffer_unordered(k)
                .collect()
                .await
        }
        Mode::CallMany => {
            client
                .call_many((0..n).map(|_| SessionStart::new(chat)))
                .await
        }
    };
    let elapsed = started.elapsed();

    let mut errors = 0;
    for result in &results {
        match result {
            Ok(true) => {}
            Ok(false) => errors += 1,
            Err(e) => {
                if errors == 0 {
                    eprintln!("{}: first error: {e}", mode.name());
                }
                errors += 1;
            }
        }
    }
    let ran = sessions(&rig) - sessions_before;
    if ran != n {
        eprintln!("{}: {ran} sessions started for {n} calls", mode.name());
    }

    let traffic = rig.traffic();
    let per_request = match mode {
        Mode::Single => 1.0,
        _ => 50.0,
    };
    let ceiling = limit.requests_per_second().unwrap_or(f64::NAN) * per_request;
    let seconds = elapsed.as_secs_f64();
    let raw = n as f64 / seconds;
    let burst_share = traffic.first_commands(BURST).min(n);
    let adjusted = (n - burst_share) as f64 / seconds;
    let steady = traffic
        .steady(BURST)
        .map(|p| p.commands_per_second / ceiling);
    let emu_per_request = traffic.handling / traffic.requests.max(1) as u32;
    println!(
        "{:<28} {:>6} {:>7.2}s {:>9.0} {:>6} {:>10} {:>7} {:>6} {:>9.1} {:>8} {:>6} {:>7.2}ms",
        mode.name(),
        n,
        seconds,
        raw,
        fraction(Some(raw / ceiling)),
        fraction(Some(adjusted / ceiling)),
        fraction(steady),
        traffic.requests,
        traffic.fill(),
        traffic.rejected,
        errors,
        emu_per_request.as_secs_f64() * 1e3,
    );
}

fn call(
    client: &Client,
    chat: i64,
) -> impl std::future::Future<Output = Result<bool, Error<SessionStartError>>> + '_ {
    std::future::IntoFuture::into_future(client.call(SessionStart::new(chat)))
}

fn sessions(rig: &Limited) -> usize {
    rig.emu
        .portal()
        .lock()
        .sessions_of_chat(DEMO_IDS.lines_chat_id)
        .count()
}
