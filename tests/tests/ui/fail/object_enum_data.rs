use b24::b24_object;

#[b24_object]
pub enum ChatType {
    #[b24(rename = "lines")]
    Lines,
    Chat(i64),
}

fn main() {}
