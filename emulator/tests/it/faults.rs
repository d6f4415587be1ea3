//! Fault injection, observed from a plain reqwest client.

use std::time::Duration;

use b24_emulator::{Emulator, Fault, Reply, DEMO_IDS};
use serde_json::{json, Value};

use crate::common::*;

const START: &str = "imopenlines.session.start";
const OPEN: &str = "imopenlines.session.open";

fn sessions(emu: &Emulator) -> usize {
    emu.portal()
        .lock()
        .sessions_of_chat(DEMO_IDS.lines_chat_id)
        .count()
}

async fn start_session(emu: &Emulator) -> Answer {
    post_json(
        &format!("{}{START}", admin(emu)),
        json!({"CHAT_ID": DEMO_IDS.lines_chat_id}),
    )
    .await
}

async fn open(emu: &Emulator) -> Answer {
    post_json(
        &format!("{}{OPEN}", admin(emu)),
        json!({"USER_CODE": DEMO_IDS.user_code}),
    )
    .await
}

#[tokio::test]
async fn html_502_on_the_nth_call_does_not_run_the_method() {
    let emu = demo().await;
    let id = emu.faults().add(
        Fault::on("IMOPENLINES.SESSION.START")
            .nth(2)
            .respond(Reply::bad_gateway()),
    );
    start_session(&emu).await.result();
    let before = sessions(&emu);
    let faulted = start_session(&emu).await;
    assert_eq!(faulted.status, 502);
    assert!(faulted.content_type.starts_with("text/html"));
    assert!(faulted.text.contains("502 Bad Gateway"), "{}", faulted.text);
    assert_eq!(sessions(&emu), before, "a faulted call changes nothing");
    start_session(&emu).await.result();
    assert_eq!(emu.faults().fired(id), 1);

    let journal = emu.requests();
    assert_eq!(journal.len(), 3);
    assert_eq!(journal[1].status, 502);
    assert_eq!(journal[1].fault.as_deref(), Some("respond 502"));
    assert_eq!(
        journal[1].params,
        json!({"CHAT_ID": DEMO_IDS.lines_chat_id})
    );
    assert_eq!(journal[2].fault, None);
}

#[tokio::test]
async fn after_faults_run_the_method_then_replace_the_answer() {
    let emu = demo().await;
    emu.faults().add(
        Fault::on(START)
            .once()
            .after()
            .respond(Reply::bad_gateway()),
    );
    let before = sessions(&emu);
    let answer = start_session(&emu).await;
    assert_eq!(answer.status, 502);
    assert_eq!(sessions(&emu), before + 1, "the portal did the work");
    let entry = emu.requests().pop().expect("journal");
    assert_eq!((entry.status, entry.user_id), (502, Some(1)));
    assert_eq!(entry.fault.as_deref(), Some("after: respond 502"));
}

#[tokio::test]
async fn broken_bodies() {
    let emu = demo().await;
    let faults = emu.faults();
    faults.add(Fault::on(OPEN).nth(1).respond(Reply::truncated_json()));
    faults.add(
        Fault::on(OPEN)
            .nth(2)
            .respond(Reply::empty_error(500, "Something broke")),
    );
    faults.add(
        Fault::on(OPEN)
            .nth(3)
            .respond(Reply::wrong_shape(json!({"items": []}))),
    );
    faults.add(
        Fault::on(OPEN)
            .nth(4)
            .respond(Reply::text(418, "teapot").with_header("X-Test", "1")),
    );

    let truncated = open(&emu).await;
    assert_eq!(truncated.status, 200);
    assert!(truncated.content_type.starts_with("application/json"));
    assert!(serde_json::from_str::<Value>(&truncated.text).is_err());

    let empty = open(&emu).await;
    assert_eq!(empty.status, 500);
    assert_eq!(
        empty.body,
        json!({"error": "", "error_description": "Something broke"})
    );
    assert_eq!(emu.requests()[1].error.as_deref(), Some(""));

    let shaped = open(&emu).await;
    assert_eq!(shaped.result(), &json!({"items": []}));

    let teapot = open(&emu).await;
    assert_eq!((teapot.status, teapot.text.as_str()), (418, "teapot"));
    assert_eq!(
        teapot.headers.get("x-test").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );

    open(&emu).await.result();
}

#[tokio::test]
async fn huge_body() {
    let emu = demo().await;
    emu.faults()
        .add(Fault::any_method().once().respond(Reply::huge(3)));
    let response = reqwest::Client::new()
        .post(format!("{}{OPEN}", admin(&emu)))
        .send()
        .await
        .expect("response");
    assert_eq!(response.content_length(), Some(3 << 20));
    let body = response.bytes().await.expect("the whole body");
    assert_eq!(body.len(), 3 << 20);
    let parsed: Value = serde_json::from_slice(&body).expect("valid JSON");
    assert_eq!(
        parsed["result"].as_str().map(str::len),
        Some((3 << 20) - 13)
    );
}

#[tokio::test]
async fn delay_longer_than_the_client_timeout() {
    let emu = demo().await;
    emu.faults()
        .add(Fault::on(START).once().delay(Duration::from_millis(600)));
    let before = sessions(&emu);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let error = client
        .post(format!("{}{START}", admin(&emu)))
        .json(&json!({"CHAT_ID": DEMO_IDS.lines_chat_id}))
        .send()
        .await
        .expect_err("times out");
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(sessions(&emu), before, "not yet run");
    // The server does not notice the client left: after the delay the call runs and is recorded.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sessions(&emu), before + 1);
    let journal = emu.requests();
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0].status, 200);
    assert_eq!(journal[0].fault.as_deref(), Some("delay 600ms"));
    // The next call is not delayed.
    let answer = client
        .post(format!("{}{START}", admin(&emu)))
        .json(&json!({"CHAT_ID": DEMO_IDS.lines_chat_id}))
        .send()
        .await
        .expect("answered in time");
    assert_eq!(answer.status(), 200);
}

#[tokio::test]
async fn delay_after_the_work_is_a_timeout_on_a_done_call() {
    let emu = demo().await;
    emu.faults().add(
        Fault::on(START)
            .once()
            .after()
            .delay(Duration::from_millis(800)),
    );
    let before = sessions(&emu);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let error = client
        .post(format!("{}{START}", admin(&emu)))
        .json(&json!({"CHAT_ID": DEMO_IDS.lines_chat_id}))
        .send()
        .await
        .expect_err("times out");
    assert!(error.is_timeout());
    assert_eq!(sessions(&emu), before + 1);
}

/// Sends a request and reads the body: the status, and whether the body arrived whole.
async fn status_and_body(url: &str, body: Value) -> (u16, Result<Vec<u8>, reqwest::Error>) {
    let response = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("the headers arrive");
    let status = response.status().as_u16();
    (status, response.bytes().await.map(|b| b.to_vec()))
}

#[tokio::test]
async fn connection_dropped_mid_response() {
    let emu = demo().await;
    emu.faults().add(Fault::on(OPEN).once().drop_connection());
    emu.faults().add(
        Fault::on(START)
            .once()
            .after()
            .respond(Reply::bad_gateway().cut_after(30)),
    );

    let url = format!("{}{OPEN}", admin(&emu));
    let (status, body) = status_and_body(&url, json!({"USER_CODE": DEMO_IDS.user_code})).await;
    assert_eq!(status, 200);
    let error = body.expect_err("the body is cut");
    assert!(!error.is_timeout(), "{error:?}");
    // hyper reports the missing bytes: `IncompleteBody` (an unexpected end of file).
    assert!(error.is_body() || error.is_decode(), "{error:?}");
    assert!(format!("{error:?}").contains("IncompleteBody"), "{error:?}");

    // The method ran, then the 502 page was cut after 30 bytes.
    let before = sessions(&emu);
    let url = format!("{}{START}", admin(&emu));
    let (status, body) = status_and_body(&url, json!({"CHAT_ID": DEMO_IDS.lines_chat_id})).await;
    assert_eq!(status, 502);
    assert!(body.is_err());
    assert_eq!(sessions(&emu), before + 1);

    // The server is fine afterwards.
    open(&emu).await.result();
    let journal = emu.requests();
    assert_eq!(
        journal[0].fault.as_deref(),
        Some("respond 200 and drop connection")
    );
    assert_eq!(journal[1].status, 502);
}

#[tokio::test]
async fn token_endpoint_faults() {
    let mut portal = b24_emulator::Portal::demo();
    portal.add_oauth_app("app", "secret");
    let emu = start(portal).await;
    let (_, refresh) = emu.portal().lock().issue_tokens(1, "app");
    emu.faults().add(
        Fault::token_endpoint()
            .once()
            .respond(Reply::gateway_timeout()),
    );
    let url = format!(
        "{}?grant_type=refresh_token&client_id=app&client_secret=secret&refresh_token={refresh}",
        emu.token_url()
    );
    let answer = get(&url).await;
    assert_eq!(answer.status, 504);
    // The faulted request did not spend the token.
    assert_eq!(get(&url).await.status, 200);
    assert_eq!(emu.token_renewals(), 1);
    // REST faults do not touch the token endpoint, and the other way round.
    emu.faults()
        .add(Fault::any_method().respond(Reply::bad_gateway()));
    assert_eq!(open(&emu).await.status, 502);
}

#[tokio::test]
async fn hang_up_without_an_answer() {
    let emu = demo().await;
    emu.faults()
        .add(Fault::on(OPEN).times(3).respond(Reply::hang_up()));
    for _ in 0..3 {
        let error = reqwest::Client::new()
            .post(format!("{}{OPEN}", admin(&emu)))
            .json(&json!({"USER_CODE": DEMO_IDS.user_code}))
            .send()
            .await
            .expect_err("no answer at all");
        assert!(error.is_request() && !error.is_timeout(), "{error:?}");
        assert!(
            format!("{error:?}").contains("IncompleteMessage"),
            "{error:?}"
        );
    }
    open(&emu).await.result();
    let statuses: Vec<u16> = emu.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [0, 0, 0, 200]);
    assert_eq!(emu.requests()[0].fault.as_deref(), Some("hang up"));
}
