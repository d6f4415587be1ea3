//! `#[deprecated]` declarations (a method, its parameters, objects and their fields) compile
//! without warnings where they are declared; their users get the warnings (see
//! `fail/deprecated_use.rs`).
#![deny(warnings)]

use b24::{b24_method, b24_object};

/// An old method.
#[b24_method(
    "im.chat.old.get",
    response = OldChat,
    errors(ACCESS_DENIED = "No access."),
)]
#[deprecated(note = "use im.chat.get")]
#[derive(Debug, Clone, PartialEq)]
pub struct OldChatGet {
    /// The chat.
    pub chat_id: i64,
    /// An old parameter.
    #[deprecated(note = "ignored by the portal")]
    pub mode: Option<String>,
    /// An old flag.
    #[deprecated]
    #[b24(yn)]
    pub legacy: Option<bool>,
}

/// An old answer.
#[b24_object(rename_all = "camelCase")]
#[deprecated]
#[derive(Debug, Clone, PartialEq)]
pub struct OldChat {
    /// The chat.
    pub chat_id: i64,
    /// An old field.
    #[deprecated]
    pub old_name: Option<String>,
    /// Its kind (naming a deprecated type is the declaration's own use, which warns as any
    /// other use does).
    #[allow(deprecated)]
    pub kind: OldKind,
}

/// An old kind.
#[b24_object]
#[deprecated]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OldKind {
    /// A chat.
    #[b24(rename = "chat")]
    Chat,
    /// Anything else.
    #[b24(other)]
    Other,
}

fn main() {}
