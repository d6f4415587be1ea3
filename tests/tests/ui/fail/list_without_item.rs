use b24::{b24_method, b24_object};

#[b24_object]
pub struct Row {
    pub id: u64,
}

#[b24_method("crm.lead.list", response = Vec<Row>, list(cursor = "ID", ordr = "ORDER"))]
pub struct LeadList {
    pub start: Option<i64>,
}

fn main() {}
