//! `imopenlines.operator.transfer`, `.finish` and `.another.finish`: the dialogue's hand-offs
//! change the portal.

use b24_emulator::{OpenLine, DEMO_IDS};
use serde_json::{json, Value};

use crate::common::*;

const TRANSFER: &str = "imopenlines.operator.transfer";
const FINISH: &str = "imopenlines.operator.finish";
const ANOTHER_FINISH: &str = "imopenlines.operator.another.finish";
const START: &str = "imopenlines.session.start";

async fn call(base: &str, method: &str, params: Value) -> Answer {
    post_json(&format!("{base}{method}"), params).await
}

/// The chat's latest session: (operator, closed).
fn latest(emu: &b24_emulator::Emulator) -> (u64, bool) {
    let portal = emu.portal().snapshot();
    let session = portal.last_session(DEMO_IDS.lines_chat_id).unwrap();
    (session.operator_id, session.closed)
}

#[tokio::test]
async fn transfer_refuses_what_its_page_lists() {
    let emu = demo().await;
    let chat = DEMO_IDS.lines_chat_id;
    // (parameters, status, code)
    let cases: &[(Value, u16, &str)] = &[
        (json!({"USER_ID": 2}), 400, "CHAT_ID_EMPTY"),
        (json!({"CHAT_ID": 0, "USER_ID": 2}), 400, "CHAT_ID_EMPTY"),
        (json!({"CHAT_ID": chat}), 400, "TRANSFER_ID_EMPTY"),
        (
            json!({"CHAT_ID": chat, "TRANSFER_ID": ""}),
            400,
            "TRANSFER_ID_EMPTY",
        ),
        (json!({"CHAT_ID": chat, "USER_ID": 0}), 400, "USER_ID_EMPTY"),
        (
            json!({"CHAT_ID": chat, "USER_ID": "x"}),
            400,
            "USER_ID_EMPTY",
        ),
        (
            json!({"CHAT_ID": chat, "QUEUE_ID": -1}),
            400,
            "QUEUE_ID_EMPTY",
        ),
        (
            json!({"CHAT_ID": chat, "TRANSFER_ID": "queue0"}),
            400,
            "QUEUE_ID_EMPTY",
        ),
        (
            json!({"CHAT_ID": chat, "TRANSFER_ID": "bob"}),
            400,
            "USER_ID_EMPTY",
        ),
        // A channel visitor, an unknown user, the dialogue's own operator, an unknown line.
        (
            json!({"CHAT_ID": chat, "USER_ID": DEMO_IDS.guest_user}),
            400,
            "OPERATOR_WRONG",
        ),
        (
            json!({"CHAT_ID": chat, "USER_ID": 999}),
            400,
            "OPERATOR_WRONG",
        ),
        (
            json!({"CHAT_ID": chat, "USER_ID": DEMO_IDS.admin_user}),
            400,
            "OPERATOR_WRONG",
        ),
        (
            json!({"CHAT_ID": chat, "TRANSFER_ID": "queue77"}),
            400,
            "OPERATOR_WRONG",
        ),
        // The operator checks.
        (json!({"CHAT_ID": 999, "USER_ID": 2}), 400, "CHAT_ID"),
        (
            json!({"CHAT_ID": DEMO_IDS.group_chat_id, "USER_ID": 2}),
            400,
            "CHAT_TYPE",
        ),
    ];
    for (params, status, code) in cases {
        let answer = call(&admin(&emu), TRANSFER, params.clone()).await;
        answer.error(*status, code);
        assert_eq!(latest(&emu), (DEMO_IDS.admin_user, false), "{params}");
    }
    // Someone without access to the chat.
    let answer = call(
        &other(&emu),
        TRANSFER,
        json!({"CHAT_ID": chat, "USER_ID": 1}),
    )
    .await;
    answer.error(400, "ACCESS_DENIED");
}

#[tokio::test]
async fn a_dialogue_is_started_transferred_and_finished() {
    let emu = demo().await;
    let chat = DEMO_IDS.lines_chat_id;
    let started = call(&admin(&emu), START, json!({"CHAT_ID": chat})).await;
    assert_eq!(started.result(), &json!(true));
    assert_eq!(latest(&emu), (DEMO_IDS.admin_user, false));

    // To user 2: they handle it and join the chat; the admin leaves it.
    let answer = call(
        &admin(&emu),
        TRANSFER,
        json!({"CHAT_ID": chat, "USER_ID": 2}),
    )
    .await;
    assert_eq!(answer.result(), &json!(true));
    assert_eq!(latest(&emu), (DEMO_IDS.other_user, false));
    let members = emu.portal().snapshot().chat(chat).unwrap().members.clone();
    assert!(members.contains(&DEMO_IDS.other_user));
    assert!(!members.contains(&DEMO_IDS.admin_user));

    // Only its operator finishes it (the admin may still reach the chat, as an administrator).
    let answer = call(&admin(&emu), FINISH, json!({"CHAT_ID": chat})).await;
    assert_eq!(
        answer.error(400, "ACCESS_DENIED"),
        "You cannot open this conversation as you do not have sufficient rights"
    );
    assert_eq!(latest(&emu), (DEMO_IDS.other_user, false));
    let answer = call(&other(&emu), FINISH, json!({"CHAT_ID": chat})).await;
    assert_eq!(answer.result(), &json!(true));
    assert_eq!(latest(&emu), (DEMO_IDS.other_user, true));
    // Finishing a finished dialogue changes nothing; transferring it is refused.
    let again = call(&other(&emu), FINISH, json!({"CHAT_ID": chat})).await;
    assert_eq!(again.result(), &json!(true));
    let answer = call(
        &other(&emu),
        TRANSFER,
        json!({"CHAT_ID": chat, "USER_ID": 1}),
    )
    .await;
    answer.error(400, "OPERATOR_WRONG");
}

#[tokio::test]
async fn a_transfer_to_a_queue_leaves_the_dialogue_waiting_in_that_line() {
    let emu = demo().await;
    let chat = DEMO_IDS.lines_chat_id;
    let line = emu
        .portal()
        .lock()
        .add_line(OpenLine::new("Second line").with_operator(DEMO_IDS.other_user));
    for params in [
        json!({"CHAT_ID": chat, "TRANSFER_ID": format!("queue{line}")}),
        json!({"CHAT_ID": chat, "QUEUE_ID": line}),
    ] {
        call(&admin(&emu), START, json!({"CHAT_ID": chat})).await;
        let answer = call(&admin(&emu), TRANSFER, params.clone()).await;
        assert_eq!(answer.result(), &json!(true), "{params}");
        assert_eq!(latest(&emu), (0, false), "{params}");
        let portal = emu.portal().snapshot();
        assert_eq!(portal.chat(chat).unwrap().line_id(), Some(line));
        // The new line's operator may now reach the chat; another.finish closes anyone's.
        assert!(portal.can_access_chat(DEMO_IDS.other_user, chat));
        let answer = call(&other(&emu), ANOTHER_FINISH, json!({"CHAT_ID": chat})).await;
        assert_eq!(answer.result(), &json!(true));
        assert_eq!(latest(&emu), (0, true));
    }
}
