//! A REST request after routing: the leaky bucket, parameters, authentication, then `batch` or
//! one method call.

use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use super::invoke::{invoke, Ran};
use super::Exchange;
use crate::auth::{authenticate, Credentials};
use crate::error::ApiError;
use crate::methods::batch;
use crate::params::Params;
use crate::server::Shared;
use crate::wire::envelope::Timing;
use crate::wire::request::{parse_params, Route};

/// The raw request, as far as the call needs it.
pub(super) struct Incoming<'a> {
    pub(super) route: Route,
    pub(super) query: Option<&'a str>,
    pub(super) content_type: Option<&'a str>,
    pub(super) body: &'a [u8],
    pub(super) arrived: SystemTime,
}

/// Steps 2–6: bucket, parameters, authentication, then the method or the batch.
pub(super) fn call(
    shared: &Shared,
    incoming: Incoming<'_>,
    exchange: &mut Exchange,
) -> Result<Ran, ApiError> {
    let parsed =
        parse_params(incoming.query, incoming.content_type, incoming.body).map(|mut params| {
            let token = take_token(&mut params);
            exchange.params = params.clone();
            (params, token)
        });

    let mut portal = shared.portal.lock();
    if !portal.admit_request() {
        return Err(ApiError::query_limit_exceeded());
    }
    let (params, token) = parsed?;
    let credentials = match incoming.route.credentials {
        Credentials::Token(_) => Credentials::Token(token),
        webhook @ Credentials::Webhook { .. } => webhook,
    };
    let caller = authenticate(&portal, &credentials, incoming.arrived)?;
    exchange.user_id = Some(caller.user_id);
    let params = Params::new(params);

    if incoming.route.method == batch::BATCH {
        let run = batch::run(shared, &mut portal, &caller, &params, &exchange.http_method);
        exchange.children = run.records;
        let limited = portal.operating_budget().is_some();
        let timing = Timing {
            start: incoming.arrived,
            finish: SystemTime::now(),
            processing: run.processing,
            // The outer call is not charged.
            operating: if limited {
                Duration::ZERO
            } else {
                run.processing
            },
            operating_reset_at: None,
            utc_offset: portal.utc_offset(),
        };
        return Ok(Ran {
            result: run.result,
            next: None,
            total: None,
            timing,
        });
    }
    invoke(
        shared,
        &mut portal,
        &caller,
        &incoming.route.method,
        &params,
        incoming.arrived,
    )
}

/// Removes the `auth` parameter and returns it as text.
pub(crate) fn take_token(params: &mut Map<String, Value>) -> Option<String> {
    params.remove("auth").and_then(|token| match token {
        Value::String(text) => Some(text),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    })
}
