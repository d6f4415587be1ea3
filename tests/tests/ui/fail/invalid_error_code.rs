use b24::b24_method;

#[b24_method(
    "imopenlines.session.start",
    response = bool,
    errors("CHAT ID" = "Empty or invalid `CHAT_ID`."),
)]
pub struct SessionStart {
    pub chat_id: i64,
}

fn main() {}
