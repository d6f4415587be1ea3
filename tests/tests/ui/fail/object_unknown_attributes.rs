use b24::b24_object;

#[b24_object(rename_all = "camel_case")]
pub struct Chat {
    #[b24(yn)]
    pub open: i64,
    #[b24(strikt)]
    pub id: i64,
}

fn main() {}
