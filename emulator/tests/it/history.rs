//! `imopenlines.session.history.get`.

use b24_emulator::{Chat, DEMO_IDS};
use serde_json::{json, Value};

use crate::common::*;

const HISTORY: &str = "imopenlines.session.history.get";

async fn history(base: &str, params: Value) -> Answer {
    post_json(&format!("{base}{HISTORY}"), params).await
}

/// The open demo session as user 1 sees it.
fn expected_open_session(base_url: &str) -> Value {
    let ajax = format!("{base_url}bitrix/services/main/ajax.php?SITE_ID=s1&humanRE=1");
    let download =
        format!("{ajax}&action=disk.api.file.download&fileId=501&fileName=observers.png");
    json!({
        "chatId": 101,
        "canJoin": "N",
        "canVoteHead": "Y",
        "sessionId": 202,
        "sessionVoteHead": 0,
        "sessionCommentHead": null,
        "userId": "chat101",
        "message": {
            "1003": {
                "id": "1003",
                "chatid": "101",
                "senderid": "0",
                "recipientid": "chat101",
                "date": "2026-03-11T13:09:25+01:00",
                "text": "[b]A new lead has been created[/b]",
                "textlegacy": "<b>A new lead has been created</b>",
                "params": {
                    "attach": [{
                        "id": 1773223765,
                        "blocks": [{"link": [{"name": "Lead #1205", "link": "/crm/lead/details/1205/"}]}],
                        "description": "",
                        "color": "#df532d"
                    }]
                }
            },
            "1004": {
                "id": "1004",
                "chatid": "101",
                "senderid": "3",
                "recipientid": "chat101",
                "date": "2026-03-11T13:10:03+01:00",
                "text": "How do I add an observer to a task?",
                "textlegacy": "How do I add an observer to a task?",
                "params": []
            },
            "1005": {
                "id": "1005",
                "chatid": "101",
                "senderid": "1",
                "recipientid": "chat101",
                "date": "2026-03-11T13:12:46+01:00",
                "text": "Open the task card and click [b]Observers[/b]",
                "textlegacy": "Open the task card and click <b>Observers</b>",
                "params": {"fileId": [501]}
            },
            "1006": {
                "id": "1006",
                "chatid": "101",
                "senderid": "3",
                "recipientid": "chat101",
                "date": "2026-03-11T13:13:30+01:00",
                "text": "Thank you!",
                "textlegacy": "Thank you!",
                "params": []
            }
        },
        "usersMessage": {"chat101": ["1006", "1005", "1004", "1003"]},
        "users": {
            "1": {
                "id": "1",
                "name": "Samantha Johnson",
                "active": true,
                "firstName": "Samantha",
                "lastName": "Johnson",
                "workPosition": "Support lead",
                "color": "#4ba984",
                "avatar": "",
                "avatarId": null,
                "birthday": false,
                "gender": "F",
                "phoneDevice": false,
                "phones": false,
                "extranet": false,
                "network": false,
                "bot": false,
                "connector": false,
                "profile": "/company/personal/user/1/",
                "externalAuthId": "default",
                "status": "online",
                "idle": false,
                "lastActivityDate": "2026-03-11T13:14:35+01:00",
                "mobileLastDate": false,
                "desktopLastDate": false,
                "departments": [1],
                "absent": false,
                "type": "user",
                "services": null,
                "botData": null
            },
            "3": {
                "id": "3",
                "name": "Guest",
                "active": true,
                "firstName": "Guest",
                "lastName": "",
                "workPosition": null,
                "color": "#ba9c7b",
                "avatar": "",
                "avatarId": null,
                "birthday": false,
                "gender": "",
                "phoneDevice": false,
                "phones": false,
                "extranet": false,
                "network": false,
                "bot": false,
                "connector": true,
                "profile": "/company/personal/user/3/",
                "externalAuthId": "imconnector",
                "status": "online",
                "idle": false,
                "lastActivityDate": false,
                "mobileLastDate": false,
                "desktopLastDate": false,
                "departments": [],
                "absent": false,
                "type": "user",
                "services": null,
                "botData": null
            }
        },
        "openlines": {"canvoteashead": {"1": true}},
        "userInGroup": {"1": {"id": 1, "users": ["1"]}},
        "woUserInGroup": [],
        "chat": {
            "101": {
                "id": "101",
                "parentChatId": 0,
                "parentMessageId": 0,
                "name": "Guest - Demo line",
                "owner": "1",
                "color": "#ba9c7b",
                "extranet": false,
                "avatar": "/bitrix/js/im/images/blank.gif",
                "call": "0",
                "callNumber": "",
                "entityType": "LINES",
                "entityId": "livechat|1|101|3",
                "entityData1": "Y|LEAD|1205|N|N|202|1773230932|0|0|0",
                "entityData2": "LEAD|1205|COMPANY|0|CONTACT|0|DEAL|0",
                "entityData3": "N",
                "messageCount": 6,
                "public": "",
                "muteList": {"1": false, "3": false},
                "managerList": [1],
                "dateCreate": "2026-03-10T10:00:00+01:00",
                "type": "lines",
                "entityLink": {"type": "LINES", "url": "", "id": "livechat|1|101|3"},
                "permissions": {
                    "manageUsersAdd": "member",
                    "manageUsersDelete": "manager",
                    "manageUi": "member",
                    "manageSettings": "owner",
                    "manageMessages": "member",
                    "canPost": "member"
                },
                "textFieldEnabled": true,
                "backgroundId": null,
                "messageType": "L",
                "isNew": false
            }
        },
        "userBlockChat": {"101": {"1": false, "3": false}},
        "userInChat": {"101": [1, 3]},
        "files": {
            "501": {
                "id": 501,
                "chatid": 101,
                "date": "2026-03-11T13:12:46+01:00",
                "type": "image",
                "name": "observers.png",
                "extension": "png",
                "size": 70855,
                "image": {"height": 615, "width": 646},
                "status": "done",
                "progress": 100,
                "authorid": 1,
                "authorname": "Samantha Johnson",
                "urlpreview": download,
                "urlshow": format!("{ajax}&action=disk.api.file.showImage&fileId=501&width=1280&height=1280&fileName=observers.png"),
                "urldownload": download,
                "viewerattrs": {
                    "viewer": "",
                    "viewertype": "image",
                    "src": download,
                    "viewerresized": "",
                    "objectid": "501",
                    "viewergroupby": "101",
                    "imchatid": 101,
                    "title": "observers.png",
                    "actions": "[{\"type\":\"download\"},{\"type\":\"copyToMe\",\"text\":\"Save to Drive\",\"action\":\"BXIM.disk.saveToDiskAction\",\"params\":{\"fileId\":\"501\"},\"extension\":\"disk.viewer.actions\",\"buttonIconClass\":\"ui-btn-icon-cloud\"}]"
                },
                "mediaurl": {
                    "preview": {
                        "250": format!("{ajax}&action=disk.api.file.showImage&fileId=501&width=250&height=250&fileName=observers.png")
                    }
                },
                "istranscribable": false,
                "isvideonote": false,
                "isvoicenote": false
            }
        }
    })
}

#[tokio::test]
async fn history_by_session_id_has_the_docs_shape() {
    let emu = demo().await;
    let answer = history(&admin(&emu), json!({"SESSION_ID": 202})).await;
    assert_eq!(answer.result(), &expected_open_session(&emu.base_url()));
}

#[tokio::test]
async fn history_by_chat_id_uses_the_latest_session() {
    let emu = demo().await;
    let expected = expected_open_session(&emu.base_url());
    let by_chat = history(&admin(&emu), json!({"CHAT_ID": 101})).await;
    assert_eq!(by_chat.result(), &expected);
    let form = post_form(&format!("{}{HISTORY}", admin(&emu)), "CHAT_ID=101").await;
    assert_eq!(form.result(), &expected);
    // SESSION_ID wins over CHAT_ID.
    let both = history(&admin(&emu), json!({"SESSION_ID": "201", "CHAT_ID": 101})).await;
    assert_eq!(both.result()["sessionId"], 201);
}

#[tokio::test]
async fn history_of_the_closed_session() {
    let emu = demo().await;
    let answer = history(&admin(&emu), json!({"SESSION_ID": "201"})).await;
    let result = answer.result();
    assert_eq!(result["sessionId"], 201);
    let ids: Vec<&String> = result["message"]
        .as_object()
        .expect("messages")
        .keys()
        .collect();
    assert_eq!(ids, ["1001", "1002"]);
    assert_eq!(result["usersMessage"], json!({"chat101": ["1002", "1001"]}));
    assert_eq!(result["files"], json!([]), "no files: an empty PHP array");
    assert_eq!(result["message"]["1001"]["senderid"], "3");
}

#[tokio::test]
async fn history_for_a_line_operator_who_is_not_a_member() {
    let emu = demo().await;
    let (url, _) = add_user_with_webhook(&emu, true);
    let answer = history(&url, json!({"SESSION_ID": 202})).await;
    let result = answer.result();
    assert_eq!(result["canJoin"], "Y");
    assert_eq!(result["canVoteHead"], "N");
    assert_eq!(result["openlines"], json!({"canvoteashead": {"1": false}}));
}

#[tokio::test]
async fn history_missing_required_param() {
    let emu = demo().await;
    for params in [
        json!({}),
        json!({"SESSION_ID": "", "CHAT_ID": "0"}),
        json!({"SESSION_ID": null}),
    ] {
        let answer = history(&admin(&emu), params).await;
        assert_eq!(
            answer.error(400, "MISSING_REQUIRED_PARAM"),
            "Session ID or Chat ID must be provided"
        );
    }
}

#[tokio::test]
async fn history_invalid_session_id() {
    let emu = demo().await;
    let empty_chat = emu
        .portal()
        .lock()
        .add_chat(Chat::lines(DEMO_IDS.line_id, "livechat|1|600|3", "No sessions").with_owner(1));
    for params in [
        json!({"SESSION_ID": "abc"}),
        json!({"CHAT_ID": 999}),
        json!({"CHAT_ID": empty_chat}),
        json!({"SESSION_ID": -3}),
    ] {
        let answer = history(&admin(&emu), params.clone()).await;
        assert_eq!(
            answer.error(400, "INVALID_SESSION_ID"),
            "Unable to determine session ID from provided parameters",
            "{params}"
        );
    }
}

#[tokio::test]
async fn history_access_denied() {
    let emu = demo().await;
    let text = "You cannot open this conversation as you do not have sufficient rights";
    let cases = [
        (other(&emu), json!({"SESSION_ID": 202})),
        (other(&emu), json!({"CHAT_ID": 101})),
        (admin(&emu), json!({"SESSION_ID": 9999})),
        (deleted_user_webhook(&emu), json!({"SESSION_ID": 202})),
    ];
    for (base, params) in cases {
        let answer = history(&base, params).await;
        assert_eq!(answer.error(400, "ACCESS_DENIED"), text);
    }
}
