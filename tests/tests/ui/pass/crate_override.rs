//! `crate = "…"`: the runtime reached through a path of the user's choosing, here a module
//! re-exporting b24.
#![deny(warnings)]

mod rt {
    pub use b24::*;
}

/// A chat.
#[b24::b24_object(crate = "crate::rt")]
#[derive(Debug, PartialEq, Eq)]
pub struct Chat {
    /// Its id.
    #[b24(rename = "ID")]
    pub id: i64,
}

/// Reads a chat.
#[b24::b24_method("im.chat.get", response = Chat, crate = "crate::rt", errors(NOT_FOUND = "No chat."))]
pub struct ChatGet {
    /// The chat.
    pub chat_id: i64,
}

fn main() {
    use rt::{Method, MethodError};
    assert_eq!(ChatGet::NAME, "im.chat.get");
    assert_eq!(
        rt::__private::serde_json::to_value(ChatGet::new(1)).unwrap()["CHAT_ID"],
        1
    );
    let chat: <ChatGet as Method>::Output = rt::de::from_str_lenient(r#"{"ID": "12"}"#).unwrap();
    assert_eq!(chat, Chat { id: 12 });
    assert!(ChatGetError::from_code("not_found", 404, "").is_some());
}
