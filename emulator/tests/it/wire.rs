//! Routing, authentication, parameter encodings, envelopes and the journal.

use std::time::{Duration, SystemTime};

use b24_emulator::{AuthKind, DEMO_IDS};
use serde_json::{json, Value};

use crate::common::*;

const START: &str = "imopenlines.session.start";
const OPEN: &str = "imopenlines.session.open";

#[tokio::test]
async fn webhook_call_answers_the_success_envelope() {
    let emu = demo().await;
    let answer = post_json(
        &format!("{}{OPEN}", admin(&emu)),
        json!({"USER_CODE": DEMO_IDS.user_code}),
    )
    .await;
    assert_eq!(answer.result(), &json!({"chatId": "101"}));
    // Keys in the portal's order.
    assert!(answer.text.starts_with("{\"result\":"), "{}", answer.text);
    let time = answer.body["time"].as_object().expect("time block");
    assert_eq!(time.len(), 8);
    // The fields in the docs' order, read from the text itself.
    let time_text = &answer.text[answer.text.find("\"time\"").expect("time")..];
    let positions: Vec<usize> = [
        "start",
        "finish",
        "duration",
        "processing",
        "date_start",
        "date_finish",
        "operating_reset_at",
        "operating",
    ]
    .iter()
    .map(|key| time_text.find(&format!("\"{key}\":")).expect(key))
    .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{time_text}");
    let start = time["start"].as_f64().expect("start");
    let finish = time["finish"].as_f64().expect("finish");
    assert!(finish >= start);
    assert_eq!(
        time["operating_reset_at"].as_i64(),
        Some(start.trunc() as i64 + 600)
    );
    let date = time["date_start"].as_str().expect("date");
    assert!(date.ends_with("+01:00"), "portal zone: {date}");
    assert!(answer.headers.contains_key("x-bitrix-rest-time"));
}

#[tokio::test]
async fn oauth_token_in_body_or_query() {
    let emu = demo().await;
    let url = format!("{}{OPEN}", emu.rest_url());
    let in_body = post_json(
        &url,
        json!({"USER_CODE": DEMO_IDS.user_code, "auth": DEMO_IDS.access_token}),
    )
    .await;
    assert_eq!(in_body.result()["chatId"], "101");

    let query = format!(
        "{url}?auth={}&USER_CODE=livechat%7C1%7C101%7C3",
        DEMO_IDS.access_token
    );
    assert_eq!(get(&query).await.result()["chatId"], "101");

    let form = post_form(
        &url,
        &format!("auth={}&USER_CODE=livechat|1|101|3", DEMO_IDS.access_token),
    )
    .await;
    assert_eq!(form.result()["chatId"], "101");

    let requests = emu.requests();
    assert!(requests.iter().all(|r| r.auth == AuthKind::OAuth));
    assert!(requests.iter().all(|r| r.user_id == Some(1)));
    assert!(
        requests.iter().all(|r| r.params.get("auth").is_none()),
        "the token is not recorded"
    );
}

#[tokio::test]
async fn wrong_webhook_credentials_are_no_auth_found() {
    let emu = demo().await;
    let cases = [
        emu.webhook_url_with_code(1, "wrong0code"),
        // The right code under another user id.
        emu.webhook_url_with_code(2, DEMO_IDS.admin_webhook),
        emu.webhook_url_with_code(77, DEMO_IDS.admin_webhook),
        format!("{}rest/x/{}/", emu.base_url(), DEMO_IDS.admin_webhook),
    ];
    for base in cases {
        let answer = post_json(&format!("{base}{START}"), json!({"CHAT_ID": 101})).await;
        assert_eq!(
            answer.error(401, "NO_AUTH_FOUND"),
            "Wrong authorization data"
        );
    }
    // The failed calls changed nothing and are recorded without a user.
    assert_eq!(
        emu.portal()
            .lock()
            .sessions_of_chat(DEMO_IDS.lines_chat_id)
            .count(),
        2
    );
    assert!(emu
        .requests()
        .iter()
        .all(|r| r.user_id.is_none() && r.status == 401 && r.auth == AuthKind::Webhook));
}

#[tokio::test]
async fn oauth_missing_unknown_and_expired_tokens() {
    let emu = demo().await;
    let url = format!("{}{OPEN}", emu.rest_url());
    let missing = post_json(&url, json!({"USER_CODE": DEMO_IDS.user_code})).await;
    assert_eq!(
        missing.error(401, "NO_AUTH_FOUND"),
        "Wrong authorization data"
    );
    let unknown = post_json(&url, json!({"auth": "no-such-token"})).await;
    unknown.error(401, "NO_AUTH_FOUND");

    let now = SystemTime::now();
    emu.portal().with(|portal| {
        portal.add_access_token_expiring(1, "old-token", now - Duration::from_secs(5));
        portal.add_access_token_expiring(1, "fresh-token", now + Duration::from_secs(3600));
    });
    let expired = post_json(
        &url,
        json!({"auth": "old-token", "USER_CODE": DEMO_IDS.user_code}),
    )
    .await;
    assert_eq!(
        expired.error(401, "expired_token"),
        "The access token provided has expired"
    );
    let fresh = post_json(
        &url,
        json!({"auth": "fresh-token", "USER_CODE": DEMO_IDS.user_code}),
    )
    .await;
    assert_eq!(fresh.result()["chatId"], "101");

    // Expiring a token at runtime.
    emu.portal().lock().expire_access_token("fresh-token");
    let now_expired = post_json(
        &url,
        json!({"auth": "fresh-token", "USER_CODE": DEMO_IDS.user_code}),
    )
    .await;
    now_expired.error(401, "expired_token");
}

#[tokio::test]
async fn json_suffix_and_case_insensitive_names() {
    let emu = demo().await;
    let body = json!({"USER_CODE": DEMO_IDS.user_code});
    for method in [
        "imopenlines.session.open.json",
        "IMOPENLINES.SESSION.OPEN",
        "ImOpenLines.Session.Open.JSON",
    ] {
        let answer = post_json(&format!("{}{method}", admin(&emu)), body.clone()).await;
        assert_eq!(answer.result()["chatId"], "101", "{method}");
    }
    let oauth = post_json(
        &format!("{}IMOPENLINES.session.open.json", emu.rest_url()),
        json!({"USER_CODE": DEMO_IDS.user_code, "auth": DEMO_IDS.access_token}),
    )
    .await;
    assert_eq!(oauth.result()["chatId"], "101");
    assert!(emu
        .requests()
        .iter()
        .all(|r| r.method == "imopenlines.session.open"));
}

#[tokio::test]
async fn parameter_names_are_case_insensitive() {
    let emu = demo().await;
    let answer = post_json(
        &format!("{}{OPEN}", admin(&emu)),
        json!({"user_code": DEMO_IDS.user_code}),
    )
    .await;
    assert_eq!(answer.result()["chatId"], "101");
}

#[tokio::test]
async fn chat_id_as_number_string_form_and_query() {
    let emu = demo().await;
    let url = format!("{}{START}", admin(&emu));
    post_json(&url, json!({"CHAT_ID": 101})).await.result();
    post_json(&url, json!({"CHAT_ID": "101"})).await.result();
    post_form(&url, "CHAT_ID=101").await.result();
    get(&format!("{url}?CHAT_ID=101")).await.result();
    post_json(&format!("{url}.json?CHAT_ID=101"), json!({}))
        .await
        .result();
    // Each of the five calls started a session.
    let sessions = emu
        .portal()
        .lock()
        .sessions_of_chat(DEMO_IDS.lines_chat_id)
        .count();
    assert_eq!(sessions, 2 + 5);
}

#[tokio::test]
async fn php_form_bodies_become_nested_params() {
    let emu = demo().await;
    emu.register("test.echo", |_ctx, params| Ok(params.to_value()));
    let answer = post_form(
        &format!("{}test.echo", admin(&emu)),
        "FIELDS[TITLE]=John+%26+Martin&FIELDS[PHONE][0][VALUE]=112233&ID[]=1&ID[]=2&A[B][C]=%D0%AF&flag",
    )
    .await;
    assert_eq!(
        answer.result(),
        &json!({
            "FIELDS": {"TITLE": "John & Martin", "PHONE": [{"VALUE": "112233"}]},
            "ID": ["1", "2"],
            "A": {"B": {"C": "Я"}},
            "flag": ""
        })
    );
}

#[tokio::test]
async fn json_body_overrides_query_and_keeps_types() {
    let emu = demo().await;
    emu.register("test.echo", |_ctx, params| Ok(params.to_value()));
    let answer = post_json(
        &format!("{}test.echo?A=1&B=from-query&C[x]=y", admin(&emu)),
        json!({"B": 2, "D": [true, null, 1.5]}),
    )
    .await;
    assert_eq!(
        answer.result(),
        &json!({"A": "1", "B": 2, "C": {"x": "y"}, "D": [true, null, 1.5]})
    );
}

#[tokio::test]
async fn multipart_text_fields_are_params() {
    let emu = demo().await;
    emu.register("test.echo", |_ctx, params| Ok(params.to_value()));
    let body = "--b0undary\r\n\
        Content-Disposition: form-data; name=\"fields[TITLE]\"\r\n\r\n\
        My company\r\n\
        --b0undary\r\n\
        Content-Disposition: form-data; name=\"file\"; filename=\"x.txt\"\r\n\
        Content-Type: text/plain\r\n\r\n\
        ignored\r\n\
        --b0undary--\r\n";
    let answer = post_body(
        &format!("{}test.echo", admin(&emu)),
        "multipart/form-data; boundary=b0undary",
        body,
    )
    .await;
    assert_eq!(answer.result(), &json!({"fields": {"TITLE": "My company"}}));
}

#[tokio::test]
async fn unknown_method_is_not_found_after_authentication() {
    let emu = demo().await;
    // crm.deal.list has a docs page, so it would answer its example.
    let answer = post_json(&format!("{}crm.no.such.list", admin(&emu)), json!({})).await;
    assert_eq!(
        answer.error(404, "ERROR_METHOD_NOT_FOUND"),
        "Method not found!"
    );
    let oauth = get(&format!(
        "{}no.such.method?auth={}",
        emu.rest_url(),
        DEMO_IDS.access_token
    ))
    .await;
    oauth.error(404, "ERROR_METHOD_NOT_FOUND");
    // Credentials are checked first.
    let unauthenticated = post_json(&format!("{}crm.deal.list", emu.rest_url()), json!({})).await;
    unauthenticated.error(401, "NO_AUTH_FOUND");
    // A webhook path without a method.
    post_json(&admin(&emu), json!({}))
        .await
        .error(404, "ERROR_METHOD_NOT_FOUND");
}

#[tokio::test]
async fn non_utf8_bodies_are_wrong_encoding() {
    let emu = demo().await;
    let url = format!("{}{START}", admin(&emu));
    let json_body = post_body(
        &url,
        "application/json",
        b"{\"CHAT_ID\": \"\xff\"}".to_vec(),
    )
    .await;
    assert_eq!(
        json_body.error(400, "WRONG_ENCODING"),
        "Wrong request encoding"
    );
    let form = post_body(
        &url,
        "application/x-www-form-urlencoded",
        b"CHAT_ID=%ff".to_vec(),
    )
    .await;
    form.error(400, "WRONG_ENCODING");
    let raw = post_body(
        &url,
        "application/x-www-form-urlencoded",
        vec![b'A', b'=', 0xC3],
    )
    .await;
    raw.error(400, "WRONG_ENCODING");
    let query = get(&format!("{url}?CHAT_ID=%C3%28")).await;
    query.error(400, "WRONG_ENCODING");
}

#[tokio::test]
async fn broken_json_is_invalid_request() {
    let emu = demo().await;
    let answer = post_body(
        &format!("{}{START}", admin(&emu)),
        "application/json",
        "{\"CHAT_ID\": ",
    )
    .await;
    answer.error(400, "INVALID_REQUEST");
}

#[tokio::test]
async fn paths_outside_rest_are_plain_404() {
    let emu = demo().await;
    let answer = get(&format!("{}crm/deal/", emu.base_url())).await;
    assert_eq!(answer.status, 404);
    assert!(answer.content_type.starts_with("text/html"));
    assert!(emu.requests().is_empty(), "not a REST request");
}

#[tokio::test]
async fn journal_records_every_call() {
    let emu = demo().await;
    post_form(
        &format!("{}IMOPENLINES.SESSION.START.json", admin(&emu)),
        "CHAT_ID=101",
    )
    .await;
    get(&format!("{}{OPEN}?USER_CODE=nope", other(&emu))).await;
    post_json(&format!("{}{OPEN}", emu.rest_url()), json!({"auth": "bad"})).await;

    let requests = emu.requests();
    assert_eq!(requests.len(), 3);
    let first = &requests[0];
    assert_eq!(first.method, "imopenlines.session.start");
    assert_eq!(first.http_method, "POST");
    assert_eq!(first.auth, AuthKind::Webhook);
    assert_eq!(first.user_id, Some(1));
    assert_eq!(first.params, json!({"CHAT_ID": "101"}));
    assert_eq!(first.status, 200);
    assert_eq!(first.error, None);

    let second = &requests[1];
    assert_eq!(second.http_method, "GET");
    assert_eq!(second.user_id, Some(2));
    assert_eq!(second.status, 400);
    assert_eq!(second.error.as_deref(), Some("ACCESS_DENIED"));

    let third = &requests[2];
    assert_eq!(third.auth, AuthKind::OAuth);
    assert_eq!(third.user_id, None);
    assert_eq!(third.params, json!({}));
    assert_eq!(third.error.as_deref(), Some("NO_AUTH_FOUND"));
    assert!(requests.windows(2).all(|w| w[0].time <= w[1].time));

    emu.clear_requests();
    assert!(emu.requests().is_empty());
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let emu = demo().await;
    let url = format!("{}{OPEN}", admin(&emu));
    post_json(&url, json!({"USER_CODE": DEMO_IDS.user_code}))
        .await
        .result();
    emu.shutdown().await;
    let after = reqwest::Client::new().post(&url).send().await;
    assert!(after.is_err(), "connection refused after shutdown");
}

#[tokio::test]
async fn dropping_the_emulator_stops_serving() {
    let emu = demo().await;
    let url = format!("{}{OPEN}", admin(&emu));
    drop(emu);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(reqwest::Client::new().post(&url).send().await.is_err());
}

#[tokio::test]
async fn success_floats_are_php_like() {
    let emu = demo().await;
    let answer = post_json(
        &format!("{}{OPEN}", admin(&emu)),
        json!({"USER_CODE": DEMO_IDS.user_code}),
    )
    .await;
    answer.result();
    // A zero is written `0`, never `0.0`; other values are plain JSON numbers.
    assert!(!answer.text.contains(":0.0,") && !answer.text.contains(":0.0}"));
    let start = &answer.body["time"]["start"];
    assert!(matches!(start, Value::Number(_)));
}
