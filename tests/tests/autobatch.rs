//! Auto-batching (opt-in, `ClientBuilder::auto_batch`): concurrent independent calls made through
//! one client within a short window are coalesced into `batch` requests of up to 50, and each
//! caller gets its own typed result or typed error back.
//!
//! - `join_all` over 1,000 `imopenlines.session.start` calls costs exactly 20 `batch` HTTP
//!   requests (counted in the emulator's journal), on the current-thread and the multi-thread
//!   runtime; without auto-batching the same calls are 1,000 requests;
//! - a mix of valid and invalid chat ids, and of methods, gives each caller its own typed error;
//! - a caller that goes away before its batch is sent is left out of it; one that goes away after
//!   does not stop the batch, whose other callers still get their results.

use std::future::IntoFuture;
use std::time::Duration;

use b24::exports::futures::future::join_all;
use b24::exports::futures::poll;
use b24::imopenlines::{
    SessionOpen, SessionOpenError, SessionOpened, SessionStart, SessionStartError,
};
use b24::{AutoBatch, Client, Error, ErrorKind, MethodError, RetryPolicy};
use b24_emulator::{Emulator, Fault, Portal, Reply, DEMO_IDS};
use serde_json::json;

mod common;
use common::{batch_requests, commands, commands_per_request, http_requests};

const LINES: i64 = 101;
const GROUP: i64 = 102;

async fn demo() -> Emulator {
    assert_eq!(DEMO_IDS.lines_chat_id, 101);
    assert_eq!(DEMO_IDS.group_chat_id, 102);
    Emulator::start(Portal::demo())
        .await
        .expect("the emulator starts")
}

/// User 1's webhook client with auto-batching (and no client-side rate limit).
fn auto_batching(emu: &Emulator, settings: AutoBatch) -> Client {
    let url = emu
        .webhook_url(DEMO_IDS.admin_user)
        .expect("the demo admin has a webhook");
    Client::builder()
        .webhook(&url)
        .no_rate_limit()
        .auto_batch(settings)
        .build()
        .expect("a loopback http webhook URL is accepted")
}

fn sessions_of_demo_chat(emu: &Emulator) -> usize {
    emu.portal()
        .lock()
        .sessions_of_chat(DEMO_IDS.lines_chat_id)
        .count()
}

/// Asserts a method error from inside a batch (no HTTP status there).
#[track_caller]
fn assert_method_error<E: MethodError>(err: &Error<E>, code: &str) {
    match err.kind() {
        ErrorKind::Method { error, status } => {
            assert_eq!(error.code(), code, "{err}");
            assert_eq!(*status, 0, "{err}");
        }
        other => panic!("expected the method error {code}, got {other:?}"),
    }
    assert_eq!(err.attempts(), 1);
}

async fn start_1000(client: &Client) -> Vec<Result<bool, Error<SessionStartError>>> {
    let calls = (0..1_000).map(|_| client.call(SessionStart::new(LINES)).into_future());
    join_all(calls).await
}

// ---------------------------------------------------------------------------------------------
// coalescing

#[tokio::test]
async fn join_all_over_1000_calls_costs_20_batch_requests() {
    let emu = demo().await;
    let client = auto_batching(&emu, AutoBatch::default());
    let results = start_1000(&client).await;
    assert_eq!(results.len(), 1_000);
    for (i, result) in results.iter().enumerate() {
        assert!(result.as_ref().is_ok_and(|started| *started), "call {i}");
    }
    assert_eq!(batch_requests(&emu), 20);
    assert_eq!(http_requests(&emu).len(), 20, "nothing but batches");
    assert_eq!(commands_per_request(&emu), vec![50; 20]);
    assert!(commands(&emu)
        .iter()
        .all(|c| c.method == "imopenlines.session.start"
            && c.params == json!({"CHAT_ID": "101"})
            && c.status == 200));
    assert_eq!(sessions_of_demo_chat(&emu), 2 + 1_000, "each call ran once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_all_coalesces_on_the_multi_thread_runtime_too() {
    let emu = demo().await;
    // A window wide enough that a loaded machine still queues all 1,000 calls inside it.
    let client = auto_batching(
        &emu,
        AutoBatch {
            window: Duration::from_millis(250),
        },
    );
    let results = start_1000(&client).await;
    assert!(results.iter().all(|r| r.as_ref().is_ok_and(|s| *s)));
    assert_eq!(batch_requests(&emu), 20);
    assert_eq!(http_requests(&emu).len(), 20);
    assert_eq!(sessions_of_demo_chat(&emu), 2 + 1_000);
}

#[tokio::test]
async fn without_auto_batching_every_call_is_its_own_request() {
    let emu = demo().await;
    let url = emu.webhook_url(DEMO_IDS.admin_user).expect("webhook");
    let client = Client::builder()
        .webhook(&url)
        .no_rate_limit()
        .build()
        .expect("client");
    let calls = (0..30).map(|_| client.call(SessionStart::new(LINES)).into_future());
    assert!(join_all(calls).await.iter().all(Result::is_ok));
    assert_eq!(http_requests(&emu).len(), 30);
    assert_eq!(batch_requests(&emu), 0);
}

#[tokio::test]
async fn a_lone_call_goes_out_when_the_window_closes_with_its_envelope() {
    let emu = demo().await;
    let client = auto_batching(&emu, AutoBatch::default());
    let response = client
        .call(SessionOpen::new(DEMO_IDS.user_code))
        .with_meta()
        .await
        .expect("session.open");
    assert_eq!(response.result, SessionOpened { chat_id: LINES });
    let time = response.time.expect("the sub-call's own time block");
    assert!(time.start > 1.0e9 && time.finish >= time.start);
    assert_eq!(commands_per_request(&emu), [1]);
}

// ---------------------------------------------------------------------------------------------
// per-call results and errors

#[tokio::test]
async fn mixed_valid_and_invalid_calls_get_their_own_typed_errors() {
    let emu = demo().await;
    let client = auto_batching(&emu, AutoBatch::default());
    let chat_of = |i: usize| match i % 5 {
        1 => GROUP,
        3 => 0,
        4 if i % 10 == 4 => 9_999,
        _ => LINES,
    };
    let code_of = |i: usize| {
        if i.is_multiple_of(2) {
            DEMO_IDS.user_code.to_owned()
        } else {
            format!("livechat|1|{i}|9")
        }
    };
    let starts =
        join_all((0..100).map(|i| client.call(SessionStart::new(chat_of(i))).into_future()));
    let opens = join_all((0..20).map(|i| client.call(SessionOpen::new(code_of(i))).into_future()));
    let (starts, opens) = tokio::join!(starts, opens);

    for (i, result) in starts.iter().enumerate() {
        match chat_of(i) {
            LINES => assert!(result.as_ref().is_ok_and(|s| *s), "call {i}: {result:?}"),
            GROUP => {
                let err = result.as_ref().expect_err("a group chat");
                assert_method_error(err, "CHAT_TYPE");
                assert!(matches!(
                    err.method_error(),
                    Some(SessionStartError::ChatType { .. })
                ));
            }
            _ => {
                let err = result.as_ref().expect_err("no such chat");
                assert_method_error(err, "CHAT_ID");
                assert!(matches!(
                    err.method_error(),
                    Some(SessionStartError::ChatId { .. })
                ));
            }
        }
    }
    for (i, result) in opens.iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(result.as_ref().expect("the demo user code").chat_id, LINES);
        } else {
            let err: &Error<SessionOpenError> = result.as_ref().expect_err("an unknown code");
            assert_method_error(err, "ACCESS_DENIED");
        }
    }
    // 120 calls of two methods, coalesced into ceil(120 / 50) requests.
    assert_eq!(batch_requests(&emu), 3);
    assert_eq!(commands(&emu).len(), 120);
    let valid_starts = (0..100).filter(|i| chat_of(*i) == LINES).count();
    assert_eq!(sessions_of_demo_chat(&emu), 2 + valid_starts);
}

#[tokio::test]
async fn a_failed_batch_request_fails_each_of_its_callers() {
    let emu = demo().await;
    let url = emu.webhook_url(DEMO_IDS.admin_user).expect("webhook");
    let client = Client::builder()
        .webhook(&url)
        .no_rate_limit()
        .retry(RetryPolicy::none())
        .auto_batch(AutoBatch::default())
        .build()
        .expect("client");
    emu.faults()
        .add(Fault::on("batch").once().respond(Reply::bad_gateway()));
    let results =
        join_all((0..3).map(|_| client.call(SessionStart::new(LINES)).into_future())).await;
    for result in &results {
        let err = result.as_ref().expect_err("502");
        assert!(
            matches!(
                err.kind(),
                ErrorKind::Batch(b24::batch::BatchFailure::Request(_))
            ),
            "{err:?}"
        );
        assert_eq!(err.status(), Some(502));
    }
    // The next calls go through.
    assert!(client.call(SessionStart::new(LINES)).await.is_ok_and(|s| s));
}

// ---------------------------------------------------------------------------------------------
// callers that go away

#[tokio::test]
async fn a_dropped_caller_is_left_out_of_its_batch() {
    let emu = demo().await;
    let client = auto_batching(&emu, AutoBatch::default());

    // Queued (polled once), then dropped before the window closes.
    let mut dropped = Box::pin(client.call(SessionStart::new(GROUP)).into_future());
    assert!(poll!(&mut dropped).is_pending());
    drop(dropped);
    let kept = client.call(SessionStart::new(LINES)).await;
    assert!(kept.is_ok_and(|s| s));

    assert_eq!(batch_requests(&emu), 1);
    assert_eq!(commands_per_request(&emu), [1]);
    let ran = commands(&emu);
    assert_eq!(ran[0].params, json!({"CHAT_ID": "101"}));
    assert!(
        ran.iter().all(|c| c.params["CHAT_ID"] != "102"),
        "the dropped call was not sent"
    );

    // When every caller of a window has gone away, nothing is sent.
    emu.clear_requests();
    let mut gone: Vec<_> = (0..3)
        .map(|_| Box::pin(client.call(SessionStart::new(LINES)).into_future()))
        .collect();
    for call in &mut gone {
        assert!(poll!(call).is_pending());
    }
    drop(gone);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
    assert_eq!(sessions_of_demo_chat(&emu), 3);
}

#[tokio::test]
async fn a_caller_going_away_after_the_batch_was_sent_does_not_stop_it() {
    let emu = demo().await;
    let client = auto_batching(&emu, AutoBatch::default());
    // The batch request takes 600 ms to be answered; one caller gives up after 250 ms.
    emu.faults()
        .add(Fault::on("batch").once().delay(Duration::from_millis(600)));
    let impatient = tokio::time::timeout(
        Duration::from_millis(250),
        client.call(SessionStart::new(LINES)).into_future(),
    );
    let patient = client
        .call(SessionOpen::new(DEMO_IDS.user_code))
        .into_future();
    let (impatient, patient) = tokio::join!(impatient, patient);
    assert!(impatient.is_err(), "timed out");
    assert_eq!(patient.expect("answered").chat_id, LINES);
    // Both calls ran: the batch had been sent before the first caller left.
    assert_eq!(commands_per_request(&emu), [2]);
    assert_eq!(sessions_of_demo_chat(&emu), 3);
}

#[tokio::test]
async fn a_new_window_opens_with_the_first_call_after_a_full_batch() {
    let emu = demo().await;
    let window = Duration::from_millis(600);
    let client = auto_batching(&emu, AutoBatch { window });
    // 50 calls fill a batch at once, before the window they opened closes.
    let calls = (0..50).map(|_| client.call(SessionStart::new(LINES)).into_future());
    assert!(join_all(calls).await.iter().all(Result::is_ok));
    assert_eq!(batch_requests(&emu), 1);
    // A call made later opens a window of its own: it is not sent when the first window would
    // have closed (600 ms after the first call), but a whole window after it was made.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let late = tokio::spawn({
        let client = client.clone();
        async move { client.call(SessionStart::new(LINES)).await }
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        batch_requests(&emu),
        1,
        "the late call waits for its own window"
    );
    assert!(late.await.expect("the task").is_ok_and(|s| s));
    assert_eq!(commands_per_request(&emu), [50, 1]);
}

/// A method whose first call the portal refuses with a limit.
#[b24::b24_method("test.flaky", response = bool)]
#[derive(Debug, Clone)]
pub struct Flaky {
    /// Anything.
    pub n: i64,
}

#[tokio::test]
async fn a_sub_call_refused_by_a_limit_is_queued_again_like_a_direct_call_is_retried() {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    let emu = demo().await;
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    emu.register("test.flaky", move |_, _| {
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            Err(b24_emulator::ApiError::query_limit_exceeded())
        } else {
            Ok(json!(true))
        }
    });
    let client = auto_batching(&emu, AutoBatch::default());
    assert!(client
        .call(Flaky::new(1))
        .await
        .expect("retried after the limit"));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(batch_requests(&emu), 2);

    // With retries off the refusal reaches the caller, typed and retryable.
    calls.store(0, Ordering::SeqCst);
    let url = emu.webhook_url(DEMO_IDS.admin_user).unwrap();
    let once = Client::builder()
        .webhook(&url)
        .no_rate_limit()
        .retry(RetryPolicy::none())
        .auto_batch(AutoBatch::default())
        .build()
        .unwrap();
    let err = once.call(Flaky::new(1)).await.unwrap_err();
    assert_eq!(
        err.api_error().map(|a| a.code.clone()),
        Some(b24::ErrorCode::QueryLimitExceeded)
    );
    assert!(err.is_retryable());
}
