//! Per-call overhead of b24 against a hand-written `reqwest` + `serde_json` caller, both calling
//! `imopenlines.session.start` on the same loopback emulator (see `b24_benches` for the rig).
//!
//! ```sh
//! cargo bench -p b24-benches --bench call_overhead
//! ```
//!
//! One criterion group, `session_start`, so that every side runs in the same process on the same
//! tokio runtime (current-thread: the emulator's server tasks and the callers share one thread,
//! which keeps scheduling noise out of a 2-core machine). The b24 client has its client-side rate
//! limit turned off (`no_rate_limit()`): the default client paces itself to the portal's 2 req/s
//! leaky bucket, which would measure the bucket, not the overhead. Each element is one call; the
//! time includes the emulator's work, which is the same for every side.
//!
//! Criterion reports times; the ratio b24/baseline with its spread is what the `overhead_ratio`
//! binary prints (`cargo run --release -p b24-benches --bin overhead_ratio`).

use std::time::Duration;

use b24_benches::{timed, Side};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn session_start(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut group = c.benchmark_group("session_start");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(1));
    for (id, side) in [
        ("baseline_reqwest", Side::Baseline),
        ("b24", Side::B24),
        ("b24_no_operating", Side::B24NoOperating),
        ("baseline_parsed_url", Side::BaselineParsedUrl),
    ] {
        group.bench_function(id, |b| b.iter_custom(|n| rt.block_on(timed(side, n))));
    }
    group.finish();
}

criterion_group!(benches, session_start);
criterion_main!(benches);
