use b24::b24_object;

#[b24_object]
pub enum ChatType {
    #[b24(rename = "lines")]
    Lines,
    #[b24(other)]
    Unknown,
    #[b24(other)]
    Unsupported,
}

fn main() {}
