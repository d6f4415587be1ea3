use b24::b24_method;

#[b24_method(
    "imopenlines.session.start",
    response = bool,
    errors(
        CHAT_ID = "Empty or invalid `CHAT_ID`.",
        chat_id(400) = "The chat does not exist.",
    ),
)]
pub struct SessionStart {
    pub chat_id: i64,
}

fn main() {}
