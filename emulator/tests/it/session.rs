//! `imopenlines.session.start`, `.open`, `.join` and `.mode.pin`.

use b24_emulator::{Chat, DEMO_IDS};
use serde_json::{json, Value};

use crate::common::*;

const START: &str = "imopenlines.session.start";
const OPEN: &str = "imopenlines.session.open";
const JOIN: &str = "imopenlines.session.join";
const PIN: &str = "imopenlines.session.mode.pin";

/// A webhook call.
async fn call(base: &str, method: &str, params: Value) -> Answer {
    post_json(&format!("{base}{method}"), params).await
}

// ----- imopenlines.session.start -----

#[tokio::test]
async fn start_opens_a_new_session() {
    let emu = demo().await;
    let answer = call(&admin(&emu), START, json!({"CHAT_ID": 101})).await;
    assert_eq!(answer.result(), &json!(true));

    let portal = emu.portal().snapshot();
    let sessions: Vec<_> = portal.sessions_of_chat(DEMO_IDS.lines_chat_id).collect();
    assert_eq!(sessions.len(), 3);
    let new = sessions[2];
    assert!(new.id > DEMO_IDS.session_id);
    assert!(!new.closed);
    assert_eq!(new.operator_id, DEMO_IDS.admin_user);
    assert!(portal
        .session(DEMO_IDS.session_id)
        .is_some_and(|s| s.closed));

    // The new session is the chat's latest: history by CHAT_ID shows it, empty.
    let history = call(
        &admin(&emu),
        "imopenlines.session.history.get",
        json!({"CHAT_ID": 101}),
    )
    .await;
    let result = history.result();
    assert_eq!(result["sessionId"], json!(new.id));
    assert_eq!(result["message"], json!([]));
    assert_eq!(result["usersMessage"], json!({"chat101": []}));
    assert_eq!(result["files"], json!([]));
    // dialog.get's entity_data_1 carries the new session id.
    let dialog = call(
        &admin(&emu),
        "imopenlines.dialog.get",
        json!({"CHAT_ID": 101}),
    )
    .await;
    let data = dialog.result()["entity_data_1"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(data.split('|').nth(5), Some(new.id.to_string().as_str()));
}

#[tokio::test]
async fn start_chat_id_errors() {
    let emu = demo().await;
    for params in [
        json!({}),
        json!({"CHAT_ID": "abc"}),
        json!({"CHAT_ID": 0}),
        json!({"CHAT_ID": -5}),
        json!({"CHAT_ID": 999}),
    ] {
        let answer = call(&admin(&emu), START, params.clone()).await;
        assert_eq!(
            answer.error(400, "CHAT_ID"),
            "The specified chat identifier is invalid",
            "{params}"
        );
    }
}

#[tokio::test]
async fn start_chat_type_error() {
    let emu = demo().await;
    let answer = call(
        &admin(&emu),
        START,
        json!({"CHAT_ID": DEMO_IDS.group_chat_id}),
    )
    .await;
    assert_eq!(
        answer.error(400, "CHAT_TYPE"),
        "The specified chat is not an open line"
    );
}

#[tokio::test]
async fn start_access_denied() {
    let emu = demo().await;
    let answer = call(&other(&emu), START, json!({"CHAT_ID": 101})).await;
    assert_eq!(
        answer.error(400, "ACCESS_DENIED"),
        "You cannot open this conversation because you do not have sufficient permissions"
    );
    assert_eq!(
        emu.portal().lock().sessions_of_chat(101).count(),
        2,
        "nothing started"
    );
}

#[tokio::test]
async fn start_user_id_error() {
    let emu = demo().await;
    let answer = call(&deleted_user_webhook(&emu), START, json!({"CHAT_ID": 101})).await;
    assert_eq!(
        answer.error(400, "USER_ID"),
        "The specified user identifier is invalid"
    );
}

#[tokio::test]
async fn start_by_line_operator_via_oauth() {
    let emu = demo().await;
    let (_, operator) = add_user_with_webhook(&emu, true);
    emu.portal()
        .lock()
        .add_access_token(operator, "operator-token");
    let answer = post_json(
        &format!("{}{START}", emu.rest_url()),
        json!({"CHAT_ID": "101", "auth": "operator-token"}),
    )
    .await;
    assert_eq!(answer.result(), &json!(true));
    let portal = emu.portal().snapshot();
    assert_eq!(
        portal.last_session(101).map(|s| s.operator_id),
        Some(operator)
    );
    assert!(portal
        .chat(101)
        .is_some_and(|c| c.members.contains(&operator)));
}

// ----- imopenlines.session.open -----

#[tokio::test]
async fn open_returns_the_chat_id_as_a_string() {
    let emu = demo().await;
    let answer = call(&admin(&emu), OPEN, json!({"USER_CODE": "livechat|1|101|3"})).await;
    assert_eq!(answer.result(), &json!({"chatId": "101"}));
}

#[tokio::test]
async fn open_access_denied() {
    let emu = demo().await;
    let text = "You cannot open this conversation because you do not have sufficient permissions";
    for (base, params) in [
        (admin(&emu), json!({"USER_CODE": "livechat|1|999|3"})),
        (admin(&emu), json!({})),
        (other(&emu), json!({"USER_CODE": DEMO_IDS.user_code})),
        (
            deleted_user_webhook(&emu),
            json!({"USER_CODE": DEMO_IDS.user_code}),
        ),
    ] {
        let answer = call(&base, OPEN, params).await;
        assert_eq!(answer.error(400, "ACCESS_DENIED"), text);
    }
}

// ----- imopenlines.session.join -----

#[tokio::test]
async fn join_adds_the_operator_to_the_chat() {
    let emu = demo().await;
    let (url, operator) = add_user_with_webhook(&emu, true);
    assert!(!emu
        .portal()
        .lock()
        .chat(101)
        .is_some_and(|c| c.members.contains(&operator)));
    let answer = post_form(&format!("{url}{JOIN}"), "CHAT_ID=101").await;
    assert_eq!(answer.result(), &json!(true));
    assert!(emu
        .portal()
        .lock()
        .chat(101)
        .is_some_and(|c| c.members.contains(&operator)));
}

#[tokio::test]
async fn join_errors() {
    let emu = demo().await;
    let chat_id = call(&admin(&emu), JOIN, json!({"CHAT_ID": "x"})).await;
    assert_eq!(
        chat_id.error(400, "CHAT_ID"),
        "The specified chat identifier is incorrect"
    );
    call(&admin(&emu), JOIN, json!({}))
        .await
        .error(400, "CHAT_ID");
    call(&admin(&emu), JOIN, json!({"CHAT_ID": 4040}))
        .await
        .error(400, "CHAT_ID");
    let chat_type = call(&admin(&emu), JOIN, json!({"CHAT_ID": 102})).await;
    assert_eq!(
        chat_type.error(400, "CHAT_TYPE"),
        "The specified chat is not an Open Channel"
    );
    let denied = call(&other(&emu), JOIN, json!({"CHAT_ID": 101})).await;
    assert_eq!(
        denied.error(400, "ACCESS_DENIED"),
        "You cannot open this conversation as you do not have sufficient permissions"
    );
    assert!(!emu
        .portal()
        .lock()
        .chat(101)
        .is_some_and(|c| c.members.contains(&2)));
    let user = call(&deleted_user_webhook(&emu), JOIN, json!({"CHAT_ID": 101})).await;
    assert_eq!(
        user.error(400, "USER_ID"),
        "The specified user identifier is incorrect"
    );
}

// ----- imopenlines.session.mode.pin -----

fn pinned(emu: &b24_emulator::Emulator) -> bool {
    emu.portal()
        .lock()
        .session(DEMO_IDS.session_id)
        .is_some_and(|s| s.pinned)
}

#[tokio::test]
async fn pin_and_unpin() {
    let emu = demo().await;
    let (url, operator) = add_user_with_webhook(&emu, true);
    assert!(!pinned(&emu));

    // ACTIVATE defaults to Y; the session is pinned to the caller.
    let answer = call(&url, PIN, json!({"CHAT_ID": 101})).await;
    assert_eq!(answer.result(), &json!(true));
    assert!(pinned(&emu));
    assert_eq!(
        emu.portal()
            .lock()
            .session(DEMO_IDS.session_id)
            .map(|s| s.operator_id),
        Some(operator)
    );
    // Visible in dialog.get: PAUSE flag of entity_data_1.
    let dialog = call(
        &admin(&emu),
        "imopenlines.dialog.get",
        json!({"CHAT_ID": 101}),
    )
    .await;
    let data = dialog.result()["entity_data_1"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(data.split('|').nth(3), Some("Y"), "{data}");

    let answer = post_form(&format!("{url}{PIN}"), "CHAT_ID=101&ACTIVATE=N").await;
    assert_eq!(answer.result(), &json!(true));
    assert!(!pinned(&emu));

    call(&url, PIN, json!({"CHAT_ID": "101", "ACTIVATE": "Y"}))
        .await
        .result();
    assert!(pinned(&emu));
    // Only the exact string N unpins, as the portal compares `== 'N'`.
    call(&url, PIN, json!({"CHAT_ID": 101, "ACTIVATE": "n"}))
        .await
        .result();
    assert!(pinned(&emu));
}

#[tokio::test]
async fn pin_chat_id_empty() {
    let emu = demo().await;
    for params in [
        json!({}),
        json!({"CHAT_ID": ""}),
        json!({"CHAT_ID": "0"}),
        json!({"CHAT_ID": 0}),
    ] {
        let answer = call(&admin(&emu), PIN, params).await;
        assert_eq!(answer.error(400, "CHAT_ID_EMPTY"), "Chat ID can't be empty");
    }
}

#[tokio::test]
async fn pin_other_errors() {
    let emu = demo().await;
    for params in [
        json!({"CHAT_ID": "abc"}),
        json!({"CHAT_ID": 999}),
        json!({"CHAT_ID": -1}),
    ] {
        let answer = call(&admin(&emu), PIN, params).await;
        assert_eq!(
            answer.error(400, "CHAT_ID"),
            "Invalid chat identifier provided"
        );
    }
    let chat_type = call(&admin(&emu), PIN, json!({"CHAT_ID": 102})).await;
    assert_eq!(
        chat_type.error(400, "CHAT_TYPE"),
        "The specified chat is not an open line"
    );
    let denied = call(&other(&emu), PIN, json!({"CHAT_ID": 101})).await;
    assert_eq!(
        denied.error(400, "ACCESS_DENIED"),
        "You cannot open this conversation as you do not have sufficient permissions"
    );
    assert!(!pinned(&emu));
    let user = call(&deleted_user_webhook(&emu), PIN, json!({"CHAT_ID": 101})).await;
    assert_eq!(
        user.error(400, "USER_ID"),
        "Invalid user identifier provided"
    );
}

#[tokio::test]
async fn pin_needs_a_session() {
    let emu = demo().await;
    let chat = emu.portal().lock().add_chat(
        Chat::lines(DEMO_IDS.line_id, "livechat|1|500|3", "No session yet").with_owner(1),
    );
    call(&admin(&emu), PIN, json!({"CHAT_ID": chat}))
        .await
        .error(400, "ACCESS_DENIED");
    // Once a session exists, it works.
    call(&admin(&emu), START, json!({"CHAT_ID": chat}))
        .await
        .result();
    call(&admin(&emu), PIN, json!({"CHAT_ID": chat}))
        .await
        .result();
    assert!(emu
        .portal()
        .lock()
        .last_session(chat)
        .is_some_and(|s| s.pinned));
}
