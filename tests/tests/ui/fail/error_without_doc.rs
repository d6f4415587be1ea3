use b24::b24_method;

#[b24_method(
    "imopenlines.session.start",
    response = bool,
    errors(CHAT_ID(400)),
)]
pub struct SessionStart {
    pub chat_id: i64,
}

fn main() {}
