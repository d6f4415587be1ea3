//! The one function every HTTP request passes through: [`dispatch`].
//!
//! The steps, in the order the portal applies them:
//! 1. route: `/rest/<user>/<code>/<method>` or `/rest/<method>`; other paths get a plain 404 page;
//! 2. parameters: query string and body (`WRONG_ENCODING`, `INVALID_REQUEST`);
//! 3. authentication (`NO_AUTH_FOUND`, `expired_token`);
//! 4. method lookup (`ERROR_METHOD_NOT_FOUND`);
//! 5. the handler, with the portal locked (a panicking handler answers `INTERNAL_SERVER_ERROR`);
//! 6. the envelope, and the request is recorded in the journal.
//!
//! Cross-cutting behaviour (rate limiting, operating-time budgets, fault injection) belongs here,
//! between these steps.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::FixedOffset;
use serde_json::{Map, Value};

use crate::auth::{authenticate, Credentials};
use crate::error::ApiError;
use crate::handlers::CallContext;
use crate::params::Params;
use crate::record::{AuthKind, RecordedRequest};
use crate::server::Shared;
use crate::wire::envelope::{self, Timing};
use crate::wire::request::{parse_params, parse_route, Route};

/// The largest body read; larger ones are answered 413.
const MAX_BODY: usize = 32 << 20;

const JSON: &str = "application/json; charset=utf-8";

/// Answers one HTTP request.
pub(crate) async fn dispatch(shared: Arc<Shared>, request: Request) -> Response {
    let arrived = SystemTime::now();
    let clock = Instant::now();
    let (parts, body) = request.into_parts();
    let Some(route) = parse_route(parts.uri.path()) else {
        return not_found_page();
    };
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large").into_response();
    };
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());

    let mut exchange = Exchange {
        method: route.method.clone(),
        auth: route.credentials.kind(),
        user_id: None,
        params: Map::new(),
    };
    let outcome = call(
        &shared,
        route,
        parts.uri.query(),
        content_type,
        &body,
        arrived,
        &mut exchange,
    );

    let (status, body, timing) = match &outcome {
        Ok(done) => {
            let timing = Timing {
                start: arrived,
                finish: SystemTime::now(),
                processing: done.processing,
                // No operating-time budget yet: each call reports its own time.
                operating: done.processing,
                utc_offset: done.utc_offset,
            };
            let body = envelope::success(&done.result, done.next, done.total, &timing);
            (200, body, Some(timing))
        }
        Err(error) => (error.status(), envelope::error(error), None),
    };

    tracing::debug!(
        method = %exchange.method,
        status,
        user = ?exchange.user_id,
        "b24-emulator answered"
    );
    shared.record(RecordedRequest {
        time: arrived,
        http_method: parts.method.to_string(),
        method: exchange.method,
        auth: exchange.auth,
        user_id: exchange.user_id,
        params: Value::Object(exchange.params),
        status,
        error: outcome.as_ref().err().map(|e| e.code().to_owned()),
        elapsed: clock.elapsed(),
    });
    json_response(status, body, timing.as_ref())
}

/// What the journal needs to know, filled in as the call progresses.
struct Exchange {
    method: String,
    auth: AuthKind,
    user_id: Option<u64>,
    params: Map<String, Value>,
}

/// A call that ran to a result.
struct Completed {
    result: Value,
    next: Option<u64>,
    total: Option<u64>,
    processing: Duration,
    utc_offset: FixedOffset,
}

/// Steps 2–5: parameters, authentication, lookup, handler.
fn call(
    shared: &Shared,
    route: Route,
    query: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
    arrived: SystemTime,
    exchange: &mut Exchange,
) -> Result<Completed, ApiError> {
    let mut params = parse_params(query, content_type, body)?;
    let token = params.remove("auth").and_then(|token| match token {
        Value::String(text) => Some(text),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    });
    exchange.params = params.clone();
    let credentials = match route.credentials {
        Credentials::Token(_) => Credentials::Token(token),
        webhook @ Credentials::Webhook { .. } => webhook,
    };

    let mut portal = shared.portal.lock();
    let caller = authenticate(&portal, &credentials, arrived)?;
    exchange.user_id = Some(caller.user_id);
    let handler = shared
        .handler(&route.method)
        .ok_or_else(ApiError::method_not_found)?;

    let params = Params::new(params);
    let utc_offset = portal.utc_offset();
    let started = Instant::now();
    let mut ctx = CallContext::new(
        &mut portal,
        caller.user_id,
        caller.auth,
        &route.method,
        &shared.base_url,
    );
    let result = catch_unwind(AssertUnwindSafe(|| handler.call(&mut ctx, &params)))
        .unwrap_or_else(|_| Err(ApiError::internal()))?;
    Ok(Completed {
        result,
        next: ctx.next(),
        total: ctx.total(),
        processing: started.elapsed(),
        utc_offset,
    })
}

/// A JSON answer; successful ones carry the `X-Bitrix-Rest-*` timing headers of cloud portals.
fn json_response(status: u16, body: String, timing: Option<&Timing>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
    if let Some(timing) = timing {
        let seconds = |d: Duration| HeaderValue::from_str(&format!("{:.6}", d.as_secs_f64()));
        let pairs = [
            ("x-bitrix-rest-time", timing.duration()),
            ("x-bitrix-rest-user-time", timing.processing),
            ("x-bitrix-rest-system-time", Duration::ZERO),
        ];
        for (name, value) in pairs {
            if let Ok(value) = seconds(value) {
                headers.insert(name, value);
            }
        }
    }
    response
}

/// What the portal's web server answers outside `/rest/`.
fn not_found_page() -> Response {
    let mut response = (
        StatusCode::NOT_FOUND,
        Body::from(
            "<html><head><title>404 Not Found</title></head><body>404 Not Found</body></html>",
        ),
    )
        .into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}
