use b24::b24_method;

#[b24_method("imopenlines.session.start", respone = bool)]
pub struct SessionStart {
    pub chat_id: i64,
}

fn main() {}
