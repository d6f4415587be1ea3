//! Hand-written part of `imopenlines.session.open`, included by the generated module (see `methods/overrides.toml`): the result `SessionOpened`, whose `chat_id` is always sent.

use crate::b24_object;

/// The result of `imopenlines.session.open`.
#[b24_object]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOpened {
    /// The open line chat (the portal sends it as a string).
    #[b24(rename = "chatId")]
    pub chat_id: i64,
}
