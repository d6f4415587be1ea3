//! One HTTP exchange with the portal: POST a JSON body, read the status and a bounded body.
//! Retries, limits and renewal are layered above this; this file only moves bytes.

use std::time::Duration;

use crate::error::TransportError;

/// What came back from one POST.
#[derive(Debug)]
pub(crate) struct HttpReply {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// The body was longer than the limit and was cut.
    pub truncated: bool,
}

/// POSTs `body` (JSON) to `url` and reads at most `max_body` bytes of the answer.
///
/// `url` may contain a webhook code: it is never logged, and errors are stripped of it.
pub(crate) async fn post_json(
    http: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
    timeout: Duration,
    max_body: usize,
) -> Result<HttpReply, TransportError> {
    let mut response = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::ACCEPT, "application/json")
        .timeout(timeout)
        .body(body)
        .send()
        .await
        .map_err(TransportError::new)?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::with_capacity(
        response
            .content_length()
            .map_or(1024, |n| n.min(max_body as u64) as usize),
    );
    let mut truncated = false;
    while let Some(chunk) = response.chunk().await.map_err(TransportError::new)? {
        let room = max_body - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(HttpReply {
        status,
        content_type,
        body,
        truncated,
    })
}
