//! Building HTTP answers: JSON bodies with the portal's headers, and the plain 404 page.

use std::time::Duration;

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::wire::envelope::Timing;

const JSON: &str = "application/json; charset=utf-8";

/// A JSON answer; successful ones carry the `X-Bitrix-Rest-*` timing headers of cloud portals.
pub(crate) fn json_response(status: u16, body: String, timing: Option<&Timing>) -> Response {
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

/// What the portal's web server answers outside `/rest/` and `/oauth/token/`.
pub(crate) fn not_found_page() -> Response {
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

/// 413 for bodies over the size the emulator reads.
pub(crate) fn too_large() -> Response {
    (StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large").into_response()
}
