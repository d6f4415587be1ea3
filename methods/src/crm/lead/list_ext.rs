//! Hand-written part of `crm.lead.list`, included by the generated module (see `methods/overrides.toml`): `filter_by` and the row type `Lead`.

use super::LeadList;
use crate::exports::serde_json::{Map, Value};
use crate::{b24_object, DateTime};

impl LeadList {
    /// Adds one filter condition.
    pub fn filter_by(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.filter
            .get_or_insert_with(Map::new)
            .insert(key.into(), value.into());
        self
    }
}

/// A lead, as list methods return it.
#[b24_object(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(Debug, Clone, PartialEq)]
pub struct Lead {
    /// The lead.
    pub id: u64,
    /// Its title.
    pub title: Option<String>,
    /// When it was created.
    pub date_create: Option<DateTime>,
    /// The expected amount.
    pub opportunity: Option<f64>,
    /// The responsible user.
    pub assigned_by_id: Option<u64>,
    /// Every other selected field, as sent.
    #[b24(flatten)]
    pub other: Map<String, Value>,
}
