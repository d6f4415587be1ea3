//! `crm.lead.list`: leads, 50 to a page.

use crate::exports::serde_json::{Map, Value};
use crate::{b24_method, b24_object, DateTime};

/// Lists leads, 50 to a page. Stream all of them with [`Client::list`](crate::Client::list),
/// [`list_fast`](crate::Client::list_fast) (by an id cursor, without counting rows) or
/// [`list_parallel`](crate::Client::list_parallel).
///
/// ```no_run
/// # async fn demo(client: b24::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use b24::crm::LeadList;
/// use b24::exports::futures::TryStreamExt;
///
/// let big: Vec<_> = client
///     .list_fast(LeadList::new().filter_by(">OPPORTUNITY", 1000))
///     .try_collect()
///     .await?;
/// # Ok(()) }
/// ```
#[b24_method(
    "crm.lead.list",
    response = Vec<Lead>,
    idempotent,
    list(item = Lead, cursor = "ID"),
)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeadList {
    /// The fields to return (default: all).
    #[b24(rename = "select")]
    pub select: Option<Vec<String>>,
    /// Conditions, e.g. `{">ID": 100, "%TITLE": "shop"}`.
    #[b24(rename = "filter")]
    pub filter: Option<Map<String, Value>>,
    /// Sort order, e.g. `{"ID": "ASC"}`.
    #[b24(rename = "order")]
    pub order: Option<Map<String, Value>>,
    /// The offset of the page; `-1` skips counting rows.
    #[b24(rename = "start")]
    pub start: Option<i64>,
}

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
