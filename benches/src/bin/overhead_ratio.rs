//! The time ratio b24 / hand-written baseline for `imopenlines.session.start` on a loopback
//! emulator, with its spread.
//!
//! ```sh
//! cargo run --release -p b24-benches --bin overhead_ratio                  # N=5000, 20 rounds
//! cargo run --release -p b24-benches --bin overhead_ratio -- --calls 20000 --rounds 40
//! cargo run --release -p b24-benches --bin overhead_ratio -- --multi-thread
//! ```
//!
//! N calls of each side, split into rounds. Each round starts a fresh emulator (the emulator's
//! `session.start` slows down as sessions pile up), warms every client's connection, then runs
//! N/rounds calls of each side back to back, rotating which side goes first, so that slow drifts
//! of a shared, noisy machine fall on all sides alike. Each round gives one ratio; the report is
//! their median with the interquartile range and the extremes, and the ratio of the totals.
//! One warm-up round is run first and discarded.
//!
//! The b24 client is built with `no_rate_limit()` (the default one paces itself to 2 requests/s,
//! the portal's leaky bucket); `b24 (no operating-time accounting)` also has
//! `no_operating_limit()`, to show what that accounting costs.

use std::time::Duration;

use b24_benches::{Rig, Side};

const SIDES: [Side; 4] = [
    Side::Baseline,
    Side::B24,
    Side::B24NoOperating,
    Side::BaselineParsedUrl,
];

struct Options {
    calls: u64,
    rounds: u64,
    multi_thread: bool,
}

fn options() -> Options {
    let mut options = Options {
        calls: 5000,
        rounds: 20,
        multi_thread: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> u64 {
            args.next()
                .and_then(|v| v.parse().ok())
                .filter(|&v| v > 0)
                .unwrap_or_else(|| usage(&format!("{name} takes a positive number")))
        };
        match arg.as_str() {
            "--calls" => options.calls = number("--calls"),
            "--rounds" => options.rounds = number("--rounds"),
            "--multi-thread" => options.multi_thread = true,
            // `cargo bench` passes this to every target; harmless here.
            "--bench" => {}
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if options.rounds > options.calls {
        usage("--rounds must not exceed --calls");
    }
    options
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("overhead_ratio: {problem}");
    }
    eprintln!("usage: overhead_ratio [--calls N (5000)] [--rounds R (20)] [--multi-thread]");
    std::process::exit(if problem.is_empty() { 0 } else { 2 })
}

fn main() {
    let options = options();
    let mut builder = if options.multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let rt = builder.enable_all().build().expect("tokio runtime");
    rt.block_on(run(&options));
}

/// Per side, the time of each round.
type Rounds = Vec<[Duration; SIDES.len()]>;

async fn run(options: &Options) {
    let per_round = options.calls / options.rounds;
    let calls = per_round * options.rounds;
    println!(
        "imopenlines.session.start on a loopback emulator: {calls} calls per side in {} rounds \
         of {per_round}, {} tokio runtime",
        options.rounds,
        if options.multi_thread {
            "multi-thread"
        } else {
            "current-thread"
        }
    );

    round(per_round.min(200), 0).await; // warm-up: page in code, grow allocator arenas
    let mut rounds: Rounds = Vec::new();
    for r in 0..options.rounds {
        rounds.push(round(per_round, r as usize).await);
    }

    println!();
    println!("{:<38} {:>12} {:>12}", "side", "total", "per call");
    for (i, side) in SIDES.iter().enumerate() {
        let total: Duration = rounds.iter().map(|times| times[i]).sum();
        println!(
            "{:<38} {:>10.1}ms {:>10.2}µs",
            side.name(),
            total.as_secs_f64() * 1e3,
            total.as_secs_f64() * 1e6 / calls as f64
        );
    }
    println!();
    println!(
        "{:<38} {:>8} {:>17} {:>17} {:>8}",
        "ratio to the baseline", "median", "IQR (p25–p75)", "min–max", "totals"
    );
    let base = SIDES.iter().position(|s| *s == Side::Baseline).unwrap_or(0);
    for (i, side) in SIDES.iter().enumerate() {
        if i == base {
            continue;
        }
        let mut ratios: Vec<f64> = rounds
            .iter()
            .map(|times| times[i].as_secs_f64() / times[base].as_secs_f64())
            .collect();
        ratios.sort_by(f64::total_cmp);
        let pooled = rounds.iter().map(|t| t[i]).sum::<Duration>().as_secs_f64()
            / rounds
                .iter()
                .map(|t| t[base])
                .sum::<Duration>()
                .as_secs_f64();
        println!(
            "{:<38} {:>8.3} {:>8.3}–{:<8.3} {:>8.3}–{:<8.3} {:>8.3}",
            side.name(),
            quantile(&ratios, 0.5),
            quantile(&ratios, 0.25),
            quantile(&ratios, 0.75),
            ratios[0],
            ratios[ratios.len() - 1],
            pooled
        );
    }
}

/// One round on a fresh emulator: `n` calls of each side, the order rotated by `index`.
async fn round(n: u64, index: usize) -> [Duration; SIDES.len()] {
    let rig = Rig::start().await;
    let mut times = [Duration::ZERO; SIDES.len()];
    for k in 0..SIDES.len() {
        let i = (index + k) % SIDES.len();
        times[i] = SIDES[i].run(&rig.callers, n).await;
    }
    times
}

/// The `q` quantile of sorted `values`, interpolated linearly.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo as f64)
}
