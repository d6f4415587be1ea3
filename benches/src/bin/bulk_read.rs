//! Bulk read: all leads of a portal seeded with 100,000 of them (`seed_leads`, ids without gaps,
//! and `seed_leads_with_gaps`), read in full through `b24::crm::LeadList` in each paging mode:
//! `client.list` (by `next`), `client.list_fast` (`start=-1`, `>ID` cursor), and
//! `client.list_parallel` with 1, 2 and 4 `batch` requests in flight.
//!
//! ```sh
//! cargo run --release -p b24-benches --bin bulk_read                       # ~3.5 min
//! cargo run --release -p b24-benches --bin bulk_read -- --unlimited-only   # ~5 s
//! cargo run --release -p b24-benches --bin bulk_read -- --scale 50 --dense-only --multi-thread
//! ```
//!
//! Each read is checked: every seeded id comes exactly once (the check panics otherwise: that is
//! correctness, not timing). Then, for each seeding:
//!
//! 1. **Unlimited**: no plan on the emulator, `no_rate_limit()` on the client: raw rows per second
//!    and the HTTP requests made.
//! 2. **Standard plan**: `Plan::Standard` on the emulator at time scale `--scale` (default 20),
//!    `RateLimit::STANDARD.time_scaled(scale)` on the client. The ceiling is `2 × scale` requests
//!    per second: `2 × 50 × 50 × scale` rows/s for the batched mode (50 pages of 50 rows a
//!    request), `2 × 50 × scale` rows/s for the single-request modes. Rows/s are reported as
//!    fractions of it: raw, burst-adjusted and steady (see `b24_benches::limited`).
//!
//!    `list_parallel` reads 100,000 rows in 41 requests, fewer than the bucket's burst of 50: from
//!    an empty bucket the plan never holds it back, and its figure is the machine's, not the
//!    client's pacing. It is therefore also run with a **full bucket**: 49 cheap requests
//!    (`crm.lead.list` matching nothing) are made through the same client just before the timed
//!    read, as if other traffic had filled the bucket; then every request of the read waits for a
//!    drained slot, and its rows/s measure the pacing.
//!
//! The emulator is started once per seeding (seeding 100,000 leads takes a moment) and its bucket,
//! counters and journal are reset before each read; every read has a fresh client.

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use b24::crm::LeadList;
use b24::exports::futures::future::join_all;
use b24::exports::futures::{Stream, StreamExt};
use b24::Client;
use b24_benches::limited::{fraction, revision, runtime, Limit, Limited, BURST};
use b24_emulator::Portal;

/// Rows in a page of `crm.lead.list`.
const PAGE: f64 = 50.0;

struct Options {
    rows: u64,
    scale: f64,
    unlimited: bool,
    limited: bool,
    dense: bool,
    gaps: bool,
    multi_thread: bool,
}

fn options() -> Options {
    let mut options = Options {
        rows: 100_000,
        scale: 20.0,
        unlimited: true,
        limited: true,
        dense: true,
        gaps: true,
        multi_thread: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> f64 {
            args.next()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v > 0.0)
                .unwrap_or_else(|| usage(&format!("{name} takes a positive number")))
        };
        match arg.as_str() {
            "--rows" => options.rows = number("--rows") as u64,
            "--scale" => options.scale = number("--scale"),
            "--unlimited-only" => options.limited = false,
            "--limited-only" => options.unlimited = false,
            "--dense-only" => options.gaps = false,
            "--gaps-only" => options.dense = false,
            "--multi-thread" => options.multi_thread = true,
            "--bench" => {}
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    options
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("bulk_read: {problem}");
    }
    eprintln!(
        "usage: bulk_read [--rows N (100000)] [--scale S (20)] [--unlimited-only | --limited-only] \
         [--dense-only | --gaps-only] [--multi-thread]"
    );
    std::process::exit(if problem.is_empty() { 0 } else { 2 })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    List,
    Fast,
    Parallel(usize),
}

const MODES: [Mode; 5] = [
    Mode::List,
    Mode::Fast,
    Mode::Parallel(1),
    Mode::Parallel(2),
    Mode::Parallel(4),
];

impl Mode {
    fn name(self) -> String {
        match self {
            Mode::List => "list".to_owned(),
            Mode::Fast => "list_fast".to_owned(),
            Mode::Parallel(c) => format!("list_parallel({c})"),
        }
    }

    fn batched(self) -> bool {
        matches!(self, Mode::Parallel(_))
    }

    fn stream(self, client: &Client) -> impl Stream<Item = Result<u64, String>> + '_ {
        let request = LeadList::new();
        let items = match self {
            Mode::List => client.list(request),
            Mode::Fast => client.list_fast(request),
            Mode::Parallel(c) => client.list_parallel(request, c),
        };
        items.map(|item| item.map(|lead| lead.id).map_err(|e| e.to_string()))
    }
}

fn main() {
    let options = options();
    runtime(options.multi_thread).block_on(run(&options));
}

async fn run(options: &Options) {
    println!(
        "crm.lead.list, {} seeded leads, read in full in each paging mode; {} runtime; b24 at {}",
        options.rows,
        if options.multi_thread {
            "multi-thread (2 workers)"
        } else {
            "current-thread"
        },
        revision()
    );
    let mut seedings = Vec::new();
    if options.dense {
        seedings.push(false);
    }
    if options.gaps {
        seedings.push(true);
    }
    for gaps in seedings {
        let mut portal = Portal::demo();
        if gaps {
            portal.seed_leads_with_gaps(options.rows);
        } else {
            portal.seed_leads(options.rows);
        }
        let rig = Limited::start(portal, Limit::Off).await;
        let expected: Vec<u64> = rig
            .emu
            .portal()
            .lock()
            .leads()
            .iter()
            .map(|l| l.id)
            .collect();
        let seeding = if gaps {
            "seed_leads_with_gaps"
        } else {
            "seed_leads"
        };
        if options.unlimited {
            println!();
            println!(
                "{seeding}({}), ids {}..={}: unlimited (no plan, client no_rate_limit)",
                options.rows,
                expected.first().unwrap_or(&0),
                expected.last().unwrap_or(&0)
            );
            println!(
                "{:<18} {:>8} {:>9} {:>10} {:>6} {:>8} {:>8}",
                "mode", "rows", "time", "rows/s", "HTTP", "pages", "emulator"
            );
            for mode in MODES {
                unlimited(&rig, mode, &expected).await;
            }
        }
        if options.limited {
            let limit = Limit::Standard {
                scale: options.scale,
            };
            let rps = limit.requests_per_second().unwrap_or(f64::NAN);
            println!();
            println!(
                "{seeding}({}): Standard plan at time scale {}; ceiling {rps} requests/s = {} \
                 rows/s batched, {} rows/s single",
                options.rows,
                options.scale,
                rps * 50.0 * PAGE,
                rps * PAGE
            );
            println!(
                "{:<18} {:>6} {:>8} {:>9} {:>9} {:>6} {:>10} {:>7} {:>6} {:>6} {:>8}",
                "mode",
                "bucket",
                "rows",
                "time",
                "rows/s",
                "raw",
                "burst-adj",
                "steady",
                "HTTP",
                "pages",
                "rejected"
            );
            for mode in MODES {
                limited(&rig, mode, limit, false, &expected).await;
                if mode.batched() {
                    limited(&rig, mode, limit, true, &expected).await;
                }
            }
        }
    }
    println!();
    println!(
        "raw: rows / wall time; burst-adj: (rows − those of the first {BURST} requests) / wall \
         time; steady: the emulator's arrival pace after the first {BURST} requests (after the \
         first one with a full bucket) × 50 rows a page; as fractions of the ceiling of the mode. \
         emulator: the emulator's own time answering, summed over requests, as a share of the \
         wall time (the rest is the client, HTTP and the runtime)."
    );
}

/// Reads every lead in `mode` and checks the ids; returns the read's wall time.
async fn read(client: &Client, mode: Mode, expected: &[u64]) -> Duration {
    let started = Instant::now();
    let ids: Vec<Result<u64, String>> = mode.stream(client).collect().await;
    let elapsed = started.elapsed();
    let ids: Vec<u64> = ids
        .into_iter()
        .map(|id| id.unwrap_or_else(|e| panic!("{}: the read failed: {e}", mode.name())))
        .collect();
    check_ids(mode, &ids, expected);
    elapsed
}

/// Every expected id exactly once (in any order), nothing else.
fn check_ids(mode: Mode, ids: &[u64], expected: &[u64]) {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    if sorted == expected {
        return;
    }
    let duplicates = sorted.windows(2).filter(|w| w[0] == w[1]).count();
    let missing = expected
        .iter()
        .filter(|id| sorted.binary_search(id).is_err())
        .count();
    panic!(
        "{}: read {} ids for {} leads: {duplicates} duplicated, {missing} missing",
        mode.name(),
        ids.len(),
        expected.len()
    );
}

async fn unlimited(rig: &Limited, mode: Mode, expected: &[u64]) {
    rig.reset(Limit::Off);
    let client = rig.client(Limit::Off, |b| b);
    let elapsed = read(&client, mode, expected).await;
    let traffic = rig.traffic();
    let seconds = elapsed.as_secs_f64();
    println!(
        "{:<18} {:>8} {:>8.2}s {:>10.0} {:>6} {:>8} {:>7.0}%",
        mode.name(),
        expected.len(),
        seconds,
        expected.len() as f64 / seconds,
        traffic.requests,
        traffic.commands(),
        traffic.handling.as_secs_f64() / seconds * 100.0,
    );
}

/// Requests made to fill the bucket before a read with a full bucket.
const PREFILL: usize = BURST - 1;

async fn limited(rig: &Limited, mode: Mode, limit: Limit, full: bool, expected: &[u64]) {
    rig.reset(limit);
    let client = rig.client(limit, |b| b);
    if full {
        let nothing = || client.call(LeadList::new().filter_by("ID", 0));
        for outcome in join_all((0..PREFILL).map(|_| nothing().into_future())).await {
            outcome.expect("a prefill request");
        }
    }
    let before = rig.traffic();
    let elapsed = read(&client, mode, expected).await;
    let mut traffic = rig.traffic();
    // Only the read's own requests (the prefill ones arrived first).
    traffic.accepted.drain(..before.accepted.len());
    traffic.requests -= before.requests;
    let rps = limit.requests_per_second().unwrap_or(f64::NAN);
    let ceiling = rps * PAGE * if mode.batched() { 50.0 } else { 1.0 };
    let rows = expected.len() as f64;
    let seconds = elapsed.as_secs_f64();
    // Requests the burst lets through free: 50 from an empty bucket, 1 after the prefill.
    let free = BURST - before.accepted.len().min(BURST - 1);
    let burst_rows = (traffic.first_commands(free) as f64 * PAGE).min(rows);
    let steady = traffic
        .steady(free)
        .map(|p| p.commands_per_second * PAGE / ceiling);
    println!(
        "{:<18} {:>6} {:>8} {:>8.2}s {:>9.0} {:>6} {:>10} {:>7} {:>6} {:>6} {:>8}",
        mode.name(),
        if full { "full" } else { "empty" },
        expected.len(),
        seconds,
        rows / seconds,
        fraction(Some(rows / seconds / ceiling)),
        fraction(Some((rows - burst_rows) / seconds / ceiling)),
        fraction(steady),
        traffic.requests,
        traffic.commands(),
        traffic.rejected,
    );
}
