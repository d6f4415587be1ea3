//! The OAuth token endpoint (`oauth.bitrix.info/oauth/token/` on the real service), served by the
//! emulator at `/oauth/token/` ([`Emulator::token_url`](crate::Emulator::token_url)).
//!
//! `GET /oauth/token/?grant_type=refresh_token&client_id=…&client_secret=…&refresh_token=…` (or
//! the same parameters in a POST form or JSON body) renews a pair of tokens
//! ([`Portal::renew_tokens`](crate::Portal::renew_tokens)) and answers as auto-renewal.md shows:
//!
//! ```json
//! {"access_token": "…", "client_endpoint": "http://127.0.0.1:PORT/rest/",
//!  "domain": "oauth.bitrix.info", "expires": 1780319382, "expires_in": 3600,
//!  "member_id": "…", "refresh_token": "…", "scope": "crm,imopenlines,im",
//!  "server_endpoint": "https://oauth.bitrix.info/rest/", "status": "L", "user_id": 1}
//! ```
//!
//! `grant_type=authorization_code&code=…` exchanges a code from
//! [`Emulator::authorization_code`](crate::Emulator::authorization_code) for a first pair (same
//! answer).
//!
//! Errors (`{"error", "error_description"}`): 400 `invalid_request` (a parameter missing, or a
//! `grant_type` other than `refresh_token` and `authorization_code`), 401 `invalid_client`, 400 `invalid_grant`. The
//! endpoint is outside the leaky bucket and the journal; faults reach it through
//! [`Fault::token_endpoint`](crate::faults::Fault::token_endpoint).

use std::time::Instant;

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::response::Response;
use serde_json::{json, Value};

use crate::dispatch::{json_response, too_large, MAX_BODY};
use crate::error::ApiError;
use crate::faults::Probe;
use crate::params::Params;
use crate::server::Shared;
use crate::state::{oauth_invalid_request, IssuedTokens};
use crate::wire::envelope;
use crate::wire::request::parse_params;

/// The path of the endpoint.
pub(crate) const TOKEN_PATH: &str = "oauth/token/";

/// The authorisation server's domain and REST address, as the real one reports them.
const SERVER_DOMAIN: &str = "oauth.bitrix.info";
const SERVER_ENDPOINT: &str = "https://oauth.bitrix.info/rest/";

/// Whether a path is the token endpoint (with or without the trailing slash).
pub(crate) fn is_token_path(path: &str) -> bool {
    matches!(path, "/oauth/token/" | "/oauth/token")
}

/// Answers a request to the token endpoint.
pub(crate) async fn serve(shared: &Shared, parts: &Parts, body: Body) -> Response {
    let started = Instant::now();
    let fault = shared.faults.strike(Probe::TokenEndpoint);
    let utc_offset = || shared.portal.lock().utc_offset();
    if let Some(fault) = fault.as_ref().filter(|fault| !fault.after) {
        fault.pause().await;
        if let Some(reply) = &fault.reply {
            return reply.to_response(utc_offset());
        }
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return too_large();
    };
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let mut response = match renew(shared, parts.uri.query(), content_type, &body) {
        Ok(answer) => json_response(200, answer.to_string(), None),
        Err(error) => json_response(error.status(), envelope::error(&error), None),
    };
    if let Some(fault) = fault.as_ref().filter(|fault| fault.after) {
        fault.pause().await;
        if let Some(reply) = &fault.reply {
            response = reply.to_response(utc_offset());
        }
    }
    tracing::debug!(elapsed = ?started.elapsed(), "b24-emulator token endpoint answered");
    response
}

/// Checks the request and renews the tokens.
fn renew(
    shared: &Shared,
    query: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Value, ApiError> {
    let params = parse_params(query, content_type, body)
        .map_err(|_| oauth_invalid_request("The request could not be read"))?;
    let params = Params::new(params);
    let text = |name: &str| params.text(name).filter(|value| !value.is_empty());
    match text("grant_type").as_deref() {
        Some("refresh_token") => {}
        Some("authorization_code") => {
            return crate::events::exchange_code(shared, &params)
                .map(|(issued, base_url)| token_answer(&issued, &base_url))
        }
        Some(_) => return Err(oauth_invalid_request("Unsupported grant_type")),
        None => return Err(oauth_invalid_request("grant_type is required")),
    }
    let (Some(client_id), Some(client_secret), Some(refresh_token)) = (
        text("client_id"),
        text("client_secret"),
        text("refresh_token"),
    ) else {
        return Err(oauth_invalid_request(
            "client_id, client_secret and refresh_token are required",
        ));
    };
    let renewed = shared
        .portal
        .lock()
        .renew_tokens(&client_id, &client_secret, &refresh_token);
    // A refresh token of another portal sharing this OAuth server (`share_oauth_server`).
    let (issued, base_url) = match renewed {
        Err(e) if e.code() == "invalid_grant" => {
            crate::events::renew_at_peers(shared, &client_id, &client_secret, &refresh_token)
                .unwrap_or(Err(e))?
        }
        renewed => (renewed?, shared.base_url.clone()),
    };
    Ok(token_answer(&issued, &base_url))
}

/// The token endpoint's answer for a pair issued for the portal at `base_url`.
pub(crate) fn token_answer(issued: &IssuedTokens, base_url: &str) -> Value {
    json!({
        "access_token": issued.access_token,
        "client_endpoint": format!("{base_url}rest/"),
        "domain": SERVER_DOMAIN,
        "expires": issued.expires,
        "expires_in": issued.expires_in,
        "member_id": issued.member_id,
        "refresh_token": issued.refresh_token,
        "scope": issued.scope,
        "server_endpoint": SERVER_ENDPOINT,
        "status": issued.status,
        "user_id": issued.user_id,
    })
}
