//! `imopenlines.session.join`: adds the calling operator to an active dialogue.
//!
//! Docs: `api-reference/imopenlines/openlines/sessions/imopenlines-session-join.md`.

use crate::b24_method;

/// Adds the calling operator to an active dialogue of an open line chat.
#[b24_method(
    "imopenlines.session.join",
    response = bool,
    errors(
        CHAT_ID(400) = "The specified chat identifier is incorrect: `CHAT_ID` is empty or wrong.",
        CHAT_TYPE(400) = "The specified chat is not an open line chat.",
        ACCESS_DENIED(400) = "The calling user has no access to the dialogue.",
        USER_ID(400) = "The user on whose behalf the method runs is not defined.",
    )
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionJoin {
    /// The open line chat (from `imopenlines.session.open` or `imopenlines.dialog.get`).
    pub chat_id: i64,
}
