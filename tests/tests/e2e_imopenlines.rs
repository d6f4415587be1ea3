//! End-to-end tests of the declared `imopenlines` methods: the `b24` client against the emulated
//! portal (`b24_emulator`), over real HTTP on loopback.
//!
//! For each of `imopenlines.session.start`, `.session.open`, `.session.join`, `.session.mode.pin`,
//! `.dialog.get` and `.session.history.get`:
//! - a successful call, asserting the typed result and the change it made (seen through a later
//!   call, the portal state `emu.portal()` or the request journal `emu.requests()`);
//! - every error code the method's docs page lists, produced by setting the portal up so that the
//!   real method would answer it, and asserted as the method's typed error variant with its status,
//!   its description, `is_retryable() == false` and `attempts() == 1`.
//!
//! Calls go through webhooks and OAuth, the one-line functions (`imopenlines::session_start`),
//! `client.call(Request::new(..).setter(..))` and `.with_meta()`.

use b24::exports::chrono::FixedOffset;
use b24::imopenlines::{
    self, Dialog, DialogEntityLink, DialogGet, DialogGetError, DialogRestrictions, FirstViewer,
    HistoryDepartment, HistoryOpenlines, LastMessageViews, ReadedItem, SessionHistoryGet,
    SessionHistoryGetError, SessionJoin, SessionJoinError, SessionModePin, SessionModePinError,
    SessionOpen, SessionOpenError, SessionOpened, SessionStart, SessionStartError,
};
use b24::{Client, DateTime, Error, ErrorCode, ErrorKind, MethodError};
use b24_emulator::{AuthKind, Chat, Emulator, RecordedRequest, User, DEMO_IDS};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const START: &str = "imopenlines.session.start";
const OPEN: &str = "imopenlines.session.open";
const JOIN: &str = "imopenlines.session.join";
const PIN: &str = "imopenlines.session.mode.pin";
const DIALOG: &str = "imopenlines.dialog.get";
const HISTORY: &str = "imopenlines.session.history.get";

/// The error descriptions, as each method's docs page words them.
mod texts {
    pub const START_CHAT_ID: &str = "The specified chat identifier is invalid";
    pub const START_CHAT_TYPE: &str = "The specified chat is not an open line";
    pub const START_ACCESS_DENIED: &str =
        "You cannot open this conversation because you do not have sufficient permissions";
    pub const START_USER_ID: &str = "The specified user identifier is invalid";

    pub const OPEN_ACCESS_DENIED: &str =
        "You cannot open this conversation because you do not have sufficient permissions";

    pub const JOIN_CHAT_ID: &str = "The specified chat identifier is incorrect";
    pub const JOIN_CHAT_TYPE: &str = "The specified chat is not an Open Channel";
    pub const JOIN_ACCESS_DENIED: &str =
        "You cannot open this conversation as you do not have sufficient permissions";
    pub const JOIN_USER_ID: &str = "The specified user identifier is incorrect";

    pub const PIN_CHAT_ID_EMPTY: &str = "Chat ID can't be empty";
    pub const PIN_CHAT_ID: &str = "Invalid chat identifier provided";
    pub const PIN_CHAT_TYPE: &str = "The specified chat is not an open line";
    pub const PIN_ACCESS_DENIED: &str =
        "You cannot open this conversation as you do not have sufficient permissions";
    pub const PIN_USER_ID: &str = "Invalid user identifier provided";

    pub const DIALOG_IM_NOT_INSTALLED: &str = "Messenger is not installed.";
    pub const DIALOG_ACCESS_ERROR: &str = "You do not have access to the specified dialog";

    pub const HISTORY_MISSING_REQUIRED_PARAM: &str = "Session ID or Chat ID must be provided";
    pub const HISTORY_INVALID_SESSION_ID: &str =
        "Unable to determine session ID from provided parameters";
    pub const HISTORY_ACCESS_DENIED: &str =
        "You cannot open this conversation as you do not have sufficient rights";
}
use texts::*;

mod common;
use common::demo;

// ---------------------------------------------------------------------------------------------
// helpers

/// A client with the default settings (retries on) for a user's demo webhook.
fn webhook_client(emu: &Emulator, user_id: u64) -> Client {
    let url = emu
        .webhook_url(user_id)
        .expect("the demo user has a webhook");
    Client::from_webhook(&url).expect("a loopback http webhook URL is accepted")
}

/// User 1: administrator, operator of the demo line, owner of chat 101.
fn admin(emu: &Emulator) -> Client {
    webhook_client(emu, DEMO_IDS.admin_user)
}

/// User 2: an employee without access to the open-line chat.
fn outsider(emu: &Emulator) -> Client {
    webhook_client(emu, DEMO_IDS.other_user)
}

/// User 1 through its OAuth access token.
fn oauth(emu: &Emulator) -> Client {
    Client::from_oauth(&emu.base_url(), DEMO_IDS.access_token)
        .expect("a loopback http portal URL is accepted")
}

/// A new user in the demo line's operator queue (so may work with chat 101, but is not a member
/// of it), with a webhook of its own.
fn new_operator(emu: &Emulator) -> (Client, u64) {
    let (id, code) = emu.portal().with(|portal| {
        let id = portal.add_user(User::new("Olga", "Operator").with_work_position("Operator"));
        assert!(portal.add_operator(DEMO_IDS.line_id, id));
        (id, portal.add_webhook(id))
    });
    let client = Client::from_webhook(&emu.webhook_url_with_code(id, &code))
        .expect("a loopback http webhook URL is accepted");
    (client, id)
}

/// A webhook whose user was deleted afterwards: it still authenticates, but no user is behind the
/// calls made with it (the methods answer `USER_ID`).
fn removed_user_webhook(emu: &Emulator) -> Client {
    let (client, id) = new_operator(emu);
    assert!(emu.portal().lock().remove_user(id).is_some());
    client
}

/// An OAuth token whose user was deleted afterwards.
fn removed_user_token(emu: &Emulator) -> Client {
    let token = "token0of0a0removed0user";
    emu.portal().with(|portal| {
        let id = portal.add_user(User::new("Gone", "Soon"));
        portal.add_operator(DEMO_IDS.line_id, id);
        portal.add_access_token(id, token);
        assert!(portal.remove_user(id).is_some());
    });
    Client::from_oauth(&emu.base_url(), token).expect("a loopback http portal URL is accepted")
}

/// A second open-line chat of the demo line, owned by user 1, without any session.
fn add_lines_chat_without_sessions(emu: &Emulator) -> u64 {
    emu.portal().lock().add_chat(
        Chat::lines(
            DEMO_IDS.line_id,
            "livechat|1|777|3",
            "Another guest - Demo line",
        )
        .with_owner(DEMO_IDS.admin_user)
        .with_member(DEMO_IDS.guest_user),
    )
}

/// The last request the emulator received.
fn last_request(emu: &Emulator) -> RecordedRequest {
    emu.requests()
        .pop()
        .expect("the emulator received a request")
}

/// Asserts that the call failed with the method's own error `expected` (status 400), not retried.
#[track_caller]
fn assert_method_error<E>(err: &Error<E>, method: &str, expected: E)
where
    E: MethodError + PartialEq,
{
    match err.kind() {
        ErrorKind::Method { error, status } => {
            assert_eq!(error, &expected, "{err}");
            assert_eq!(*status, 400, "{err}");
        }
        other => panic!("{method}: expected {expected:?}, got {other:?}"),
    }
    assert_eq!(err.method(), method);
    assert_eq!(err.method_error(), Some(&expected));
    assert_eq!(err.api_error(), None);
    assert_eq!(err.status(), Some(400));
    assert!(!err.is_retryable(), "a method's own error is final: {err}");
    assert_eq!(err.attempts(), 1, "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "{method} failed: {} (HTTP 400): {}",
            expected.code(),
            expected.description()
        )
    );
}

/// Asserts that the emulator answered the last request with `code` and HTTP 400, once.
#[track_caller]
fn assert_answered_once(emu: &Emulator, method: &str, code: &str, before: usize) {
    let requests = emu.requests();
    assert_eq!(
        requests.len(),
        before + 1,
        "exactly one HTTP request per failed call: no retry"
    );
    let last = requests.last().expect("a request");
    assert_eq!(last.method, method);
    assert_eq!(last.status, 400);
    assert_eq!(last.error.as_deref(), Some(code));
}

fn date(text: &str) -> DateTime {
    DateTime::parse_from_rfc3339(text).expect("an RFC 3339 date")
}

/// The `|`-separated fields of `entity_data_1`: `CRM|TYPE|ID|PAUSE|WAIT|SESSION_ID|START|…`.
fn entity_data_1(dialog: &Dialog) -> Vec<String> {
    dialog.entity_data_1.split('|').map(str::to_owned).collect()
}

// ---------------------------------------------------------------------------------------------
// imopenlines.session.start

#[tokio::test]
async fn session_start_starts_a_new_session_for_the_caller() {
    let emu = demo().await;
    let client = admin(&emu);

    let started = imopenlines::session_start(&client, DEMO_IDS.lines_chat_id as i64)
        .await
        .expect("session.start succeeds");
    assert!(started);

    let request = last_request(&emu);
    assert_eq!(request.method, START);
    assert_eq!(request.http_method, "POST");
    assert_eq!(request.auth, AuthKind::Webhook);
    assert_eq!(request.user_id, Some(DEMO_IDS.admin_user));
    assert_eq!(request.params, json!({"CHAT_ID": 101}));
    assert_eq!(request.status, 200);

    // The portal: the open session 202 was closed and a third one, handled by user 1, opened.
    let new_session = {
        let portal = emu.portal().snapshot();
        let sessions: Vec<_> = portal.sessions_of_chat(DEMO_IDS.lines_chat_id).collect();
        assert_eq!(sessions.len(), 3);
        assert!(sessions[1].closed && sessions[1].id == DEMO_IDS.session_id);
        let new = sessions[2];
        assert!(new.id > DEMO_IDS.session_id);
        assert!(!new.closed);
        assert_eq!(new.operator_id, DEMO_IDS.admin_user);
        new.id
    };

    // Later calls see it: the chat's latest session, empty, and in dialog.get's entity_data_1.
    let history = client
        .call(SessionHistoryGet::new().chat_id(DEMO_IDS.lines_chat_id as i64))
        .await
        .expect("history by chat");
    assert_eq!(history.session_id, new_session as i64);
    assert!(history.message.is_empty());
    assert!(history.files.is_empty());
    assert_eq!(history.users_message["chat101"], Vec::<u64>::new());
    // A one-line call's request can be completed before it is awaited.
    let mut call = imopenlines::dialog_get(&client);
    assert_eq!(call.request(), &DialogGet::default());
    call.request_mut().chat_id = Some(101);
    let dialog = call.await.expect("dialog.get");
    assert_eq!(entity_data_1(&dialog)[5], new_session.to_string());
}

#[tokio::test]
async fn session_start_by_a_queue_operator_makes_them_a_member() {
    let emu = demo().await;
    let (operator, operator_id) = new_operator(&emu);
    assert!(!emu
        .portal()
        .lock()
        .chat(DEMO_IDS.lines_chat_id)
        .is_some_and(|chat| chat.members.contains(&operator_id)));

    let started = operator
        .call(SessionStart::new(DEMO_IDS.lines_chat_id as i64))
        .await
        .expect("an operator of the line may start a session");
    assert!(started);

    let portal = emu.portal().snapshot();
    let last = portal
        .last_session(DEMO_IDS.lines_chat_id)
        .expect("a session");
    assert_eq!(last.operator_id, operator_id);
    assert!(portal
        .chat(DEMO_IDS.lines_chat_id)
        .is_some_and(|chat| chat.members.contains(&operator_id)));
}

#[tokio::test]
async fn session_start_errors() {
    let emu = demo().await;
    let client = admin(&emu);
    let chat_id_error = || SessionStartError::ChatId {
        description: START_CHAT_ID.into(),
    };

    // CHAT_ID: not positive, or no such chat.
    for chat_id in [0, -5, 999] {
        let before = emu.requests().len();
        let err = imopenlines::session_start(&client, chat_id)
            .await
            .expect_err("no such chat");
        assert_method_error(&err, START, chat_id_error());
        assert_answered_once(&emu, START, "CHAT_ID", before);
    }

    // CHAT_TYPE: an ordinary group chat is not an open line.
    let before = emu.requests().len();
    let err = imopenlines::session_start(&client, DEMO_IDS.group_chat_id as i64)
        .await
        .expect_err("not an open line");
    assert!(matches!(
        err.kind(),
        ErrorKind::Method {
            error: SessionStartError::ChatType { .. },
            status: 400
        }
    ));
    assert_method_error(
        &err,
        START,
        SessionStartError::ChatType {
            description: START_CHAT_TYPE.into(),
        },
    );
    assert_answered_once(&emu, START, "CHAT_TYPE", before);

    // ACCESS_DENIED: user 2 may not work with the open-line chat.
    let before = emu.requests().len();
    let err = imopenlines::session_start(&outsider(&emu), DEMO_IDS.lines_chat_id as i64)
        .await
        .expect_err("no access");
    assert_method_error(
        &err,
        START,
        SessionStartError::AccessDenied {
            description: START_ACCESS_DENIED.into(),
        },
    );
    assert_answered_once(&emu, START, "ACCESS_DENIED", before);

    // USER_ID: the webhook's user no longer exists.
    let before = emu.requests().len();
    let err = imopenlines::session_start(&removed_user_webhook(&emu), 101)
        .await
        .expect_err("no user behind the webhook");
    assert_method_error(
        &err,
        START,
        SessionStartError::UserId {
            description: START_USER_ID.into(),
        },
    );
    assert_answered_once(&emu, START, "USER_ID", before);

    // None of the failed calls changed anything.
    let portal = emu.portal().snapshot();
    assert_eq!(portal.sessions_of_chat(DEMO_IDS.lines_chat_id).count(), 2);
    assert!(portal
        .session(DEMO_IDS.session_id)
        .is_some_and(|s| !s.closed));
}

// ---------------------------------------------------------------------------------------------
// imopenlines.session.open

#[tokio::test]
async fn session_open_finds_the_chat_of_a_user_code() {
    let emu = demo().await;
    let client = admin(&emu);

    // The portal sends `{"chatId": "101"}`: a string, decoded into the declared i64.
    let opened = imopenlines::session_open(&client, DEMO_IDS.user_code)
        .await
        .expect("session.open");
    assert_eq!(opened, SessionOpened { chat_id: 101 });
    assert_eq!(
        last_request(&emu).params,
        json!({"USER_CODE": "livechat|1|101|3"})
    );

    let other_chat = add_lines_chat_without_sessions(&emu);
    let opened = client
        .call(SessionOpen::new("livechat|1|777|3"))
        .await
        .expect("session.open of the second chat");
    assert_eq!(opened.chat_id, other_chat as i64);

    // What it returns is what the other methods take.
    let dialog = client
        .call(DialogGet::by_chat_id(opened.chat_id))
        .await
        .expect("dialog.get");
    assert_eq!(dialog.entity_id, "livechat|1|777|3");
}

#[tokio::test]
async fn session_open_errors() {
    let emu = demo().await;
    let denied = || SessionOpenError::AccessDenied {
        description: OPEN_ACCESS_DENIED.into(),
    };

    // An unknown user code, an empty one, and a chat the caller may not access.
    for (client, code) in [
        (admin(&emu), "livechat|1|999|3"),
        (admin(&emu), ""),
        (outsider(&emu), DEMO_IDS.user_code),
    ] {
        let before = emu.requests().len();
        let err = imopenlines::session_open(&client, code)
            .await
            .expect_err("no access");
        assert_method_error(&err, OPEN, denied());
        assert_answered_once(&emu, OPEN, "ACCESS_DENIED", before);
    }

    // Raw, the same answer is the system-wide code ACCESS_DENIED, kept with its 400 status.
    let err = admin(&emu)
        .call_raw(OPEN, &json!({"USER_CODE": "nobody"}))
        .await
        .expect_err("no access");
    let api = err.api_error().expect("an API error");
    assert_eq!(api.code, ErrorCode::AccessDenied);
    assert_eq!(
        (api.status, api.description.as_str()),
        (400, OPEN_ACCESS_DENIED)
    );
}

// ---------------------------------------------------------------------------------------------
// imopenlines.session.join

#[tokio::test]
async fn session_join_adds_the_operator_to_the_chat() {
    let emu = demo().await;
    let (operator, operator_id) = new_operator(&emu);

    // Before: the operator may see the dialogue but is not in it.
    let history = operator
        .call(SessionHistoryGet::new().session_id(DEMO_IDS.session_id as i64))
        .await
        .expect("history");
    assert!(history.can_join, "`canJoin: \"Y\"` for a non-member");
    assert!(
        !history.can_vote_head,
        "`canVoteHead: \"N\"` for a non-admin"
    );
    let dialog = operator
        .call(DialogGet::by_chat_id(101))
        .await
        .expect("dialog");
    assert_eq!(dialog.role, "guest");

    let joined = imopenlines::session_join(&operator, 101)
        .await
        .expect("session.join");
    assert!(joined);
    assert_eq!(last_request(&emu).params, json!({"CHAT_ID": 101}));

    assert!(emu
        .portal()
        .lock()
        .chat(DEMO_IDS.lines_chat_id)
        .is_some_and(|chat| chat.members.contains(&operator_id)));
    let history = operator
        .call(SessionHistoryGet::new().session_id(DEMO_IDS.session_id as i64))
        .await
        .expect("history");
    assert!(!history.can_join, "a member cannot join again");
    assert_eq!(
        history.user_in_chat[&101],
        vec![DEMO_IDS.admin_user, DEMO_IDS.guest_user, operator_id]
    );
    assert!(history.users.contains_key(&operator_id));
    let dialog = operator
        .call(DialogGet::by_chat_id(101))
        .await
        .expect("dialog");
    assert_eq!(dialog.role, "member");

    // Joining is declared non-idempotent, and a second join still answers true.
    assert!(operator.call(SessionJoin::new(101)).await.expect("again"));
}

#[tokio::test]
async fn session_join_errors() {
    let emu = demo().await;
    let client = admin(&emu);

    for chat_id in [0, -1, 999] {
        let before = emu.requests().len();
        let err = imopenlines::session_join(&client, chat_id)
            .await
            .expect_err("no such chat");
        assert_method_error(
            &err,
            JOIN,
            SessionJoinError::ChatId {
                description: JOIN_CHAT_ID.into(),
            },
        );
        assert_answered_once(&emu, JOIN, "CHAT_ID", before);
    }

    let before = emu.requests().len();
    let err = imopenlines::session_join(&client, DEMO_IDS.group_chat_id as i64)
        .await
        .expect_err("not an open line");
    assert_method_error(
        &err,
        JOIN,
        SessionJoinError::ChatType {
            description: JOIN_CHAT_TYPE.into(),
        },
    );
    assert_answered_once(&emu, JOIN, "CHAT_TYPE", before);

    let before = emu.requests().len();
    let err = imopenlines::session_join(&outsider(&emu), 101)
        .await
        .expect_err("no access");
    assert_method_error(
        &err,
        JOIN,
        SessionJoinError::AccessDenied {
            description: JOIN_ACCESS_DENIED.into(),
        },
    );
    assert_answered_once(&emu, JOIN, "ACCESS_DENIED", before);

    let before = emu.requests().len();
    let err = imopenlines::session_join(&removed_user_webhook(&emu), 101)
        .await
        .expect_err("no user");
    assert_method_error(
        &err,
        JOIN,
        SessionJoinError::UserId {
            description: JOIN_USER_ID.into(),
        },
    );
    assert_answered_once(&emu, JOIN, "USER_ID", before);

    // User 2 did not become a member.
    assert!(!emu
        .portal()
        .lock()
        .chat(DEMO_IDS.lines_chat_id)
        .is_some_and(|chat| chat.members.contains(&DEMO_IDS.other_user)));
}

// ---------------------------------------------------------------------------------------------
// imopenlines.session.mode.pin

#[tokio::test]
async fn session_mode_pin_sends_activate_as_y_or_n_and_pins() {
    let emu = demo().await;
    let client = admin(&emu);
    let pinned = |emu: &Emulator| {
        emu.portal()
            .lock()
            .session(DEMO_IDS.session_id)
            .map(|s| (s.pinned, s.operator_id))
    };
    let pause_flag = |dialog: &Dialog| entity_data_1(dialog)[3].clone();
    assert_eq!(pinned(&emu), Some((false, DEMO_IDS.admin_user)));

    // Without ACTIVATE: the parameter is left out and the portal's default (pin) applies.
    assert!(imopenlines::session_mode_pin(&client, 101)
        .await
        .expect("pin"));
    assert_eq!(last_request(&emu).params, json!({"CHAT_ID": 101}));
    assert_eq!(pinned(&emu), Some((true, DEMO_IDS.admin_user)));
    let dialog = client
        .call(DialogGet::by_chat_id(101))
        .await
        .expect("dialog");
    assert_eq!(pause_flag(&dialog), "Y");

    // activate(false): sent as "N", unpins.
    assert!(client
        .call(SessionModePin::new(101).activate(false))
        .await
        .expect("unpin"));
    assert_eq!(
        last_request(&emu).params,
        json!({"CHAT_ID": 101, "ACTIVATE": "N"})
    );
    assert_eq!(pinned(&emu), Some((false, DEMO_IDS.admin_user)));
    let dialog = client
        .call(DialogGet::by_chat_id(101))
        .await
        .expect("dialog");
    assert_eq!(pause_flag(&dialog), "N");

    // activate(true) by another operator: sent as "Y", pins the session to that operator.
    let (operator, operator_id) = new_operator(&emu);
    let request = SessionModePin::new(101).activate(true);
    assert_eq!(request.activate, Some(true));
    assert!(operator.call(request).await.expect("pin"));
    let sent = last_request(&emu);
    assert_eq!(sent.params, json!({"CHAT_ID": 101, "ACTIVATE": "Y"}));
    assert_eq!(sent.user_id, Some(operator_id));
    assert_eq!(pinned(&emu), Some((true, operator_id)));

    // The JSON wire form is exactly what the journal shows.
    assert_eq!(
        serde_json::to_value(SessionModePin::new(5).activate(false)).expect("serializes"),
        json!({"CHAT_ID": 5, "ACTIVATE": "N"})
    );
}

#[tokio::test]
async fn session_mode_pin_errors() {
    let emu = demo().await;
    let client = admin(&emu);

    // CHAT_ID_EMPTY: the parameter missing. The typed declaration always sends `CHAT_ID` (it is
    // required), so raw is the only way to leave it out: the code is then an undeclared one.
    let before = emu.requests().len();
    let err = client
        .call_raw(PIN, &json!({}))
        .await
        .expect_err("CHAT_ID missing");
    match err.kind() {
        ErrorKind::Api(api) => {
            assert_eq!(api.code, ErrorCode::Other("CHAT_ID_EMPTY".into()));
            assert_eq!(api.code.as_str(), "CHAT_ID_EMPTY");
            assert_eq!(api.description, PIN_CHAT_ID_EMPTY);
            assert_eq!(api.status, 400);
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(err.attempts(), 1);
    assert_answered_once(&emu, PIN, "CHAT_ID_EMPTY", before);

    // What the typed declaration can express: CHAT_ID = 0, which the portal's `empty()` treats as
    // missing, so the typed call gets the declared CHAT_ID_EMPTY variant.
    let before = emu.requests().len();
    let err = imopenlines::session_mode_pin(&client, 0)
        .await
        .expect_err("CHAT_ID empty");
    assert_method_error(
        &err,
        PIN,
        SessionModePinError::ChatIdEmpty {
            description: PIN_CHAT_ID_EMPTY.into(),
        },
    );
    assert_answered_once(&emu, PIN, "CHAT_ID_EMPTY", before);
    // Erased, the typed error is the same API error as the raw one.
    let erased = err.erase();
    let api = erased.api_error().expect("erased to an API error");
    assert_eq!(api.code.as_str(), "CHAT_ID_EMPTY");
    assert_eq!(
        (api.status, api.description.as_str()),
        (400, PIN_CHAT_ID_EMPTY)
    );

    // CHAT_ID: negative or unknown.
    for chat_id in [-3, 999] {
        let before = emu.requests().len();
        let err = client
            .call(SessionModePin::new(chat_id).activate(true))
            .await
            .expect_err("bad chat");
        assert_method_error(
            &err,
            PIN,
            SessionModePinError::ChatId {
                description: PIN_CHAT_ID.into(),
            },
        );
        assert_answered_once(&emu, PIN, "CHAT_ID", before);
    }

    let before = emu.requests().len();
    let err = imopenlines::session_mode_pin(&client, DEMO_IDS.group_chat_id as i64)
        .await
        .expect_err("not an open line");
    assert_method_error(
        &err,
        PIN,
        SessionModePinError::ChatType {
            description: PIN_CHAT_TYPE.into(),
        },
    );
    assert_answered_once(&emu, PIN, "CHAT_TYPE", before);

    // ACCESS_DENIED: a user without access, and an open-line chat that has no session to pin.
    let no_sessions = add_lines_chat_without_sessions(&emu) as i64;
    for (client, chat_id) in [(outsider(&emu), 101), (admin(&emu), no_sessions)] {
        let before = emu.requests().len();
        let err = imopenlines::session_mode_pin(&client, chat_id)
            .await
            .expect_err("no access");
        assert_method_error(
            &err,
            PIN,
            SessionModePinError::AccessDenied {
                description: PIN_ACCESS_DENIED.into(),
            },
        );
        assert_answered_once(&emu, PIN, "ACCESS_DENIED", before);
    }

    let before = emu.requests().len();
    let err = imopenlines::session_mode_pin(&removed_user_webhook(&emu), 101)
        .await
        .expect_err("no user");
    assert_method_error(
        &err,
        PIN,
        SessionModePinError::UserId {
            description: PIN_USER_ID.into(),
        },
    );
    assert_answered_once(&emu, PIN, "USER_ID", before);

    assert!(emu
        .portal()
        .lock()
        .session(DEMO_IDS.session_id)
        .is_some_and(|s| !s.pinned));
}

// ---------------------------------------------------------------------------------------------
// imopenlines.dialog.get

/// Asserts the dialog of chat 101 as user 1 sees it in the untouched demo portal.
#[track_caller]
fn assert_demo_dialog(dialog: &Dialog) {
    assert_eq!(dialog.id, 101);
    assert_eq!(dialog.dialog_id, "chat101");
    assert_eq!((dialog.parent_chat_id, dialog.parent_message_id), (0, 0));
    assert_eq!(dialog.name, "Guest - Demo line");
    assert_eq!(dialog.description, None);
    assert_eq!(dialog.owner, 1);
    assert!(!dialog.extranet);
    assert_eq!(dialog.avatar, "");
    assert_eq!(dialog.color, "#ba9c7b");
    assert_eq!(dialog.chat_type, "lines");
    assert_eq!(dialog.entity_type, "LINES");
    assert_eq!(dialog.entity_id, DEMO_IDS.user_code);
    assert_eq!(
        dialog.entity_link,
        DialogEntityLink {
            link_type: "LINES".into(),
            url: String::new(),
            id: DEMO_IDS.user_code.into(),
        }
    );
    // Messages 1001–1006; user 1 read up to 1006, so nothing is unread.
    assert_eq!(dialog.message_count, 6);
    assert_eq!((dialog.last_message_id, dialog.last_id), (1006, 1006));
    assert_eq!(
        (dialog.counter, dialog.unread_id, dialog.marked_id),
        (0, 0, 0)
    );
    assert_eq!(dialog.user_counter, 2);
    assert_eq!(dialog.role, "owner");
    assert_eq!(dialog.manager_list, vec![1]);
    assert!(dialog.mute_list.is_empty());
    assert_eq!(dialog.message_type, "L");
    assert!(dialog.text_field_enabled);
    assert_eq!(dialog.background_id, None);
    assert!(!dialog.is_new);
    let all = DialogRestrictions {
        avatar: true,
        rename: true,
        extend: true,
        call: true,
        mute: true,
        leave: true,
        leave_owner: true,
        send: true,
        user_list: true,
    };
    assert_eq!(dialog.restrictions, all);
    assert_eq!(dialog.permissions.manage_settings, "owner");
    assert_eq!(dialog.permissions.manage_users_delete, "manager");
    assert_eq!(dialog.permissions.can_post, "member");
    assert!(dialog.permissions.other.is_empty());

    // Dates carry the portal's offset (+01:00 in the demo).
    assert_eq!(dialog.date_create, date("2026-03-10T10:00:00+01:00"));
    assert_eq!(dialog.date_create.offset().local_minus_utc(), 3600);

    // entity_data_1: CRM lead 1205, not paused, session 202 started 2026-03-11 12:08:52 UTC.
    let started = date("2026-03-11T13:08:52+01:00").timestamp().to_string();
    assert_eq!(
        entity_data_1(dialog),
        ["Y", "LEAD", "1205", "N", "N", "202", &started, "0", "0", "0"]
    );
    assert_eq!(dialog.entity_data_2, "LEAD|1205|COMPANY|0|CONTACT|0|DEAL|0");
    assert_eq!(dialog.entity_data_3, "N");

    assert_eq!(
        dialog.readed_list,
        vec![ReadedItem {
            user_id: 3,
            user_name: "Guest".into(),
            message_id: 1005,
            date: None,
        }]
    );
    assert_eq!(
        dialog.last_message_views,
        Some(LastMessageViews {
            message_id: 1006,
            first_viewers: vec![FirstViewer {
                user_id: 1,
                user_name: "Samantha Johnson".into(),
                date: Some(date("2026-03-11T13:14:00+01:00")),
            }],
            count_of_viewers: 0,
        })
    );
}

#[tokio::test]
async fn dialog_get_by_each_identifier() {
    let emu = demo().await;
    let client = admin(&emu);

    let by_chat = client
        .call(DialogGet::by_chat_id(101))
        .await
        .expect("by CHAT_ID");
    assert_demo_dialog(&by_chat);
    assert_eq!(last_request(&emu).params, json!({"CHAT_ID": 101}));

    let requests = [
        (
            DialogGet::by_dialog_id("chat101"),
            json!({"DIALOG_ID": "chat101"}),
        ),
        (DialogGet::by_session_id(202), json!({"SESSION_ID": 202})),
        (
            DialogGet::new().user_code(DEMO_IDS.user_code),
            json!({"USER_CODE": "livechat|1|101|3"}),
        ),
        // The closed session belongs to the same chat.
        (DialogGet::by_session_id(201), json!({"SESSION_ID": 201})),
    ];
    for (request, wire) in requests {
        let dialog = client.call(request).await.expect("dialog.get");
        assert_eq!(dialog, by_chat, "{wire}");
        assert_eq!(last_request(&emu).params, wire);
    }
}

#[tokio::test]
async fn dialog_get_dates_follow_the_portal_time_zone() {
    let emu = demo().await;
    let offset = FixedOffset::east_opt(3 * 3600).expect("+03:00");
    emu.portal().lock().set_utc_offset(offset);

    let reply = admin(&emu)
        .call(DialogGet::by_chat_id(101))
        .with_meta()
        .await
        .expect("dialog.get");
    assert_eq!(reply.result.date_create.offset(), &offset);
    assert_eq!(reply.result.date_create, date("2026-03-10T12:00:00+03:00"));
    let time = reply.time.expect("a time block");
    let started = time.date_start.expect("date_start");
    assert_eq!(started.offset(), &offset);
}

#[tokio::test]
async fn dialog_get_errors() {
    let emu = demo().await;
    let client = admin(&emu);
    let access_error = || DialogGetError::AccessError {
        description: DIALOG_ACCESS_ERROR.into(),
    };

    // ACCESS_ERROR: no identifier at all (the one-line function sends none), unknown chats,
    // sessions and codes, an ordinary chat, and a user without access.
    let cases = [
        (imopenlines::dialog_get(&client).await, json!({})),
        (
            client.call(DialogGet::by_chat_id(999)).await,
            json!({"CHAT_ID": 999}),
        ),
        (
            client.call(DialogGet::by_chat_id(102)).await,
            json!({"CHAT_ID": 102}),
        ),
        (
            client.call(DialogGet::by_dialog_id("chat999")).await,
            json!({"DIALOG_ID": "chat999"}),
        ),
        (
            client.call(DialogGet::by_dialog_id("101")).await,
            json!({"DIALOG_ID": "101"}),
        ),
        (
            client.call(DialogGet::by_session_id(9999)).await,
            json!({"SESSION_ID": 9999}),
        ),
        (
            client.call(DialogGet::by_user_code("livechat|9|9|9")).await,
            json!({"USER_CODE": "livechat|9|9|9"}),
        ),
        (
            outsider(&emu).call(DialogGet::by_chat_id(101)).await,
            json!({"CHAT_ID": 101}),
        ),
    ];
    let requests = emu.requests();
    assert_eq!(requests.len(), cases.len(), "one request per call");
    for ((outcome, wire), request) in cases.into_iter().zip(requests) {
        let err = outcome.expect_err("no access");
        assert_method_error(&err, DIALOG, access_error());
        assert_eq!(request.params, wire);
        assert_eq!(request.error.as_deref(), Some("ACCESS_ERROR"));
    }

    // IM_NOT_INSTALLED: the messenger module is off; even a valid chat fails.
    emu.portal().lock().set_im_installed(false);
    let before = emu.requests().len();
    let err = client
        .call(DialogGet::by_chat_id(101))
        .await
        .expect_err("no messenger");
    assert!(matches!(
        err.kind(),
        ErrorKind::Method {
            error: DialogGetError::ImNotInstalled { .. },
            status: 400
        }
    ));
    assert_method_error(
        &err,
        DIALOG,
        DialogGetError::ImNotInstalled {
            description: DIALOG_IM_NOT_INSTALLED.into(),
        },
    );
    assert_answered_once(&emu, DIALOG, "IM_NOT_INSTALLED", before);

    emu.portal().lock().set_im_installed(true);
    let dialog = client
        .call(DialogGet::by_chat_id(101))
        .await
        .expect("back again");
    assert_demo_dialog(&dialog);
}

// ---------------------------------------------------------------------------------------------
// imopenlines.session.history.get

#[tokio::test]
async fn session_history_get_of_the_open_session() {
    let emu = demo().await;
    let client = admin(&emu);

    let history = client
        .call(SessionHistoryGet::new().session_id(202))
        .await
        .expect("history by session");
    assert_eq!(last_request(&emu).params, json!({"SESSION_ID": 202}));

    assert_eq!(history.chat_id, 101);
    assert_eq!(history.session_id, 202);
    assert!(!history.can_join, "user 1 is already a member");
    assert!(history.can_vote_head, "user 1 is an administrator");
    assert_eq!(history.session_vote_head, 0);
    assert_eq!(history.session_comment_head, None);
    assert_eq!(history.user_id, "chat101");

    // Messages, keyed by id (the portal sends the keys and ids as strings).
    let ids: Vec<u64> = history.message.keys().copied().collect();
    assert_eq!(ids, DEMO_IDS.session_messages);
    let lead = &history.message[&1003];
    assert_eq!(lead.senderid, 0, "a system message");
    assert_eq!(lead.text, "[b]A new lead has been created[/b]");
    assert_eq!(lead.textlegacy, "<b>A new lead has been created</b>");
    assert_eq!(
        lead.params["attach"][0]["blocks"][0]["link"][0]["link"],
        "/crm/lead/details/1205/"
    );
    let answer = &history.message[&1005];
    assert_eq!(
        (answer.id, answer.chatid, answer.senderid),
        (1005, 101, DEMO_IDS.admin_user)
    );
    assert_eq!(answer.recipientid, "chat101");
    assert_eq!(answer.date, date("2026-03-11T13:12:46+01:00"));
    assert_eq!(answer.text, "Open the task card and click [b]Observers[/b]");
    assert_eq!(
        answer.textlegacy,
        "Open the task card and click <b>Observers</b>"
    );
    assert_eq!(answer.params, json!({"fileId": [501]}));
    assert_eq!(history.message[&1006].text, "Thank you!");
    // Newest first.
    assert_eq!(history.users_message.len(), 1);
    assert_eq!(history.users_message["chat101"], [1006, 1005, 1004, 1003]);

    // Users, keyed by id.
    assert_eq!(history.users.keys().copied().collect::<Vec<_>>(), [1, 3]);
    let samantha = &history.users[&1];
    assert_eq!(samantha.id, 1);
    assert_eq!(samantha.name, "Samantha Johnson");
    assert_eq!(
        (samantha.first_name.as_str(), samantha.last_name.as_str()),
        ("Samantha", "Johnson")
    );
    assert_eq!(samantha.work_position.as_deref(), Some("Support lead"));
    assert_eq!(samantha.avatar_id, None);
    assert_eq!(samantha.gender, "F");
    assert!(!samantha.connector);
    assert_eq!(samantha.profile, "/company/personal/user/1/");
    assert_eq!(samantha.status.as_deref(), Some("online"));
    assert_eq!(
        samantha.last_activity_date,
        Some(date("2026-03-11T13:14:35+01:00"))
    );
    assert_eq!(samantha.departments, [1]);
    assert_eq!(samantha.user_type, "user");
    let guest = &history.users[&3];
    assert!(guest.connector);
    assert_eq!(guest.external_auth_id, "imconnector");
    assert_eq!(guest.work_position, None, "null");
    assert_eq!(guest.last_activity_date, None, "false on the wire");
    assert!(guest.departments.is_empty());

    assert_eq!(
        history.openlines,
        Some(HistoryOpenlines {
            canvoteashead: BTreeMap::from([(DEMO_IDS.line_id, true)]),
        })
    );
    assert_eq!(
        history.user_in_group,
        BTreeMap::from([(
            1,
            HistoryDepartment {
                id: 1,
                users: vec![1]
            }
        )])
    );
    assert!(history.wo_user_in_group.is_empty());

    // The chat, keyed by id.
    assert_eq!(history.chat.keys().copied().collect::<Vec<_>>(), [101]);
    let chat = &history.chat[&101];
    assert_eq!(chat.id, 101);
    assert_eq!(chat.name, "Guest - Demo line");
    assert_eq!(chat.owner, 1);
    assert_eq!(chat.entity_type, "LINES");
    assert_eq!(chat.entity_id, DEMO_IDS.user_code);
    assert_eq!(chat.entity_data_1.split('|').nth(5), Some("202"));
    assert_eq!(chat.message_count, 6);
    assert_eq!(chat.mute_list, BTreeMap::from([(1, false), (3, false)]));
    assert_eq!(chat.manager_list, [1]);
    assert_eq!(chat.date_create, date("2026-03-10T10:00:00+01:00"));
    assert_eq!(chat.chat_type, "lines");
    assert_eq!(chat.permissions["manageSettings"], "owner");
    assert_eq!(
        history.user_block_chat,
        BTreeMap::from([(101, BTreeMap::from([(1, false), (3, false)]))])
    );
    assert_eq!(history.user_in_chat, BTreeMap::from([(101, vec![1, 3])]));

    // Files, keyed by id.
    assert_eq!(history.files.keys().copied().collect::<Vec<_>>(), [501]);
    let file = &history.files[&DEMO_IDS.file_id];
    assert_eq!((file.id, file.chatid), (501, 101));
    assert_eq!(file.name, "observers.png");
    assert_eq!(file.file_type, "image");
    assert_eq!(file.extension, "png");
    assert_eq!(file.size, 70855);
    assert_eq!(file.image, json!({"height": 615, "width": 646}));
    assert_eq!(
        (file.authorid, file.authorname.as_str()),
        (1, "Samantha Johnson")
    );
    assert_eq!(file.date, date("2026-03-11T13:12:46+01:00"));
    assert!(
        file.urldownload.starts_with(&emu.base_url()) && file.urldownload.contains("fileId=501"),
        "{}",
        file.urldownload
    );
    assert_eq!(file.viewerattrs["viewertype"], "image");

    // By CHAT_ID: the chat's latest session, the same answer.
    let by_chat = client
        .call(SessionHistoryGet::new().chat_id(101))
        .await
        .expect("history by chat");
    assert_eq!(by_chat, history);
}

#[tokio::test]
async fn session_history_get_of_the_closed_session() {
    let emu = demo().await;
    let history = admin(&emu)
        .call(SessionHistoryGet::new().session_id(DEMO_IDS.closed_session_id as i64))
        .await
        .expect("history of session 201");
    assert_eq!(history.session_id, 201);
    let ids: Vec<u64> = history.message.keys().copied().collect();
    assert_eq!(ids, DEMO_IDS.closed_session_messages);
    assert_eq!(history.message[&1001].text, "Hello, where is my order?");
    assert_eq!(
        history.message[&1001].params,
        json!([]),
        "`[]`, as PHP sends it"
    );
    assert_eq!(history.users_message["chat101"], [1002, 1001]);
    // `"files": []` (an empty PHP array) is an empty map.
    assert!(history.files.is_empty());
}

#[tokio::test]
async fn session_history_get_errors() {
    let emu = demo().await;
    let client = admin(&emu);

    // MISSING_REQUIRED_PARAM: neither parameter (what the one-line function sends), or both
    // PHP-empty.
    let before = emu.requests().len();
    let err = imopenlines::session_history_get(&client)
        .await
        .expect_err("no parameters");
    assert_method_error(
        &err,
        HISTORY,
        SessionHistoryGetError::MissingRequiredParam {
            description: HISTORY_MISSING_REQUIRED_PARAM.into(),
        },
    );
    assert_answered_once(&emu, HISTORY, "MISSING_REQUIRED_PARAM", before);
    assert_eq!(last_request(&emu).params, json!({}));
    let err = client
        .call(SessionHistoryGet::new().session_id(0).chat_id(0))
        .await
        .expect_err("empty parameters");
    assert!(matches!(
        err.method_error(),
        Some(SessionHistoryGetError::MissingRequiredParam { .. })
    ));

    // INVALID_SESSION_ID: no session can be determined: a negative id, a chat without sessions,
    // an unknown chat.
    let no_sessions = add_lines_chat_without_sessions(&emu) as i64;
    for request in [
        SessionHistoryGet::new().session_id(-7),
        SessionHistoryGet::new().chat_id(no_sessions),
        SessionHistoryGet::new().chat_id(DEMO_IDS.group_chat_id as i64),
        SessionHistoryGet::new().chat_id(999),
    ] {
        let before = emu.requests().len();
        let err = client.call(request).await.expect_err("no session to show");
        assert_method_error(
            &err,
            HISTORY,
            SessionHistoryGetError::InvalidSessionId {
                description: HISTORY_INVALID_SESSION_ID.into(),
            },
        );
        assert_answered_once(&emu, HISTORY, "INVALID_SESSION_ID", before);
    }

    // ACCESS_DENIED: an unknown session, and a user without access to the chat.
    for (client, request) in [
        (admin(&emu), SessionHistoryGet::new().session_id(9999)),
        (outsider(&emu), SessionHistoryGet::new().session_id(202)),
        (outsider(&emu), SessionHistoryGet::new().chat_id(101)),
    ] {
        let before = emu.requests().len();
        let err = client.call(request).await.expect_err("no access");
        assert_method_error(
            &err,
            HISTORY,
            SessionHistoryGetError::AccessDenied {
                description: HISTORY_ACCESS_DENIED.into(),
            },
        );
        assert_answered_once(&emu, HISTORY, "ACCESS_DENIED", before);
    }
}

// ---------------------------------------------------------------------------------------------
// OAuth, the envelope

#[tokio::test]
async fn every_method_over_oauth() {
    let emu = demo().await;
    let client = oauth(&emu);

    let opened = imopenlines::session_open(&client, DEMO_IDS.user_code)
        .await
        .expect("open");
    assert_eq!(opened.chat_id, 101);
    let dialog = client
        .call(DialogGet::by_user_code(DEMO_IDS.user_code))
        .await
        .expect("dialog");
    assert_demo_dialog(&dialog);
    let history = client
        .call(SessionHistoryGet::new().session_id(202))
        .await
        .expect("history");
    assert_eq!(history.message.len(), 4);
    assert!(imopenlines::session_join(&client, 101).await.expect("join"));
    assert!(client
        .call(SessionModePin::new(101).activate(false))
        .await
        .expect("pin"));
    assert!(imopenlines::session_start(&client, 101)
        .await
        .expect("start"));

    let requests = emu.requests();
    let methods: Vec<&str> = requests.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, [OPEN, DIALOG, HISTORY, JOIN, PIN, START]);
    for request in &requests {
        assert_eq!(request.auth, AuthKind::OAuth, "{}", request.method);
        assert_eq!(request.user_id, Some(DEMO_IDS.admin_user));
        assert_eq!(request.status, 200);
        // The token travels as `auth` and is not a method parameter.
        assert!(request.params.get("auth").is_none(), "{}", request.params);
    }
    assert_eq!(requests[4].params, json!({"CHAT_ID": 101, "ACTIVATE": "N"}));
    assert_eq!(emu.portal().lock().sessions_of_chat(101).count(), 3);
}

#[tokio::test]
async fn method_errors_over_oauth() {
    let emu = demo().await;

    let err = imopenlines::session_start(&removed_user_token(&emu), 101)
        .await
        .expect_err("no user behind the token");
    assert_method_error(
        &err,
        START,
        SessionStartError::UserId {
            description: START_USER_ID.into(),
        },
    );
    let err = oauth(&emu)
        .call(SessionModePin::new(102))
        .await
        .expect_err("not an open line");
    assert_method_error(
        &err,
        PIN,
        SessionModePinError::ChatType {
            description: PIN_CHAT_TYPE.into(),
        },
    );
    let err = oauth(&emu)
        .call(DialogGet::by_chat_id(102))
        .await
        .expect_err("not an open line");
    assert_method_error(
        &err,
        DIALOG,
        DialogGetError::AccessError {
            description: DIALOG_ACCESS_ERROR.into(),
        },
    );
    for request in emu.requests() {
        assert_eq!(request.auth, AuthKind::OAuth);
        assert_eq!(request.status, 400);
    }
}

#[tokio::test]
async fn with_meta_returns_the_time_block() {
    let emu = demo().await;
    let client = admin(&emu);

    let reply = client
        .call(SessionStart::new(101))
        .with_meta()
        .await
        .expect("start");
    assert!(reply.result);
    assert_eq!(reply.status, 200);
    assert_eq!((reply.next, reply.total), (None, None));
    let time = reply.time.expect("a time block");
    assert!(time.start > 1.7e9, "unix time: {}", time.start);
    assert!(time.finish >= time.start);
    assert!(time.duration >= 0.0 && time.duration < 5.0);
    assert!(time.processing >= 0.0);
    assert!(time.operating.is_some());
    assert!(time.operating_reset_at.is_some_and(|at| at > time.start));
    let date_start = time.date_start.expect("date_start");
    assert_eq!(
        date_start.offset().local_minus_utc(),
        3600,
        "the portal's zone"
    );
    assert!((date_start.timestamp() as f64 - time.start).abs() < 2.0);
    assert!(time.date_finish.is_some());

    let reply = client
        .call(SessionHistoryGet::new().session_id(201))
        .with_meta()
        .await
        .expect("history");
    assert_eq!(reply.result.session_id, 201);
    assert!(reply.time.is_some());

    let reply = client
        .call(SessionOpen::new(DEMO_IDS.user_code))
        .with_meta()
        .await
        .expect("open");
    assert_eq!(reply.result.chat_id, 101);
    assert!(reply.time.is_some_and(|t| t.date_start.is_some()));
}

#[tokio::test]
async fn raw_calls_see_the_wire_shapes() {
    let emu = demo().await;
    let client = admin(&emu);
    let reply = client
        .call_raw(OPEN, &json!({"USER_CODE": DEMO_IDS.user_code}))
        .await
        .expect("raw open");
    assert_eq!(
        reply.result,
        json!({"chatId": "101"}),
        "a string on the wire"
    );
    let reply = client
        .call_raw(HISTORY, &json!({"SESSION_ID": "201"}))
        .await
        .expect("raw history");
    assert_eq!(reply.result["canJoin"], "N");
    assert_eq!(reply.result["files"], json!([]));
    assert!(matches!(
        reply.result["chat"]["101"]["id"],
        Value::String(_)
    ));
    // Form-style string parameters work for the typed methods' wire names too.
    let reply = client
        .call_raw(PIN, &json!({"CHAT_ID": "101", "ACTIVATE": "N"}))
        .await
        .expect("raw pin");
    assert_eq!(reply.result, json!(true));
}
