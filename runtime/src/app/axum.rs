//! The [`Receiver`] as an axum service (feature `axum`): mount it where Bitrix24 POSTs events
//! and installations.
//!
//! ```no_run
//! # async fn demo(receiver: b24_runtime::app::Receiver) -> std::io::Result<()> {
//! use b24_runtime::app::axum::{post_handler, Router};
//! let app = Router::new().route("/b24/events", post_handler(receiver));
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! Answers: 200 `{"status":"success"}` when the request was handled (or acknowledged), else the
//! status of [`ReceiveError::status`](super::ReceiveError::status) with the error's text (which
//! carries no secret). The body is read up to [`Receiver::body_limit`] bytes, no further.

pub use axum::Router;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodRouter};

use super::Receiver;

/// A `POST` route handing every request to `receiver`.
pub fn post_handler(receiver: Receiver) -> MethodRouter {
    post(receive).with_state(receiver)
}

/// A router answering `POST` on every path with `receiver` (for a listener of its own, or to
/// [`Router::nest`] under a prefix).
pub fn router(receiver: Receiver) -> Router {
    Router::new().fallback(post(receive).with_state(receiver))
}

async fn receive(State(receiver): State<Receiver>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let limit = receiver.body_limit();
    let body = match axum::body::to_bytes(body, limit).await {
        Ok(body) => body,
        Err(_) => {
            let rejection = super::Rejection::TooLarge { limit };
            tracing::warn!(%rejection, "b24 request refused");
            return answer(StatusCode::PAYLOAD_TOO_LARGE, rejection.to_string());
        }
    };
    match receiver.receive(parts.uri.query(), &body).await {
        Ok(_) => (
            [(header::CONTENT_TYPE, "application/json")],
            Body::from(r#"{"status":"success"}"#),
        )
            .into_response(),
        Err(error) => {
            let status =
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            // Whoever sent the request learns why it was refused, never the application's own
            // failures (a store's or a handler's text; the receiver logs them).
            let text = match error.rejection() {
                Some(rejection) => rejection.to_string(),
                None => status.canonical_reason().unwrap_or("error").to_owned(),
            };
            answer(status, text)
        }
    }
}

fn answer(status: StatusCode, text: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}
