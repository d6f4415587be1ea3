//! `rest = 3`: a REST 3.0 method; `rest = 2` or nothing: the classic REST API.
#![deny(warnings)]

use b24::{b24_method, ApiVersion, Method};

/// A REST 3.0 method.
#[b24_method("tasks.task.get", response = bool, rest = 3)]
#[derive(Debug)]
pub struct TaskGet {
    /// The task.
    pub id: i64,
}

/// A classic one, said explicitly.
#[b24_method("tasks.task.list", response = bool, rest = 2)]
#[derive(Debug)]
pub struct TaskList {}

/// A classic one by default.
#[b24_method("imopenlines.session.start", response = bool)]
#[derive(Debug)]
pub struct SessionStart {
    /// The chat.
    pub chat_id: i64,
}

fn main() {
    assert_eq!(TaskGet::API_VERSION, ApiVersion::V3);
    assert_eq!(TaskList::API_VERSION, ApiVersion::V2);
    assert_eq!(SessionStart::API_VERSION, ApiVersion::V2);
}
