//! The one function every HTTP request passes through: [`dispatch`].
//!
//! The steps, in order:
//! 1. route: `/oauth/token/` goes to the token endpoint ([`crate::oauth_server`]),
//!    `/rest/api/…` to REST 3.0 (`v3`, same steps with its own error format and idempotency keys);
//!    `/rest/<user>/<code>/<method>` or `/rest/<method>` is a REST call; other paths get a plain
//!    404 page;
//! 2. faults ([`crate::faults`]): a fault due for this request may delay it and, unless it is an
//!    "after" fault, answer in place of the portal (nothing below runs);
//! 3. the leaky bucket (503 `QUERY_LIMIT_EXCEEDED`, the request does not run);
//! 4. parameters: query string and body (`WRONG_ENCODING`, `INVALID_REQUEST`);
//! 5. authentication (`NO_AUTH_FOUND`, `expired_token`);
//! 6. `batch` ([`crate::methods::batch`]), or one method call ([`invoke`]): lookup
//!    (`ERROR_METHOD_NOT_FOUND`), operating-time check (429 `OPERATION_TIME_LIMIT`), the handler
//!    with the portal locked (a panicking handler answers `INTERNAL_SERVER_ERROR`), the charge;
//! 7. the envelope; an "after" fault may now delay or replace the answer;
//! 8. the journal: the request (with its final status), then the commands of a batch.
//! 9. the events the call raised go to their handlers' URLs in the background
//!    ([`crate::events`]).

mod invoke;
mod respond;
mod rest;
mod v3;

pub(crate) use invoke::{invoke, Ran};
pub(crate) use respond::{json_response, not_found_page, too_large};
pub(crate) use rest::take_token;

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::response::Response;
use serde_json::{Map, Value};

use crate::faults::Probe;
use crate::record::{AuthKind, RecordedRequest};
use crate::server::Shared;
use crate::wire::envelope;
use crate::wire::request::{parse_params, parse_route};

/// The largest body read; larger ones are answered 413.
pub(crate) const MAX_BODY: usize = 32 << 20;

/// Answers one HTTP request.
pub(crate) async fn dispatch(shared: Arc<Shared>, request: Request) -> Response {
    let arrived = SystemTime::now();
    let clock = Instant::now();
    let (parts, body) = request.into_parts();
    if crate::oauth_server::is_token_path(parts.uri.path()) {
        return crate::oauth_server::serve(&shared, &parts, body).await;
    }
    if parts.uri.path().starts_with(v3::PREFIX) {
        return v3::serve(shared, parts, body).await;
    }
    let Some(route) = parse_route(parts.uri.path()) else {
        return not_found_page();
    };
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return too_large();
    };
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let query = parts.uri.query();

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
            if let Ok(mut params) = parse_params(query, content_type, &body) {
                take_token(&mut params);
                exchange.params = params;
            }
            let response = reply.to_response(shared.portal.lock().utc_offset());
            shared.record_all(exchange.finish(reply.status(), reply.error_code(), clock));
            return response;
        }
    }

    let incoming = rest::Incoming {
        route,
        query,
        content_type,
        body: &body,
        arrived,
    };
    let outcome = rest::call(&shared, incoming, &mut exchange);
    let (mut status, mut error, mut response) = match &outcome {
        Ok(ran) => {
            let body = envelope::success(&ran.result, ran.next, ran.total, &ran.timing);
            (200, None, json_response(200, body, Some(&ran.timing)))
        }
        Err(error) => (
            error.status(),
            Some(error.code().to_owned()),
            json_response(error.status(), envelope::error(error), None),
        ),
    };
    tracing::debug!(
        method = %exchange.method,
        status,
        user = ?exchange.user_id,
        "b24-emulator answered"
    );

    if let Some(fault) = fault.as_ref().filter(|fault| fault.after) {
        fault.pause().await;
        if let Some(reply) = &fault.reply {
            status = reply.status();
            error = reply.error_code();
            response = reply.to_response(shared.portal.lock().utc_offset());
        }
    }
    shared.record_all(exchange.finish(status, error, clock));
    crate::events::deliver_pending(&shared);
    response
}

/// What the journal needs to know, filled in as the call progresses.
pub(crate) struct Exchange {
    time: SystemTime,
    http_method: String,
    method: String,
    auth: AuthKind,
    user_id: Option<u64>,
    params: Map<String, Value>,
    fault: Option<String>,
    /// The journal entries of a batch's commands.
    children: Vec<RecordedRequest>,
}

impl Exchange {
    /// The journal entries: the request, then the commands it ran.
    fn finish(self, status: u16, error: Option<String>, clock: Instant) -> Vec<RecordedRequest> {
        let mut entries = Vec::with_capacity(1 + self.children.len());
        entries.push(RecordedRequest {
            time: self.time,
            http_method: self.http_method,
            method: self.method,
            auth: self.auth,
            user_id: self.user_id,
            params: Value::Object(self.params),
            status,
            error,
            elapsed: clock.elapsed(),
            batch_key: None,
            fault: self.fault,
        });
        entries.extend(self.children);
        entries
    }
}
