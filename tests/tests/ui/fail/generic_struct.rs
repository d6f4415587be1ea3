use b24::b24_method;

#[b24_method("imopenlines.session.start", response = bool)]
pub struct SessionStart<T> {
    pub chat_id: T,
}

fn main() {}
