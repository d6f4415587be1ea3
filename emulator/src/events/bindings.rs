//! `event.bind`, `event.unbind` and `event.get`: an application's handlers.

use serde_json::{json, Value};

use super::{Binding, KNOWN_EVENTS};
use crate::error::ApiError;
use crate::handlers::{CallContext, Registry};
use crate::params::Params;

/// `event.bind`
pub const BIND: &str = "event.bind";
/// `event.unbind`
pub const UNBIND: &str = "event.unbind";
/// `event.get`
pub const GET: &str = "event.get";

pub(super) fn register(registry: &mut Registry) {
    registry.register(BIND, bind);
    registry.register(UNBIND, unbind);
    registry.register(GET, get);
}

/// The calling application, or 403 `WRONG_AUTH_TYPE` for a webhook or a token of no application.
pub(super) fn calling_app(ctx: &CallContext<'_>) -> Result<String, ApiError> {
    ctx.client_id().map(str::to_owned).ok_or_else(|| {
        ApiError::new(
            "WRONG_AUTH_TYPE",
            "Current authorization type is denied for this method",
        )
        .with_status(403)
    })
}

/// Whether the calling user is an administrator.
pub(super) fn is_admin(ctx: &CallContext<'_>) -> bool {
    ctx.user().is_some_and(|user| user.admin)
}

fn access_denied(text: &str) -> ApiError {
    ApiError::new("ACCESS_DENIED", text).with_status(403)
}

/// The handler's filters shared by bind and unbind: event, handler, auth_type, offline.
struct Spec {
    event: Option<String>,
    handler: Option<String>,
    auth_type: Option<u64>,
    offline: bool,
}

fn spec(params: &Params) -> Spec {
    Spec {
        event: params
            .text("event")
            .filter(|e| !e.is_empty())
            .map(|e| e.to_ascii_uppercase()),
        handler: params.text("handler").filter(|h| !h.is_empty()),
        auth_type: params
            .int("auth_type")
            .and_then(|id| u64::try_from(id).ok()),
        offline: params.text("event_type").as_deref() == Some("offline"),
    }
}

/// `event.bind` (`event`, `handler`, `auth_type`, `event_type`, `auth_connector`). Result: `true`.
pub fn bind(ctx: &mut CallContext<'_>, params: &Params) -> Result<Value, ApiError> {
    let client_id = calling_app(ctx)?;
    let spec = spec(params);
    let event = spec
        .event
        .filter(|e| KNOWN_EVENTS.contains(&e.as_str()))
        .ok_or_else(|| ApiError::new("ERROR_EVENT_NOT_FOUND", "Event not found"))?;
    let admin = is_admin(ctx);
    if spec.offline && !admin {
        return Err(access_denied(
            "Access denied! Offline events binding requires administrator access rights",
        ));
    }
    let auth_type = spec.auth_type.unwrap_or(0);
    if auth_type != 0 && auth_type != ctx.user_id() && !admin {
        return Err(access_denied(
            "Access denied! Event binding with AUTH_TYPE requires administrator access rights",
        ));
    }
    let handler = if spec.offline {
        String::new()
    } else {
        spec.handler
            .ok_or_else(|| ApiError::new("ERROR_HANDLER_NOT_FOUND", "Handler not found"))?
    };
    let auth_connector = params.text("auth_connector").unwrap_or_default();
    let events = &mut ctx.portal_mut().events;
    let duplicate = events.bindings.iter().any(|b| {
        b.client_id == client_id
            && b.event == event
            && b.handler == handler
            && b.auth_type == auth_type
            && b.offline == spec.offline
    });
    if duplicate {
        return Err(ApiError::new(
            "ERROR_CORE",
            "Unable to set event handler: Handler already binded",
        ));
    }
    events.next_binding += 1;
    let id = events.next_binding;
    events.bindings.push(Binding {
        id,
        client_id,
        event,
        handler,
        auth_type,
        offline: spec.offline,
        auth_connector,
    });
    Ok(Value::Bool(true))
}

/// `event.unbind` (`event`, `handler`, `auth_type`, `event_type`): removes the calling
/// application's matching handlers. Result: `{"count": n}`.
pub fn unbind(ctx: &mut CallContext<'_>, params: &Params) -> Result<Value, ApiError> {
    let client_id = calling_app(ctx)?;
    let spec = spec(params);
    let admin = is_admin(ctx);
    if spec.offline && !admin {
        return Err(access_denied(
            "Access denied! Offline events unbinding requires administrator access rights",
        ));
    }
    if spec
        .auth_type
        .is_some_and(|id| id != 0 && id != ctx.user_id())
        && !admin
    {
        return Err(access_denied(
            "Access denied! Event unbinding with AUTH_TYPE requires administrator access rights",
        ));
    }
    let events = &mut ctx.portal_mut().events;
    let before = events.bindings.len();
    events.bindings.retain(|b| {
        let matches = b.client_id == client_id
            && b.offline == spec.offline
            && spec.event.as_ref().is_none_or(|e| *e == b.event)
            && spec.handler.as_ref().is_none_or(|h| *h == b.handler)
            && spec.auth_type.is_none_or(|id| id == b.auth_type);
        !matches
    });
    Ok(json!({ "count": before - events.bindings.len() }))
}

/// `event.get`: the calling application's handlers.
pub fn get(ctx: &mut CallContext<'_>, _params: &Params) -> Result<Value, ApiError> {
    let client_id = calling_app(ctx)?;
    let rows: Vec<Value> = ctx
        .portal()
        .events
        .bindings
        .iter()
        .filter(|b| b.client_id == client_id)
        .map(|b| {
            json!({
                "event": b.event,
                "handler": b.handler,
                "auth_type": b.auth_type.to_string(),
                "offline": u8::from(b.offline),
            })
        })
        .collect();
    Ok(Value::Array(rows))
}
