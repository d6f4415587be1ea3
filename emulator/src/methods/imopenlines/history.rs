//! `imopenlines.session.history.get`: the messages of one open-line session.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::render::{self, php_map};
use crate::error::ApiError;
use crate::handlers::CallContext;
use crate::params::Params;
use crate::state::model::{Chat, Session};
use crate::state::Portal;

/// `imopenlines.session.history.get` (`SESSION_ID` or `CHAT_ID`): the session's messages, the
/// users involved, the chat and the files, shaped as the docs example: maps keyed by id, ids as
/// strings where the portal sends strings, `[]` for an empty map.
///
/// `SESSION_ID` wins when given; otherwise the chat's latest session is used.
///
/// Errors:
/// - `MISSING_REQUIRED_PARAM`: neither `SESSION_ID` nor `CHAT_ID` given (PHP-empty);
/// - `INVALID_SESSION_ID`: no session can be determined (`SESSION_ID` not a positive number and
///   the chat, if any, has no session);
/// - `ACCESS_DENIED`: the session does not exist, or the caller may not access its chat.
pub fn get(ctx: &mut CallContext<'_>, params: &Params) -> Result<Value, ApiError> {
    if params.is_empty("SESSION_ID") && params.is_empty("CHAT_ID") {
        return Err(ApiError::new(
            "MISSING_REQUIRED_PARAM",
            "Session ID or Chat ID must be provided",
        ));
    }
    let portal = ctx.portal();
    let positive = |name: &str| {
        params
            .int(name)
            .and_then(|id| u64::try_from(id).ok())
            .filter(|id| *id > 0)
    };
    let session_id = positive("SESSION_ID")
        .or_else(|| {
            positive("CHAT_ID")
                .and_then(|chat_id| portal.last_session(chat_id))
                .map(|session| session.id)
        })
        .ok_or_else(|| {
            ApiError::new(
                "INVALID_SESSION_ID",
                "Unable to determine session ID from provided parameters",
            )
        })?;

    let denied = || {
        ApiError::new(
            "ACCESS_DENIED",
            "You cannot open this conversation as you do not have sufficient rights",
        )
    };
    let session = portal.session(session_id).ok_or_else(denied)?;
    let chat = portal.chat(session.chat_id).ok_or_else(denied)?;
    if !portal.can_access_chat(ctx.user_id(), chat.id) {
        return Err(denied());
    }
    Ok(history(
        portal,
        chat,
        session,
        ctx.user_id(),
        ctx.base_url(),
    ))
}

/// The history answer for `viewer`.
fn history(portal: &Portal, chat: &Chat, session: &Session, viewer: u64, base_url: &str) -> Value {
    let messages: Vec<_> = portal.messages_of_session(session.id).collect();
    let dialog_id = chat.dialog_id();
    let chat_key = chat.id.to_string();
    let viewer_is_admin = portal.user(viewer).is_some_and(|user| user.admin);

    let message_map: Map<String, Value> = messages
        .iter()
        .map(|message| (message.id.to_string(), render::message(portal, message)))
        .collect();
    let newest_first: Vec<String> = messages
        .iter()
        .rev()
        .map(|message| message.id.to_string())
        .collect();

    // Members and authors (0 is the system).
    let user_ids: BTreeSet<u64> = chat
        .members
        .iter()
        .copied()
        .chain(messages.iter().map(|message| message.author_id))
        .filter(|id| *id != 0)
        .collect();
    let users: Vec<_> = user_ids.iter().filter_map(|id| portal.user(*id)).collect();
    let user_map: Map<String, Value> = users
        .iter()
        .map(|user| (user.id.to_string(), render::user(portal, user)))
        .collect();
    let mut departments: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for user in &users {
        for department in &user.departments {
            departments
                .entry(*department)
                .or_default()
                .push(user.id.to_string());
        }
    }
    let user_in_group: Map<String, Value> = departments
        .into_iter()
        .map(|(id, users)| (id.to_string(), json!({"id": id, "users": users})))
        .collect();

    let can_vote: Map<String, Value> = chat
        .line_id()
        .map(|line| (line.to_string(), Value::Bool(viewer_is_admin)))
        .into_iter()
        .collect();

    let member_flags = |flag: &dyn Fn(u64) -> bool| -> Value {
        php_map(
            chat.members
                .iter()
                .map(|id| (id.to_string(), Value::Bool(flag(*id))))
                .collect(),
        )
    };

    let files: Map<String, Value> = messages
        .iter()
        .flat_map(|message| message.file_ids.iter())
        .filter_map(|id| portal.file(*id))
        .map(|file| (file.id.to_string(), render::file(portal, file, base_url)))
        .collect();

    let chat_item = json!({
        "id": chat_key,
        "parentChatId": 0,
        "parentMessageId": 0,
        "name": chat.name,
        "owner": chat.owner.to_string(),
        "color": chat.color,
        "extranet": false,
        "avatar": "/bitrix/js/im/images/blank.gif",
        "call": "0",
        "callNumber": "",
        "entityType": "LINES",
        "entityId": chat.entity_id().unwrap_or_default(),
        "entityData1": render::entity_data_1(portal, chat),
        "entityData2": render::entity_data_2(chat),
        "entityData3": render::ENTITY_DATA_3,
        "messageCount": portal.messages_of_chat(chat.id).count(),
        "public": "",
        "muteList": member_flags(&|id| chat.muted.contains(&id)),
        "managerList": chat.managers.iter().collect::<Vec<_>>(),
        "dateCreate": portal.format_date(chat.created),
        "type": chat.type_name(),
        "entityLink": render::entity_link(chat),
        "permissions": render::permissions(true),
        "textFieldEnabled": true,
        "backgroundId": Value::Null,
        "messageType": "L",
        "isNew": false,
    });

    json!({
        "chatId": chat.id,
        "canJoin": if chat.members.contains(&viewer) { "N" } else { "Y" },
        "canVoteHead": if viewer_is_admin { "Y" } else { "N" },
        "sessionId": session.id,
        "sessionVoteHead": session.vote_head,
        "sessionCommentHead": session.comment_head,
        "userId": dialog_id,
        "message": php_map(message_map),
        "usersMessage": { dialog_id.clone(): newest_first },
        "users": php_map(user_map),
        "openlines": { "canvoteashead": php_map(can_vote) },
        "userInGroup": php_map(user_in_group),
        "woUserInGroup": [],
        "chat": { chat_key.clone(): chat_item },
        "userBlockChat": { chat_key.clone(): member_flags(&|_| false) },
        "userInChat": { chat_key: chat.members.iter().collect::<Vec<_>>() },
        "files": php_map(files),
    })
}
