use b24::b24_method;

#[b24_method("imopenlines.session.start", response = bool)]
pub enum SessionStart {
    Chat(i64),
}

fn main() {}
