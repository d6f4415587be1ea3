//! JSON pieces shared by `imopenlines.dialog.get` and `imopenlines.session.history.get`.

use serde_json::{json, Map, Value};

use crate::state::model::{Chat, File, Message, User};
use crate::state::Portal;

/// A PHP associative array as `json_encode` writes it: an object, or `[]` when empty.
pub(super) fn php_map(map: Map<String, Value>) -> Value {
    if map.is_empty() {
        Value::Array(Vec::new())
    } else {
        Value::Object(map)
    }
}

/// `entity_data_1` of an open-line chat:
/// `CRM|CRM_ENTITY_TYPE|CRM_ENTITY_ID|PAUSE|WAIT_ACTION|SESSION_ID|DATE_CREATE|…`. `PAUSE` is the
/// pin flag of the latest session; the session fields are 0 without a session.
pub(super) fn entity_data_1(portal: &Portal, chat: &Chat) -> String {
    let (crm, crm_type, crm_id) = match chat.crm_lead_id {
        Some(lead) => ("Y", "LEAD", lead),
        None => ("N", "NONE", 0),
    };
    let session = portal.last_session(chat.id);
    let pause = if session.is_some_and(|s| s.pinned) {
        "Y"
    } else {
        "N"
    };
    let session_id = session.map_or(0, |s| s.id);
    let started = session.map_or(0, |s| s.created.timestamp());
    format!("{crm}|{crm_type}|{crm_id}|{pause}|N|{session_id}|{started}|0|0|0")
}

/// `entity_data_2`: the CRM bindings, empty without a lead.
pub(super) fn entity_data_2(chat: &Chat) -> String {
    match chat.crm_lead_id {
        Some(lead) => format!("LEAD|{lead}|COMPANY|0|CONTACT|0|DEAL|0"),
        None => String::new(),
    }
}

/// `entity_data_3`.
pub(super) const ENTITY_DATA_3: &str = "N";

/// The `entity_link` object.
pub(super) fn entity_link(chat: &Chat) -> Value {
    json!({"type": "LINES", "url": "", "id": chat.entity_id().unwrap_or_default()})
}

/// What a user may do in the chat, by role (snake_case keys for `dialog.get`, camelCase for
/// history).
pub(super) fn permissions(camel_case: bool) -> Value {
    let pairs = [
        ("manage_users_add", "manageUsersAdd", "member"),
        ("manage_users_delete", "manageUsersDelete", "manager"),
        ("manage_ui", "manageUi", "member"),
        ("manage_settings", "manageSettings", "owner"),
        ("manage_messages", "manageMessages", "member"),
        ("can_post", "canPost", "member"),
    ];
    Value::Object(
        pairs
            .into_iter()
            .map(|(snake, camel, role)| {
                let key = if camel_case { camel } else { snake };
                (key.to_owned(), Value::from(role))
            })
            .collect(),
    )
}

/// The user object of history answers.
pub(super) fn user(portal: &Portal, user: &User) -> Value {
    let optional_date = |date: Option<chrono::DateTime<chrono::Utc>>| match date {
        Some(date) => Value::String(portal.format_date(date)),
        None => Value::Bool(false),
    };
    json!({
        "id": user.id.to_string(),
        "name": user.full_name(),
        "active": true,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "workPosition": user.work_position,
        "color": user.color,
        "avatar": user.avatar,
        "avatarId": Value::Null,
        "birthday": user.birthday.clone().map_or(Value::Bool(false), Value::String),
        "gender": user.gender,
        "phoneDevice": false,
        "phones": false,
        "extranet": false,
        "network": false,
        "bot": false,
        "connector": user.connector,
        "profile": format!("/company/personal/user/{}/", user.id),
        "externalAuthId": user.external_auth_id,
        "status": "online",
        "idle": false,
        "lastActivityDate": optional_date(user.last_activity),
        "mobileLastDate": false,
        "desktopLastDate": false,
        "departments": user.departments,
        "absent": false,
        "type": "user",
        "services": Value::Null,
        "botData": Value::Null,
    })
}

/// The message object of history answers; `fileId` is added to `params` for attachments.
pub(super) fn message(portal: &Portal, message: &Message) -> Value {
    let mut params = message.params.clone();
    if !message.file_ids.is_empty() {
        params.insert("fileId".to_owned(), json!(message.file_ids));
    }
    json!({
        "id": message.id.to_string(),
        "chatid": message.chat_id.to_string(),
        "senderid": message.author_id.to_string(),
        "recipientid": format!("chat{}", message.chat_id),
        "date": portal.format_date(message.date),
        "text": message.text,
        "textlegacy": text_legacy(&message.text),
        "params": php_map(params),
    })
}

/// The legacy HTML form of a BB-code text: HTML special characters escaped, simple tags converted.
pub(super) fn text_legacy(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    [
        ("[b]", "<b>"),
        ("[/b]", "</b>"),
        ("[i]", "<i>"),
        ("[/i]", "</i>"),
        ("[u]", "<u>"),
        ("[/u]", "</u>"),
        ("[s]", "<s>"),
        ("[/s]", "</s>"),
        ("[br]", "<br />"),
    ]
    .into_iter()
    .fold(escaped, |text, (bb, html)| text.replace(bb, html))
}

/// The file object of history answers. Links point at the emulator (which answers them 404).
pub(super) fn file(portal: &Portal, file: &File, base_url: &str) -> Value {
    let name = encode_component(&file.name);
    let ajax = format!("{base_url}bitrix/services/main/ajax.php?SITE_ID=s1&humanRE=1");
    let download = format!(
        "{ajax}&action=disk.api.file.download&fileId={}&fileName={name}",
        file.id
    );
    let show = format!(
        "{ajax}&action=disk.api.file.showImage&fileId={}&width=1280&height=1280&fileName={name}",
        file.id
    );
    let author = portal.user(file.author_id).map(User::full_name);
    let (image, media) = match file.image {
        Some((width, height)) => {
            let preview = format!(
                "{ajax}&action=disk.api.file.showImage&fileId={}&width=250&height=250&fileName={name}",
                file.id
            );
            (
                json!({"height": height, "width": width}),
                json!({"preview": {"250": preview}}),
            )
        }
        None => (Value::Bool(false), Value::Array(Vec::new())),
    };
    let actions = format!(
        "[{{\"type\":\"download\"}},{{\"type\":\"copyToMe\",\"text\":\"Save to Drive\",\
         \"action\":\"BXIM.disk.saveToDiskAction\",\"params\":{{\"fileId\":\"{}\"}},\
         \"extension\":\"disk.viewer.actions\",\"buttonIconClass\":\"ui-btn-icon-cloud\"}}]",
        file.id
    );
    json!({
        "id": file.id,
        "chatid": file.chat_id,
        "date": portal.format_date(file.date),
        "type": file.type_name(),
        "name": file.name,
        "extension": file.extension(),
        "size": file.size,
        "image": image,
        "status": "done",
        "progress": 100,
        "authorid": file.author_id,
        "authorname": author.unwrap_or_default(),
        "urlpreview": download,
        "urlshow": show,
        "urldownload": download,
        "viewerattrs": {
            "viewer": "",
            "viewertype": if file.image.is_some() { "image" } else { "document" },
            "src": download,
            "viewerresized": "",
            "objectid": file.id.to_string(),
            "viewergroupby": file.chat_id.to_string(),
            "imchatid": file.chat_id,
            "title": file.name,
            "actions": actions,
        },
        "mediaurl": media,
        "istranscribable": false,
        "isvideonote": false,
        "isvoicenote": false,
    })
}

/// Percent-encodes everything but unreserved characters.
fn encode_component(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_text_converts_bb_code_and_escapes() {
        assert_eq!(
            text_legacy("[b]A new lead[/b] <x> & y"),
            "<b>A new lead</b> &lt;x&gt; &amp; y"
        );
    }

    #[test]
    fn empty_map_is_an_empty_array() {
        assert_eq!(php_map(Map::new()), json!([]));
    }

    #[test]
    fn components_are_encoded() {
        assert_eq!(encode_component("a b/ü.png"), "a%20b%2F%C3%BC.png");
    }
}
