//! The leaky bucket and the operating-time budget, on a scaled portal clock.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use b24_emulator::{Plan, Portal, DEMO_IDS};
use serde_json::json;

use crate::common::*;

const START: &str = "imopenlines.session.start";
const OPEN: &str = "imopenlines.session.open";

/// Sends session.open; returns the status.
async fn open(url: &str) -> u16 {
    post_json(
        &format!("{url}{OPEN}"),
        json!({"USER_CODE": DEMO_IDS.user_code}),
    )
    .await
    .status
}

#[tokio::test]
async fn bucket_rejects_exactly_past_the_threshold() {
    let mut portal = Portal::demo();
    portal.set_rate_limit(Some(Plan::Standard));
    // A slow clock: the bucket drains 0.002 per real second, nothing during the test.
    portal.set_time_scale(0.001);
    let emu = start(portal).await;
    let url = admin(&emu);
    for call in 0..50 {
        assert_eq!(open(&url).await, 200, "call {call}");
    }
    let answer = post_json(&format!("{url}{OPEN}"), json!({})).await;
    assert_eq!(
        answer.error(503, "QUERY_LIMIT_EXCEEDED"),
        "Too many requests"
    );
    // Every credential shares the bucket, and a rejected request does not add to it.
    let oauth = format!("{}{OPEN}?auth={}", emu.rest_url(), DEMO_IDS.access_token);
    assert_eq!(get(&oauth).await.status, 503);
    assert_eq!(open(&other(&emu)).await, 503);

    let stats = emu.portal().lock().rate_stats();
    assert_eq!((stats.accepted, stats.rejected), (50, 3));
    assert!(stats.level > 49.9 && stats.level <= 50.0, "{stats:?}");
    // Rejected requests are in the journal with their status, and did not run.
    let journal = emu.requests();
    assert_eq!(journal.len(), 53);
    let rejected: Vec<_> = journal.iter().filter(|r| r.status == 503).collect();
    assert_eq!(rejected.len(), 3);
    assert!(rejected
        .iter()
        .all(|r| r.error.as_deref() == Some("QUERY_LIMIT_EXCEEDED") && r.user_id.is_none()));
}

#[tokio::test]
async fn bucket_drains_at_the_scaled_rate() {
    let mut portal = Portal::demo();
    portal.set_rate_limit(Some(Plan::Standard));
    // 2 per portal second × 10 = 20 per real second.
    portal.set_time_scale(10.0);
    let emu = start(portal).await;
    let url = admin(&emu);
    let mut sent = 0;
    while open(&url).await == 200 {
        sent += 1;
        assert!(sent < 200, "the bucket never overflowed");
    }
    assert!(sent >= 50, "{sent}");

    let handle = emu.portal();
    let (first, t1) = (handle.lock().rate_stats().level, Instant::now());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (second, t2) = (handle.lock().rate_stats().level, Instant::now());
    let expected = 20.0 * (t2 - t1).as_secs_f64();
    let drained = first - second;
    assert!(
        (drained - expected).abs() < 0.5,
        "drained {drained}, expected {expected}"
    );
    // What drained is room for as many requests (plus what drains while they run).
    let mut accepted = 0;
    while open(&url).await == 200 {
        accepted += 1;
        assert!(accepted < 100);
    }
    let room = drained.floor() as i32;
    assert!(
        accepted >= room && accepted <= room + 4,
        "{accepted} accepted, {drained} drained"
    );
}

#[tokio::test]
async fn a_batch_counts_once() {
    let mut portal = Portal::demo();
    portal.set_rate_limit(Some(Plan::Custom {
        limit: 2,
        drain_per_second: 0.0,
    }));
    let emu = start(portal).await;
    let cmd: serde_json::Map<String, serde_json::Value> = (0..10)
        .map(|i| {
            (
                format!("c{i}"),
                json!(format!("{OPEN}?USER_CODE={}", DEMO_IDS.user_code)),
            )
        })
        .collect();
    let batch = format!("{}batch", admin(&emu));
    let answer = post_json(&batch, json!({"halt": 0, "cmd": cmd})).await;
    assert_eq!(
        answer.result()["result"].as_object().map(|m| m.len()),
        Some(10)
    );
    assert_eq!(emu.portal().lock().rate_stats().accepted, 1);
    post_json(&batch, json!({"cmd": {}})).await.result();
    post_json(&batch, json!({"cmd": {}}))
        .await
        .error(503, "QUERY_LIMIT_EXCEEDED");
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

#[tokio::test]
async fn operating_budget_blocks_one_method_until_reset() {
    let mut portal = Portal::demo();
    // Ten portal minutes last one real second.
    portal.set_time_scale(600.0);
    portal.set_operating_budget(Some(480.0));
    portal.set_method_cost(START, 200.0);
    let emu = start(portal).await;
    let url = format!("{}{START}", admin(&emu));
    let body = json!({"CHAT_ID": DEMO_IDS.lines_chat_id});

    let mut reset_at = 0.0;
    for expected in [200.0, 400.0, 600.0] {
        let answer = post_json(&url, body.clone()).await;
        answer.result();
        let time = &answer.body["time"];
        assert_eq!(
            time["operating"].as_f64(),
            Some(expected),
            "{}",
            answer.text
        );
        reset_at = time["operating_reset_at"].as_f64().expect("reset_at");
        let start = time["start"].as_f64().expect("start");
        assert!(
            reset_at > start && reset_at <= start + 1.01,
            "{reset_at} vs {start}"
        );
    }
    // 600 > 480: the next call is refused without running.
    let sessions = emu
        .portal()
        .lock()
        .sessions_of_chat(DEMO_IDS.lines_chat_id)
        .count();
    let blocked = post_json(&url, body.clone()).await;
    assert_eq!(
        blocked.error(429, "OPERATION_TIME_LIMIT"),
        "Method is blocked due to operation time limit"
    );
    let after = emu
        .portal()
        .lock()
        .sessions_of_chat(DEMO_IDS.lines_chat_id)
        .count();
    assert_eq!(after, sessions);
    assert_eq!(emu.requests().last().map(|r| r.status), Some(429));

    // Other methods of the same webhook, and the same method for another credential, go on.
    let other_method = post_json(
        &format!("{}{OPEN}", admin(&emu)),
        json!({"USER_CODE": DEMO_IDS.user_code}),
    )
    .await;
    other_method.result();
    let by_token = post_json(
        &format!("{}{START}", emu.rest_url()),
        json!({"CHAT_ID": DEMO_IDS.lines_chat_id, "auth": DEMO_IDS.access_token}),
    )
    .await;
    assert_eq!(by_token.result(), &json!(true));
    assert_eq!(by_token.body["time"]["operating"].as_f64(), Some(200.0));

    // Once the oldest basket expires the method is available again.
    let wait = reset_at - unix_now() + 0.05;
    if wait > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(wait)).await;
    }
    let again = post_json(&url, body).await;
    assert_eq!(again.result(), &json!(true));
    // At least the first call's basket is gone (the others may share it or not).
    let operating = again.body["time"]["operating"].as_f64().unwrap_or(0.0);
    assert!((200.0..=600.0).contains(&operating), "{}", again.text);
}

#[tokio::test]
async fn operating_is_reported_as_before_when_the_limit_is_off() {
    let mut portal = Portal::demo();
    portal.set_method_cost(START, 30.0);
    let emu = start(portal).await;
    let answer = post_json(
        &format!("{}{START}", admin(&emu)),
        json!({"CHAT_ID": DEMO_IDS.lines_chat_id}),
    )
    .await;
    answer.result();
    let time = &answer.body["time"];
    assert_eq!(time["operating"], time["processing"]);
    assert!(time["operating_reset_at"].is_i64());
}
