//! Typed `batch` end to end: the `b24` client against the emulated portal over HTTP.
//!
//! - every declared method can go into a batch; each call's typed result or typed error comes
//!   back by its handle (`take`, `take_with_meta`) or, erased, in order (`into_raw`);
//! - `halt(true)` stops at the first failing call: the rest are `BatchFailure::NotExecuted`, and
//!   with more than 50 calls later requests are not sent at all;
//! - more than 50 calls are split into `ceil(n / 50)` `batch` HTTP requests (counted in the
//!   emulator's journal: entries without `batch_key` whose method is `batch`);
//! - sub-calls are encoded as PHP's `http_build_query` and decoded by the emulator's PHP-rules
//!   parser back to the values sent (nested maps, lists, booleans, `null` and empty arrays left
//!   out, spaces, `&`, `=`, `[`, unicode);
//! - `bind` with a `ResultRef` (`$result[key][field]`) feeds an earlier call's result into a later
//!   call's parameter, and the emulator runs the later call with the substituted value; bad binds
//!   (unknown parameter, forward or self reference, across a request of 50) are refused before
//!   anything is sent;
//! - each sub-call's `time` feeds the client's operating-time accounting of its own method;
//! - `call_many`, OAuth batches, answers whose maps PHP sent as `[]`.

use std::time::{Duration, Instant};

use b24::batch::{BatchFailure, Handle, ResultRef};
use b24::crm::LeadList;
use b24::imopenlines::{
    DialogGet, SessionJoin, SessionOpen, SessionOpenError, SessionOpened, SessionStart,
    SessionStartError,
};
use b24::{Client, ConfigError, Error, ErrorCode, ErrorKind, MethodError};
use b24_emulator::{AuthKind, Chat, Emulator, Portal, User, DEMO_IDS};
use serde_json::{json, Map, Value};

mod common;
use common::{
    admin_unlimited as admin, batch_requests, commands, commands_per_request, http_requests,
};

const START: &str = "imopenlines.session.start";
const OPEN: &str = "imopenlines.session.open";

// ---------------------------------------------------------------------------------------------
// helpers

async fn start(portal: Portal) -> Emulator {
    Emulator::start(portal).await.expect("the emulator starts")
}

fn chat_id(id: u64) -> i64 {
    i64::try_from(id).expect("small id")
}

/// Asserts a call in a batch failed with the method's declared error (status 0: inside a batch).
#[track_caller]
fn assert_method_error<E: MethodError>(err: &Error<E>, code: &str, description: &str) {
    match err.kind() {
        ErrorKind::Method { error, status } => {
            assert_eq!(error.code(), code, "{err}");
            assert_eq!(error.description(), description, "{err}");
            assert_eq!(*status, 0, "{err}");
        }
        other => panic!("expected the method error {code}, got {other:?}"),
    }
    assert!(!err.is_retryable(), "{err}");
    assert_eq!(err.attempts(), 1, "{err}");
}

/// Asserts a call in a batch did not run.
#[track_caller]
fn assert_not_executed<E: MethodError>(err: &Error<E>) {
    assert!(
        matches!(err.kind(), ErrorKind::Batch(BatchFailure::NotExecuted)),
        "{err:?}"
    );
    assert_eq!(err.attempts(), 0);
    assert!(
        err.is_retryable(),
        "a call that did not run may be made again"
    );
}

/// Asserts the batch was refused before sending: every call carries the configuration error.
#[track_caller]
fn assert_refused<E: MethodError>(err: &Error<E>, needle: &str) {
    match err.kind() {
        ErrorKind::Batch(BatchFailure::Request(inner)) => match inner.kind() {
            ErrorKind::Config(ConfigError::Params { message }) => {
                assert!(message.contains(needle), "{message:?} lacks {needle:?}")
            }
            other => panic!("expected a configuration error, got {other:?}"),
        },
        other => panic!("expected the batch to be refused, got {other:?}"),
    }
    assert_eq!(err.attempts(), 0);
}

const CHAT_TYPE_TEXT: &str = "The specified chat is not an open line";
const CHAT_ID_TEXT: &str = "The specified chat identifier is invalid";
const OPEN_DENIED_TEXT: &str =
    "You cannot open this conversation because you do not have sufficient permissions";

// ---------------------------------------------------------------------------------------------
// typed results and errors

#[tokio::test]
async fn mixed_methods_give_typed_results_and_typed_errors_by_handle() {
    let mut portal = Portal::demo();
    portal.seed_leads(10);
    let emu = start(portal).await;
    let client = admin(&emu);

    let mut batch = client.batch();
    let open = batch.push_keyed("open", SessionOpen::new(DEMO_IDS.user_code));
    let started = batch.push(SessionStart::new(chat_id(DEMO_IDS.lines_chat_id)));
    let wrong_type = batch.push(SessionStart::new(chat_id(DEMO_IDS.group_chat_id)));
    let dialog = batch.push(DialogGet::new().chat_id(chat_id(DEMO_IDS.lines_chat_id)));
    let leads = batch.push_keyed("leads", LeadList::new().filter_by("<=ID", 3));
    let denied = batch.push(SessionOpen::new("livechat|1|999|9"));
    assert_eq!(batch.len(), 6);
    assert!(!batch.is_empty());
    assert_eq!(open.key(), "open");
    assert_eq!(started.key(), "c1");
    let mut results = batch.send().await;

    let opened: SessionOpened = results.take(&open).expect("session.open");
    assert_eq!(opened.chat_id, chat_id(DEMO_IDS.lines_chat_id));
    assert!(results.take(&started).expect("session.start"));
    let err = results.take(&wrong_type).expect_err("a group chat");
    assert_method_error(&err, "CHAT_TYPE", CHAT_TYPE_TEXT);
    assert!(matches!(
        err.method_error(),
        Some(SessionStartError::ChatType { .. })
    ));
    assert_eq!(err.method(), START);
    let dialog = results.take(&dialog).expect("dialog.get");
    assert_eq!(dialog.id, chat_id(DEMO_IDS.lines_chat_id));
    assert_eq!(dialog.entity_id, DEMO_IDS.user_code);
    let leads = results.take_with_meta(&leads).expect("crm.lead.list");
    let ids: Vec<u64> = leads.result.iter().map(|l| l.id).collect();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(leads.total, Some(3), "result_total of the sub-call");
    assert_eq!(leads.next, None);
    let time = leads.time.expect("result_time of the sub-call");
    assert!(time.finish >= time.start && time.start > 1.0e9, "{time:?}");
    let err = results.take(&denied).expect_err("an unknown user code");
    assert_method_error(&err, "ACCESS_DENIED", OPEN_DENIED_TEXT);
    assert!(matches!(
        err.method_error(),
        Some(SessionOpenError::AccessDenied { .. })
    ));
    // A second take has nothing left.
    assert_not_executed(&results.take(&open).expect_err("taken already"));

    // One HTTP request; the emulator ran the six commands under their keys, in order.
    assert_eq!(batch_requests(&emu), 1);
    assert_eq!(http_requests(&emu).len(), 1);
    let keys: Vec<String> = commands(&emu)
        .into_iter()
        .filter_map(|c| c.batch_key)
        .collect();
    assert_eq!(keys, ["open", "c1", "c2", "c3", "leads", "c5"]);
    // The session was started once: the demo chat had two sessions.
    assert_eq!(
        emu.portal()
            .lock()
            .sessions_of_chat(DEMO_IDS.lines_chat_id)
            .count(),
        3
    );
}

#[tokio::test]
async fn into_raw_gives_every_result_in_order() {
    let emu = start(Portal::demo()).await;
    let client = admin(&emu);
    let mut batch = client.batch();
    batch.push(SessionOpen::new(DEMO_IDS.user_code));
    batch.push(SessionStart::new(chat_id(DEMO_IDS.group_chat_id)));
    batch.push(SessionStart::new(0));
    batch.push(SessionJoin::new(chat_id(DEMO_IDS.lines_chat_id)));
    let raw = batch.send().await.into_raw();
    assert_eq!(raw.len(), 4);

    let opened = raw[0].as_ref().expect("session.open");
    assert_eq!(
        opened.result,
        json!({"chatId": "101"}),
        "the result as sent"
    );
    assert!(opened.time.is_some());
    let expected_errors = [
        (1, "CHAT_TYPE", CHAT_TYPE_TEXT),
        (2, "CHAT_ID", CHAT_ID_TEXT),
    ];
    for (index, code, text) in expected_errors {
        let err = raw[index].as_ref().expect_err(code);
        let api = err.api_error().expect("erased: an API error");
        assert_eq!(api.code, ErrorCode::parse(code));
        assert_eq!(api.code.as_str(), code);
        assert_eq!(api.description, text);
        assert_eq!(api.status, 0, "no HTTP status inside a batch");
        assert_eq!(err.method(), START);
        assert_eq!(err.attempts(), 1);
    }
    assert_eq!(raw[3].as_ref().expect("session.join").result, json!(true));
}

#[tokio::test]
async fn answers_with_empty_maps_sent_as_lists_are_decoded() {
    let emu = start(Portal::demo()).await;
    let client = admin(&emu);

    // Every call fails: `result`, `result_time`, `result_total`, `result_next` are `[]`.
    let mut batch = client.batch();
    let a = batch.push(SessionStart::new(0));
    let b = batch.push(SessionStart::new(chat_id(DEMO_IDS.group_chat_id)));
    let mut results = batch.send().await;
    assert_method_error(&results.take(&a).expect_err("0"), "CHAT_ID", CHAT_ID_TEXT);
    assert_method_error(
        &results.take(&b).expect_err("group"),
        "CHAT_TYPE",
        CHAT_TYPE_TEXT,
    );

    // Every call succeeds: `result_error` is `[]`.
    let mut batch = client.batch();
    let a = batch.push(SessionStart::new(chat_id(DEMO_IDS.lines_chat_id)));
    let mut results = batch.send().await;
    assert!(results.take(&a).expect("start"));

    // An empty batch sends nothing.
    let results = client.batch().send().await;
    assert!(results.into_raw().is_empty());
    assert_eq!(batch_requests(&emu), 2);
}

// ---------------------------------------------------------------------------------------------
// halt

#[tokio::test]
async fn halt_stops_at_the_first_error_and_reports_the_rest_as_not_executed() {
    let emu = start(Portal::demo()).await;
    let client = admin(&emu);
    let mut batch = client.batch().halt(true);
    let first = batch.push(SessionStart::new(chat_id(DEMO_IDS.lines_chat_id)));
    let failing = batch.push(SessionStart::new(chat_id(DEMO_IDS.group_chat_id)));
    let skipped = batch.push(SessionStart::new(chat_id(DEMO_IDS.lines_chat_id)));
    let skipped_join = batch.push(SessionJoin::new(chat_id(DEMO_IDS.lines_chat_id)));
    let mut results = batch.send().await;
    assert!(results.take(&first).expect("runs"));
    assert_method_error(
        &results.take(&failing).expect_err("group chat"),
        "CHAT_TYPE",
        CHAT_TYPE_TEXT,
    );
    assert_not_executed(&results.take(&skipped).expect_err("halted"));
    assert_not_executed(&results.take(&skipped_join).expect_err("halted"));

    let batch_request = &http_requests(&emu)[0];
    assert_eq!(batch_request.params["halt"], json!(1));
    assert_eq!(commands(&emu).len(), 2, "the portal ran two commands");
    assert_eq!(
        emu.portal()
            .lock()
            .sessions_of_chat(DEMO_IDS.lines_chat_id)
            .count(),
        3,
        "one session started, not two"
    );

    // Without halt the same calls all run.
    emu.clear_requests();
    let mut batch = client.batch();
    batch.push(SessionStart::new(chat_id(DEMO_IDS.lines_chat_id)));
    let failing = batch.push(SessionStart::new(chat_id(DEMO_IDS.group_chat_id)));
    let after = batch.push(SessionStart::new(chat_id(DEMO_IDS.lines_chat_id)));
    let mut results = batch.send().await;
    assert!(results.take(&failing).is_err());
    assert!(results.take(&after).expect("runs without halt"));
    assert_eq!(http_requests(&emu)[0].params["halt"], json!(0));
    assert_eq!(commands(&emu).len(), 3);
}

#[tokio::test]
async fn halt_across_requests_of_fifty_sends_no_later_request() {
    let emu = start(Portal::demo()).await;
    let client = admin(&emu);
    let valid = SessionStart::new(chat_id(DEMO_IDS.lines_chat_id));
    let invalid = SessionStart::new(chat_id(DEMO_IDS.group_chat_id));

    // The failure is in the second request of three: the third is never sent.
    let mut batch = client.batch().halt(true);
    let handles: Vec<Handle<SessionStart>> = (0..130)
        .map(|i| {
            batch.push(if i == 60 {
                invalid.clone()
            } else {
                valid.clone()
            })
        })
        .collect();
    let mut results = batch.send().await;
    for (i, handle) in handles.iter().enumerate() {
        let result = results.take(handle);
        match i {
            0..=59 => assert!(result.expect("before the failure")),
            60 => assert_method_error(&result.expect_err("group"), "CHAT_TYPE", CHAT_TYPE_TEXT),
            _ => assert_not_executed(&result.expect_err("after the failure")),
        }
    }
    assert_eq!(batch_requests(&emu), 2);
    assert_eq!(commands_per_request(&emu), [50, 11]);

    // A failure in the first request: one request only.
    emu.clear_requests();
    let mut batch = client.batch().halt(true);
    let handles: Vec<Handle<SessionStart>> = (0..75)
        .map(|i| {
            batch.push(if i == 0 {
                invalid.clone()
            } else {
                valid.clone()
            })
        })
        .collect();
    let mut results = batch.send().await;
    assert!(results.take(&handles[0]).is_err());
    for handle in &handles[1..] {
        assert_not_executed(&results.take(handle).expect_err("halted"));
    }
    assert_eq!(batch_requests(&emu), 1);
    assert_eq!(commands_per_request(&emu), [1]);
}

// ---------------------------------------------------------------------------------------------
// splitting

#[tokio::test]
async fn more_than_fifty_calls_are_split_into_ceil_n_over_50_requests() {
    let emu = start(Portal::demo()).await;
    let client = admin(&emu);
    let lines = chat_id(DEMO_IDS.lines_chat_id);
    let group = chat_id(DEMO_IDS.group_chat_id);
    // Which calls fail tells each result apart: they must come back in their own places.
    let chat_of = |i: usize| match i % 7 {
        3 => group,
        5 => 0,
        _ => lines,
    };
    for n in [1usize, 49, 50, 51, 100, 101, 173] {
        emu.clear_requests();
        let mut batch = client.batch();
        let handles: Vec<Handle<SessionStart>> = (0..n)
            .map(|i| batch.push(SessionStart::new(chat_of(i))))
            .collect();
        let mut results = batch.send().await;
        for (i, handle) in handles.iter().enumerate() {
            let result = results.take(handle);
            match i % 7 {
                3 => assert_method_error(&result.expect_err("group"), "CHAT_TYPE", CHAT_TYPE_TEXT),
                5 => assert_method_error(&result.expect_err("zero"), "CHAT_ID", CHAT_ID_TEXT),
                _ => assert!(result.expect("valid"), "call {i} of {n}"),
            }
        }
        let requests = n.div_ceil(50);
        assert_eq!(batch_requests(&emu), requests, "n = {n}");
        assert_eq!(http_requests(&emu).len(), requests, "nothing but batches");
        let mut sizes = commands_per_request(&emu);
        sizes.sort_unstable();
        let mut expected: Vec<usize> = (0..n).step_by(50).map(|s| (n - s).min(50)).collect();
        expected.sort_unstable();
        assert_eq!(sizes, expected, "n = {n}");
        // Every command ran exactly once with its own parameters.
        let mut chats: Vec<(String, Value)> = commands(&emu)
            .into_iter()
            .map(|c| (c.batch_key.unwrap_or_default(), c.params["CHAT_ID"].clone()))
            .collect();
        chats.sort_by_key(|(key, _)| key[1..].parse::<usize>().unwrap_or(usize::MAX));
        let expected: Vec<(String, Value)> = (0..n)
            .map(|i| (format!("c{i}"), json!(chat_of(i).to_string())))
            .collect();
        assert_eq!(chats, expected, "n = {n}");
    }
}

#[tokio::test]
async fn call_many_returns_results_in_order() {
    let emu = start(Portal::demo()).await;
    let client = admin(&emu);
    let chats: Vec<i64> = (0..75)
        .map(|i| {
            if i % 10 == 9 {
                chat_id(DEMO_IDS.group_chat_id)
            } else {
                chat_id(DEMO_IDS.lines_chat_id)
            }
        })
        .collect();
    let results = client
        .call_many(chats.iter().map(|c| SessionStart::new(*c)))
        .await;
    assert_eq!(results.len(), 75);
    for (i, result) in results.iter().enumerate() {
        if i % 10 == 9 {
            let err = result.as_ref().expect_err("group chat");
            assert_method_error(err, "CHAT_TYPE", CHAT_TYPE_TEXT);
        } else {
            assert!(result.as_ref().expect("lines chat"));
        }
    }
    assert_eq!(batch_requests(&emu), 2);
    assert_eq!(
        emu.portal()
            .lock()
            .sessions_of_chat(DEMO_IDS.lines_chat_id)
            .count(),
        2 + 75 - 7
    );
}

// ---------------------------------------------------------------------------------------------
// encoding

/// Echoes its parameters as the portal parsed them (registered on the emulator below).
#[b24::b24_method("test.echo", response = Value)]
#[derive(Debug, Clone)]
struct Echo {
    #[b24(rename = "FIELDS")]
    fields: Map<String, Value>,
    #[b24(rename = "ID")]
    ids: Vec<i64>,
    #[b24(int_bool)]
    active: bool,
    note: Option<String>,
}

#[tokio::test]
async fn sub_calls_are_encoded_as_php_http_build_query() {
    let emu = start(Portal::demo()).await;
    emu.register("test.echo", |_, params| Ok(params.to_value()));
    let client = admin(&emu);

    let fields = json!({
        "TITLE": "a b&c=d[e]+f%",
        "NAME": "Привет, 世界 😀",
        "EMPTY": [],
        "NOTHING": null,
        "NESTED": {"LIST": [1, true, false, "x"], "MAP": {"K Y": "v=1"}, "NONE": {}},
        ">ID": 10,
        "SUM": 1500.0,
        "RATE": 0.25,
    });
    let Value::Object(fields) = fields else {
        unreachable!()
    };
    let mut batch = client.batch();
    let echo = batch.push_keyed("echo", Echo::new(fields, vec![1, 2], true).note("x&y=z"));
    let plain = batch.push_keyed("plain", Echo::new(Map::new(), Vec::new(), false));
    let mut results = batch.send().await;

    // What the portal's PHP would have in $_GET for the command: strings at the leaves, `null`
    // and empty arrays gone.
    let echoed = results.take(&echo).expect("echo");
    assert_eq!(
        echoed,
        json!({
            "FIELDS": {
                "TITLE": "a b&c=d[e]+f%",
                "NAME": "Привет, 世界 😀",
                "NESTED": {"LIST": ["1", "1", "0", "x"], "MAP": {"K Y": "v=1"}},
                ">ID": "10",
                "SUM": "1500",
                "RATE": "0.25",
            },
            "ID": ["1", "2"],
            "ACTIVE": "1",
            "NOTE": "x&y=z",
        })
    );
    assert_eq!(
        results.take(&plain).expect("echo"),
        json!({"ACTIVE": "0"}),
        "the empty map and list are left out"
    );

    // The command text, byte for byte as PHP's http_build_query writes it (checked with PHP 8.2
    // on the same array).
    let sent = &http_requests(&emu)[0].params["cmd"];
    assert_eq!(
        sent["echo"],
        "test.echo?FIELDS%5BTITLE%5D=a+b%26c%3Dd%5Be%5D%2Bf%25\
         &FIELDS%5BNAME%5D=%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82%2C+%E4%B8%96%E7%95%8C+%F0%9F%98%80\
         &FIELDS%5BNESTED%5D%5BLIST%5D%5B0%5D=1\
         &FIELDS%5BNESTED%5D%5BLIST%5D%5B1%5D=1\
         &FIELDS%5BNESTED%5D%5BLIST%5D%5B2%5D=0\
         &FIELDS%5BNESTED%5D%5BLIST%5D%5B3%5D=x\
         &FIELDS%5BNESTED%5D%5BMAP%5D%5BK+Y%5D=v%3D1\
         &FIELDS%5B%3EID%5D=10\
         &FIELDS%5BSUM%5D=1500&FIELDS%5BRATE%5D=0.25\
         &ID%5B0%5D=1&ID%5B1%5D=2\
         &ACTIVE=1\
         &NOTE=x%26y%3Dz"
    );
    assert_eq!(sent["plain"], "test.echo?ACTIVE=0");
}

#[tokio::test]
async fn list_filters_survive_the_batch_encoding() {
    let mut portal = Portal::demo();
    portal.seed_leads(300);
    let emu = start(portal).await;
    let client = admin(&emu);
    let mut batch = client.batch();
    let page = batch.push(
        LeadList::new()
            .filter_by(">ID", 100)
            .filter_by("<=ID", 250)
            .filter_by("%TITLE", "#1 "),
    );
    let titled = batch.push(
        LeadList::new()
            .filter_by("%TITLE", "lead #12")
            .filter_by("!ID", json!([12, 120])),
    );
    let mut results = batch.send().await;
    let page = results.take_with_meta(&page).expect("filtered page");
    assert_eq!(page.total, Some(0), "no title has `#1 ` in it");
    let titled = results.take_with_meta(&titled).expect("filtered page");
    let ids: Vec<u64> = titled.result.iter().map(|l| l.id).collect();
    assert_eq!(ids, [121, 122, 123, 124, 125, 126, 127, 128, 129]);
    let parsed = &commands(&emu)[1].params["filter"];
    assert_eq!(*parsed, json!({"%TITLE": "lead #12", "!ID": ["12", "120"]}));
}

// ---------------------------------------------------------------------------------------------
// references between calls

/// A new user in the demo line's operator queue, with a webhook (no rate limit).
fn new_operator(emu: &Emulator) -> (Client, u64) {
    let (id, code) = emu.portal().with(|portal| {
        let id = portal.add_user(User::new("Olga", "Operator"));
        assert!(portal.add_operator(DEMO_IDS.line_id, id));
        (id, portal.add_webhook(id))
    });
    let client = Client::builder()
        .webhook(&emu.webhook_url_with_code(id, &code))
        .no_rate_limit()
        .build()
        .expect("a loopback http webhook URL is accepted");
    (client, id)
}

#[tokio::test]
async fn bind_feeds_an_earlier_result_into_a_later_call() {
    let emu = start(Portal::demo()).await;
    let (operator, operator_id) = new_operator(&emu);
    let other_chat = emu.portal().lock().add_chat(
        Chat::lines(DEMO_IDS.line_id, "livechat|1|777|3", "Another guest")
            .with_owner(DEMO_IDS.admin_user)
            .with_member(DEMO_IDS.guest_user),
    );
    assert_ne!(other_chat, DEMO_IDS.lines_chat_id);

    let mut batch = operator.batch();
    let open = batch.push_keyed("open", SessionOpen::new("livechat|1|777|3"));
    // The chat id is not known yet: the placeholder is replaced by `$result[open][chatId]`.
    let join = batch.push_keyed("join", SessionJoin::new(0));
    let reference = open.result().at("chatId");
    assert_eq!(reference.to_string(), "$result[open][chatId]");
    batch.bind(&join, "CHAT_ID", reference);
    let mut results = batch.send().await;
    assert_eq!(
        results.take(&open).expect("open").chat_id,
        chat_id(other_chat)
    );
    assert!(results.take(&join).expect("join"));

    // The portal ran the join on the chat the open call answered, and on no other.
    {
        let portal = emu.portal();
        let portal = portal.lock();
        let joined = portal.chat(other_chat).expect("the chat");
        assert!(joined.members.contains(&operator_id));
        let demo_chat = portal.chat(DEMO_IDS.lines_chat_id).expect("the demo chat");
        assert!(!demo_chat.members.contains(&operator_id));
    }
    let sent = &http_requests(&emu)[0].params["cmd"];
    assert_eq!(
        sent["join"],
        "imopenlines.session.join?CHAT_ID=%24result%5Bopen%5D%5BchatId%5D"
    );
    let join_command = &commands(&emu)[1];
    assert_eq!(join_command.batch_key.as_deref(), Some("join"));
    assert_eq!(
        join_command.params,
        json!({"CHAT_ID": other_chat.to_string()})
    );
    assert_eq!(join_command.status, 200);
}

#[tokio::test]
async fn bind_walks_into_lists_by_index() {
    let mut portal = Portal::demo();
    portal.seed_leads(200);
    let emu = start(portal).await;
    let client = admin(&emu);
    // The first lead with id 101 or more is lead 101: its id is the demo chat's.
    let mut batch = client.batch();
    let leads = batch.push(LeadList::new().filter_by(">=ID", 101));
    let started = batch.push(SessionStart::new(0));
    let reference = leads.result().index(0).at("ID");
    assert_eq!(reference.to_string(), "$result[c0][0][ID]");
    batch.bind(&started, "CHAT_ID", reference);
    let mut results = batch.send().await;
    assert_eq!(results.take(&leads).expect("leads").len(), 50);
    assert!(results.take(&started).expect("started in chat 101"));
    assert_eq!(commands(&emu)[1].params, json!({"CHAT_ID": "101"}));
    assert_eq!(
        emu.portal()
            .lock()
            .sessions_of_chat(DEMO_IDS.lines_chat_id)
            .count(),
        3
    );
}

#[tokio::test]
async fn bad_binds_refuse_the_whole_batch_before_sending() {
    let emu = start(Portal::demo()).await;
    let client = admin(&emu);

    // A parameter the call does not send.
    let mut batch = client.batch();
    let open = batch.push(SessionOpen::new(DEMO_IDS.user_code));
    let join = batch.push(SessionJoin::new(0));
    batch.bind(&join, "DIALOG_ID", open.result().at("chatId"));
    let mut results = batch.send().await;
    assert_refused(&results.take(&open).expect_err("refused"), "DIALOG_ID");
    assert_refused(&results.take(&join).expect_err("refused"), "DIALOG_ID");

    // An optional parameter left out is not one the call sends either.
    let mut batch = client.batch();
    let open = batch.push(SessionOpen::new(DEMO_IDS.user_code));
    let dialog = batch.push(DialogGet::new());
    batch.bind(&dialog, "CHAT_ID", open.result().at("chatId"));
    let mut results = batch.send().await;
    assert_refused(&results.take(&dialog).expect_err("refused"), "CHAT_ID");

    // A forward reference, and a call referring to itself.
    let mut batch = client.batch();
    let first = batch.push(SessionJoin::new(0));
    let second = batch.push(SessionOpen::new(DEMO_IDS.user_code));
    batch.bind(&first, "CHAT_ID", second.result().at("chatId"));
    let mut results = batch.send().await;
    assert_refused(&results.take(&first).expect_err("refused"), "CHAT_ID");
    assert_refused(&results.take(&second).expect_err("refused"), "CHAT_ID");
    let mut batch = client.batch();
    let own = batch.push(SessionJoin::new(0));
    batch.bind(&own, "CHAT_ID", own.result());
    assert_refused(
        &batch.send().await.take(&own).expect_err("refused"),
        "CHAT_ID",
    );

    // A reference across requests of 50: call 60 goes in the second request.
    let mut batch = client.batch();
    let open = batch.push(SessionOpen::new(DEMO_IDS.user_code));
    let handles: Vec<Handle<SessionJoin>> =
        (1..=60).map(|_| batch.push(SessionJoin::new(0))).collect();
    batch.bind(&handles[58], "CHAT_ID", open.result().at("chatId"));
    let mut results = batch.send().await;
    assert_refused(&results.take(&handles[0]).expect_err("refused"), "CHAT_ID");

    // A reference to a call of another batch.
    let mut other = client.batch();
    let foreign = other.push_keyed("elsewhere", SessionOpen::new(DEMO_IDS.user_code));
    drop(other);
    let mut batch = client.batch();
    let join = batch.push(SessionJoin::new(0));
    batch.bind(&join, "CHAT_ID", foreign.result().at("chatId"));
    assert_refused(
        &batch.send().await.take(&join).expect_err("refused"),
        "$result[elsewhere][chatId]",
    );

    // Keys that are not unique, or not letters, digits and `_`.
    for keys in [["same", "same"], ["ok", "not ok"], ["ok", "123"], ["", "x"]] {
        let mut batch = client.batch();
        let a = batch.push_keyed(keys[0], SessionOpen::new(DEMO_IDS.user_code));
        batch.push_keyed(keys[1], SessionOpen::new(DEMO_IDS.user_code));
        assert_refused(
            &batch.send().await.take(&a).expect_err("refused"),
            "batch key",
        );
    }

    assert!(emu.requests().is_empty(), "nothing was sent");
}

#[test]
fn result_refs_print_as_portal_references() {
    // `ResultRef`s are made from handles only; their text is what the portal substitutes.
    fn text(r: ResultRef) -> String {
        r.to_string()
    }
    let emu_less = Client::from_webhook("http://127.0.0.1:9/rest/1/x/").expect("client");
    let mut batch = emu_less.batch();
    let user = batch.push_keyed("get_user", SessionOpen::new("u"));
    assert_eq!(text(user.result()), "$result[get_user]");
    assert_eq!(
        text(user.result().at("UF_DEPARTMENT").index(0)),
        "$result[get_user][UF_DEPARTMENT][0]"
    );
    assert_eq!(user.result(), user.clone().result());
}

// ---------------------------------------------------------------------------------------------
// operating time

#[tokio::test]
async fn sub_call_times_feed_the_operating_time_of_their_own_methods() {
    let mut portal = Portal::demo();
    portal.set_time_scale(300.0); // ten portal minutes are 2 s
    portal.set_operating_budget(Some(480.0));
    portal.set_method_cost(START, 100.0);
    portal.set_method_cost(OPEN, 7.0);
    let emu = start(portal).await;
    let client = admin(&emu);
    assert!(client.operating_time(START).is_none());

    let mut batch = client.batch();
    let starts: Vec<Handle<SessionStart>> = (0..4)
        .map(|_| batch.push(SessionStart::new(chat_id(DEMO_IDS.lines_chat_id))))
        .collect();
    let open = batch.push(SessionOpen::new(DEMO_IDS.user_code));
    let mut results = batch.send().await;
    for handle in &starts {
        assert!(results.take(handle).expect("start"));
    }
    let open_time = results.take_with_meta(&open).expect("open").time;
    assert_eq!(open_time.and_then(|t| t.operating), Some(7.0));

    let status = client.operating_time(START).expect("observed in the batch");
    assert_eq!(status.operating, Duration::from_secs(400));
    assert!(status.reset_in.is_some_and(|r| r <= Duration::from_secs(3)));
    assert!(status.blocked_for.is_none(), "400 s is under the budget");
    let status = client.operating_time(OPEN).expect("observed in the batch");
    assert_eq!(status.operating, Duration::from_secs(7));
    assert_eq!(
        client
            .operating_time("batch")
            .map(|s| s.operating)
            .unwrap_or_default(),
        Duration::ZERO,
        "the batch itself is not charged"
    );

    // A fifth call spends the budget: the client now holds the method back until the reset...
    let mut batch = client.batch();
    let fifth = batch.push(SessionStart::new(chat_id(DEMO_IDS.lines_chat_id)));
    assert!(batch.send().await.take(&fifth).expect("runs: 400 s spent"));
    let measured = Instant::now();
    let status = client.operating_time(START).expect("observed");
    assert_eq!(status.operating, Duration::from_secs(500));
    let blocked_for = status.blocked_for.expect("over the 480 s budget");
    assert!(blocked_for <= Duration::from_secs(3), "{blocked_for:?}");
    assert!(client
        .operating_time(OPEN)
        .is_some_and(|s| s.blocked_for.is_none()));

    // ... so the next batch holding it waits, and the portal runs it instead of refusing it.
    let mut batch = client.batch();
    let sixth = batch.push(SessionStart::new(chat_id(DEMO_IDS.lines_chat_id)));
    assert!(batch.send().await.take(&sixth).expect("after the reset"));
    assert!(measured.elapsed() >= blocked_for);
    assert!(
        emu.requests().iter().all(|r| r.error.is_none()),
        "no OPERATION_TIME_LIMIT: {:?}",
        emu.requests()
    );
    // The oldest basket (at least the first 400 s) has expired.
    let status = client.operating_time(START).expect("observed");
    assert!(status.operating <= Duration::from_secs(200), "{status:?}");
    assert!(status.blocked_for.is_none());
}

// ---------------------------------------------------------------------------------------------
// OAuth and failed batch requests

#[tokio::test]
async fn batches_go_through_oauth_too() {
    let emu = start(Portal::demo()).await;
    let client = Client::builder()
        .oauth(&emu.base_url(), DEMO_IDS.access_token)
        .no_rate_limit()
        .build()
        .expect("a loopback http portal URL is accepted");
    let mut batch = client.batch();
    let open = batch.push_keyed("open", SessionOpen::new(DEMO_IDS.user_code));
    let join = batch.push_keyed("join", SessionJoin::new(0));
    batch.bind(&join, "CHAT_ID", open.result().at("chatId"));
    let wrong = batch.push(SessionStart::new(chat_id(DEMO_IDS.group_chat_id)));
    let mut results = batch.send().await;
    assert_eq!(
        results.take(&open).expect("open").chat_id,
        chat_id(DEMO_IDS.lines_chat_id)
    );
    assert!(results.take(&join).expect("join"));
    assert_method_error(
        &results.take(&wrong).expect_err("group"),
        "CHAT_TYPE",
        CHAT_TYPE_TEXT,
    );

    let journal = emu.requests();
    assert_eq!(journal.len(), 4);
    assert_eq!(journal[0].method, "batch");
    for entry in &journal {
        assert_eq!(entry.auth, AuthKind::OAuth);
        assert_eq!(entry.user_id, Some(DEMO_IDS.admin_user));
        assert!(entry.params.get("auth").is_none());
    }
    assert_eq!(journal[2].params, json!({"CHAT_ID": "101"}));

    // A token the portal does not know: the batch request fails, and so does every call in it.
    let stranger = Client::builder()
        .oauth(&emu.base_url(), "no0such0token")
        .no_rate_limit()
        .build()
        .expect("client");
    let mut batch = stranger.batch();
    let a = batch.push(SessionOpen::new(DEMO_IDS.user_code));
    let b = batch.push(SessionStart::new(chat_id(DEMO_IDS.lines_chat_id)));
    let mut results = batch.send().await;
    for err in [
        results.take(&a).expect_err("unauthorized").erase(),
        results.take(&b).expect_err("unauthorized").erase(),
    ] {
        match err.kind() {
            ErrorKind::Batch(BatchFailure::Request(request)) => {
                assert_eq!(request.method(), "batch");
                assert!(request.api_error().is_some(), "{request:?}");
                assert_eq!(err.status(), request.status());
                assert!(err.status().is_some_and(|s| s >= 400), "{err:?}");
            }
            other => panic!("expected the batch request's failure, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_failed_batch_request_fails_each_of_its_calls_with_the_cause() {
    use b24_emulator::{Fault, Reply};
    let emu = start(Portal::demo()).await;
    let client = Client::builder()
        .webhook(&emu.webhook_url(DEMO_IDS.admin_user).expect("webhook"))
        .no_rate_limit()
        .retry(b24::RetryPolicy::none())
        .build()
        .expect("client");
    // The second of three requests gets a 502 page.
    emu.faults()
        .add(Fault::on("batch").nth(2).respond(Reply::bad_gateway()));
    let mut batch = client.batch();
    let handles: Vec<Handle<SessionOpen>> = (0..150)
        .map(|_| batch.push(SessionOpen::new(DEMO_IDS.user_code)))
        .collect();
    let mut results = batch.send().await;
    let outcomes: Vec<Result<SessionOpened, Error<SessionOpenError>>> =
        handles.iter().map(|h| results.take(h)).collect();
    let failed: Vec<&Error<SessionOpenError>> =
        outcomes.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(failed.len(), 50, "one request of 50 failed");
    for err in failed {
        assert!(matches!(
            err.kind(),
            ErrorKind::Batch(BatchFailure::Request(_))
        ));
        assert_eq!(err.status(), Some(502));
        assert_eq!(err.attempts(), 1);
    }
    assert_eq!(outcomes.iter().filter(|r| r.is_ok()).count(), 100);
    assert_eq!(batch_requests(&emu), 3);
}

#[tokio::test]
async fn handles_of_another_batch_are_refused() {
    let emu = start(Portal::demo()).await;
    let client = admin(&emu);
    let mut other = client.batch();
    let foreign: Vec<Handle<SessionJoin>> =
        (0..5).map(|_| other.push(SessionJoin::new(0))).collect();
    let foreign_open = other.push(SessionOpen::new(DEMO_IDS.user_code));

    // Binding a call of another batch, even one whose index and key exist in this one.
    let mut batch = client.batch();
    let open = batch.push(SessionOpen::new(DEMO_IDS.user_code));
    let join = batch.push(SessionJoin::new(0));
    batch.bind(&foreign[1], "CHAT_ID", open.result().at("chatId"));
    assert_refused(
        &batch.send().await.take(&join).expect_err("refused"),
        "another batch",
    );
    let mut batch = client.batch();
    let open = batch.push(SessionOpen::new(DEMO_IDS.user_code));
    batch.bind(&foreign[4], "CHAT_ID", open.result().at("chatId"));
    assert_refused(
        &batch.send().await.take(&open).expect_err("refused"),
        "another batch",
    );

    // A reference to a result of another batch, even under a key this one has.
    let mut batch = client.batch();
    batch.push(SessionOpen::new(DEMO_IDS.user_code));
    let join = batch.push(SessionJoin::new(0));
    assert_eq!(foreign[0].key(), "c0");
    batch.bind(&join, "CHAT_ID", foreign[0].result());
    assert_refused(
        &batch.send().await.take(&join).expect_err("refused"),
        "another batch",
    );
    assert!(emu.requests().is_empty(), "nothing was sent");

    // Taking a result with a handle of another batch gives no other call's result.
    let mut batch = client.batch();
    batch.push(SessionOpen::new(DEMO_IDS.user_code));
    let mut results = batch.send().await;
    let err = results
        .take(&foreign_open)
        .expect_err("not this batch's call");
    assert!(
        matches!(err.kind(), ErrorKind::Config(ConfigError::Params { message }) if message.contains("another batch")),
        "{err:?}"
    );
    drop(other);
}

/// A method whose result the test handler makes echo a secret.
#[b24::b24_method("test.echo.secret", response = bool)]
#[derive(Debug, Clone)]
pub struct EchoSecret {
    /// Anything.
    pub n: i64,
}

#[tokio::test]
async fn a_sub_result_echoing_the_webhook_code_does_not_show_it_in_errors() {
    let emu = common::demo().await;
    emu.register("test.echo.secret", |_, _| {
        Ok(json!({ "echo": DEMO_IDS.admin_webhook }))
    });
    let client = admin(&emu);
    let mut batch = client.batch();
    let handle = batch.push(EchoSecret::new(1));
    let err = batch.send().await.take(&handle).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(matches!(err.kind(), ErrorKind::Decode(_)), "{err:?}");
    assert!(!text.contains(DEMO_IDS.admin_webhook), "{text}");
    assert!(text.contains("***"), "{text}");
}
