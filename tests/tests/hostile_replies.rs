//! A property test over the whole call path: a hostile portal (raw TCP on loopback) answers with
//! generated replies (absurd numbers and strings in `time`, `next`, `total`; the webhook code
//! echoed in every string field and key; wrong types; strings of hundreds of KiB; bodies that
//! are not JSON), and a typed call, a batch and the three paging modes run against it. For every
//! case:
//!
//! - nothing panics;
//! - every call and every stream ends within [`BOUND`];
//! - no `Debug` or `Display` of an error, and no line of the captured TRACE log, shows the webhook
//!   code (or any 8-byte piece of it);
//! - the `Display` of every error stays under 16 KiB, its `Debug` under 32 KiB.
//!
//! Waits the portal asks for (an operating-time reset, up to the ten-minute window) are not
//! hangs: the clients are set up so that no call has to wait for one.
//!
//! `PROPTEST_CASES` sets the number of cases (default 48, a few seconds).

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use b24::crm::LeadList;
use b24::exports::futures::StreamExt;
use b24::imopenlines::SessionStart;
use b24::{b24_method, Client, RetryPolicy};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};
use tracing_subscriber::util::SubscriberInitExt;

mod common;
use common::hostile::{Answer, Hostile, Request, CODE};

/// How long one call or one whole stream may take.
const BOUND: Duration = Duration::from_secs(10);

/// A method whose result is a map keyed by what the portal chose.
#[b24_method("x.map.get", response = HashMap<String, Vec<u64>>, idempotent = true)]
pub struct MapGet {}

// ---------------------------------------------------------------------------------------------
// generated replies

/// A string as a hostile portal sends it: the webhook code alone, inside other text, after
/// hundreds of KiB, or ordinary text. (Megabytes are `hostile_wire.rs`'s: here they would make
/// each case take seconds in a debug build.)
fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(CODE.to_owned()),
        3 => "[A-Za-z_]{0,12}".prop_map(|p| format!("{p}{CODE}{p}")),
        1 => prop::sample::select(vec![4_000usize, 5_000, 70_000, 200_000])
            .prop_map(|n| format!("{}{CODE}{}", "X".repeat(n), "é".repeat(n / 3))),
        3 => ".{0,16}",
    ]
}

/// A number, or what stands where a number should.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::sample::select(vec![
            json!("NaN"), json!("inf"), json!("-inf"), json!("1e999"), json!("-0"),
            json!(1e308), json!(-1e308), json!(u64::MAX), json!(i64::MIN), json!(i64::MAX),
            json!(0), json!(-1), json!(50), json!(100), json!(49.5), json!(f64::MIN_POSITIVE),
            json!("18446744073709551616"), json!(null), json!([]), json!({}), json!(true),
            json!(""),
        ]),
        2 => any::<u64>().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        1 => (0u64..5000).prop_map(Value::from),
        1 => string().prop_map(Value::from),
    ]
}

/// A `time` block, or something else where it should be.
fn time() -> impl Strategy<Value = Value> {
    let block = (
        number(),
        number(),
        number(),
        number(),
        number(),
        number(),
        prop_oneof![
            Just(json!("2026-03-16T14:31:58+01:00")),
            string().prop_map(Value::from)
        ],
    )
        .prop_map(
            |(start, finish, duration, processing, operating, reset, date)| {
                json!({"start": start, "finish": finish, "duration": duration,
                "processing": processing, "operating": operating,
                "operating_reset_at": reset, "date_start": date})
            },
        );
    prop_oneof![3 => block, 1 => number()]
}

/// A key: the webhook code, a batch key, an `ID`, digits.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        string(),
        Just("ID".to_owned()),
        Just("c0".to_owned()),
        "[0-9]{1,3}",
        "[a-z_]{1,8}",
    ]
}

/// Any JSON, hostile in its leaves and keys.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![number(), string().prop_map(Value::from)];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// A page of list rows, with hostile ids and fields.
fn rows() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec((number(), key(), value()), 0..4),
        prop_oneof![Just(0usize), Just(50), 0usize..60],
    )
        .prop_map(|(templates, n)| {
            let rows: Vec<Value> = (0..n)
                // Each template once (at rows 3, 10, 17, 24), the rest plain.
                .map(|i| match templates.get(i / 7) {
                    Some((id, key, value)) if i % 7 == 3 => json!({"ID": id, key: value}),
                    _ => json!({"ID": i + 1, "TITLE": CODE}),
                })
                .collect();
            Value::from(rows)
        })
}

/// An `error` field.
fn error() -> impl Strategy<Value = Value> {
    prop_oneof![
        string().prop_map(Value::from),
        string().prop_map(|code| json!({"code": code, "message": CODE})),
        value().prop_map(|code| json!({"code": code})),
        prop::sample::select(vec![
            "QUERY_LIMIT_EXCEEDED",
            "OPERATION_TIME_LIMIT",
            "INTERNAL_SERVER_ERROR",
            "expired_token",
            "CHAT_ID",
            "",
        ])
        .prop_map(Value::from),
        value(),
    ]
}

/// A whole envelope, each field present or not, right or wrong.
fn envelope() -> impl Strategy<Value = Value> {
    (
        prop::option::of(prop_oneof![rows(), value(), Just(json!(true))]),
        prop::option::weighted(0.3, error()),
        prop::option::of(prop_oneof![string().prop_map(Value::from), value()]),
        prop::option::of(time()),
        prop::option::of(number()),
        prop::option::of(number()),
        prop::option::of((string(), value())),
    )
        .prop_map(|(result, error, description, time, next, total, extra)| {
            let mut map = Map::new();
            for (key, value) in [
                ("result", result),
                ("error", error),
                ("error_description", description),
                ("time", time),
                ("next", next),
                ("total", total),
            ] {
                if let Some(value) = value {
                    map.insert(key.into(), value);
                }
            }
            if let Some((key, value)) = extra {
                map.insert(key, value);
            }
            Value::Object(map)
        })
}

/// What one sub-call of a batch gets, with its `time`, `total` and `next`.
type SubPlan = (Sub, Option<Value>, Option<Value>, Option<Value>);

/// What one sub-call of a batch gets.
#[derive(Debug, Clone)]
enum Sub {
    Result(Value),
    Error(Value, Value),
    Missing,
}

fn sub() -> impl Strategy<Value = SubPlan> {
    (
        prop_oneof![
            3 => prop_oneof![rows(), value()].prop_map(Sub::Result),
            1 => (error(), string().prop_map(Value::from)).prop_map(|(e, d)| Sub::Error(e, d)),
            1 => Just(Sub::Missing),
        ],
        prop::option::of(time()),
        prop::option::of(number()),
        prop::option::of(number()),
    )
}

/// The replies of one case.
#[derive(Debug, Clone)]
struct Plan {
    /// Answers to direct calls, in turn: a status and a body (JSON, or bytes that are not).
    replies: Vec<(u16, Vec<u8>)>,
    /// How sub-calls of a batch fare, in turn, and an extra key with a value beside them.
    subs: Vec<SubPlan>,
    extra: (String, Value),
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => envelope().prop_map(|v| serde_json::to_vec(&v).expect("JSON")),
        1 => (envelope(), any::<prop::sample::Index>()).prop_map(|(v, cut)| {
            let bytes = serde_json::to_vec(&v).expect("JSON");
            bytes[..cut.index(bytes.len().max(1)).min(bytes.len())].to_vec()
        }),
        1 => string().prop_map(|s| format!("<html><body>502 {s}</body></html>").into_bytes()),
    ]
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        prop::collection::vec(
            (
                prop::sample::select(vec![200u16, 200, 200, 400, 401, 429, 500, 503]),
                body(),
            ),
            1..4,
        ),
        prop::collection::vec(sub(), 1..4),
        (string(), value()),
    )
        .prop_map(|(replies, subs, extra)| Plan {
            replies,
            subs,
            extra,
        })
}

/// The portal's answer to `request` under `plan`.
fn answer(plan: &Plan, request: &Request) -> Answer {
    let keys: Vec<String> = request.body["cmd"]
        .as_object()
        .map(|cmd| cmd.keys().cloned().collect())
        .unwrap_or_default();
    // A batch is answered by sub-call every other time, and by a direct reply otherwise.
    if request.method == "batch" && !keys.is_empty() && request.index.is_multiple_of(2) {
        let mut parts: [Map<String, Value>; 5] = Default::default();
        for (i, key) in keys.iter().enumerate() {
            let (sub, time, total, next) = &plan.subs[i % plan.subs.len()];
            match sub {
                Sub::Result(value) => {
                    parts[0].insert(key.clone(), value.clone());
                }
                Sub::Error(error, description) => {
                    let e = json!({"error": error, "error_description": description});
                    parts[1].insert(key.clone(), e);
                }
                Sub::Missing => {}
            }
            for (part, value) in [(2, total), (3, next), (4, time)] {
                if let Some(value) = value {
                    parts[part].insert(key.clone(), value.clone());
                }
            }
        }
        let (extra_key, extra_value) = &plan.extra;
        parts[0].insert(extra_key.clone(), extra_value.clone());
        parts[4].insert(extra_key.clone(), extra_value.clone());
        let [result, result_error, result_total, result_next, result_time] = parts;
        let body = json!({"result": {"result": result, "result_error": result_error,
            "result_total": result_total, "result_next": result_next,
            "result_time": result_time}});
        return Answer::ok(serde_json::to_vec(&body).expect("JSON"));
    }
    let (status, body) = &plan.replies[request.index % plan.replies.len()];
    Answer::status(*status, body.clone())
}

// ---------------------------------------------------------------------------------------------
// the run

/// Every log line, at TRACE.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish()
            .try_init()
            .expect("the only subscriber of this binary");
        captured
    })
}

/// Whether `text` shows the webhook code or any 8-byte piece of it.
fn leaks(text: &str) -> bool {
    CODE.as_bytes()
        .windows(8)
        .any(|w| text.contains(std::str::from_utf8(w).expect("ascii")))
}

/// Checks the `Debug` and `Display` of an error.
fn check_error(path: &str, e: &(impl std::fmt::Debug + std::fmt::Display)) -> Result<(), String> {
    let display = e.to_string();
    let debug = format!("{e:?}");
    if leaks(&display) || leaks(&debug) {
        return Err(format!("{path}: the code shows in {}", cut(&debug)));
    }
    if display.len() >= 16 * 1024 || debug.len() >= 32 * 1024 {
        return Err(format!(
            "{path}: Display {} / Debug {} bytes: {}",
            display.len(),
            debug.len(),
            cut(&display)
        ));
    }
    Ok(())
}

fn cut(text: &str) -> &str {
    let mut end = text.len().min(600);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Runs `future` within [`BOUND`].
async fn bounded<T>(
    path: &str,
    future: impl std::future::IntoFuture<Output = T>,
) -> Result<T, String> {
    tokio::time::timeout(BOUND, future)
        .await
        .map_err(|_| format!("{path}: did not end within {BOUND:?}"))
}

/// The whole call path against the portal as `plan` makes it.
async fn run_case(portal: &Hostile) -> Result<(), String> {
    // The typed call and the batch: operating-time accounting on (what `time` feeds), no
    // retries, each method called once per client, so that no call waits for a reset the portal
    // named (up to ten minutes, by design). The paging modes: retries on, accounting off.
    let client_with = |operating: bool| {
        let builder = Client::builder()
            .webhook(&portal.webhook)
            .no_rate_limit()
            .max_list_rows(5_000);
        let builder = if operating {
            builder.retry(RetryPolicy::none())
        } else {
            builder.no_operating_limit().retry(
                RetryPolicy::default()
                    .max_attempts(2)
                    .base_delay(Duration::from_millis(1))
                    .max_delay(Duration::from_millis(2)),
            )
        };
        builder.build().expect("client")
    };
    let fresh = || client_with(true);

    let client = fresh();
    if let Err(e) = bounded("call", client.call(SessionStart::new(1)).with_meta()).await? {
        check_error("call", &e)?;
    }
    if let Err(e) = bounded("map call", client.call(MapGet {})).await? {
        check_error("map call", &e)?;
    }
    let _ = format!("{:?}", client.operating_time("imopenlines.session.start"));
    let _ = format!("{:?}", client.operating_time("x.map.get"));

    let client = fresh();
    let mut batch = client.batch();
    let handles: Vec<_> = (1..=3).map(|i| batch.push(SessionStart::new(i))).collect();
    let map = batch.push(MapGet {});
    let mut results = bounded("batch", batch.send()).await?;
    for handle in &handles {
        if let Err(e) = results.take_with_meta(handle) {
            check_error("batch", &e)?;
        }
    }
    if let Err(e) = results.take(&map) {
        check_error("batch map", &e)?;
    }
    let _ = format!("{:?}", client.operating_time("imopenlines.session.start"));

    for mode in 0..3 {
        let client = client_with(false);
        let stream = match mode {
            0 => client.list(LeadList::new()),
            1 => client.list_fast(LeadList::new()),
            _ => client.list_parallel(LeadList::new(), 2),
        };
        let items: Vec<_> = bounded("paging", stream.collect()).await?;
        for e in items.iter().filter_map(|item| item.as_ref().err()) {
            check_error("paging", e)?;
        }
    }
    Ok(())
}

#[test]
fn hostile_replies_never_panic_hang_leak_or_grow() {
    // The generated strategies' types are deep, and so are their frames in a debug build.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(run_property)
        .expect("a thread")
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

fn run_property() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    let log = captured();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let current: Arc<Mutex<Option<Plan>>> = Arc::default();
    let portal = {
        let current = current.clone();
        runtime.block_on(Hostile::start(move |request: &Request| {
            let plan = current
                .lock()
                .expect("plan")
                .clone()
                .expect("a plan is set");
            answer(&plan, request)
        }))
    };
    let started = std::time::Instant::now();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let done = std::sync::atomic::AtomicU32::new(0);
    let result = runner.run(&plan(), |plan| {
        // Progress of long runs (`--nocapture`).
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if n.is_multiple_of(1000) {
            eprintln!("{n} cases run in {:.0} s", started.elapsed().as_secs_f64());
        }
        *current.lock().expect("plan") = Some(plan);
        let outcome = runtime.block_on(run_case(&portal));
        let lines = std::mem::take(&mut *log.0.lock().expect("log"));
        outcome.map_err(TestCaseError::fail)?;
        let lines = String::from_utf8_lossy(&lines);
        if leaks(&lines) {
            let at = lines.find(&CODE[..8]).unwrap_or(0);
            let from = lines[..at].rfind('\n').map_or(0, |n| n + 1);
            return Err(TestCaseError::fail(format!(
                "the log shows the code: {}",
                cut(&lines[from..])
            )));
        }
        Ok(())
    });
    eprintln!(
        "{cases} hostile cases in {:.1} s ({} requests)",
        started.elapsed().as_secs_f64(),
        portal.requests()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}
