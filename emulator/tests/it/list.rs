//! `crm.lead.list`: paging by `next`, `start=-1`, filters with order, and 100,000 rows.

use std::time::Instant;

use b24_emulator::{Emulator, Portal};
use serde_json::{json, Value};

use crate::common::*;

const LIST: &str = "crm.lead.list";

async fn with_leads(count: u64, gaps: bool) -> Emulator {
    let mut portal = Portal::demo();
    if gaps {
        portal.seed_leads_with_gaps(count);
    } else {
        portal.seed_leads(count);
    }
    start(portal).await
}

async fn list(emu: &Emulator, params: Value) -> Answer {
    post_json(&format!("{}{LIST}", admin(emu)), params).await
}

fn ids(rows: &Value) -> Vec<u64> {
    rows.as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| row["ID"].as_str()?.parse().ok())
        .collect()
}

#[tokio::test]
async fn pages_by_next_with_total() {
    let emu = with_leads(120, false).await;
    let mut start = Some(0);
    let mut seen = Vec::new();
    let mut pages = 0;
    while let Some(offset) = start {
        let answer = list(&emu, json!({"order": {"ID": "ASC"}, "start": offset})).await;
        seen.extend(ids(answer.result()));
        assert_eq!(answer.body["total"], 120);
        start = answer.body["next"].as_u64();
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, (1..=120).collect::<Vec<u64>>());

    // Keys in the portal's order: result, next, total, time.
    let first = list(&emu, json!({})).await;
    assert!(
        first
            .text
            .contains("],\"next\":50,\"total\":120,\"time\":{"),
        "{}",
        &first.text[first.text.len() - 300..]
    );
    // The row shape: every value a string.
    assert_eq!(
        first.result()[2],
        json!({
            "ID": "3",
            "TITLE": "Lead #3",
            "DATE_CREATE": "2026-01-01T01:03:00+01:00",
            "OPPORTUNITY": "1200.00",
            "ASSIGNED_BY_ID": "1"
        })
    );
    // Past the end: no rows, still a total.
    let past = list(&emu, json!({"start": 500})).await;
    assert_eq!(past.result(), &json!([]));
    assert_eq!(past.body["total"], 120);
    assert!(past.body.get("next").is_none());
}

#[tokio::test]
async fn start_minus_one_skips_the_count() {
    let emu = with_leads(120, false).await;
    for start in [json!(-1), json!("-1")] {
        let answer = list(&emu, json!({"start": start})).await;
        assert_eq!(ids(answer.result()).len(), 50);
        assert!(answer.body.get("total").is_none(), "{}", answer.text);
        assert!(answer.body.get("next").is_none());
    }
    // Form-encoded, as PHP clients send it.
    let url = format!("{}{LIST}", admin(&emu));
    let form = post_form(
        &url,
        "order[ID]=DESC&filter[%3EID]=100&select[]=ID&start=-1",
    )
    .await;
    assert_eq!(ids(form.result()), (101..=120).rev().collect::<Vec<u64>>());
    assert_eq!(form.result()[0], json!({"ID": "120"}));
}

#[tokio::test]
async fn filters_and_order() {
    let emu = with_leads(120, false).await;
    let desc = list(
        &emu,
        json!({"order": {"ID": "DESC"}, "filter": {">ID": 100}, "select": ["ID", "TITLE"]}),
    )
    .await;
    assert_eq!(ids(desc.result()), (101..=120).rev().collect::<Vec<u64>>());
    assert_eq!(desc.body["total"], 20);
    assert_eq!(desc.result()[0], json!({"ID": "120", "TITLE": "Lead #120"}));

    let window = list(&emu, json!({"filter": {">=ID": "10", "<ID": 15}})).await;
    assert_eq!(ids(window.result()), [10, 11, 12, 13, 14]);
    let bounded = list(
        &emu,
        json!({"filter": {"<=ID": 60}, "order": {"ID": "DESC"}, "start": 50}),
    )
    .await;
    assert_eq!(ids(bounded.result()), (1..=10).rev().collect::<Vec<u64>>());

    let exact = list(&emu, json!({"filter": {"ID": [3, 5, 500]}})).await;
    assert_eq!(ids(exact.result()), [3, 5]);
    let title = list(&emu, json!({"filter": {"TITLE": "lead #7"}})).await;
    assert_eq!(ids(title.result()), [7]);
    let like = list(
        &emu,
        json!({"filter": {"%TITLE": "#11"}, "order": {"ID": "DESC"}}),
    )
    .await;
    assert_eq!(
        ids(like.result()),
        [119, 118, 117, 116, 115, 114, 113, 112, 111, 110, 11]
    );
    assert_eq!(like.body["total"], 11);
}

#[tokio::test]
async fn cursor_paging_over_gaps() {
    let emu = with_leads(1000, true).await;
    let expected: Vec<u64> = emu.portal().lock().leads().iter().map(|l| l.id).collect();
    assert!(expected.last() > Some(&1000), "the ids have gaps");
    let mut last = 0;
    let mut seen: Vec<u64> = Vec::new();
    loop {
        let answer = list(
            &emu,
            json!({"order": {"ID": "ASC"}, "filter": {">ID": last}, "select": ["ID"], "start": -1}),
        )
        .await;
        let page = ids(answer.result());
        seen.extend(&page);
        match page.last() {
            Some(id) if page.len() == 50 => last = *id,
            _ => break,
        }
    }
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn a_hundred_thousand_rows() {
    let begun = Instant::now();
    let emu = with_leads(100_000, false).await;
    let deep = list(&emu, json!({"start": 99_950})).await;
    assert_eq!(ids(deep.result()), (99_951..=100_000).collect::<Vec<u64>>());
    assert_eq!(deep.body["total"], 100_000);
    assert!(deep.body.get("next").is_none());

    let cursor = list(&emu, json!({"filter": {">ID": 99_990}, "start": -1})).await;
    assert_eq!(ids(cursor.result()).len(), 10);

    let newest = list(&emu, json!({"order": {"ID": "DESC"}, "start": -1})).await;
    assert_eq!(ids(newest.result()).first(), Some(&100_000));

    let like = list(&emu, json!({"filter": {"%TITLE": "#9999"}})).await;
    assert_eq!(
        ids(like.result()),
        [9999, 99990, 99991, 99992, 99993, 99994, 99995, 99996, 99997, 99998, 99999]
    );
    assert!(begun.elapsed().as_secs() < 10, "{:?}", begun.elapsed());
}
