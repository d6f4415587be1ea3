//! The client-side limits against the emulated portal's, time-scaled so that minutes pass in
//! seconds:
//!
//! - the leaky bucket: 1,000 calls through one client shared by 50 tasks at the Standard plan's
//!   limits reach the portal without one `QUERY_LIMIT_EXCEEDED` (and, as a control, the same calls
//!   without the client's bucket are rejected); the Enterprise preset; the level a caller can read;
//!   `QUERY_LIMIT_EXCEEDED` answered anyway (another application on the portal) is retried;
//! - operating time: a method whose budget is spent waits for its reset while other methods go on;
//!   `OPERATION_TIME_LIMIT` answered by the portal makes the method wait for its reset, then the
//!   call succeeds; what the client knows is readable with `client.operating_time(..)`;
//! - `tracing` events say when and why a call waited.

use std::future::IntoFuture;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use b24::imopenlines::{DialogGet, SessionOpen, SessionOpenError};
use b24::{Client, ErrorCode, ErrorKind, OperatingLimit, RateLimit, RetryPolicy};
use b24_emulator::{Emulator, Fault, Plan, Portal, Reply, DEMO_IDS};

const OPEN: &str = "imopenlines.session.open";
const DIALOG: &str = "imopenlines.dialog.get";

fn open() -> SessionOpen {
    SessionOpen::new(DEMO_IDS.user_code)
}

fn dialog() -> DialogGet {
    DialogGet::by_chat_id(DEMO_IDS.lines_chat_id as i64)
}

/// A demo portal whose clock runs `scale` times faster, with the leaky bucket of `plan`.
async fn portal_with(scale: f64, plan: Option<Plan>) -> Emulator {
    let mut portal = Portal::demo();
    portal.set_time_scale(scale);
    portal.set_rate_limit(plan);
    Emulator::start(portal).await.expect("the emulator starts")
}

fn webhook(emu: &Emulator) -> String {
    emu.webhook_url(DEMO_IDS.admin_user).expect("demo webhook")
}

fn unix(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

// ---------------------------------------------------------------------------------------------
// the leaky bucket

/// The presets are the portal's plans (the emulator implements `limits.md`).
#[test]
fn presets_are_the_portals_plans() {
    for (preset, plan) in [
        (RateLimit::STANDARD, Plan::Standard),
        (RateLimit::ENTERPRISE, Plan::Enterprise),
    ] {
        assert_eq!(f64::from(preset.burst), plan.limit());
        assert_eq!(preset.per_second, plan.drain_per_second());
    }
    assert_eq!(RateLimit::STANDARD, RateLimit::new(50, 2.0));
    assert_eq!(RateLimit::ENTERPRISE, RateLimit::new(250, 5.0));
    assert_eq!(
        RateLimit::STANDARD.time_scaled(100.0),
        RateLimit::new(50, 200.0)
    );
}

/// Runs `calls` calls of `session.open` through `client`, split over `tasks` tasks that each
/// hold a clone; returns the failures.
async fn run_shared(
    client: &Client,
    tasks: usize,
    calls: usize,
) -> Vec<b24::Error<SessionOpenError>> {
    let per_task = calls / tasks;
    assert_eq!(per_task * tasks, calls);
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut failures = Vec::new();
                for _ in 0..per_task {
                    if let Err(err) = client.call(open()).await {
                        failures.push(err);
                    }
                }
                failures
            })
        })
        .collect();
    let mut failures = Vec::new();
    for handle in handles {
        failures.extend(handle.await.expect("no task panics"));
    }
    failures
}

/// The proof of the bucket: 1,000 calls at the Standard plan (time-scaled ×50: 50 requests of
/// burst, 100 per second; ×100 left too little slack for a loaded CI machine's timer jitter) through one client cloned into 50 tasks. Not one reaches the portal's
/// counter as rejected, and, retries being off, every call succeeds at its first attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_calls_through_one_shared_client_draw_no_query_limit_exceeded() {
    const SCALE: f64 = 50.0;
    const CALLS: usize = 1000;
    let emu = portal_with(SCALE, Some(Plan::Standard)).await;
    let client = Client::builder()
        .webhook(&webhook(&emu))
        .rate_limit(RateLimit::STANDARD.time_scaled(SCALE))
        .retry(RetryPolicy::none())
        .build()
        .expect("client");

    // A caller can watch the bucket while the calls run (here: from another task).
    let watcher = {
        let client = client.clone();
        tokio::spawn(async move {
            let mut highest: f64 = 0.0;
            for _ in 0..40 {
                let (limit, level) = client.rate_limit().expect("limiting is on");
                assert_eq!(limit, RateLimit::STANDARD.time_scaled(SCALE));
                highest = highest.max(level);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            highest
        })
    };

    let started = Instant::now();
    let failures = run_shared(&client, 50, CALLS).await;
    let elapsed = started.elapsed();
    assert!(
        failures.is_empty(),
        "{} calls failed: {:?}",
        failures.len(),
        failures.first()
    );

    let stats = emu.portal().lock().rate_stats();
    assert_eq!(
        stats.rejected, 0,
        "QUERY_LIMIT_EXCEEDED reached the portal: {stats:?}"
    );
    assert_eq!(stats.accepted, CALLS as u64);
    let requests = emu.requests();
    assert_eq!(requests.len(), CALLS);
    assert!(requests
        .iter()
        .all(|r| r.status == 200 && r.error.is_none()));

    // The calls were held to the plan's rate: after the burst, 100 per second at most.
    let floor = Duration::from_secs_f64((CALLS - 50) as f64 / (2.0 * SCALE));
    assert!(
        elapsed >= floor,
        "{elapsed:?} < {floor:?}: the bucket did not hold calls back"
    );

    // The level the watcher saw: the bucket filled up (reservations of waiting calls included).
    let highest = watcher.await.expect("watcher");
    assert!((40.0..=100.0).contains(&highest), "highest level {highest}");
}

/// The control: the same portal, the same kind of calls, no client-side bucket: the portal rejects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_client_bucket_the_portal_rejects() {
    // ×10: 20 requests a second drain, so that 300 calls at once overflow the bucket even on a
    // slow machine.
    let emu = portal_with(10.0, Some(Plan::Standard)).await;
    let client = Client::builder()
        .webhook(&webhook(&emu))
        .no_rate_limit()
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    assert!(client.rate_limit().is_none());

    let results =
        futures::future::join_all((0..300).map(|_| client.call(open()).into_future())).await;
    let stats = emu.portal().lock().rate_stats();
    let rejected: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(stats.rejected >= 100, "{stats:?}");
    assert_eq!(rejected.len() as u64, stats.rejected);
    assert_eq!(stats.accepted + stats.rejected, 300);
    for err in rejected {
        let api = err.api_error().expect("an API error");
        assert_eq!(
            (&api.code, api.status),
            (&ErrorCode::QueryLimitExceeded, 503)
        );
        // The portal did not run the call: safe to retry, whatever the method.
        assert!(err.is_retryable());
        assert_eq!(err.attempts(), 1);
    }
}

/// Enterprise: 250 of burst, 5 a second (×20 here). The preset keeps 400 calls inside the
/// Enterprise plan; the same preset against a Standard portal overflows it, so the numbers matter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enterprise_preset_keeps_inside_the_enterprise_plan() {
    const SCALE: f64 = 20.0;
    let emu = portal_with(SCALE, Some(Plan::Enterprise)).await;
    let client = Client::builder()
        .webhook(&webhook(&emu))
        .rate_limit(RateLimit::ENTERPRISE.time_scaled(SCALE))
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let started = Instant::now();
    let failures = run_shared(&client, 50, 400).await;
    assert!(failures.is_empty(), "{:?}", failures.first());
    let stats = emu.portal().lock().rate_stats();
    assert_eq!((stats.accepted, stats.rejected), (400, 0), "{stats:?}");
    // 150 calls past the burst at 100 a second.
    assert!(started.elapsed() >= Duration::from_secs_f64(150.0 / (5.0 * SCALE)));

    let standard = portal_with(SCALE, Some(Plan::Standard)).await;
    let mismatched = Client::builder()
        .webhook(&webhook(&standard))
        .rate_limit(RateLimit::ENTERPRISE.time_scaled(SCALE))
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let failures = run_shared(&mismatched, 50, 200).await;
    let stats = standard.portal().lock().rate_stats();
    assert!(stats.rejected > 0, "{stats:?}");
    assert_eq!(failures.len() as u64, stats.rejected);
}

/// The level is readable, counts every request, and is shared by clones only.
#[tokio::test]
async fn the_bucket_level_is_visible_and_shared_by_clones() {
    let emu = portal_with(1.0, None).await;
    let client = Client::from_webhook(&webhook(&emu)).expect("client");
    let clone = client.clone();
    let other = Client::from_webhook(&webhook(&emu)).expect("client");
    assert_eq!(client.rate_limit(), Some((RateLimit::STANDARD, 0.0)));

    for _ in 0..10 {
        clone.call(open()).await.expect("call");
    }
    // 2 a second drain, and not at all for the first 250 ms of a burst.
    let (limit, level) = client.rate_limit().expect("on by default");
    assert_eq!(limit, RateLimit::STANDARD);
    assert!(level > 5.0 && level <= 10.0, "{level}");
    assert_eq!(other.rate_limit(), Some((RateLimit::STANDARD, 0.0)));
}

/// `QUERY_LIMIT_EXCEEDED` can still come (another application shares the portal's bucket): the
/// call is retried, and the bucket is marked full so that the following calls slow down.
#[tokio::test]
async fn query_limit_exceeded_from_the_portal_is_retried_and_fills_the_bucket() {
    let emu = portal_with(1.0, None).await;
    let client = Client::builder()
        .webhook(&webhook(&emu))
        .rate_limit(RateLimit::new(50, 10.0))
        .retry(RetryPolicy::default().base_delay(Duration::from_millis(5)))
        .build()
        .expect("client");
    let limited = Reply::error(503, "QUERY_LIMIT_EXCEEDED", "Too many requests");
    emu.faults()
        .add(Fault::on(OPEN).times(2).respond(limited.clone()));
    let opened = client.call(open()).await.expect("retried until accepted");
    assert_eq!(opened.chat_id, DEMO_IDS.lines_chat_id as i64);
    let statuses: Vec<u16> = emu.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 200]);
    let (_, level) = client.rate_limit().expect("on");
    assert!(level >= 45.0, "the bucket was marked full: {level}");

    // With retries off the caller gets the error, and the bucket is still marked full, so the
    // next call waits for room instead of drawing another rejection.
    let strict = Client::builder()
        .webhook(&webhook(&emu))
        .rate_limit(RateLimit::new(50, 10.0))
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    emu.faults().add(Fault::on(OPEN).once().respond(limited));
    let err = strict.call(open()).await.expect_err("no retries");
    assert_eq!(err.api_error().map(|a| a.status), Some(503));
    assert!(err.is_retryable());
    assert_eq!(err.attempts(), 1);
    let (_, level) = strict.rate_limit().expect("on");
    assert!(level >= 45.0, "the bucket was marked full: {level}");
}

// ---------------------------------------------------------------------------------------------
// operating time

/// A portal with the default operating budget (480 s) where `session.open` costs 200 portal
/// seconds, at ×200: the ten-minute window lasts 3 s.
async fn open_costs_200() -> Emulator {
    let mut portal = Portal::demo();
    portal.set_time_scale(200.0);
    portal.set_operating_budget(Some(b24_emulator::DEFAULT_OPERATING_BUDGET));
    portal.set_method_cost(OPEN, 200.0);
    Emulator::start(portal).await.expect("emulator")
}

/// Budget 480 s (the default on both sides), `session.open` costs 200 portal seconds. After three
/// calls (600 s) the client holds the method back until `operating_reset_at`; `dialog.get` goes
/// on meanwhile. Not one `OPERATION_TIME_LIMIT` reaches the portal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_method_waits_for_its_reset_while_other_methods_go_on() {
    let emu = open_costs_200().await;
    let client = Client::builder()
        .webhook(&webhook(&emu))
        .no_rate_limit()
        .build()
        .expect("client");
    assert!(client.operating_time(OPEN).is_none(), "nothing known yet");

    let mut last = None;
    for expected in [200.0, 400.0, 600.0] {
        let reply = client
            .call(open())
            .with_meta()
            .await
            .expect("within budget");
        let time = reply.time.expect("a time block");
        assert_eq!(time.operating, Some(expected));
        last = Some(time);
    }
    let reset_at = last
        .and_then(|t| t.operating_reset_at)
        .expect("operating_reset_at");

    let status = client.operating_time(OPEN).expect("known");
    assert_eq!(status.operating, Duration::from_secs(600));
    let blocked = status.blocked_for.expect("held back: 600 s >= 480 s");
    assert!(blocked <= Duration::from_secs(3), "{blocked:?}");
    assert!(status.reset_in.is_some());
    // Case does not matter, as on the portal.
    assert_eq!(
        client
            .operating_time("IMOPENLINES.SESSION.OPEN")
            .map(|s| s.operating),
        Some(status.operating)
    );

    let held = {
        let client = client.clone();
        tokio::spawn(async move { client.call(open()).await })
    };
    for _ in 0..5 {
        client.call(dialog()).await.expect("another method goes on");
    }
    assert!(
        !held.is_finished(),
        "session.open went out before its reset while dialog.get ran"
    );
    let dialog_status = client.operating_time(DIALOG).expect("known");
    assert!(dialog_status.blocked_for.is_none());

    held.await.expect("task").expect("succeeds after the reset");
    let requests = emu.requests();
    assert!(
        requests.iter().all(|r| r.status == 200),
        "the portal never had to refuse: {:?}",
        requests.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let fourth = requests
        .iter()
        .filter(|r| r.method == OPEN)
        .nth(3)
        .expect("the held call");
    assert!(
        unix(fourth.time) >= reset_at - 0.001,
        "sent at {} before the reset at {reset_at}",
        unix(fourth.time)
    );
    // The dialogs were answered before the held call was sent.
    let dialogs: Vec<_> = requests.iter().filter(|r| r.method == DIALOG).collect();
    assert_eq!(dialogs.len(), 5);
    assert!(dialogs.iter().all(|r| r.time < fourth.time));
    assert!(client
        .operating_time(OPEN)
        .is_some_and(|s| s.blocked_for.is_none()));
}

/// The same with auto-batching: a held-back method's call waits for its reset on its own, and
/// the calls of other methods made meanwhile go out in batches of their own (in one batch with
/// it they would wait for its reset too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auto_batched_held_back_method_does_not_hold_back_the_others() {
    let emu = open_costs_200().await;
    let client = Client::builder()
        .webhook(&webhook(&emu))
        .no_rate_limit()
        .auto_batch(b24::AutoBatch::default())
        .build()
        .expect("client");
    for _ in 0..3 {
        client.call(open()).await.expect("within budget");
    }
    let blocked = client
        .operating_time(OPEN)
        .and_then(|s| s.blocked_for)
        .expect("held back: 600 s >= 480 s");
    let held = {
        let client = client.clone();
        tokio::spawn(async move { client.call(open()).await })
    };
    let started = std::time::Instant::now();
    for _ in 0..5 {
        client.call(dialog()).await.expect("another method goes on");
    }
    assert!(
        !held.is_finished(),
        "session.open went out before its reset ({blocked:?}) while dialog.get ran"
    );
    assert!(
        started.elapsed() < blocked,
        "the dialogs waited for session.open's reset: {:?}",
        started.elapsed()
    );
    held.await.expect("task").expect("succeeds after the reset");
    let requests = emu.requests();
    assert!(requests.iter().all(|r| r.status == 200));
}

/// The portal's budget is smaller than the client thinks (100 s against the default 480 s), so the
/// portal answers `OPERATION_TIME_LIMIT`: the client waits for the reset it last read, and the call
/// succeeds.
#[tokio::test]
async fn operation_time_limit_from_the_portal_waits_for_the_reset_then_succeeds() {
    let mut portal = Portal::demo();
    portal.set_time_scale(200.0);
    portal.set_operating_budget(Some(100.0));
    portal.set_method_cost(OPEN, 60.0);
    let emu = Emulator::start(portal).await.expect("emulator");
    let client = Client::builder()
        .webhook(&webhook(&emu))
        .no_rate_limit()
        .build()
        .expect("client");

    client.call(open()).await.expect("60 s");
    let reply = client.call(open()).with_meta().await.expect("120 s");
    let reset_at = reply
        .time
        .and_then(|t| t.operating_reset_at)
        .expect("reset");
    assert!(client
        .operating_time(OPEN)
        .is_some_and(|s| s.blocked_for.is_none()));

    // 120 s > 100 s: the portal refuses the next call until the reset; the client waits for it.
    let opened = client.call(open()).await.expect("succeeds after the reset");
    assert_eq!(opened.chat_id, DEMO_IDS.lines_chat_id as i64);
    let requests = emu.requests();
    let statuses: Vec<_> = requests.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 429, 200]);
    assert_eq!(requests[2].error.as_deref(), Some("OPERATION_TIME_LIMIT"));
    assert!(unix(requests[3].time) >= reset_at - 0.001);
}

/// `OPERATION_TIME_LIMIT` with no reset time known: the configured fallback wait. With retries
/// off the error comes back at once, and the method is still held back for the next call.
#[tokio::test]
async fn operation_time_limit_without_a_known_reset_uses_the_fallback_wait() {
    let emu = portal_with(1.0, None).await;
    let limit = OperatingLimit {
        fallback_wait: Duration::from_millis(300),
        ..OperatingLimit::default()
    };
    let refused = Reply::error(
        429,
        "OPERATION_TIME_LIMIT",
        "Method is blocked due to operation time limit.",
    );
    let client = Client::builder()
        .webhook(&webhook(&emu))
        .operating_limit(limit)
        .retry(RetryPolicy::default().base_delay(Duration::from_millis(1)))
        .build()
        .expect("client");
    emu.faults()
        .add(Fault::on(OPEN).once().respond(refused.clone()));
    client.call(open()).await.expect("succeeds after the wait");
    let requests = emu.requests();
    assert_eq!(requests.len(), 2);
    let gap = requests[1]
        .time
        .duration_since(requests[0].time)
        .expect("in order");
    assert!(gap >= Duration::from_millis(290), "{gap:?}");

    emu.clear_requests();
    let strict = Client::builder()
        .webhook(&webhook(&emu))
        .operating_limit(limit)
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    emu.faults().add(Fault::on(OPEN).once().respond(refused));
    let err = strict.call(open()).await.expect_err("retries are off");
    match err.kind() {
        ErrorKind::Api(api) => assert_eq!(api.code, ErrorCode::OperationTimeLimit),
        other => panic!("{other:?}"),
    }
    assert!(err.is_retryable());
    assert_eq!(err.attempts(), 1);
    assert!(
        strict
            .operating_time(OPEN)
            .and_then(|s| s.blocked_for)
            .is_some(),
        "the method is held back for the next call"
    );
    strict.call(open()).await.expect("after the fallback wait");
    strict
        .call(dialog())
        .await
        .expect("other methods were never held");
    let requests = emu.requests();
    assert_eq!(requests.len(), 3);
    let gap = requests[1]
        .time
        .duration_since(requests[0].time)
        .expect("in order");
    assert!(gap >= Duration::from_millis(290), "{gap:?}");
}

// ---------------------------------------------------------------------------------------------
// tracing

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("buffer")).into_owned()
    }
}

/// Waits are logged with the method, how long and why. (A current-thread runtime keeps every
/// task of this test on the thread whose default subscriber captures them.)
#[tokio::test]
async fn tracing_says_when_and_why_a_call_waited() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut portal = Portal::demo();
    portal.set_time_scale(1000.0);
    portal.set_operating_budget(Some(480.0));
    portal.set_method_cost(OPEN, 500.0);
    let emu = Emulator::start(portal).await.expect("emulator");
    let client = Client::builder()
        .webhook(&webhook(&emu))
        .rate_limit(RateLimit::new(3, 50.0))
        .build()
        .expect("client");
    client
        .call(open())
        .await
        .expect("first call spends the budget");
    client.call(open()).await.expect("waits for the reset");
    // Other tests of this binary, on threads with no subscriber, register the runtime's callsites
    // at the same moment as this subscriber is made; tracing can then keep "no one listens" for
    // one of them (the bucket's). By now they have all made their first calls: ask again.
    tracing::callsite::rebuild_interest_cache();
    for _ in 0..3 {
        client
            .call(dialog())
            .await
            .expect("the bucket makes the last wait");
    }

    let log = captured.text();
    let line = |needle: &str| {
        log.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in:\n{log}"))
            .to_owned()
    };
    let spent = line("operating-time budget spent");
    assert!(
        spent.contains(OPEN) && spent.contains("reset_in_ms"),
        "{spent}"
    );
    let waited = line("waiting for the method's operating-time reset");
    assert!(
        waited.contains(OPEN) && waited.contains("wait_ms"),
        "{waited}"
    );
    let bucket = line("waiting for the rate limit (leaky bucket)");
    assert!(
        bucket.contains(DIALOG) && bucket.contains("wait_ms") && bucket.contains("level"),
        "{bucket}"
    );
    // Every call is a span with the method and the number of attempts.
    assert!(log.contains("b24.call"), "{log}");
}
