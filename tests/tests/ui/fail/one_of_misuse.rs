use b24::{b24_method, b24_object};

#[b24_object(one_of)]
pub enum Target {
    UserId(i64),
    Queue,
}

/// Not a `one_of` enum.
#[b24_object]
pub struct Plain {
    pub id: i64,
}

#[b24_method("imopenlines.operator.transfer", response = bool)]
pub struct OperatorTransfer {
    pub chat_id: i64,
    #[b24(one_of)]
    pub plain: Plain,
}

#[b24_object(one_of)]
pub enum Key {
    ChatId(i64),
}

#[b24_method("imopenlines.dialog.get", response = bool)]
pub struct DialogGet {
    /// Without `#[b24(one_of)]`: not a value of its own.
    pub key: Key,
}

fn main() {}
