//! Several replicas sharing one portal through Redis (`README.md` §7):
//!
//! 1. **throughput**: 4 processes (this binary re-run as `--worker`, each a `b24_tests::replica`)
//!    call one emulated portal under the Standard plan at a time scale, their bucket in one Redis;
//!    reported per run: what the portal admitted against the most it admits in the same time
//!    (`X + Y·T`, T from the first arrival to the last), the pace after the burst against `Y`,
//!    and the `QUERY_LIMIT_EXCEEDED` answers;
//! 2. **cost per call**: one process, sequential calls on an emulator without a plan (the bucket
//!    never waits), in-process bucket and accounting against the Redis ones, sides interleaved
//!    in rounds; and the limiter alone (`acquire` with no HTTP).
//!
//! `cargo run --release -p b24-benches --bin replicas [-- RUNS [SCALE]]` (default 5 runs at time
//! scale 10). Needs
//! `redis-server` on PATH (it starts its own on a unix socket).

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use b24::limits::redis::{connect, RedisLimits};
use b24::limits::{InProcess, LimitBackend};
use b24::oauth::redis::RedisTokenStore;
use b24::{Client, RateLimit, TokenPair, TokenStore};
use b24_benches::stats::Spread;
use b24_emulator::{Emulator, Plan, Portal, DEMO_IDS};
use b24_tests::redis_server::RedisServer;
use b24_tests::replica::{Config, Summary};
use serde_json::json;

const CLIENT_ID: &str = "local.b24bench.replicas";
const CLIENT_SECRET: &str = "replicas0bench0secret";
const PING: &str = "replica.ping";
const PROCESSES: usize = 4;
/// Calls per process and in flight per process.
const CALLS: u64 = 60;
const IN_FLIGHT: u64 = 4;
/// By default the portal clock runs this much faster: the Standard bucket drains 20 requests a
/// second.
const SCALE: f64 = 10.0;
const BURST: f64 = 50.0;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--worker") {
        std::process::exit(match b24_tests::replica::main_with(&args[1..]) {
            code if code == std::process::ExitCode::SUCCESS => 0,
            _ => 1,
        });
    }
    let runs: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(5);
    let scale: f64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(SCALE);
    let Some(redis) = RedisServer::start("replicas benchmark") else {
        std::process::exit(2);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        throughput(&redis, runs, scale).await;
        cost(&redis, runs).await;
    });
}

/// One run of 4 processes; returns (fraction of X + Y·T, steady pace / Y, rejected).
async fn one_run(redis: &RedisServer, run: usize, scale: f64) -> (f64, f64, u64) {
    let per_second = 2.0 * scale;
    let mut portal = Portal::demo();
    portal.set_time_scale(scale);
    portal.set_rate_limit(Some(Plan::Standard));
    portal.add_oauth_app(CLIENT_ID, CLIENT_SECRET);
    let (access, refresh) = portal.issue_tokens(DEMO_IDS.admin_user, CLIENT_ID);
    let emu = Emulator::start(portal).await.expect("emulator");
    emu.register(PING, |_ctx, _params| Ok(json!(true)));
    let key = format!("bench-portal-{run}");
    let conn = connect(&redis.url).await.expect("redis");
    RedisTokenStore::new(conn, &key)
        .save(&TokenPair::new(access, refresh))
        .await
        .expect("store");
    let config = Config {
        portal: emu.base_url(),
        token_url: emu.token_url(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        redis: redis.url.clone(),
        portal_key: key,
        method: PING.into(),
        calls: CALLS,
        concurrency: IN_FLIGHT,
        rate: RateLimit::STANDARD.time_scaled(scale),
        shared_limits: true,
        lease: Duration::from_secs(45),
        stall: None,
    };
    let exe = std::env::current_exe().expect("this binary");
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            Command::new(&exe)
                .arg("--worker")
                .args(config.args())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("worker")
        })
        .collect();
    for child in children {
        let out = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .expect("join")
            .expect("worker ends");
        let summary = Summary::from_json(&String::from_utf8_lossy(&out.stdout));
        assert!(
            summary.as_ref().is_some_and(|s| s.failed == 0),
            "a worker failed: {summary:?}"
        );
    }
    let mut arrivals: Vec<SystemTime> = emu
        .requests()
        .iter()
        .filter(|r| r.status == 200 && r.method == PING)
        .map(|r| r.time)
        .collect();
    arrivals.sort();
    let rejected = emu.portal().lock().rate_stats().rejected;
    let span = |from: usize| {
        arrivals[arrivals.len() - 1]
            .duration_since(arrivals[from])
            .unwrap_or_default()
            .as_secs_f64()
    };
    let admitted = arrivals.len() as f64;
    let whole = admitted / (BURST + per_second * span(0));
    let after = BURST as usize;
    let steady = (arrivals.len() - 1 - after) as f64 / span(after) / per_second;
    emu.shutdown().await;
    (whole, steady, rejected)
}

async fn throughput(redis: &RedisServer, runs: usize, scale: f64) {
    println!(
        "## throughput: {PROCESSES} processes x {CALLS} calls ({IN_FLIGHT} in flight each), \
         Standard plan at x{scale} (X = 50, Y = {}/s), bucket in Redis",
        2.0 * scale
    );
    let (mut whole, mut steady, mut rejected) = (vec![], vec![], 0);
    for run in 0..runs {
        let (w, s, r) = one_run(redis, run, scale).await;
        println!("run {run}: admitted / (X + Y*T) = {w:.3}, steady pace / Y = {s:.3}, QUERY_LIMIT_EXCEEDED = {r}");
        whole.push(w);
        steady.push(s);
        rejected += r;
    }
    println!(
        "admitted / (X + Y*T): {}",
        Spread::of(&whole).expect("runs")
    );
    println!(
        "steady pace / Y:      {}",
        Spread::of(&steady).expect("runs")
    );
    println!("QUERY_LIMIT_EXCEEDED over all runs: {rejected}\n");
}

/// Sequential calls per side, sides alternating in rounds; per call, in µs.
async fn cost(redis: &RedisServer, runs: usize) {
    const ROUND: usize = 500;
    let emu = Emulator::start(Portal::demo()).await.expect("emulator");
    emu.register(PING, |_ctx, _params| Ok(json!(true)));
    let webhook = emu.webhook_url(DEMO_IDS.admin_user).expect("webhook");
    // A bucket that never fills (what is measured is its bookkeeping, not the limit) and never
    // drains empty between calls (a busy portal: no new busy period, so no "answered" write,
    // per call).
    let open = RateLimit::new(u32::MAX, 0.001);
    let local = Client::builder()
        .webhook(&webhook)
        .rate_limit(open)
        .build()
        .expect("client");
    let limits = RedisLimits::connect(&redis.url).await.expect("redis");
    let shared = Client::builder()
        .webhook(&webhook)
        .rate_limit(open)
        .limit_backend(Arc::new(limits.clone().prefix("cost")))
        .build()
        .expect("client");
    let time = |client: Client| async move {
        let started = Instant::now();
        for _ in 0..ROUND {
            client.call_raw(PING, &json!({})).await.expect("call");
        }
        started.elapsed().as_secs_f64() * 1e6 / ROUND as f64
    };
    time(local.clone()).await; // warm-up: connections, script cache
    time(shared.clone()).await;
    let (mut added, mut local_us, mut shared_us) = (vec![], vec![], vec![]);
    for round in 0..runs * 2 {
        let (l, s) = if round % 2 == 0 {
            let l = time(local.clone()).await;
            (l, time(shared.clone()).await)
        } else {
            let s = time(shared.clone()).await;
            (time(local.clone()).await, s)
        };
        local_us.push(l);
        shared_us.push(s);
        added.push(s - l);
    }
    println!("## cost per call: {ROUND} sequential calls per side per round, {} rounds, emulator in this process, Redis on a unix socket", runs * 2);
    println!(
        "in-process limits, µs per call:  {}",
        Spread::of(&local_us).expect("rounds")
    );
    println!(
        "Redis limits, µs per call:       {}",
        Spread::of(&shared_us).expect("rounds")
    );
    println!(
        "added by Redis, µs per call:     {}",
        Spread::of(&added).expect("rounds")
    );

    // The limiter alone: a place in the bucket, no HTTP.
    const ACQUIRES: usize = 5_000;
    let in_process = InProcess.rate_limiter("p", open);
    let in_redis = limits.rate_limiter("acquire-only", open);
    let (mut lo, mut re) = (vec![], vec![]);
    for _ in 0..runs {
        let started = Instant::now();
        for _ in 0..ACQUIRES {
            in_process.acquire(PING).await;
        }
        lo.push(started.elapsed().as_secs_f64() * 1e6 / ACQUIRES as f64);
        let started = Instant::now();
        for _ in 0..ACQUIRES {
            in_redis.acquire(PING).await;
        }
        re.push(started.elapsed().as_secs_f64() * 1e6 / ACQUIRES as f64);
    }
    println!(
        "acquire alone, in-process, µs:   {}",
        Spread::of(&lo).expect("runs")
    );
    println!(
        "acquire alone, Redis script, µs: {}",
        Spread::of(&re).expect("runs")
    );
    emu.shutdown().await;
}
