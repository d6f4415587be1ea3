//! The out-of-process rig works: `fixed_server` starts, prints its address, answers every POST
//! with the fixed `imopenlines.session.start` answer (its whole `time` block included), and both
//! callers read the same result from it, one at a time and many in flight.

use b24_benches::fixed::{FixedServer, ANSWER, HEADERS};
use b24_benches::{baseline_session_start, Side};

fn server() -> FixedServer {
    FixedServer::spawn(env!("CARGO_BIN_EXE_fixed_server").as_ref()).expect("start fixed_server")
}

#[tokio::test]
async fn both_sides_agree_on_the_fixed_answer() {
    let server = server();
    let callers = server.callers();
    for side in [Side::Baseline, Side::B24, Side::B24NoOperating] {
        // Both panic unless every call answers `true`.
        side.run(&callers, 3).await;
        side.run_concurrent(&callers, 40, 8).await;
    }
    let baseline = baseline_session_start(&callers.http, &callers.webhook, callers.chat).await;
    let b24 = b24::imopenlines::session_start(&callers.client, callers.chat).await;
    assert_eq!((baseline.ok(), b24.ok()), (Some(true), Some(true)));
}

#[tokio::test]
async fn the_answer_is_the_documented_one_with_headers() {
    let server = server();
    let http = reqwest::Client::new();
    let response = http
        .post(server.webhook() + "imopenlines.session.start")
        .json(&serde_json::json!({"CHAT_ID": 2043}))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    for (name, value) in HEADERS {
        assert_eq!(response.headers()[name], value, "header {name}");
    }
    assert_eq!(
        response.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(response.text().await.expect("body"), ANSWER);

    let answer: serde_json::Value = serde_json::from_str(ANSWER).expect("the answer is JSON");
    assert_eq!(answer["result"], true);
    let time = answer["time"].as_object().expect("a time block");
    let keys: Vec<&str> = time.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "start",
            "finish",
            "duration",
            "processing",
            "date_start",
            "date_finish",
            "operating_reset_at",
            "operating"
        ]
    );

    let get = http.get(server.webhook()).send().await.expect("GET");
    assert_eq!(get.status(), 405);
}
