//! `imopenlines.session.mode.pin`: pins a dialogue to the calling operator, or unpins it.
//!
//! Docs: `api-reference/imopenlines/openlines/sessions/imopenlines-session-mode-pin.md`.

use crate::b24_method;

/// Pins a dialogue to the calling operator (the default), or unpins it with
/// [`activate(false)`](SessionModePin::activate).
///
/// Setting the flag twice leaves the same state, so the call is declared idempotent.
#[b24_method(
    "imopenlines.session.mode.pin",
    response = bool,
    idempotent,
    errors(
        CHAT_ID_EMPTY(400) = "`CHAT_ID` was not given.",
        CHAT_ID(400) = "The chat identifier is invalid: `CHAT_ID` is empty or wrong.",
        CHAT_TYPE(400) = "The specified chat is not an open line chat.",
        ACCESS_DENIED(400) = "The calling user has no access to the dialogue.",
        USER_ID(400) = "The user on whose behalf the method runs is not defined.",
    )
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionModePin {
    /// The open line chat.
    pub chat_id: i64,
    /// `true` pins (`Y`, the portal's default), `false` unpins (`N`).
    #[b24(yn)]
    pub activate: Option<bool>,
}
