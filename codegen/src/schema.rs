//! The schema: what the docs say of each method and event, as committed JSON
//! (`methods/schema/<scope>.json`). Field order is the key order of the files.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One schema file: the methods and events of one docs scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopeFile {
    /// The docs scope (the first one a page names), or `unscoped`.
    pub scope: String,
    /// Sorted by name, then docs path.
    pub methods: Vec<Method>,
    /// Sorted by name, then docs path.
    pub events: Vec<Event>,
}

/// A documented REST method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Method {
    /// As the portal knows it, e.g. `imopenlines.session.start`.
    pub name: String,
    /// 2 for classic REST (`/rest/…`), 3 for REST 3.0 (`/rest/api/…`).
    pub rest_version: u8,
    /// The scopes of `> Scope:`, in page order.
    pub scopes: Vec<String>,
    /// The page, relative to the docs root.
    pub docs_path: String,
    /// The page title.
    pub title: String,
    /// The page's first paragraph, as plain text.
    pub description: String,
    /// `Some(note)` when the page says the method is deprecated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<String>,
    /// The parameter table.
    pub params: Vec<Field>,
    /// What `result` holds, from `### Returned Data`; `None` when the page has no such table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Field>,
    /// The error table.
    pub errors: Vec<ErrorDoc>,
    /// The page's JSON examples.
    pub examples: Examples,
}

/// A documented event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// As handlers receive it in `event`, e.g. `ONCRMDEALADD` (as the page writes it).
    pub name: String,
    pub scopes: Vec<String>,
    pub docs_path: String,
    pub title: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<String>,
    /// The payload table (`## What the Handler Receives`).
    pub payload: Vec<Field>,
    /// JSON examples of the payload.
    pub examples: Vec<Value>,
}

/// A parameter or a field of an object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// The wire name, as the table writes it.
    pub name: String,
    /// The type as its link text says it (`integer`, `string[]`, `crm_status`, `object`).
    #[serde(rename = "type")]
    pub ty: String,
    /// Marked with `*`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Plain text.
    pub description: String,
    /// The fields of a nested object, from its sub-table.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A row of the error table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDoc {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub description: String,
}

/// The page's JSON examples, as data.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Examples {
    /// The cURL `-d` bodies, without `auth`, deduplicated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<Value>,
    /// Whole answers with `result`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub success: Vec<Value>,
    /// Whole answers with `error`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Value>,
}

/// A page that did not become a method or an event, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub docs_path: String,
    pub reason: String,
}
