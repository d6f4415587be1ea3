use b24::b24_method;

/// Not a `#[b24_object]`, so it cannot be sent.
#[derive(Debug)]
pub struct Chat {
    pub id: i64,
}

#[b24_method("imopenlines.session.start", response = bool)]
pub struct SessionStart {
    pub chat: Chat,
}

fn main() {}
