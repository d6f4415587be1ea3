//! REST 3.0 over real HTTP against the emulator (`api-reference/rest-v3.md`): methods declared
//! `ApiVersion::V3` go to `/rest/api/…`, carry one `Idempotency-Key` across their retries (so a
//! write that met an ambiguous failure is retried and runs once), and their unified errors are
//! decoded. The emulator's side of the header is checked with raw requests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use b24::exports::reqwest;
use b24::{ApiVersion, Client, ErrorKind, Method, NoMethodErrors, RetryPolicy};
use b24_emulator::{ApiError, Emulator, Fault, Portal, Reply, DEMO_IDS};
use serde_json::{json, Value};

/// `tasks.task.add` as REST 3.0 declares it: a write, not idempotent.
#[derive(b24::exports::serde::Serialize)]
#[serde(crate = "b24::exports::serde")]
struct TaskAdd {
    fields: Value,
}

impl Method for TaskAdd {
    const NAME: &'static str = "tasks.task.add";
    const SCOPE: &'static str = "task";
    const IDEMPOTENT: bool = false;
    const API_VERSION: ApiVersion = ApiVersion::V3;
    type Output = Value;
    type Error = NoMethodErrors;
}

fn task() -> TaskAdd {
    TaskAdd {
        fields: json!({"title": "Prepare a report", "responsibleId": 1}),
    }
}

/// The emulator with `tasks.task.add` registered as REST 3.0, counting the times it ran.
async fn portal() -> (Emulator, Arc<AtomicUsize>) {
    let emu = Emulator::start(Portal::demo()).await.expect("emulator");
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    emu.register_v3("tasks.task.add", move |_ctx, params| {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        if params.text("fail").is_some() {
            return Err(ApiError::new(
                "BITRIX_REST_V3_EXCEPTION_ACCESSDENIEDEXCEPTION",
                "Access denied",
            )
            .with_status(403));
        }
        Ok(json!({"item": {"id": n}}))
    });
    (emu, runs)
}

fn client(emu: &Emulator) -> Client {
    Client::builder()
        .webhook(&emu.webhook_url(DEMO_IDS.admin_user).expect("webhook"))
        .retry(RetryPolicy::default().base_delay(std::time::Duration::from_millis(10)))
        .build()
        .expect("client")
}

#[tokio::test]
async fn a_write_that_met_an_ambiguous_failure_is_retried_and_runs_once() {
    let faults = [
        Reply::bad_gateway(),
        Reply::disconnect(),
        Reply::error(500, "INTERNAL_SERVER_ERROR", "x"),
    ];
    for fault in faults {
        let (emu, runs) = portal().await;
        // The method runs, then the answer is lost.
        emu.faults().add(
            Fault::on("tasks.task.add")
                .once()
                .after()
                .respond(fault.clone()),
        );
        let created = client(&emu)
            .call(task())
            .with_meta()
            .await
            .expect("retried safely");
        assert_eq!(created.result, json!({"item": {"id": 1}}), "{fault:?}");
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "{fault:?}: ran once, then replayed"
        );
        let requests = emu.requests();
        assert_eq!(requests.len(), 2, "{fault:?}");
        assert_eq!(requests[1].status, 200);
        assert_eq!(emu.portal().lock().idempotency_keys_stored(), 1);
    }
}

#[tokio::test]
async fn every_logical_call_has_its_own_key_and_errors_are_decoded() {
    let (emu, runs) = portal().await;
    let client = client(&emu);
    client.call(task()).await.expect("first");
    client.call(task()).await.expect("second");
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "two calls, two keys: both ran"
    );

    let failing = TaskAdd {
        fields: json!({"x": 1}),
    };
    let mut params = serde_json::to_value(&failing).expect("json");
    params["fail"] = json!("Y");
    #[derive(b24::exports::serde::Serialize)]
    #[serde(crate = "b24::exports::serde")]
    struct Failing(Value);
    impl Method for Failing {
        const NAME: &'static str = "tasks.task.add";
        const SCOPE: &'static str = "task";
        const IDEMPOTENT: bool = false;
        const API_VERSION: ApiVersion = ApiVersion::V3;
        type Output = Value;
        type Error = NoMethodErrors;
    }
    let err = client.call(Failing(params)).await.expect_err("403");
    match err.kind() {
        ErrorKind::Api(api) => {
            assert_eq!(
                api.code.as_str(),
                "BITRIX_REST_V3_EXCEPTION_ACCESSDENIEDEXCEPTION"
            );
            assert_eq!(
                (api.description.as_str(), api.status),
                ("Access denied", 403)
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn the_emulator_honours_idempotency_keys_as_documented() {
    let (emu, runs) = portal().await;
    let http = reqwest::Client::new();
    let url = format!(
        "{}rest/api/1/{}/tasks.task.add",
        emu.base_url(),
        "demo0webhook0code"
    );
    let post = |key: &str, body: Value| {
        http.post(&url)
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(body.to_string())
            .send()
    };
    let first = post("k-1", json!({"fields": {"title": "a"}}))
        .await
        .expect("post");
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["idempotency-key"], "k-1");
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.expect("json");

    let again = post("k-1", json!({"fields": {"title": "a"}}))
        .await
        .expect("post");
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.expect("json");
    assert_eq!(again, first, "the stored answer");
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    let reused = post("k-1", json!({"fields": {"title": "b"}}))
        .await
        .expect("post");
    assert_eq!(reused.status(), 422);
    let body: Value = reused.json().await.expect("json");
    assert_eq!(
        body["error"]["code"],
        "BITRIX_REST_V3_EXCEPTION_IDEMPOTENCYKEYREUSEDEXCEPTION"
    );

    for bad in ["", &"k".repeat(256)] {
        let invalid = post(bad, json!({})).await.expect("post");
        assert_eq!(invalid.status(), 400, "{bad:?}");
    }

    // Errors are not stored: the same key runs the method again.
    let failed = post("k-2", json!({"fail": "Y"})).await.expect("post");
    assert_eq!(failed.status(), 403);
    let failed = post("k-2", json!({"fail": "Y"})).await.expect("post");
    assert!(failed.headers().get("idempotent-replayed").is_none());
    assert_eq!(runs.load(Ordering::SeqCst), 3);

    // REST 3.0 methods live at /rest/api/ only, and classic ones at /rest/ only. (With the
    // emulator's documented answers on, /rest/tasks.task.add would answer its classic page.)
    emu.set_documented_answers(false);
    let classic = http
        .post(format!(
            "{}rest/1/demo0webhook0code/tasks.task.add",
            emu.base_url()
        ))
        .send()
        .await
        .expect("post");
    assert_eq!(classic.status(), 404);
    let v3 = http
        .post(format!(
            "{}rest/api/1/demo0webhook0code/imopenlines.session.open",
            emu.base_url()
        ))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("post");
    assert_eq!(v3.status(), 404);
    // Form bodies are refused.
    let form = http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=1")
        .send()
        .await
        .expect("post");
    assert_eq!(form.status(), 400);
}
