use b24::b24_object;

/// Without a value for `Lead`, the portal would be sent "Lead".
#[b24_object]
pub enum EntityType {
    #[b24(rename = "DEAL")]
    Deal,
    Lead,
}

fn main() {}
