//! What a hostile portal (a raw TCP server on loopback sending chosen bytes) can no longer do to a
//! client, one regression test per break of issue 7's wire half:
//!
//! 1. `time` values that are not usable numbers (`"NaN"`, `"inf"`, `1e308`, negative) panic
//!    nothing: not the call, not a batch, not `client.operating_time()`;
//! 2. paging ends with `ErrorKind::Paging` when `next` does not advance, the cursor does not move
//!    or `total` is absurd, within a bound;
//! 3. secrets echoed in the error code, the REST 3.0 code object, map keys of a decode path, batch
//!    sub-call errors, batch envelope keys and the `retrying` log line never show, and an 8 MiB
//!    code makes an error of a few KiB;
//! 4. bad `time`/`next`/`total` beside a good `result` are dropped: the call succeeds;
//! 5. a call a batch answer says nothing about is retryable only if its method is idempotent.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use b24::batch::BatchFailure;
use b24::crm::LeadList;
use b24::exports::futures::StreamExt;
use b24::imopenlines::SessionStart;
use b24::{b24_method, Client, ErrorKind, PagingError, RetryPolicy};
use serde_json::{json, Value};
use tracing_subscriber::util::SubscriberInitExt;

mod common;
use common::hostile::{Answer, Hostile, Request, CODE};

/// A method whose result is a map keyed by what the portal chose.
#[b24_method("x.map.get", response = HashMap<String, Vec<u64>>, idempotent = true)]
pub struct MapGet {}

fn client(portal: &Hostile) -> Client {
    Client::builder()
        .webhook(&portal.webhook)
        .no_rate_limit()
        .retry(RetryPolicy::none())
        .build()
        .expect("a loopback webhook")
}

/// Every log line of this test binary, at TRACE.
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

// ---------------------------------------------------------------------------------------------
// 1. time

/// `time` blocks no real portal sends.
const ABSURD_TIMES: [&str; 6] = [
    r#"{"start": 1, "finish": "NaN", "operating": 1, "operating_reset_at": 5}"#,
    r#"{"start": 1, "finish": 2, "operating": "inf", "operating_reset_at": 5}"#,
    r#"{"start": 1, "finish": 2, "operating": "NaN", "operating_reset_at": "NaN"}"#,
    r#"{"start": 1, "finish": 2, "operating": 1e308, "operating_reset_at": 5}"#,
    r#"{"start": -1e308, "finish": -1e308, "operating": 500, "operating_reset_at": 1e308}"#,
    r#"{"start": 1, "finish": 2, "operating": -5, "operating_reset_at": "-inf", "duration": "1e999"}"#,
];

#[tokio::test]
async fn time_values_that_are_not_usable_numbers_panic_nothing() {
    for time in ABSURD_TIMES {
        let body = format!(
            r#"{{"result": {{"result": {{"c0": true}}, "result_time": {{"c0": {time}}}}}, "time": {time}}}"#
        );
        let single = format!(r#"{{"result": true, "time": {time}}}"#);
        let portal = Hostile::start(move |r: &Request| match r.method.as_str() {
            "batch" => Answer::ok(body.clone()),
            _ => Answer::ok(single.clone()),
        })
        .await;
        let client = client(&portal);
        // A panic inside would fail the test (it is the task's panic).
        let started = client.call(SessionStart::new(1)).await;
        assert!(started.expect("the method ran: its result"), "{time}");
        let status = client.operating_time("imopenlines.session.start");
        if let Some(status) = status {
            assert!(status.blocked_for.unwrap_or_default() <= Duration::from_secs(600));
        }
        let mut batch = client.batch();
        let handle = batch.push(SessionStart::new(1));
        let mut results = batch.send().await;
        assert!(results.take(&handle).expect("the sub-call ran"), "{time}");
        let _ = client.operating_time("imopenlines.session.start");
    }
}

// ---------------------------------------------------------------------------------------------
// 2. paging

/// A page of 50 leads with ids from `first`, with `next` and `total` as given.
fn leads(first: u64, extra: &str) -> String {
    let rows: Vec<Value> = (first..first + 50).map(|id| json!({"ID": id})).collect();
    format!(r#"{{"result": {}{extra}}}"#, Value::from(rows))
}

#[tokio::test]
async fn paging_that_would_never_end_ends_with_a_typed_error() {
    #[derive(Debug, Clone, Copy)]
    enum Mode {
        Sequential,
        Fast,
        Parallel,
    }
    /// The mode, the portal's answer to a request, and the error expected.
    type Case = (Mode, fn(&Request) -> String, fn(&PagingError) -> bool);
    let cases: [Case; 7] = [
        // `next` 0 on every page.
        (
            Mode::Sequential,
            |_| leads(1, r#", "next": 0"#),
            |e| matches!(e, PagingError::Stalled { start: 0, next: 0 }),
        ),
        // The same `next` again.
        (
            Mode::Sequential,
            |_| leads(1, r#", "next": 50"#),
            |e| {
                matches!(
                    e,
                    PagingError::Stalled {
                        start: 50,
                        next: 50
                    }
                )
            },
        ),
        // Going backwards.
        (
            Mode::Sequential,
            |r| match r.body["start"].as_u64() {
                Some(0) => leads(1, r#", "next": 100"#),
                _ => leads(1, r#", "next": 50"#),
            },
            |e| {
                matches!(
                    e,
                    PagingError::Stalled {
                        start: 100,
                        next: 50
                    }
                )
            },
        ),
        // Advancing by less than the page: rows read again, one request per row.
        (
            Mode::Sequential,
            |r| {
                let start = r.body["start"].as_u64().unwrap_or(0);
                leads(1, &format!(r#", "next": {}"#, start + 1))
            },
            |e| matches!(e, PagingError::Stalled { start: 0, next: 1 }),
        ),
        // Past any sane ceiling (and past i64).
        (
            Mode::Sequential,
            |_| leads(1, r#", "next": 18446744073709551615"#),
            |e| matches!(e, PagingError::TooManyRows { .. }),
        ),
        // A full page whose cursor never moves.
        (
            Mode::Fast,
            |_| leads(1, ""),
            |e| matches!(e, PagingError::CursorStalled { field: "ID" }),
        ),
        // `total = u64::MAX`: refused, nothing collected.
        (
            Mode::Parallel,
            |_| leads(1, r#", "next": 50, "total": 18446744073709551615"#),
            |e| matches!(e, PagingError::TooManyRows { rows: u64::MAX, .. }),
        ),
    ];
    let mut failures = Vec::new();
    for (i, (mode, answer, expected)) in cases.into_iter().enumerate() {
        let portal = Hostile::start(move |r: &Request| Answer::ok(answer(r))).await;
        let client = client(&portal);
        let stream = match mode {
            Mode::Sequential => client.list(LeadList::new()),
            Mode::Fast => client.list_fast(LeadList::new()),
            Mode::Parallel => client.list_parallel(LeadList::new(), 4),
        };
        let Ok(items) =
            tokio::time::timeout(Duration::from_secs(5), stream.collect::<Vec<_>>()).await
        else {
            failures.push(format!("case {i} ({mode:?}): the stream did not end"));
            continue;
        };
        match items
            .last()
            .map(|item| item.as_ref().map_err(|e| (e.kind(), e.is_retryable())))
        {
            Some(Err((ErrorKind::Paging(e), false))) if expected(e) => {}
            other => failures.push(format!("case {i} ({mode:?}): ended with {other:?}")),
        }
        if portal.requests() > 3 {
            failures.push(format!(
                "case {i} ({mode:?}): {} requests",
                portal.requests()
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The ceiling is the client's: a smaller one refuses a `total` a default client accepts.
#[tokio::test]
async fn the_list_ceiling_is_configurable() {
    let portal = Hostile::start(|_: &Request| Answer::ok(leads(1, r#", "total": 5000"#))).await;
    let strict = Client::builder()
        .webhook(&portal.webhook)
        .no_rate_limit()
        .max_list_rows(1000)
        .build()
        .expect("client");
    let items: Vec<_> = strict.list_parallel(LeadList::new(), 2).collect().await;
    assert_eq!(items.len(), 1);
    assert!(matches!(
        items[0].as_ref().map_err(|e| e.kind()),
        Err(ErrorKind::Paging(PagingError::TooManyRows {
            rows: 5000,
            limit: 1000
        }))
    ));

    // Fast mode: a cursor that always moves on, without end, stops at the ceiling.
    let endless = Hostile::start(|r: &Request| {
        let after = r.body["filter"][">ID"].as_u64().unwrap_or(0);
        Answer::ok(leads(after + 1, ""))
    })
    .await;
    let strict = Client::builder()
        .webhook(&endless.webhook)
        .no_rate_limit()
        .max_list_rows(1000)
        .build()
        .expect("client");
    let items: Vec<_> = tokio::time::timeout(
        Duration::from_secs(10),
        strict.list_fast(LeadList::new()).collect(),
    )
    .await
    .expect("the stream ends");
    assert_eq!(items.len(), 1001, "1,000 rows, then the error");
    assert!(matches!(
        items[1000].as_ref().map_err(|e| e.kind()),
        Err(ErrorKind::Paging(PagingError::TooManyRows {
            rows: 1000,
            limit: 1000
        }))
    ));
    assert_eq!(endless.requests(), 20);
}

// ---------------------------------------------------------------------------------------------
// 3. secrets and unbounded text

/// Whether `text` shows the webhook code or any 8-character piece of it.
fn leaks(text: &str) -> bool {
    CODE.as_bytes()
        .windows(8)
        .any(|w| text.contains(std::str::from_utf8(w).expect("ascii")))
}

#[tokio::test]
async fn secrets_echoed_in_codes_keys_and_batch_errors_never_show() {
    let log = captured();
    let huge = format!("{CODE}{}", "X".repeat(8 << 20));
    let cases: Vec<(&str, u16, String)> = vec![
        (
            "an 8 MiB error code",
            400,
            format!(r#"{{"error": "{huge}"}}"#),
        ),
        (
            "a REST 3.0 code object",
            400,
            format!(r#"{{"error": {{"code": "{CODE}", "message": "{CODE}"}}}}"#),
        ),
        (
            "a REST 3.0 code that is an object",
            400,
            format!(r#"{{"error": {{"code": {{"{CODE}": 1}}}}}}"#),
        ),
        (
            "a map key quoted in the decode path",
            200,
            format!(r#"{{"result": {{"{CODE}": ["not a number"]}}}}"#),
        ),
        (
            "a batch sub-call's error",
            200,
            format!(
                r#"{{"result": {{"result": [], "result_error": {{"c0": {{"error": "{huge}", "error_description": "{CODE}"}}}}}}}}"#
            ),
        ),
        (
            "a key of the batch envelope",
            200,
            format!(
                r#"{{"result": {{"result": {{"{CODE}": 1}}, "result_total": {{"{CODE}": "x"}}, "result_time": {{"{CODE}": "y"}}}}}}"#
            ),
        ),
        (
            "the retrying log line",
            500,
            format!(r#"{{"error": "{CODE}_{huge}"}}"#),
        ),
    ];
    let mut failures = Vec::new();
    for (case, status, body) in cases {
        let portal = Hostile::start(move |_: &Request| Answer::status(status, body.clone())).await;
        let client = Client::builder()
            .webhook(&portal.webhook)
            .no_rate_limit()
            .retry(
                RetryPolicy::default()
                    .max_attempts(2)
                    .base_delay(Duration::from_millis(1)),
            )
            .build()
            .expect("client");
        let mut texts = Vec::new();
        let mut show = |e: &dyn std::fmt::Display, d: &dyn std::fmt::Debug| {
            texts.push(e.to_string());
            texts.push(format!("{d:?}"));
        };
        if let Err(e) = client.call(MapGet {}).await {
            show(&e, &e);
        }
        if let Err(e) = client.call(SessionStart::new(1)).await {
            show(&e, &e);
        }
        let mut batch = client.batch();
        let handle = batch.push(SessionStart::new(1));
        let mut results = batch.send().await;
        if let Err(e) = results.take(&handle) {
            show(&e, &e);
        }
        if texts.is_empty() {
            failures.push(format!("{case}: no call failed"));
        }
        if texts.iter().any(|t| leaks(t)) {
            failures.push(format!("{case}: the code shows"));
        }
        if let Some(long) = texts.iter().find(|t| t.len() >= 16 * 1024) {
            failures.push(format!("{case}: {} bytes", long.len()));
        }
    }
    let log = String::from_utf8_lossy(&log.0.lock().expect("log")).into_owned();
    assert!(log.contains("retrying"), "the retry was logged");
    if leaks(&log) {
        failures.push("the log shows the code".into());
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

// ---------------------------------------------------------------------------------------------
// 4. bad metadata beside a good result

#[tokio::test]
async fn bad_metadata_beside_a_good_result_keeps_the_result() {
    for meta in [
        r#""next": "NaN""#,
        r#""next": -50, "total": {"a": 1}"#,
        r#""total": 1e999"#,
        r#""time": "not a time""#,
        r#""time": {"operating": "NaN", "operating_reset_at": 1}"#,
    ] {
        let body = format!(r#"{{"result": true, {meta}}}"#);
        let portal = Hostile::start(move |_: &Request| Answer::ok(body.clone())).await;
        let client = client(&portal);
        let reply = client
            .call(SessionStart::new(1))
            .with_meta()
            .await
            .unwrap_or_else(|e| panic!("{meta}: {e}"));
        assert!(reply.result, "{meta}");
        assert_eq!((reply.next, reply.total), (None, None), "{meta}");
    }
}

// ---------------------------------------------------------------------------------------------
// 5. a key missing from a batch answer

#[tokio::test]
async fn a_call_missing_from_a_batch_answer_is_retryable_only_if_idempotent() {
    let portal = Hostile::start(|_: &Request| {
        Answer::ok(r#"{"result": {"result": {}, "result_error": []}}"#)
    })
    .await;
    let client = client(&portal);
    let mut batch = client.batch();
    let write = batch.push(SessionStart::new(1));
    let read = batch.push(LeadList::new());
    let mut results = batch.send().await;
    let write = results.take(&write).expect_err("missing");
    let read = results.take(&read).expect_err("missing");
    assert!(matches!(
        write.kind(),
        ErrorKind::Batch(BatchFailure::Missing)
    ));
    assert!(matches!(
        read.kind(),
        ErrorKind::Batch(BatchFailure::Missing)
    ));
    assert!(!write.is_retryable(), "the portal may have run it");
    assert!(read.is_retryable(), "an idempotent read may be made again");
}
