//! Heap use of the client per call, the server in another process (`fixed_server`): allocations
//! and bytes allocated per call, and the peak of live heap bytes per call in flight.
//!
//! ```sh
//! cargo build --release -p b24-benches --bins
//! target/release/client_alloc                  # 1, 64 and 10,000 in flight
//! target/release/client_alloc --calls 20000 --mode 64
//! ```
//!
//! A counting global allocator (this binary only: the timing benches run on the plain system
//! allocator) counts every allocation of this process, and tracks the live bytes and their
//! high-water mark. For each K in flight, the sides share one pool of connections
//! (`Callers::sharing_pool`). A warm-up of every side first (K in flight: it opens the pool's K
//! connections and grows their buffers; what it leaves live, per connection, is printed as the
//! idle pool); then, for each side, `--calls` calls (at least K) with K in flight. `peak/call` is
//! the peak of live bytes over that run minus the live bytes just before it (the idle client, its
//! pool included), divided by K. All counts are the client's: the server's heap is in another
//! process.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use b24_benches::fixed::{self, FixedServer};
use b24_benches::{Callers, Side};

const SIDES: [Side; 4] = [
    Side::Baseline,
    Side::B24,
    Side::B24NoOperating,
    Side::BaselineParsedUrl,
];

/// The system allocator, counting.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicU64 = AtomicU64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);

fn grew(by: u64) {
    let live = LIVE.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(live, Relaxed);
}

// SAFETY: forwards every call to `System` unchanged; the counters have no effect on it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        grew(layout.size() as u64);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as u64, Relaxed);
        System.dealloc(ptr, layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        grew(layout.size() as u64);
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new_size as u64, Relaxed);
        let old = layout.size() as u64;
        let new = new_size as u64;
        if new >= old {
            grew(new - old);
        } else {
            LIVE.fetch_sub(old - new, Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("client_alloc: {problem}");
    }
    eprintln!("usage: client_alloc [--mode 1|64|10000|K|all] [--calls N (2000, at least K)]");
    std::process::exit(if problem.is_empty() { 0 } else { 2 })
}

fn main() {
    let mut modes = vec![1usize, 64, 10_000];
    let mut calls: u64 = 2000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--mode" => {
                modes = match args.next().as_deref() {
                    Some("all") => vec![1, 64, 10_000],
                    Some("seq") => vec![1],
                    Some(k) => match k.parse() {
                        Ok(k) if k > 0 => vec![k],
                        _ => usage("--mode takes all, seq or a number of calls in flight"),
                    },
                    None => usage("--mode takes all, seq or a number of calls in flight"),
                }
            }
            "--calls" => {
                calls = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&v| v > 0)
                    .unwrap_or_else(|| usage("--calls takes a positive number"))
            }
            "--bench" => {}
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let most = modes.iter().copied().max().unwrap_or(1) as u64;
    // One side's pool at a time, in this process and in the server's.
    let wanted = most + 1024;
    let got = fixed::raise_open_files(wanted);
    if got < wanted {
        eprintln!(
            "client_alloc: only {got} open files allowed, {wanted} wanted; raise `ulimit -n`"
        );
        std::process::exit(1);
    }
    let server = FixedServer::spawn(&fixed::server_path()).unwrap_or_else(|e| {
        eprintln!("client_alloc: {e} (build it: cargo build --release -p b24-benches --bins)");
        std::process::exit(1)
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        println!(
            "{:<34} {:>9} {:>12} {:>12} {:>16}",
            "side", "in flight", "allocs/call", "bytes/call", "peak/call"
        );
        for k in modes {
            let callers = server.callers_sharing_pool();
            let n = calls.max(k as u64);
            // Warm-up of every side: opens the pool's K connections and grows their buffers.
            let before = LIVE.load(Relaxed);
            for side in SIDES {
                run(side, &callers, n.min(2 * k as u64).max(200), k).await;
            }
            println!(
                "{:<34} {:>9} {:>12} {:>12} {:>14.0} B",
                "(idle pool, per connection)",
                k,
                "",
                "",
                LIVE.load(Relaxed).saturating_sub(before) as f64 / k as f64
            );
            for side in SIDES {
                report(side, &callers, k, n).await;
            }
            drop(callers);
            // Let both processes close the connections before the next pool opens.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    });
    drop(rt);
    drop(server);
}

async fn run(side: Side, callers: &Callers, n: u64, k: usize) {
    if k == 1 {
        side.run(callers, n).await;
    } else {
        side.run_concurrent(callers, n, k).await;
    }
}

async fn report(side: Side, callers: &Callers, k: usize, n: u64) {
    let (a0, b0, idle) = (
        ALLOCS.load(Relaxed),
        BYTES.load(Relaxed),
        LIVE.load(Relaxed),
    );
    PEAK.store(idle, Relaxed);
    run(side, callers, n, k).await;
    let (allocs, bytes) = (ALLOCS.load(Relaxed) - a0, BYTES.load(Relaxed) - b0);
    let peak = PEAK.load(Relaxed).saturating_sub(idle);
    println!(
        "{:<34} {:>9} {:>12.1} {:>12.0} {:>14.0} B",
        side.name(),
        k,
        allocs as f64 / n as f64,
        bytes as f64 / n as f64,
        peak as f64 / k as f64
    );
}
