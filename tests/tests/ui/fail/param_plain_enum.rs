use b24::b24_method;

/// A plain enum: b24 does not know what to send for it.
#[derive(Debug)]
pub enum EntityType {
    Lead,
    Deal,
}

#[b24_method("crm.item.list", response = bool)]
pub struct ItemList {
    pub entity_type: EntityType,
}

fn main() {}
