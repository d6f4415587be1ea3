// A mistake in an object is reported once, where it is, and not again at each use of the
// object (as a method's response or parameter).
use b24::{b24_method, b24_object};

#[b24_object]
pub struct Chat {
    #[b24(rename = "ID", strict = "yes")]
    pub id: i64,
}

#[b24_method("im.chat.get", response = Chat)]
pub struct ChatGet {
    pub chat: Option<Chat>,
}

fn main() {}
