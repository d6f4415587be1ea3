//! `imopenlines.session.start`: starts a new session in an open line chat.
//!
//! Docs: `api-reference/imopenlines/openlines/sessions/imopenlines-session-start.md`.

use crate::b24_method;

/// Starts a new session (dialogue) in an open line chat, on behalf of the calling user.
///
/// ```no_run
/// # async fn demo(client: b24::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use b24::imopenlines::{self, SessionStartError};
/// use b24::ErrorKind;
///
/// match imopenlines::session_start(&client, 2043).await {
///     Ok(started) => assert!(started),
///     Err(err) => match err.kind() {
///         ErrorKind::Method { error: SessionStartError::ChatType { .. }, .. } => {
///             eprintln!("chat 2043 is not an open line chat")
///         }
///         _ => return Err(err.into()),
///     },
/// }
/// # Ok(()) }
/// ```
#[b24_method(
    "imopenlines.session.start",
    response = bool,
    errors(
        CHAT_ID(400) = "The specified chat identifier is invalid: `CHAT_ID` is empty or wrong.",
        CHAT_TYPE(400) = "The specified chat is not an open line chat.",
        ACCESS_DENIED(400) = "The calling user has no access to the dialogue.",
        USER_ID(400) = "The user on whose behalf the method runs is not defined.",
    )
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStart {
    /// The open line chat (from `imopenlines.session.open` or `imopenlines.dialog.get`).
    pub chat_id: i64,
}
