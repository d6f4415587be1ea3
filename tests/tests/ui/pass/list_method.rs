#![deny(warnings)]
//! A list method: `list(...)` implements `ListMethod` with the declared cursor and wire names.

use b24::paging::ListMethod;
use b24::{b24_method, b24_object};

/// A row.
#[b24_object(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(Debug, PartialEq)]
pub struct Task {
    /// The id.
    pub id: u64,
    /// The title.
    pub title: String,
}

/// Lists tasks.
#[b24_method(
    "tasks.task.list",
    response = Vec<Task>,
    idempotent,
    list(item = Task, cursor = "ID", filter = "FILTER", order = "ORDER", items = "tasks")
)]
pub struct TaskList {
    /// Conditions.
    #[b24(rename = "FILTER")]
    pub filter: Option<b24::exports::serde_json::Value>,
}

/// Lists leads with the defaults.
#[b24_method("crm.lead.list", response = Vec<Task>, list(item = Task))]
pub struct LeadList {}

fn main() {
    assert_eq!(<TaskList as ListMethod>::CURSOR, "ID");
    assert_eq!(<TaskList as ListMethod>::FILTER, "FILTER");
    assert_eq!(<TaskList as ListMethod>::ORDER, "ORDER");
    assert_eq!(<TaskList as ListMethod>::ITEMS, Some("tasks"));
    assert_eq!(<LeadList as ListMethod>::FILTER, "filter");
    assert_eq!(<LeadList as ListMethod>::ITEMS, None);
    let row: <TaskList as ListMethod>::Item =
        b24::de::from_str_lenient(r#"{"ID": "7", "TITLE": "x"}"#).unwrap();
    assert_eq!(row, Task { id: 7, title: "x".into() });
}
