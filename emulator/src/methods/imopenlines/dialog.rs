//! `imopenlines.dialog.get`: the data of an open-line chat.

use serde_json::{json, Value};

use super::render;
use crate::error::ApiError;
use crate::handlers::CallContext;
use crate::params::Params;
use crate::state::model::Chat;
use crate::state::Portal;

/// `imopenlines.dialog.get` (one of `CHAT_ID`, `DIALOG_ID`, `SESSION_ID`, `USER_CODE`): the chat
/// object of the docs example, every field present with the same JSON types.
///
/// The first parameter present (not `null`) in that order is used, as the portal's `isset` chain
/// does: `CHAT_ID` read with `intval`, `DIALOG_ID` as `chat<ID>`, `SESSION_ID` through the
/// session's chat, `USER_CODE` through the chat's `entity_id`.
///
/// Errors: `IM_NOT_INSTALLED` when the portal's messenger is off
/// ([`Portal::set_im_installed`]); `ACCESS_ERROR` when none of the parameters is given, the
/// chat is not found or not an open line, or the caller may not access it.
pub fn get(ctx: &mut CallContext<'_>, params: &Params) -> Result<Value, ApiError> {
    let portal = ctx.portal();
    if !portal.im_installed() {
        return Err(ApiError::new(
            "IM_NOT_INSTALLED",
            "Messenger is not installed.",
        ));
    }
    let denied = || {
        ApiError::new(
            "ACCESS_ERROR",
            "You do not have access to the specified dialog",
        )
    };
    let chat_id = requested_chat(portal, params).ok_or_else(denied)?;
    let chat = portal
        .chat(chat_id)
        .filter(|chat| chat.is_lines())
        .ok_or_else(denied)?;
    if !portal.can_access_chat(ctx.user_id(), chat_id) {
        return Err(denied());
    }
    Ok(dialog(portal, chat, ctx.user_id()))
}

/// The chat id the parameters point at.
fn requested_chat(portal: &Portal, params: &Params) -> Option<u64> {
    let id = if params.isset("CHAT_ID") {
        params.int("CHAT_ID").and_then(|id| u64::try_from(id).ok())
    } else if params.isset("DIALOG_ID") {
        params
            .text("DIALOG_ID")?
            .strip_prefix("chat")
            .and_then(|id| id.parse::<u64>().ok())
    } else if params.isset("SESSION_ID") {
        let session_id = params
            .int("SESSION_ID")
            .and_then(|id| u64::try_from(id).ok())?;
        portal.session(session_id).map(|session| session.chat_id)
    } else if params.isset("USER_CODE") {
        let code = params.text("USER_CODE")?;
        portal.chat_by_user_code(&code).map(|chat| chat.id)
    } else {
        None
    };
    id.filter(|id| *id > 0)
}

/// The chat as `imopenlines.dialog.get` answers it to `viewer`.
fn dialog(portal: &Portal, chat: &Chat, viewer: u64) -> Value {
    let messages: Vec<_> = portal.messages_of_chat(chat.id).collect();
    let last = messages.last();
    let last_id = last.map_or(0, |message| message.id);
    let user_name = |id: u64| {
        portal
            .user(id)
            .map(|user| user.full_name())
            .unwrap_or_default()
    };

    let read_up_to = chat
        .read_marks
        .get(&viewer)
        .map_or(0, |mark| mark.message_id);
    let unread: Vec<u64> = if chat.members.contains(&viewer) {
        messages
            .iter()
            .filter(|message| message.id > read_up_to && message.author_id != viewer)
            .map(|message| message.id)
            .collect()
    } else {
        Vec::new()
    };

    let readed_list: Vec<Value> = chat
        .read_marks
        .iter()
        .filter(|(user_id, _)| **user_id != viewer)
        .map(|(user_id, mark)| {
            json!({
                "user_id": user_id,
                "user_name": user_name(*user_id),
                "message_id": mark.message_id,
                "date": mark.date.map(|date| portal.format_date(date)),
            })
        })
        .collect();

    let first_viewers: Vec<Value> = match last {
        Some(last) => chat
            .read_marks
            .iter()
            .filter(|(user_id, mark)| mark.message_id >= last.id && **user_id != last.author_id)
            .map(|(user_id, mark)| {
                json!({
                    "user_id": user_id,
                    "user_name": user_name(*user_id),
                    "date": portal.format_date(mark.date.unwrap_or(last.date)),
                })
            })
            .collect(),
        None => Vec::new(),
    };

    let role = if chat.owner == viewer {
        "owner"
    } else if chat.managers.contains(&viewer) {
        "manager"
    } else if chat.members.contains(&viewer) {
        "member"
    } else {
        "guest"
    };

    json!({
        "id": chat.id,
        "parent_chat_id": 0,
        "parent_message_id": 0,
        "name": chat.name,
        "description": chat.description,
        "owner": chat.owner,
        "extranet": false,
        "avatar": "",
        "color": chat.color,
        "type": chat.type_name(),
        "counter": unread.len(),
        "user_counter": chat.members.len(),
        "message_count": messages.len(),
        "unread_id": unread.first().copied().unwrap_or(0),
        "restrictions": {
            "avatar": true,
            "rename": true,
            "extend": true,
            "call": true,
            "mute": true,
            "leave": true,
            "leave_owner": true,
            "send": true,
            "user_list": true,
        },
        "last_message_id": last_id,
        "last_id": last_id,
        "marked_id": 0,
        "disk_folder_id": 0,
        "entity_type": "LINES",
        "entity_id": chat.entity_id().unwrap_or_default(),
        "entity_data_1": render::entity_data_1(portal, chat),
        "entity_data_2": render::entity_data_2(chat),
        "entity_data_3": render::ENTITY_DATA_3,
        "mute_list": chat.muted.iter().collect::<Vec<_>>(),
        "date_create": portal.format_date(chat.created),
        "message_type": "L",
        "public": "",
        "role": role,
        "entity_link": render::entity_link(chat),
        "text_field_enabled": true,
        "background_id": Value::Null,
        "permissions": render::permissions(false),
        "is_new": false,
        "readed_list": readed_list,
        "manager_list": chat.managers.iter().collect::<Vec<_>>(),
        "last_message_views": {
            "message_id": last_id,
            "first_viewers": first_viewers,
            "count_of_viewers": 0,
        },
        "dialog_id": chat.dialog_id(),
    })
}
