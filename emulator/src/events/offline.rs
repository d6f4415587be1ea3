//! The offline queue: `event.offline.get`, `event.offline.clear`, `event.offline.error` and
//! `event.offline.list` (administrators only, with the application's token).
//!
//! `event.offline.get`:
//! - `clear=1` (the default) without `process_id`: the first `limit` free records (default 50)
//!   are returned and deleted; `process_id` is `null`;
//! - `clear=0`: the records are reserved under `process_id` (the one given, or a new one) and
//!   hidden from other requests. The records already reserved under that `process_id` come
//!   first, topped up with free ones to `limit`: a process that died between get and clear gets
//!   its batch back with the same `process_id`;
//! - `clear=1` with a `process_id`: that process's records (topped up) are returned and deleted.
//!
//! Records marked with `event.offline.error` are only returned with `error=1`. `filter` takes
//! `EVENT_NAME`/`=EVENT_NAME` (a name or a list), `ID`/`=ID`, `>ID`, `<ID`; records come in `ID`
//! order.

use serde_json::{json, Value};

use super::bindings::{calling_app, is_admin};
use super::OfflineRecord;
use crate::error::ApiError;
use crate::handlers::{CallContext, Registry};
use crate::params::Params;
use crate::state::Portal;

/// `event.offline.get`
pub const GET: &str = "event.offline.get";
/// `event.offline.clear`
pub const CLEAR: &str = "event.offline.clear";
/// `event.offline.error`
pub const ERROR: &str = "event.offline.error";
/// `event.offline.list`
pub const LIST: &str = "event.offline.list";

/// The most records one `event.offline.get` returns, whatever `limit` says.
const MAX_LIMIT: usize = 1000;

pub(super) fn register(registry: &mut Registry) {
    registry.register(GET, get);
    registry.register(CLEAR, clear);
    registry.register(ERROR, error);
    registry.register(LIST, list);
}

/// The calling application, checked to be called by an administrator.
fn admin_app(ctx: &CallContext<'_>) -> Result<String, ApiError> {
    let client_id = calling_app(ctx)?;
    if !is_admin(ctx) {
        return Err(ApiError::new("ACCESS_DENIED", "Access denied!").with_status(403));
    }
    Ok(client_id)
}

/// Whether a record passes the request's `filter`.
fn passes(record: &OfflineRecord, filter: Option<&Value>) -> bool {
    let Some(Value::Object(filter)) = filter else {
        return true;
    };
    let number = |value: &Value| match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    filter
        .iter()
        .all(|(key, wanted)| match key.to_ascii_uppercase().as_str() {
            "EVENT_NAME" | "=EVENT_NAME" => match wanted {
                Value::Array(names) => names.iter().any(|n| {
                    n.as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(&record.event))
                }),
                Value::String(name) => name.eq_ignore_ascii_case(&record.event),
                _ => false,
            },
            "ID" | "=ID" => number(wanted) == Some(record.id),
            ">ID" => number(wanted).is_some_and(|id| record.id > id),
            "<ID" => number(wanted).is_some_and(|id| record.id < id),
            _ => true,
        })
}

fn row(portal: &Portal, record: &OfflineRecord, full: bool) -> Value {
    let mut row = json!({
        "ID": record.id.to_string(),
        "TIMESTAMP_X": portal.format_date(record.time),
        "EVENT_NAME": record.event,
        "EVENT_DATA": record.data,
        "EVENT_ADDITIONAL": {"user_id": record.user_id.to_string()},
        "MESSAGE_ID": record.message_id.to_string(),
    });
    if full {
        row["PROCESS_ID"] = json!(record.process_id);
        row["ERROR"] = json!(if record.error { "1" } else { "0" });
    }
    row
}

/// `event.offline.get` (`clear`, `process_id`, `limit`, `filter`, `auth_connector`, `error`).
/// Result: `{"process_id": …, "events": […]}`.
pub fn get(ctx: &mut CallContext<'_>, params: &Params) -> Result<Value, ApiError> {
    let client_id = admin_app(ctx)?;
    let clear = params.int("clear").unwrap_or(1) != 0;
    let errors = params.int("error").unwrap_or(0) != 0;
    let limit = match params.int("limit") {
        Some(n) if n > 0 => usize::try_from(n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT),
        _ => 50,
    };
    let connector = params.text("auth_connector").unwrap_or_default();
    let filter = params.get("filter").cloned();
    let given = params.text("process_id").filter(|p| !p.is_empty());
    let portal = ctx.portal_mut();
    let process_id = match given {
        Some(id) => Some(id),
        None if !clear => {
            portal.events.next_process += 1;
            Some(format!(
                "{}{:08x}",
                super::fresh_token(portal.events.next_process)
                    .get(..24)
                    .unwrap_or_default(),
                portal.events.next_process
            ))
        }
        None => None,
    };
    let mine = |r: &OfflineRecord| {
        r.client_id == client_id
            && r.auth_connector == connector
            && r.error == errors
            && passes(r, filter.as_ref())
    };
    let mut picked: Vec<u64> = Vec::new();
    if let Some(pid) = &process_id {
        picked.extend(
            portal
                .events
                .queue
                .iter()
                .filter(|r| mine(r) && r.process_id == *pid)
                .map(|r| r.id)
                .take(limit),
        );
    }
    let room = limit - picked.len();
    let fresh: Vec<u64> = portal
        .events
        .queue
        .iter()
        .filter(|r| mine(r) && r.process_id.is_empty())
        .map(|r| r.id)
        .take(room)
        .collect();
    picked.extend(fresh);
    picked.sort_unstable();
    let rows: Vec<Value> = picked
        .iter()
        .filter_map(|id| portal.events.queue.iter().find(|r| r.id == *id))
        .map(|record| row(portal, record, false))
        .collect();
    if clear {
        portal.events.queue.retain(|r| !picked.contains(&r.id));
    } else if let Some(pid) = &process_id {
        for record in portal.events.queue.iter_mut() {
            if picked.contains(&record.id) {
                record.process_id.clone_from(pid);
            }
        }
    }
    Ok(json!({
        "process_id": if clear { Value::Null } else { json!(process_id) },
        "events": rows,
    }))
}

/// The ids in an array parameter (`id[]`, `message_id[]`), or `None` when absent.
fn ids(params: &Params, name: &str) -> Option<Vec<u64>> {
    let value = params.get(name)?;
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Object(map) => map.values().collect(),
        other => vec![other],
    };
    Some(
        items
            .into_iter()
            .filter_map(|v| match v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .collect(),
    )
}

fn process_id(params: &Params) -> Result<String, ApiError> {
    params
        .text("process_id")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::new("ERROR_ARGUMENT", "PROCESS_ID is required"))
}

/// `event.offline.clear` (`process_id`, `id` or `message_id`): deletes the process's records
/// (those listed, or all). Result: `true`.
pub fn clear(ctx: &mut CallContext<'_>, params: &Params) -> Result<Value, ApiError> {
    let client_id = admin_app(ctx)?;
    let pid = process_id(params)?;
    let by_id = ids(params, "id");
    let by_message = if by_id.is_none() {
        ids(params, "message_id")
    } else {
        None
    };
    ctx.portal_mut().events.queue.retain(|r| {
        let target = r.client_id == client_id
            && r.process_id == pid
            && by_id.as_ref().is_none_or(|ids| ids.contains(&r.id))
            && by_message
                .as_ref()
                .is_none_or(|ids| ids.contains(&r.message_id));
        !target
    });
    Ok(Value::Bool(true))
}

/// `event.offline.error` (`process_id`, `message_id`): marks the process's records as failed
/// (they leave the process and are only returned with `error=1`). Result: `true`.
pub fn error(ctx: &mut CallContext<'_>, params: &Params) -> Result<Value, ApiError> {
    let client_id = admin_app(ctx)?;
    let pid = process_id(params)?;
    let by_message = ids(params, "message_id");
    for record in ctx.portal_mut().events.queue.iter_mut() {
        if record.client_id == client_id
            && record.process_id == pid
            && by_message
                .as_ref()
                .is_none_or(|ids| ids.contains(&record.message_id))
        {
            record.error = true;
            record.process_id.clear();
        }
    }
    Ok(Value::Bool(true))
}

/// `event.offline.list` (`filter`, `start`, `auth_connector`): the queue without changing it,
/// 50 records a page, with `total` and `next`.
pub fn list(ctx: &mut CallContext<'_>, params: &Params) -> Result<Value, ApiError> {
    let client_id = admin_app(ctx)?;
    let connector = params.text("auth_connector").unwrap_or_default();
    let filter = params.get("filter").cloned();
    let start = params
        .int("start")
        .and_then(|s| usize::try_from(s).ok())
        .unwrap_or(0);
    let portal = ctx.portal();
    let all: Vec<&OfflineRecord> = portal
        .events
        .queue
        .iter()
        .filter(|r| r.client_id == client_id && r.auth_connector == connector)
        .filter(|r| passes(r, filter.as_ref()))
        .collect();
    let total = all.len();
    let rows: Vec<Value> = all
        .iter()
        .skip(start)
        .take(50)
        .map(|r| row(portal, r, true))
        .collect();
    let next = start.saturating_add(50);
    ctx.set_total(u64::try_from(total).unwrap_or(u64::MAX));
    if next < total {
        ctx.set_next(u64::try_from(next).unwrap_or(u64::MAX));
    }
    Ok(Value::Array(rows))
}
