use b24::b24_method;

#[b24_method("imopenlines.session.start", response = bool)]
pub struct SessionStart {
    pub chat_id: i64,
    #[b24(yn)]
    pub activate: Option<String>,
}

fn main() {}
