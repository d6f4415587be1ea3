//! Paging through a list method (`crm.lead.list`, declared `list(item = Lead, cursor = "ID")`) as
//! a `Stream` of items, in its three modes, against the emulated portal with thousands of seeded
//! leads (dense ids, and ids with gaps as on a portal where leads were deleted):
//!
//! - `Client::list`: sequential by `next`: `ceil(n / 50)` requests;
//! - `Client::list_fast`: `start=-1` with an `>ID` cursor and `order[ID]=ASC`, no row count:
//!   `ceil(n / 50)` requests, one more when `n` is a multiple of 50 (the empty last page);
//! - `Client::list_parallel`: `total` from the first page, the other pages 50 to a `batch`:
//!   `1 + ceil((pages - 1) / 50)` requests.
//!
//! Each mode yields every id exactly once, in ascending order; request counts are read from the
//! emulator's journal. Filters are kept (in fast mode next to the cursor), and an error in the
//! middle of a stream ends it with a typed error.

use b24::crm::{Lead, LeadList};
use b24::exports::futures::{Stream, StreamExt};
use b24::{Client, ErrorCode, ErrorKind, NoMethodErrors, PagingError, RetryPolicy};
use b24_emulator::{ApiError, Emulator, Fault, Portal, RecordedRequest, Reply, DEMO_IDS};
use serde_json::{json, Value};

mod common;
use common::http_requests;

type Item = Result<Lead, b24::Error<NoMethodErrors>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Sequential,
    Fast,
    /// With this many batch requests in flight.
    Parallel(usize),
}

const MODES: [Mode; 4] = [
    Mode::Sequential,
    Mode::Fast,
    Mode::Parallel(1),
    Mode::Parallel(4),
];

/// The emulated portal with `n` leads, dense or with gaps in the ids.
async fn portal_with_leads(n: u64, gaps: bool) -> Emulator {
    let mut portal = Portal::demo();
    if gaps {
        portal.seed_leads_with_gaps(n);
    } else {
        portal.seed_leads(n);
    }
    Emulator::start(portal).await.expect("the emulator starts")
}

fn client(emu: &Emulator) -> Client {
    let url = emu
        .webhook_url(DEMO_IDS.admin_user)
        .expect("the demo admin has a webhook");
    Client::builder()
        .webhook(&url)
        .no_rate_limit()
        .build()
        .expect("a loopback http webhook URL is accepted")
}

fn stream<'c>(
    client: &'c Client,
    mode: Mode,
    request: LeadList,
) -> impl Stream<Item = Item> + Unpin + 'c {
    match mode {
        Mode::Sequential => client.list(request),
        Mode::Fast => client.list_fast(request),
        Mode::Parallel(concurrency) => client.list_parallel(request, concurrency),
    }
}

/// Every item the stream yields until it ends (errors included).
async fn drain(client: &Client, mode: Mode, request: LeadList) -> Vec<Item> {
    stream(client, mode, request).collect().await
}

/// The ids of a stream that must not fail.
async fn ids(client: &Client, mode: Mode, request: LeadList) -> Vec<u64> {
    drain(client, mode, request)
        .await
        .into_iter()
        .map(|item| item.map(|lead| lead.id).expect("no error"))
        .collect()
}

fn seeded_ids(emu: &Emulator) -> Vec<u64> {
    emu.portal().lock().leads().iter().map(|l| l.id).collect()
}

/// The requests a mode should make for `n` rows.
fn expected_requests(mode: Mode, n: usize) -> usize {
    let pages = n.div_ceil(50).max(1);
    match mode {
        Mode::Sequential => pages,
        Mode::Fast => n / 50 + 1,
        Mode::Parallel(_) => 1 + (pages - 1).div_ceil(50),
    }
}

/// Streams all leads in `mode`, checks every id comes once in ascending order and counts the
/// HTTP requests, by kind.
async fn check_mode(emu: &Emulator, mode: Mode) {
    let expected = seeded_ids(emu);
    let n = expected.len();
    emu.clear_requests();
    let got = ids(&client(emu), mode, LeadList::new()).await;
    assert_eq!(got.len(), n, "{mode:?}: every row once");
    assert!(got == expected, "{mode:?}: the ids, ascending");

    let requests = http_requests(emu);
    assert_eq!(
        requests.len(),
        expected_requests(mode, n),
        "{mode:?}, n = {n}"
    );
    let direct: Vec<&RecordedRequest> = requests
        .iter()
        .filter(|r| r.method == "crm.lead.list")
        .collect();
    let batches = requests.iter().filter(|r| r.method == "batch").count();
    let commands = emu.requests().len() - requests.len();
    let pages = n.div_ceil(50).max(1);
    match mode {
        Mode::Sequential => {
            assert_eq!((direct.len(), batches), (pages, 0));
            for (i, request) in direct.iter().enumerate() {
                assert_eq!(request.params["start"], json!(i * 50), "{mode:?}");
            }
        }
        Mode::Fast => {
            assert_eq!(batches, 0);
            let mut cursor: Option<Value> = None;
            for request in &direct {
                assert_eq!(request.params["start"], json!(-1), "no row count");
                assert_eq!(request.params["order"], json!({"ID": "ASC"}));
                assert_eq!(request.params["filter"].get(">ID"), cursor.as_ref());
                // The next cursor is the last id of this page.
                let page_end = match &cursor {
                    None => 49,
                    Some(c) => {
                        let after: u64 = c.as_str().and_then(|s| s.parse().ok()).expect("id");
                        expected.iter().position(|id| *id == after).expect("seen") + 50
                    }
                };
                cursor = expected.get(page_end).map(|id| json!(id.to_string()));
            }
        }
        Mode::Parallel(_) => {
            assert_eq!(direct.len(), 1, "only the first page is fetched alone");
            assert_eq!(direct[0].params["start"], json!(0));
            assert_eq!(batches, (pages - 1).div_ceil(50));
            assert_eq!(commands, pages - 1, "every other page once, in a batch");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// all rows, each mode

#[tokio::test]
async fn twenty_thousand_dense_leads_sequentially() {
    let emu = portal_with_leads(20_000, false).await;
    check_mode(&emu, Mode::Sequential).await;
}

#[tokio::test]
async fn twenty_thousand_dense_leads_fast() {
    let emu = portal_with_leads(20_000, false).await;
    check_mode(&emu, Mode::Fast).await; // 401 requests: 20,000 is a multiple of 50
}

#[tokio::test]
async fn twenty_thousand_dense_leads_in_parallel() {
    let emu = portal_with_leads(20_000, false).await;
    check_mode(&emu, Mode::Parallel(1)).await; // 1 + 8 requests
    check_mode(&emu, Mode::Parallel(3)).await;
}

#[tokio::test]
async fn leads_with_gaps_in_every_mode() {
    let emu = portal_with_leads(12_345, true).await;
    let ids = seeded_ids(&emu);
    assert!(ids.last().is_some_and(|last| *last > 13_000), "gaps exist");
    for mode in MODES {
        check_mode(&emu, mode).await; // 247 pages: 247, 247, 1 + 5 requests
    }
}

#[tokio::test]
async fn page_boundaries_in_every_mode() {
    for n in [0u64, 1, 49, 50, 51, 100, 2_500, 2_501, 2_551] {
        let emu = portal_with_leads(n, false).await;
        for mode in MODES {
            check_mode(&emu, mode).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// filters

#[tokio::test]
async fn filters_are_kept_in_every_mode_and_next_to_the_cursor_in_fast_mode() {
    let emu = portal_with_leads(6_000, true).await;
    let expected: Vec<u64> = emu
        .portal()
        .lock()
        .leads()
        .iter()
        .filter(|l| l.id <= 5_432 && l.title.contains('7'))
        .map(|l| l.id)
        .collect();
    assert!(expected.len() > 1_000, "{}", expected.len());
    let request = || {
        LeadList::new()
            .filter_by("%TITLE", "7")
            .filter_by("<=ID", 5_432)
    };
    let client = client(&emu);
    for mode in MODES {
        emu.clear_requests();
        assert!(ids(&client, mode, request()).await == expected, "{mode:?}");
        assert_eq!(
            http_requests(&emu).len(),
            expected_requests(mode, expected.len()),
            "{mode:?}"
        );
        // Every request and every batch command carried the filter.
        for entry in emu
            .requests()
            .iter()
            .filter(|r| r.method == "crm.lead.list")
        {
            let filter = &entry.params["filter"];
            assert_eq!(filter["%TITLE"], "7", "{mode:?}: {filter}");
            assert!(
                filter["<=ID"] == json!(5_432) || filter["<=ID"] == "5432",
                "{filter}"
            );
        }
    }

    // In fast mode the request's own order is replaced by the cursor's: still ascending.
    let mut descending = request();
    descending.order = Some(
        json!({"ID": "DESC"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    );
    assert!(ids(&client, Mode::Fast, descending.clone()).await == expected);
    // The other modes keep it.
    let mut reversed = expected.clone();
    reversed.reverse();
    assert!(ids(&client, Mode::Sequential, descending.clone()).await == reversed);
    assert!(ids(&client, Mode::Parallel(2), descending).await == reversed);

    // A user's own `>ID` is the fast mode's starting point.
    let after: Vec<u64> = expected.iter().copied().filter(|id| *id > 3_000).collect();
    assert!(ids(&client, Mode::Fast, request().filter_by(">ID", 3_000)).await == after);
}

// ---------------------------------------------------------------------------------------------
// errors

/// Asserts the stream gave `ok` items, then the error with this code, then ended.
#[track_caller]
fn assert_ended_by(items: &[Item], ok: usize, code: &str, status: u16) {
    assert_eq!(items.len(), ok + 1, "the stream ends at the error");
    assert!(items[..ok].iter().all(Result::is_ok));
    let ids: Vec<u64> = items[..ok]
        .iter()
        .filter_map(|i| i.as_ref().ok().map(|l| l.id))
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let err = items[ok].as_ref().expect_err("the error");
    let api = err.api_error().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(api.code, ErrorCode::parse(code));
    assert_eq!(api.status, status);
    assert_eq!(err.method(), "crm.lead.list");
}

#[tokio::test]
async fn an_error_mid_stream_ends_sequential_and_fast_streams() {
    let emu = portal_with_leads(5_000, false).await;
    let client = client(&emu);
    for mode in [Mode::Sequential, Mode::Fast] {
        emu.faults().clear();
        emu.clear_requests();
        emu.faults()
            .add(Fault::on("crm.lead.list").nth(3).respond(Reply::error(
                400,
                "LIST_BROKEN",
                "the third page is broken",
            )));
        let items = drain(&client, mode, LeadList::new()).await;
        assert_ended_by(&items, 100, "LIST_BROKEN", 400);
        assert_eq!(
            http_requests(&emu).len(),
            3,
            "{mode:?}: nothing after the error"
        );
    }

    // An answer of the wrong shape is a decode error, and ends the stream too.
    for mode in MODES {
        emu.faults().clear();
        emu.clear_requests();
        emu.faults().add(
            Fault::on("crm.lead.list")
                .nth(1)
                .respond(Reply::wrong_shape(json!("not a list"))),
        );
        let items = drain(&client, mode, LeadList::new()).await;
        assert_eq!(items.len(), 1, "{mode:?}");
        let err = items[0].as_ref().expect_err("a decode error");
        assert!(matches!(err.kind(), ErrorKind::Decode(_)), "{err:?}");
        assert_eq!(err.method(), "crm.lead.list", "the error names the method");
        assert_eq!(http_requests(&emu).len(), 1);
    }
}

/// Parallel paging needs `total`: a first page that names a `next` without one (or with one that
/// is not a number) is an error, not that page alone as if it were the whole list.
#[tokio::test]
async fn parallel_paging_without_a_total_says_so() {
    let emu = portal_with_leads(120, false).await;
    let client = client(&emu);
    for total in [json!(null), json!("many")] {
        emu.faults().clear();
        emu.faults()
            .add(Fault::on("crm.lead.list").nth(1).respond(Reply::json(
                200,
                &json!({"result": [{"ID": "1"}], "next": 50, "total": total}),
            )));
        let items = drain(&client, Mode::Parallel(2), LeadList::new()).await;
        assert_eq!(items.len(), 1, "{total}: one error and nothing else");
        let err = items[0].as_ref().expect_err("an error");
        assert!(
            matches!(
                err.kind(),
                ErrorKind::Paging(PagingError::NoTotal { next: 50 })
            ),
            "{total}: {err:?}"
        );
    }
}

#[tokio::test]
async fn an_error_in_a_batched_page_ends_the_parallel_stream() {
    let emu = portal_with_leads(20_000, false).await;
    // Page 21 (rows 1000..1050) fails inside the first batch.
    emu.register("crm.lead.list", |ctx, params| {
        if params.int("start") == Some(1_000) {
            return Err(ApiError::new("LIST_BROKEN", "page 21 is broken"));
        }
        b24_emulator::methods::crm::lead::list(ctx, params)
    });
    let client = client(&emu);
    let items = drain(&client, Mode::Parallel(1), LeadList::new()).await;
    // Pages 1 to 20 in order, then the error (no HTTP status inside a batch), then nothing.
    assert_ended_by(&items, 1_000, "LIST_BROKEN", 0);
    let requests = http_requests(&emu);
    assert_eq!(
        requests.len(),
        2,
        "the first page and one batch: no later batch is sent"
    );

    // The batch request itself failing ends the stream as well.
    emu.unregister("crm.lead.list");
    emu.register("crm.lead.list", b24_emulator::methods::crm::lead::list);
    emu.clear_requests();
    emu.faults()
        .add(Fault::on("batch").nth(2).respond(Reply::error(
            400,
            "LIST_BROKEN",
            "the second batch is broken",
        )));
    let client = Client::builder()
        .webhook(&emu.webhook_url(DEMO_IDS.admin_user).expect("webhook"))
        .no_rate_limit()
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let items = drain(&client, Mode::Parallel(1), LeadList::new()).await;
    assert_eq!(items.len(), 50 + 50 * 50 + 1);
    let err = items.last().and_then(|i| i.as_ref().err()).expect("error");
    match err.kind() {
        ErrorKind::Batch(b24::batch::BatchFailure::Request(request)) => {
            assert_eq!(request.method(), "batch");
            assert_eq!(
                request.api_error().map(|a| a.code.as_str()),
                Some("LIST_BROKEN")
            );
        }
        other => panic!("expected the batch request's failure, got {other:?}"),
    }
    assert_eq!(http_requests(&emu).len(), 3);
}
