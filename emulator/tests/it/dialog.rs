//! `imopenlines.dialog.get`.

use b24_emulator::{Chat, DEMO_IDS};
use serde_json::{json, Value};

use crate::common::*;

const DIALOG_GET: &str = "imopenlines.dialog.get";

async fn dialog_get(base: &str, params: Value) -> Answer {
    post_json(&format!("{base}{DIALOG_GET}"), params).await
}

/// The demo open-line chat as user 1 sees it: every field of the docs example, same JSON types.
fn expected_demo_dialog() -> Value {
    json!({
        "id": 101,
        "parent_chat_id": 0,
        "parent_message_id": 0,
        "name": "Guest - Demo line",
        "description": null,
        "owner": 1,
        "extranet": false,
        "avatar": "",
        "color": "#ba9c7b",
        "type": "lines",
        "counter": 0,
        "user_counter": 2,
        "message_count": 6,
        "unread_id": 0,
        "restrictions": {
            "avatar": true,
            "rename": true,
            "extend": true,
            "call": true,
            "mute": true,
            "leave": true,
            "leave_owner": true,
            "send": true,
            "user_list": true
        },
        "last_message_id": 1006,
        "last_id": 1006,
        "marked_id": 0,
        "disk_folder_id": 0,
        "entity_type": "LINES",
        "entity_id": "livechat|1|101|3",
        "entity_data_1": "Y|LEAD|1205|N|N|202|1773230932|0|0|0",
        "entity_data_2": "LEAD|1205|COMPANY|0|CONTACT|0|DEAL|0",
        "entity_data_3": "N",
        "mute_list": [],
        "date_create": "2026-03-10T10:00:00+01:00",
        "message_type": "L",
        "public": "",
        "role": "owner",
        "entity_link": {
            "type": "LINES",
            "url": "",
            "id": "livechat|1|101|3"
        },
        "text_field_enabled": true,
        "background_id": null,
        "permissions": {
            "manage_users_add": "member",
            "manage_users_delete": "manager",
            "manage_ui": "member",
            "manage_settings": "owner",
            "manage_messages": "member",
            "can_post": "member"
        },
        "is_new": false,
        "readed_list": [
            {
                "user_id": 3,
                "user_name": "Guest",
                "message_id": 1005,
                "date": null
            }
        ],
        "manager_list": [1],
        "last_message_views": {
            "message_id": 1006,
            "first_viewers": [
                {
                    "user_id": 1,
                    "user_name": "Samantha Johnson",
                    "date": "2026-03-11T13:14:00+01:00"
                }
            ],
            "count_of_viewers": 0
        },
        "dialog_id": "chat101"
    })
}

#[tokio::test]
async fn dialog_by_chat_id_has_every_field() {
    let emu = demo().await;
    let answer = dialog_get(&admin(&emu), json!({"CHAT_ID": 101})).await;
    assert_eq!(answer.result(), &expected_demo_dialog());
}

#[tokio::test]
async fn dialog_by_each_kind_of_parameter() {
    let emu = demo().await;
    let expected = expected_demo_dialog();
    for params in [
        json!({"CHAT_ID": "101"}),
        json!({"DIALOG_ID": "chat101"}),
        json!({"SESSION_ID": DEMO_IDS.closed_session_id}),
        json!({"SESSION_ID": "202"}),
        json!({"USER_CODE": DEMO_IDS.user_code}),
    ] {
        let answer = dialog_get(&admin(&emu), params.clone()).await;
        assert_eq!(answer.result(), &expected, "{params}");
    }
    // Form body and OAuth too.
    let form = post_form(
        &format!("{}{DIALOG_GET}", emu.rest_url()),
        &format!("auth={}&DIALOG_ID=chat101", DEMO_IDS.access_token),
    )
    .await;
    assert_eq!(form.result(), &expected);
}

#[tokio::test]
async fn dialog_follows_state() {
    let emu = demo().await;
    let (url, operator) = add_user_with_webhook(&emu, true);
    let answer = dialog_get(&url, json!({"CHAT_ID": 101})).await;
    let result = answer.result();
    // A line operator who is not a member: a guest with nothing unread.
    assert_eq!(result["role"], "guest");
    assert_eq!(result["counter"], 0);
    assert_eq!(result["readed_list"].as_array().map(Vec::len), Some(2));

    post_json(
        &format!("{url}imopenlines.session.join"),
        json!({"CHAT_ID": 101}),
    )
    .await
    .result();
    let result = dialog_get(&url, json!({"CHAT_ID": 101}))
        .await
        .result()
        .clone();
    assert_eq!(result["role"], "member");
    assert_eq!(result["user_counter"], 3);
    // A member without a read mark has every message of the chat unread.
    assert_eq!(result["counter"], 6);
    assert_eq!(result["unread_id"], 1001);

    // Reading up to 1004 leaves 1005 and 1006.
    emu.portal().with(|portal| {
        if let Some(chat) = portal.chat_mut(101) {
            chat.read_marks.insert(
                operator,
                b24_emulator::ReadMark {
                    message_id: 1004,
                    date: None,
                },
            );
        }
    });
    let result = dialog_get(&url, json!({"CHAT_ID": 101}))
        .await
        .result()
        .clone();
    assert_eq!(result["counter"], 2);
    assert_eq!(result["unread_id"], 1005);
}

#[tokio::test]
async fn dialog_access_error() {
    let emu = demo().await;
    let cases = [
        (admin(&emu), json!({})),
        (admin(&emu), json!({"CHAT_ID": 999})),
        (admin(&emu), json!({"CHAT_ID": "abc"})),
        (admin(&emu), json!({"CHAT_ID": DEMO_IDS.group_chat_id})),
        (admin(&emu), json!({"DIALOG_ID": "101"})),
        (admin(&emu), json!({"DIALOG_ID": "chat999"})),
        (admin(&emu), json!({"SESSION_ID": 999})),
        (admin(&emu), json!({"USER_CODE": "livechat|9|9|9"})),
        (other(&emu), json!({"CHAT_ID": 101})),
        (deleted_user_webhook(&emu), json!({"CHAT_ID": 101})),
    ];
    for (base, params) in cases {
        let answer = dialog_get(&base, params.clone()).await;
        assert_eq!(
            answer.error(400, "ACCESS_ERROR"),
            "You do not have access to the specified dialog",
            "{params}"
        );
    }
}

#[tokio::test]
async fn dialog_im_not_installed() {
    let emu = demo().await;
    emu.portal().lock().set_im_installed(false);
    let answer = dialog_get(&admin(&emu), json!({"CHAT_ID": 101})).await;
    assert_eq!(
        answer.error(400, "IM_NOT_INSTALLED"),
        "Messenger is not installed."
    );
    emu.portal().lock().set_im_installed(true);
    dialog_get(&admin(&emu), json!({"CHAT_ID": 101}))
        .await
        .result();
}

#[tokio::test]
async fn dialog_of_a_chat_without_messages_or_lead() {
    let emu = demo().await;
    let chat = emu
        .portal()
        .lock()
        .add_chat(Chat::lines(DEMO_IDS.line_id, "telegram|1|77|3", "Empty").with_owner(1));
    let answer = dialog_get(&admin(&emu), json!({"CHAT_ID": chat})).await;
    let result = answer.result();
    assert_eq!(result["id"], json!(chat));
    assert_eq!(result["message_count"], 0);
    assert_eq!(result["last_message_id"], 0);
    assert_eq!(result["entity_data_1"], "N|NONE|0|N|N|0|0|0|0|0");
    assert_eq!(result["entity_data_2"], "");
    assert_eq!(result["readed_list"], json!([]));
    assert_eq!(
        result["last_message_views"],
        json!({"message_id": 0, "first_viewers": [], "count_of_viewers": 0})
    );
    assert_eq!(result["dialog_id"], format!("chat{chat}"));
}
