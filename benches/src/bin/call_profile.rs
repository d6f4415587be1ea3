//! Where the time of a call goes, without timing it: heap allocations per call of each side, and
//! a fixed, repeatable workload for an instruction-level profiler.
//!
//! ```sh
//! cargo run --release -p b24-benches --bin call_profile                    # allocations per call
//! valgrind --tool=callgrind target/release/call_profile --side b24 --calls 2000
//! valgrind --tool=callgrind target/release/call_profile --side baseline --calls 2000
//! ```
//!
//! Counts are process-wide, so they include the emulator's share of each call, which is the same
//! for every side: the differences between sides are the client's. Under callgrind, compare the
//! total instructions of runs of each side (setup is the same in all of them) and look at the
//! inclusive costs of the b24 functions with `callgrind_annotate --inclusive=yes`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use b24_benches::{Rig, Side, CHUNK};

/// The system allocator, counting.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call to `System` unchanged; the counters have no effect on it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new_size as u64, Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("call_profile: {problem}");
    }
    eprintln!("usage: call_profile [--side b24|b24-no-operating|baseline|baseline-url] [--calls N (2000)]");
    std::process::exit(if problem.is_empty() { 0 } else { 2 })
}

fn main() {
    let mut sides = vec![Side::Baseline, Side::B24, Side::B24NoOperating];
    let mut calls: u64 = 2000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--side" => {
                sides = vec![match args.next().as_deref() {
                    Some("b24") => Side::B24,
                    Some("b24-no-operating") => Side::B24NoOperating,
                    Some("baseline") => Side::Baseline,
                    Some("baseline-url") => Side::BaselineParsedUrl,
                    _ => usage("--side takes b24, b24-no-operating or baseline"),
                }]
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
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        println!("{:<38} {:>12} {:>12}", "side", "allocs/call", "bytes/call");
        for side in sides {
            let (mut allocs, mut bytes) = (0, 0);
            let mut left = calls;
            while left > 0 {
                let k = left.min(CHUNK);
                let rig = Rig::start().await;
                let (a0, b0) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
                side.run(&rig.callers, k).await;
                allocs += ALLOCS.load(Relaxed) - a0;
                bytes += BYTES.load(Relaxed) - b0;
                drop(rig);
                left -= k;
            }
            println!(
                "{:<38} {:>12.1} {:>12.0}",
                side.name(),
                allocs as f64 / calls as f64,
                bytes as f64 / calls as f64
            );
        }
    });
}
