//! `imopenlines.session.open`: finds the open line chat of an external user code.
//!
//! Docs: `api-reference/imopenlines/openlines/sessions/imopenlines-session-open.md`.

use crate::{b24_method, b24_object};

/// Returns the open line chat of a user of an external channel, by the user's code.
#[b24_method(
    "imopenlines.session.open",
    response = SessionOpened,
    idempotent,
    errors(ACCESS_DENIED(400) = "No access to the chat of the given `USER_CODE`."),
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOpen {
    /// The user's code in the external channel:
    /// `<connector>|<LINE_ID>|<CONNECTOR_CHAT_ID>|<CONNECTOR_USER_ID>`, e.g.
    /// `livechat|1|1763|587` (from `entity_id` of `imopenlines.dialog.get`).
    pub user_code: String,
}

/// The result of `imopenlines.session.open`.
#[b24_object]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOpened {
    /// The open line chat (the portal sends it as a string).
    #[b24(rename = "chatId")]
    pub chat_id: i64,
}
