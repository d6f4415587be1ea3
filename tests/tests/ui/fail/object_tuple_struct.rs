use b24::b24_object;

#[b24_object]
pub struct ChatId(pub i64);

fn main() {}
