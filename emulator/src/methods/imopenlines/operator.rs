//! The operator's hand-offs of a dialogue: `imopenlines.operator.transfer`, `.finish` and
//! `.another.finish` (`api-reference/imopenlines/openlines/operators/`).
//!
//! Each acts on the chat's open session (the latest one, if it is not closed):
//! - `transfer` hands it to another operator (who joins the chat; the previous operator leaves
//!   it) or puts it in the queue of another line (no operator until one answers);
//! - `finish` closes it, for its own operator only; `another.finish` closes anyone's.
//!
//! A chat without an open session has nothing to finish: both finishes answer `true`; a transfer
//! answers `OPERATOR_WRONG`.

use serde_json::Value;

use super::session::{operator_chat, Texts};
use crate::error::ApiError;
use crate::handlers::CallContext;
use crate::params::Params;
use crate::state::model::ChatKind;
use crate::state::Portal;

/// `imopenlines.operator.finish`'s page.
const FINISH_TEXTS: Texts = Texts {
    chat_id: "The provided chat identifier is incorrect",
    chat_type: "The specified chat is not an open line",
    access_denied: "You cannot open this conversation as you do not have sufficient rights",
    user_id: "The provided user identifier is incorrect",
};

/// `imopenlines.operator.another.finish`'s page.
const ANOTHER_FINISH_TEXTS: Texts = Texts {
    chat_id: "The provided chat identifier is invalid",
    chat_type: "The specified chat is not an open line",
    access_denied: "You cannot open this conversation as you do not have sufficient permissions",
    user_id: "The provided user identifier is invalid",
};

/// The operator checks behind `transfer` (the portal's operator class; its page lists only the
/// transfer's own codes).
const TRANSFER_TEXTS: Texts = Texts {
    chat_id: "The specified chat identifier is incorrect",
    chat_type: "The specified chat is not an open line",
    access_denied: "You cannot open this conversation as you do not have sufficient rights",
    user_id: "The specified user identifier is incorrect",
};

const OPERATOR_WRONG: &str = "You cannot redirect to this operator";

/// Where a dialogue goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    User(u64),
    Queue(u64),
}

/// `imopenlines.operator.transfer` (`CHAT_ID`; one of `TRANSFER_ID`, `USER_ID`, `QUEUE_ID`).
/// Result: `true`.
///
/// `TRANSFER_ID` is `queue<LINE_ID>` or a user id and stands for `QUEUE_ID` or `USER_ID`; the
/// page asks for only one of the three, and when several come `USER_ID` wins, then `QUEUE_ID`. Errors, in order: `CHAT_ID_EMPTY`
/// (absent or `<= 0`), `TRANSFER_ID_EMPTY` (no target), `USER_ID_EMPTY` / `QUEUE_ID_EMPTY` (a
/// target `<= 0`), the operator checks (`CHAT_ID`, `USER_ID`, `CHAT_TYPE`, `ACCESS_DENIED`), then
/// `OPERATOR_WRONG`: the target user does not exist, is a channel visitor or already handles the
/// dialogue; the target line does not exist; or the chat has no open session.
pub fn transfer(ctx: &mut CallContext<'_>, params: &Params) -> Result<Value, ApiError> {
    if params.int("CHAT_ID").is_none_or(|id| id <= 0) {
        return Err(ApiError::new("CHAT_ID_EMPTY", "Chat ID can't be empty"));
    }
    let target = target(params)?;
    let chat_id = operator_chat(ctx, params, &TRANSFER_TEXTS)?;
    let wrong = || ApiError::new("OPERATOR_WRONG", OPERATOR_WRONG);
    let portal = ctx.portal_mut();
    let session_id = open_session(portal, chat_id).ok_or_else(wrong)?;
    let previous = portal.session(session_id).map_or(0, |s| s.operator_id);
    match target {
        Target::User(user_id) => {
            let operator = portal.user(user_id).filter(|user| !user.connector);
            if operator.is_none() || user_id == previous {
                return Err(wrong());
            }
            if let Some(session) = portal.session_mut(session_id) {
                session.operator_id = user_id;
            }
            portal.add_chat_member(chat_id, user_id);
        }
        Target::Queue(line_id) => {
            if portal.line(line_id).is_none() {
                return Err(wrong());
            }
            if let Some(session) = portal.session_mut(session_id) {
                session.operator_id = 0;
            }
            if let Some(ChatKind::Lines { line_id: line, .. }) =
                portal.chat_mut(chat_id).map(|chat| &mut chat.kind)
            {
                *line = line_id;
            }
        }
    }
    if let Some(chat) = portal.chat_mut(chat_id) {
        chat.members.remove(&previous);
    }
    Ok(Value::Bool(true))
}

/// The transfer's target, from `TRANSFER_ID`, `USER_ID` or `QUEUE_ID`.
fn target(params: &Params) -> Result<Target, ApiError> {
    let user_empty = || ApiError::new("USER_ID_EMPTY", "User ID can't be empty");
    let queue_empty = || ApiError::new("QUEUE_ID_EMPTY", "QUEUE ID can't be empty");
    let positive = |id: i64| u64::try_from(id).ok().filter(|id| *id > 0);
    if let Some(id) = params.text("USER_ID") {
        let id = params
            .int("USER_ID")
            .and_then(positive)
            .filter(|_| !id.is_empty());
        return id.map(Target::User).ok_or_else(user_empty);
    }
    if params.text("QUEUE_ID").is_some() {
        let id = params.int("QUEUE_ID").and_then(positive);
        return id.map(Target::Queue).ok_or_else(queue_empty);
    }
    match params.text("TRANSFER_ID").filter(|text| !text.is_empty()) {
        Some(text) => match text.strip_prefix("queue") {
            Some(line) => line
                .parse::<i64>()
                .ok()
                .and_then(positive)
                .map(Target::Queue)
                .ok_or_else(queue_empty),
            None => text
                .parse::<i64>()
                .ok()
                .and_then(positive)
                .map(Target::User)
                .ok_or_else(user_empty),
        },
        None => Err(ApiError::new(
            "TRANSFER_ID_EMPTY",
            "Queue ID or User ID can't be empty",
        )),
    }
}

/// `imopenlines.operator.finish` (`CHAT_ID`): the calling operator closes their dialogue.
/// Result: `true`.
///
/// The operator checks, then `ACCESS_DENIED` when the open session is another operator's (that
/// is `imopenlines.operator.another.finish`).
pub fn finish(ctx: &mut CallContext<'_>, params: &Params) -> Result<Value, ApiError> {
    let chat_id = operator_chat(ctx, params, &FINISH_TEXTS)?;
    let user_id = ctx.user_id();
    let portal = ctx.portal_mut();
    if let Some(session_id) = open_session(portal, chat_id) {
        if portal.session(session_id).map(|s| s.operator_id) != Some(user_id) {
            return Err(ApiError::new("ACCESS_DENIED", FINISH_TEXTS.access_denied));
        }
        close(portal, session_id);
    }
    Ok(Value::Bool(true))
}

/// `imopenlines.operator.another.finish` (`CHAT_ID`): closes the chat's open dialogue, whoever
/// handles it. Result: `true`.
pub fn another_finish(ctx: &mut CallContext<'_>, params: &Params) -> Result<Value, ApiError> {
    let chat_id = operator_chat(ctx, params, &ANOTHER_FINISH_TEXTS)?;
    let portal = ctx.portal_mut();
    if let Some(session_id) = open_session(portal, chat_id) {
        close(portal, session_id);
    }
    Ok(Value::Bool(true))
}

/// The chat's latest session, if it is open.
fn open_session(portal: &Portal, chat_id: u64) -> Option<u64> {
    portal
        .last_session(chat_id)
        .filter(|session| !session.closed)
        .map(|session| session.id)
}

fn close(portal: &mut Portal, session_id: u64) {
    if let Some(session) = portal.session_mut(session_id) {
        session.closed = true;
    }
}
