//! The operator's actions on a dialog: `imopenlines.session.start`, `.open`, `.join` and
//! `.mode.pin`.
//!
//! `start`, `join` and `mode.pin` share the operator checks, in the order the portal makes them:
//! 1. `CHAT_ID` read with PHP `intval`: not positive → `CHAT_ID`;
//! 2. the calling user does not exist (its webhook or token outlived it) → `USER_ID`;
//! 3. no chat with that id → `CHAT_ID`;
//! 4. the chat is not an open line → `CHAT_TYPE`;
//! 5. the user may not access the chat ([`Portal::can_access_chat`]) → `ACCESS_DENIED`.
//!
//! Each page words the descriptions a little differently; the texts below are the pages' own.

use serde_json::{json, Value};

use crate::error::ApiError;
use crate::handlers::CallContext;
use crate::params::Params;
use crate::state::Portal;

/// The error descriptions of one method's page.
pub(super) struct Texts {
    pub(super) chat_id: &'static str,
    pub(super) chat_type: &'static str,
    pub(super) access_denied: &'static str,
    pub(super) user_id: &'static str,
}

const START_TEXTS: Texts = Texts {
    chat_id: "The specified chat identifier is invalid",
    chat_type: "The specified chat is not an open line",
    access_denied:
        "You cannot open this conversation because you do not have sufficient permissions",
    user_id: "The specified user identifier is invalid",
};

const JOIN_TEXTS: Texts = Texts {
    chat_id: "The specified chat identifier is incorrect",
    chat_type: "The specified chat is not an Open Channel",
    access_denied: "You cannot open this conversation as you do not have sufficient permissions",
    user_id: "The specified user identifier is incorrect",
};

const PIN_TEXTS: Texts = Texts {
    chat_id: "Invalid chat identifier provided",
    chat_type: "The specified chat is not an open line",
    access_denied: "You cannot open this conversation as you do not have sufficient permissions",
    user_id: "Invalid user identifier provided",
};

/// `ACCESS_DENIED` of `imopenlines.session.open`.
const OPEN_ACCESS_DENIED: &str =
    "You cannot open this conversation because you do not have sufficient permissions";

/// The operator checks; returns the chat id.
pub(super) fn operator_chat(
    ctx: &CallContext<'_>,
    params: &Params,
    texts: &Texts,
) -> Result<u64, ApiError> {
    let chat_id = params
        .int("CHAT_ID")
        .and_then(|id| u64::try_from(id).ok())
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::new("CHAT_ID", texts.chat_id))?;
    if ctx.user().is_none() {
        return Err(ApiError::new("USER_ID", texts.user_id));
    }
    let portal: &Portal = ctx.portal();
    let chat = portal
        .chat(chat_id)
        .ok_or_else(|| ApiError::new("CHAT_ID", texts.chat_id))?;
    if !chat.is_lines() {
        return Err(ApiError::new("CHAT_TYPE", texts.chat_type));
    }
    if !portal.can_access_chat(ctx.user_id(), chat_id) {
        return Err(ApiError::new("ACCESS_DENIED", texts.access_denied));
    }
    Ok(chat_id)
}

/// `imopenlines.session.start` (`CHAT_ID`): closes the chat's open session and starts a new one
/// handled by the calling user, who joins the chat. Result: `true`.
pub fn start(ctx: &mut CallContext<'_>, params: &Params) -> Result<Value, ApiError> {
    let chat_id = operator_chat(ctx, params, &START_TEXTS)?;
    let user_id = ctx.user_id();
    let portal = ctx.portal_mut();
    let session_id = portal.start_session(chat_id, user_id);
    portal.add_chat_member(chat_id, user_id);
    crate::events::openlines::session_started(portal, session_id);
    Ok(Value::Bool(true))
}

/// `imopenlines.session.open` (`USER_CODE`): the chat of a user code.
/// Result: `{"chatId": "<id>"}` (a string, as the portal sends it).
///
/// An unknown code, a missing one, or a chat the user may not access: `ACCESS_DENIED`.
pub fn open(ctx: &mut CallContext<'_>, params: &Params) -> Result<Value, ApiError> {
    let denied = || ApiError::new("ACCESS_DENIED", OPEN_ACCESS_DENIED);
    let code = params.text("USER_CODE").ok_or_else(denied)?;
    let portal = ctx.portal();
    let chat = portal.chat_by_user_code(&code).ok_or_else(denied)?;
    if !portal.can_access_chat(ctx.user_id(), chat.id) {
        return Err(denied());
    }
    Ok(json!({ "chatId": chat.id.to_string() }))
}

/// `imopenlines.session.join` (`CHAT_ID`): adds the calling operator to the chat's members.
/// Result: `true`.
pub fn join(ctx: &mut CallContext<'_>, params: &Params) -> Result<Value, ApiError> {
    let chat_id = operator_chat(ctx, params, &JOIN_TEXTS)?;
    let user_id = ctx.user_id();
    ctx.portal_mut().add_chat_member(chat_id, user_id);
    Ok(Value::Bool(true))
}

/// `imopenlines.session.mode.pin` (`CHAT_ID`, `ACTIVATE`): pins the chat's latest session to the
/// calling operator (who becomes its operator), or unpins it. Result: `true`.
///
/// `ACTIVATE` is `Y` unless it is exactly the string `N` (the portal compares `== 'N'`).
/// `CHAT_ID` absent or PHP-empty (`""`, `"0"`, `0`): `CHAT_ID_EMPTY`. A chat without any session
/// cannot be pinned: `ACCESS_DENIED`.
pub fn mode_pin(ctx: &mut CallContext<'_>, params: &Params) -> Result<Value, ApiError> {
    if params.is_empty("CHAT_ID") {
        return Err(ApiError::new("CHAT_ID_EMPTY", "Chat ID can't be empty"));
    }
    let chat_id = operator_chat(ctx, params, &PIN_TEXTS)?;
    let activate = params.get("ACTIVATE").and_then(Value::as_str) != Some("N");
    let user_id = ctx.user_id();
    let portal = ctx.portal_mut();
    let session_id = portal
        .last_session(chat_id)
        .map(|session| session.id)
        .ok_or_else(|| ApiError::new("ACCESS_DENIED", PIN_TEXTS.access_denied))?;
    if let Some(session) = portal.session_mut(session_id) {
        session.pinned = activate;
        if activate {
            session.operator_id = user_id;
        }
    }
    Ok(Value::Bool(true))
}
