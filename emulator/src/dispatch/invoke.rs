//! Running one method call, for a plain request or a `batch` command alike: the method lookup,
//! the operating-time check, the handler (with the portal locked), and the charge.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::handlers::CallContext;
use crate::limits::operating::reset_at_value;
use crate::params::Params;
use crate::server::Shared;
use crate::state::Portal;
use crate::wire::envelope::Timing;

/// A call whose handler answered a result.
#[derive(Debug)]
pub(crate) struct Ran {
    pub(crate) result: Value,
    pub(crate) next: Option<u64>,
    pub(crate) total: Option<u64>,
    pub(crate) timing: Timing,
}

/// Runs `method` for `caller`; `start` is when the call began (the request's arrival, or the
/// command's start inside a batch).
///
/// Errors: `ERROR_METHOD_NOT_FOUND`; `OPERATION_TIME_LIMIT` when the method's operating time for
/// this account is already over the budget (the handler does not run); the handler's own error
/// (charged like a success); `INTERNAL_SERVER_ERROR` when the handler panics.
pub(crate) fn invoke(
    shared: &Shared,
    portal: &mut Portal,
    caller: &Caller,
    method: &str,
    params: &Params,
    start: SystemTime,
) -> Result<Ran, ApiError> {
    let handler = shared
        .handler(method)
        .ok_or_else(ApiError::method_not_found)?;
    invoke_handler(
        handler.as_ref(),
        shared,
        portal,
        caller,
        method,
        params,
        start,
    )
}

/// [`invoke`] with the handler already looked up (REST 3.0 methods have their own registry).
pub(crate) fn invoke_handler(
    handler: &dyn crate::handlers::Handler,
    shared: &Shared,
    portal: &mut Portal,
    caller: &Caller,
    method: &str,
    params: &Params,
    start: SystemTime,
) -> Result<Ran, ApiError> {
    if portal.operating_blocked(&caller.account, method) {
        return Err(ApiError::operation_time_limit());
    }
    let utc_offset = portal.utc_offset();
    let started = Instant::now();
    let mut ctx = CallContext::new(
        portal,
        caller.user_id,
        caller.auth,
        method,
        &shared.base_url,
    )
    .with_client_id(match &caller.account {
        crate::limits::operating::Account::OAuth { client_id, .. } => client_id.clone(),
        crate::limits::operating::Account::Webhook(_) => None,
    });
    let result = catch_unwind(AssertUnwindSafe(|| handler.call(&mut ctx, params)))
        .unwrap_or_else(|_| Err(ApiError::internal()));
    let (next, total) = (ctx.next(), ctx.total());
    let processing = started.elapsed();
    let usage = portal.charge_operating(&caller.account, method, processing.as_secs_f64());
    let clock = portal.clock();
    let timing = Timing {
        start,
        finish: SystemTime::now(),
        processing,
        operating: usage.map_or(processing, |usage| {
            Duration::try_from_secs_f64(usage.operating).unwrap_or(Duration::MAX)
        }),
        operating_reset_at: usage.map(|usage| reset_at_value(usage.reset_at, clock)),
        utc_offset,
    };
    Ok(Ran {
        result: result?,
        next,
        total,
        timing,
    })
}
