//! Client-only cost per call of b24 against the hand-written baseline, the server in another
//! process: CPU time of this (the client) process and wall time per call, sides alternating.
//!
//! ```sh
//! cargo build --release -p b24-benches --bins
//! target/release/client_cost                       # all modes: 1, 64 and 10,000 in flight
//! target/release/client_cost --mode 1              # sequential only (also: 64, 10000)
//! target/release/client_cost --mode 64 --rounds 40 --calls 8000 --no-operating
//! target/release/client_cost --side b24 --calls 2000   # one side, no report (for callgrind.sh)
//! ```
//!
//! The server is `fixed_server` (next to this binary, or `$B24_FIXED_SERVER`), started as a
//! child process: it answers every call with a fixed `imopenlines.session.start` answer with its
//! full `time` block, so its work is not in this process's CPU time (`getrusage(RUSAGE_SELF)`,
//! user + system, all threads) and is the same for every side in the wall time.
//!
//! Each mode runs R rounds; in each round every side makes N calls with K of them in flight
//! (K = 1: one after the other), in turns of T calls, the order of the sides rotated from turn to
//! turn (two sides: AB, BA, AB, … so that each pair of turns is ABBA), so that a drift of the
//! machine's load falls on both sides alike. Defaults: K = 1: 20 rounds of 1000 calls in turns of
//! 50; K = 64: 20 rounds of 4000 in turns of 640; K = 10,000: 8 rounds of one burst of 10,000.
//! Each round gives a ratio b24 / baseline of CPU time and one of wall time; the report is their median, interquartile range and extremes,
//! and the ratio of the totals. A warm-up of every side (opening its K connections, paging in
//! code) comes first and is not counted. From 1,000 in flight on, the sides share one pool of
//! connections (`Callers::sharing_pool`: b24 gets the baseline's `reqwest::Client`, configured as
//! its own default one, through `ClientBuilder::http_client`): a pool per side would need more
//! open files than a common hard limit (20,000) allows. The callers are those of [`b24_benches::Callers`]: b24
//! as a user builds it, with `no_rate_limit()` (the default client paces itself to the portal's
//! 2 requests/s), and a `reqwest` client configured as b24's.

use std::time::{Duration, Instant};

use b24_benches::fixed::{self, FixedServer};
use b24_benches::stats::Spread;
use b24_benches::{Callers, Side};

struct Options {
    modes: Vec<usize>,
    rounds: Option<u64>,
    calls: Option<u64>,
    block: Option<u64>,
    no_operating: bool,
    multi_thread: bool,
    single: Option<Side>,
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("client_cost: {problem}");
    }
    eprintln!(
        "usage: client_cost [--mode 1|64|10000|K|all] [--rounds R] [--calls N (per side per round)] \
         [--turn T (calls per side per turn)] [--no-operating] [--multi-thread]\n       client_cost --side b24|b24-no-operating|baseline|baseline-url \
         --calls N"
    );
    std::process::exit(if problem.is_empty() { 0 } else { 2 })
}

fn options() -> Options {
    let mut o = Options {
        modes: vec![1, 64, 10_000],
        rounds: None,
        calls: None,
        block: None,
        no_operating: false,
        multi_thread: false,
        single: None,
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
            "--mode" => {
                o.modes = match args.next().as_deref() {
                    Some("all") => vec![1, 64, 10_000],
                    Some("seq") => vec![1],
                    Some(k) => match k.parse() {
                        Ok(k) if k > 0 => vec![k],
                        _ => usage("--mode takes all, seq or a number of calls in flight"),
                    },
                    None => usage("--mode takes all, seq or a number of calls in flight"),
                }
            }
            "--rounds" => o.rounds = Some(number("--rounds")),
            "--calls" => o.calls = Some(number("--calls")),
            "--turn" => o.block = Some(number("--turn")),
            "--no-operating" => o.no_operating = true,
            "--multi-thread" => o.multi_thread = true,
            "--side" => {
                o.single = Some(match args.next().as_deref() {
                    Some("b24") => Side::B24,
                    Some("b24-no-operating") => Side::B24NoOperating,
                    Some("baseline") => Side::Baseline,
                    Some("baseline-url") => Side::BaselineParsedUrl,
                    _ => usage("--side takes b24, b24-no-operating, baseline or baseline-url"),
                })
            }
            "--bench" => {}
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    o
}

/// From this many calls in flight on, the sides share one pool of connections: a pool per side
/// would need more open files than a common hard limit (20,000) allows, in each process.
const SHARED_FROM: usize = 1000;

fn main() {
    let o = options();
    let most = o.modes.iter().copied().max().unwrap_or(1) as u64;
    // Up to `most` connections open at once, in this process and in the server's.
    let wanted = 3 * most.min(SHARED_FROM as u64) + most + 1024;
    let got = fixed::raise_open_files(wanted);
    if got < wanted && o.single.is_none() {
        eprintln!(
            "client_cost: only {got} open files allowed, {wanted} wanted for {most} in flight; \
             raise `ulimit -n` or pick a smaller --mode"
        );
        std::process::exit(1);
    }
    let server = FixedServer::spawn(&fixed::server_path()).unwrap_or_else(|e| {
        eprintln!("client_cost: {e} (build it: cargo build --release -p b24-benches --bins)");
        std::process::exit(1)
    });
    let mut builder = if o.multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let rt = builder.enable_all().build().expect("tokio runtime");
    if let Some(side) = o.single {
        let calls = o.calls.unwrap_or(2000);
        rt.block_on(async {
            let callers = server.callers();
            // With `--mode K`: K in flight (the first mode given), so callgrind can count that too.
            match o.modes.first().copied().unwrap_or(1) {
                1 => {
                    side.run(&callers, 1).await;
                    side.run(&callers, calls).await;
                }
                k => {
                    side.run_concurrent(&callers, k as u64, k).await;
                    side.run_concurrent(&callers, calls, k).await;
                }
            };
        });
        return;
    }
    let mut sides = vec![Side::Baseline, Side::B24, Side::BaselineParsedUrl];
    if o.no_operating {
        sides.push(Side::B24NoOperating);
    }
    println!(
        "imopenlines.session.start against fixed_server ({}, another process), {} tokio runtime, \
         load average {}",
        server.addr(),
        if o.multi_thread {
            "multi-thread"
        } else {
            "current-thread"
        },
        loadavg()
    );
    for &k in &o.modes {
        let (rounds, calls, block) = defaults(k as u64);
        let rounds = o.rounds.unwrap_or(rounds);
        let calls = o.calls.unwrap_or(calls);
        let block = o.block.unwrap_or(block).min(calls);
        rt.block_on(mode(&server, &sides, k, (rounds, calls, block)));
    }
    println!("\nload average at the end: {}", loadavg());
    drop(rt);
    drop(server);
}

/// Rounds, calls per side per round, calls per side per turn.
type Shape = (u64, u64, u64);

/// The default shape of a run with `k` in flight.
fn defaults(k: u64) -> Shape {
    match k {
        1 => (20, 1000, 50),
        2..=999 => (20, 4000.max(k * 10), k * 10),
        _ => (8, k, k),
    }
}

/// CPU and wall time of a stretch of calls.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    cpu: Duration,
    wall: Duration,
}

async fn run(side: Side, callers: &Callers, calls: u64, k: usize) {
    if k == 1 {
        side.run(callers, calls).await;
    } else {
        side.run_concurrent(callers, calls, k).await;
    }
}

async fn measured(side: Side, callers: &Callers, calls: u64, k: usize) -> Sample {
    let cpu = fixed::cpu_time();
    let started = Instant::now();
    run(side, callers, calls, k).await;
    Sample {
        wall: started.elapsed(),
        cpu: fixed::cpu_time() - cpu,
    }
}

async fn mode(server: &FixedServer, sides: &[Side], k: usize, (rounds, calls, block): Shape) {
    let callers = if k >= SHARED_FROM {
        server.callers_sharing_pool()
    } else {
        server.callers()
    };
    println!(
        "\n== {k} in flight: {rounds} rounds of {calls} calls per side, in turns of {block} calls, \
         sides rotated each turn{}",
        if k >= SHARED_FROM {
            "; the sides share one pool of K connections"
        } else {
            ""
        }
    );
    for &side in sides {
        measured(side, &callers, calls.min(200).max(k as u64), k).await;
    }
    let mut samples: Vec<Vec<Sample>> = Vec::new();
    let mut turn = 0;
    for _ in 0..rounds {
        let mut round = vec![Sample::default(); sides.len()];
        let mut left = calls;
        while left > 0 {
            let n = left.min(block);
            for j in 0..sides.len() {
                let i = (turn + j) % sides.len();
                let sample = measured(sides[i], &callers, n, k).await;
                round[i].cpu += sample.cpu;
                round[i].wall += sample.wall;
            }
            turn += 1;
            left -= n;
        }
        samples.push(round);
    }
    report(sides, &samples, (calls * rounds) as f64);
}

fn report(sides: &[Side], samples: &[Vec<Sample>], total_calls: f64) {
    println!(
        "{:<44} {:>12} {:>12} {:>10}",
        "side", "CPU/call", "wall/call", "CPU/wall"
    );
    let totals: Vec<Sample> = (0..sides.len())
        .map(|i| Sample {
            cpu: samples.iter().map(|r| r[i].cpu).sum(),
            wall: samples.iter().map(|r| r[i].wall).sum(),
        })
        .collect();
    for (side, t) in sides.iter().zip(&totals) {
        println!(
            "{:<44} {:>10.2}µs {:>10.2}µs {:>9.0}%",
            side.name(),
            t.cpu.as_secs_f64() * 1e6 / total_calls,
            t.wall.as_secs_f64() * 1e6 / total_calls,
            100.0 * t.cpu.as_secs_f64() / t.wall.as_secs_f64()
        );
    }
    // Every side against the baseline; and b24 against the baseline with the URL parsed once
    // (like for like: both parse the URL once).
    let mut pairs: Vec<(usize, usize)> = (1..sides.len()).map(|i| (i, 0)).collect();
    let at = |side| sides.iter().position(|s| *s == side);
    if let (Some(b24), Some(parsed)) = (at(Side::B24), at(Side::BaselineParsedUrl)) {
        pairs.push((b24, parsed));
    }
    for (i, base) in pairs {
        for (what, get) in [
            ("CPU ", (|s: &Sample| s.cpu) as fn(&Sample) -> Duration),
            ("wall", |s: &Sample| s.wall),
        ] {
            let ratios: Vec<f64> = samples
                .iter()
                .map(|r| get(&r[i]).as_secs_f64() / get(&r[base]).as_secs_f64())
                .collect();
            let spread = Spread::of(&ratios).expect("at least one round");
            println!(
                "{:<44} {what} ratio {spread}, totals {:.3}",
                format!("{} / {}", sides[i].name(), sides[base].name()),
                get(&totals[i]).as_secs_f64() / get(&totals[base]).as_secs_f64()
            );
        }
    }
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` gives them.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
