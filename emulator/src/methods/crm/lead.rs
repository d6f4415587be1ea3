//! `crm.lead.list` over the portal's leads ([`Portal::seed_leads`](crate::Portal::seed_leads)).
//!
//! Parameters:
//! - `order`: `{"ID": "ASC" | "DESC"}` (default ascending; other fields are ignored);
//! - `filter`: `ID` (a value or a list of values), `>ID`, `<ID`, `>=ID`, `<=ID`, `!ID`, `TITLE`
//!   (equal ignoring case) and `%TITLE` (substring ignoring case); other keys are ignored;
//! - `select`: field names (default, or with `*`: all); `ID` is always answered;
//! - `start`: the offset of the page ([`Start`]).
//!
//! `result` is a list of up to 50 rows, e.g. `{"ID": "123", "TITLE": "Lead #123", "DATE_CREATE":
//! "2026-01-01T03:03:00+01:00", "OPPORTUNITY": "700.00", "ASSIGNED_BY_ID": "1"}` (every value a
//! string, as the portal sends them). Id filters and order are binary searches over the sorted
//! leads, so a cursor page (`>ID` with `start=-1`) is fast on any number of rows.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::handlers::CallContext;
use crate::methods::list::{Start, PAGE_SIZE};
use crate::params::{php_intval, Params};
use crate::state::{Lead, Portal};

/// The fields, in the order they are answered.
const FIELDS: [&str; 5] = [
    "ID",
    "TITLE",
    "DATE_CREATE",
    "OPPORTUNITY",
    "ASSIGNED_BY_ID",
];

/// The conditions of `filter`.
#[derive(Debug, Default)]
struct Filter {
    /// Inclusive id bounds.
    min: i128,
    max: i128,
    /// `ID` equal to one of these.
    ids: Option<BTreeSet<i128>>,
    /// `!ID`.
    not_ids: BTreeSet<i128>,
    /// `TITLE`, lowercased.
    title: Option<String>,
    /// `%TITLE`, lowercased.
    title_contains: Vec<String>,
}

impl Filter {
    fn read(value: Option<&Value>) -> Self {
        let mut filter = Filter {
            min: i128::MIN,
            max: i128::MAX,
            ..Filter::default()
        };
        let Some(Value::Object(conditions)) = value else {
            return filter;
        };
        for (key, value) in conditions {
            let split = key
                .find(|c: char| c.is_ascii_alphanumeric() || c == '_')
                .unwrap_or(key.len());
            let (op, field) = key.split_at(split);
            let field = field.to_ascii_uppercase();
            match (field.as_str(), op) {
                ("ID", "" | "=" | "@") => {
                    let ids: BTreeSet<i128> = values(value).iter().map(id_of).collect();
                    filter.ids = Some(match filter.ids.take() {
                        Some(before) => before.intersection(&ids).copied().collect(),
                        None => ids,
                    });
                }
                ("ID", "!" | "!=" | "!@") => {
                    filter.not_ids.extend(values(value).iter().map(id_of));
                }
                ("ID", ">") => filter.min = filter.min.max(id_of(value).saturating_add(1)),
                ("ID", ">=") => filter.min = filter.min.max(id_of(value)),
                ("ID", "<") => filter.max = filter.max.min(id_of(value).saturating_sub(1)),
                ("ID", "<=") => filter.max = filter.max.min(id_of(value)),
                ("TITLE", "" | "=") => filter.title = Some(text_of(value).to_lowercase()),
                ("TITLE", "%") => filter.title_contains.push(text_of(value).to_lowercase()),
                _ => {}
            }
        }
        filter
    }

    /// The leads within the id bounds.
    fn range<'a>(&self, leads: &'a [Lead]) -> &'a [Lead] {
        let start = leads.partition_point(|lead| i128::from(lead.id) < self.min);
        let end = leads.partition_point(|lead| i128::from(lead.id) <= self.max);
        leads.get(start..end.max(start)).unwrap_or_default()
    }

    /// Whether the conditions other than the bounds are set.
    fn has_row_conditions(&self) -> bool {
        self.ids.is_some()
            || !self.not_ids.is_empty()
            || self.title.is_some()
            || !self.title_contains.is_empty()
    }

    fn accepts(&self, lead: &Lead) -> bool {
        let id = i128::from(lead.id);
        if self.ids.as_ref().is_some_and(|ids| !ids.contains(&id)) || self.not_ids.contains(&id) {
            return false;
        }
        let title = lead.title.to_lowercase();
        if self.title.as_ref().is_some_and(|wanted| *wanted != title) {
            return false;
        }
        self.title_contains
            .iter()
            .all(|part| title.contains(part.as_str()))
    }
}

/// A filter value as a list of values.
fn values(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Object(map) => map.values().cloned().collect(),
        other => vec![other.clone()],
    }
}

fn id_of(value: &Value) -> i128 {
    i128::from(php_intval(value))
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `order[ID]` is `DESC`.
fn descending(order: Option<&Value>) -> bool {
    let Some(Value::Object(order)) = order else {
        return false;
    };
    order.iter().any(|(field, direction)| {
        field.eq_ignore_ascii_case("ID")
            && direction
                .as_str()
                .is_some_and(|d| d.trim().eq_ignore_ascii_case("DESC"))
    })
}

/// The answered fields, in answer order.
fn selected(select: Option<&Value>) -> Vec<&'static str> {
    let names: Vec<String> = match select {
        Some(list @ (Value::Array(_) | Value::Object(_))) => values(list)
            .iter()
            .filter_map(|v| v.as_str().map(str::to_ascii_uppercase))
            .collect(),
        Some(Value::String(one)) => vec![one.to_ascii_uppercase()],
        _ => Vec::new(),
    };
    if names.is_empty() || names.iter().any(|name| name == "*") {
        return FIELDS.to_vec();
    }
    FIELDS
        .into_iter()
        .filter(|field| *field == "ID" || names.iter().any(|name| name == field))
        .collect()
}

/// One row.
fn row(portal: &Portal, lead: &Lead, fields: &[&str]) -> Value {
    let mut map = Map::new();
    for field in fields {
        let value = match *field {
            "ID" => lead.id.to_string(),
            "TITLE" => lead.title.clone(),
            "DATE_CREATE" => portal.format_date(lead.date_create),
            "OPPORTUNITY" => format!("{:.2}", lead.opportunity),
            _ => lead.assigned_by_id.to_string(),
        };
        map.insert((*field).to_owned(), Value::String(value));
    }
    Value::Object(map)
}

/// `crm.lead.list`: a page of leads with `next`/`total` (see the module docs).
pub fn list(ctx: &mut CallContext<'_>, params: &Params) -> Result<Value, ApiError> {
    let filter = Filter::read(params.get("filter"));
    let desc = descending(params.get("order"));
    let fields = selected(params.get("select"));
    let start = Start::read(params);
    let offset = start.offset();

    let portal = ctx.portal();
    let range = filter.range(portal.leads());
    let (page, total): (Vec<&Lead>, usize) = if filter.has_row_conditions() {
        let matching: Vec<&Lead> = if desc {
            range.iter().rev().filter(|l| filter.accepts(l)).collect()
        } else {
            range.iter().filter(|l| filter.accepts(l)).collect()
        };
        let total = matching.len();
        let page = matching.into_iter().skip(offset).take(PAGE_SIZE).collect();
        (page, total)
    } else {
        let total = range.len();
        let from = offset.min(total);
        let to = from.saturating_add(PAGE_SIZE).min(total);
        let page = if desc {
            // Row `i` of the descending order is `range[total - 1 - i]`.
            let rows = range.get(total - to..total - from).unwrap_or_default();
            rows.iter().rev().collect()
        } else {
            range.get(from..to).unwrap_or_default().iter().collect()
        };
        (page, total)
    };
    let rows: Vec<Value> = page
        .into_iter()
        .map(|lead| row(portal, lead, &fields))
        .collect();
    start.report(ctx, total);
    Ok(Value::Array(rows))
}
