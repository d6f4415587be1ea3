//! REST 3.0 requests (`/rest/api/<user>/<code>/<method>` and `/rest/api/<method>`,
//! `api-reference/rest-v3.md`): JSON bodies only, errors as `{"error": {"code", "message"}}`,
//! only methods registered with [`Emulator::register_v3`](crate::Emulator::register_v3), and the
//! `Idempotency-Key` header ([`crate::state::idempotency`]).
//!
//! The steps are those of [`dispatch`](super::dispatch): faults, bucket, parameters,
//! authentication, then the method; a call with a key already answered gets the stored answer
//! (with `Idempotent-Replayed: true`) without running. Every answer to a request with a key
//! carries the key back in `Idempotency-Key`.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::HeaderValue;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::invoke::invoke_handler;
use super::rest::take_token;
use super::{json_response, too_large, Exchange, MAX_BODY};
use crate::auth::{authenticate, Credentials};
use crate::error::ApiError;
use crate::faults::Probe;
use crate::params::Params;
use crate::server::Shared;
use crate::state::idempotency::{check_key, KeyScope, Seen};
use crate::wire::envelope;
use crate::wire::request::{parse_params, parse_route};

/// The path prefix of REST 3.0.
pub(crate) const PREFIX: &str = "/rest/api/";

/// The REST 3.0 error body.
fn error_body(error: &ApiError) -> String {
    json!({"error": {"code": error.code(), "message": error.description()}}).to_string()
}

/// Answers one REST 3.0 request.
pub(crate) async fn serve(shared: Arc<Shared>, parts: Parts, body: Body) -> Response {
    let arrived = SystemTime::now();
    let clock = Instant::now();
    let rest = parts.uri.path().strip_prefix(PREFIX).unwrap_or_default();
    let Some(route) = parse_route(&format!("/rest/{rest}")) else {
        return super::not_found_page();
    };
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return too_large();
    };
    let key = parts
        .headers
        .get("idempotency-key")
        .map(|value| check_key(value.as_bytes()));
    let mut exchange = Exchange {
        time: arrived,
        http_method: parts.method.to_string(),
        method: route.method.clone(),
        auth: route.credentials.kind(),
        user_id: None,
        params: Map::new(),
        fault: None,
        children: Vec::new(),
    };
    let fault = shared.faults.strike(Probe::Method(&route.method));
    if let Some(fault) = &fault {
        exchange.fault = Some(fault.label.clone());
    }
    if let Some(fault) = fault.as_ref().filter(|fault| !fault.after) {
        fault.pause().await;
        if let Some(reply) = &fault.reply {
            let response = reply.to_response(shared.portal.lock().utc_offset());
            shared.record_all(exchange.finish(reply.status(), reply.error_code(), clock));
            return response;
        }
    }

    let outcome = call(&shared, &parts, &body, route, key, arrived, &mut exchange);
    let (mut status, mut error, mut response) = match outcome {
        Ok((body, replayed)) => {
            let mut response = json_response(200, body, None);
            if replayed {
                response
                    .headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
            }
            (200, None, response)
        }
        Err(error) => (
            error.status(),
            Some(error.code().to_owned()),
            json_response(error.status(), error_body(&error), None),
        ),
    };
    if let Some(Ok(key)) = parts
        .headers
        .get("idempotency-key")
        .map(|value| HeaderValue::from_bytes(value.as_bytes()))
    {
        response.headers_mut().insert("idempotency-key", key);
    }
    if let Some(fault) = fault.as_ref().filter(|fault| fault.after) {
        fault.pause().await;
        if let Some(reply) = &fault.reply {
            status = reply.status();
            error = reply.error_code();
            response = reply.to_response(shared.portal.lock().utc_offset());
        }
    }
    shared.record_all(exchange.finish(status, error, clock));
    response
}

/// Bucket, parameters, authentication, the key, then the method: the body to answer with, and
/// whether it is a stored one.
fn call(
    shared: &Shared,
    parts: &Parts,
    body: &[u8],
    route: crate::wire::request::Route,
    key: Option<Result<String, ApiError>>,
    arrived: SystemTime,
    exchange: &mut Exchange,
) -> Result<(String, bool), ApiError> {
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let json = content_type
        .split(';')
        .next()
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    let mut portal = shared.portal.lock();
    if !portal.admit_request() {
        return Err(ApiError::query_limit_exceeded());
    }
    if !json && !body.is_empty() {
        return Err(ApiError::new(
            "BITRIX_REST_V3_EXCEPTION_INVALIDJSONEXCEPTION",
            "The request body must be JSON",
        ));
    }
    // REST 3.0 does not read parameters from the query string.
    let mut params = parse_params(None, Some("application/json"), body).map_err(|_| {
        ApiError::new(
            "BITRIX_REST_V3_EXCEPTION_INVALIDJSONEXCEPTION",
            "The request body is not valid JSON",
        )
    })?;
    let token = take_token(&mut params);
    exchange.params = params.clone();
    let credentials = match route.credentials {
        Credentials::Token(_) => Credentials::Token(token),
        webhook @ Credentials::Webhook { .. } => webhook,
    };
    let caller = authenticate(&portal, &credentials, arrived)?;
    exchange.user_id = Some(caller.user_id);
    let handler = shared
        .handler_v3(&route.method)
        .ok_or_else(ApiError::method_not_found)?;
    let scope = match key {
        Some(key) => Some(KeyScope {
            account: caller.account.clone(),
            user_id: caller.user_id,
            method: route.method.clone(),
            key: key?,
        }),
        None => None,
    };
    let params_value = Value::Object(params.clone());
    if let Some(scope) = &scope {
        if let Seen::Replay(body) = portal.idempotent_lookup(scope, &params_value, arrived)? {
            return Ok((body, true));
        }
    }
    let ran = invoke_handler(
        handler.as_ref(),
        shared,
        &mut portal,
        &caller,
        &route.method,
        &Params::new(params),
        arrived,
    )?;
    let body = envelope::success(&ran.result, None, None, &ran.timing);
    if let Some(scope) = scope {
        portal.idempotent_store(scope, params_value, body.clone(), SystemTime::now());
    }
    Ok((body, false))
}
