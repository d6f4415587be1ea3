//! One HTTP exchange with the portal: POST a JSON body, read the status and a bounded body.
//! Retries, limits and renewal are layered above this; this file only moves bytes.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::endpoint::MethodUrl;
use crate::error::TransportError;

/// What came back from one POST.
pub(crate) struct HttpReply {
    pub status: u16,
    /// The answer's headers (taken from the response, not copied).
    pub headers: HeaderMap,
    /// The body: the one chunk hyper handed over when it came in one (no copy), else the chunks
    /// joined.
    pub body: Bytes,
    /// The body was longer than the limit (or than what the client's body budget could grant)
    /// and was cut.
    pub truncated: bool,
    /// The limit it was cut at.
    pub limit: usize,
    /// The `Idempotent-Replayed: true` header of a REST 3.0 answer (looked up only for requests
    /// that carry an idempotency key).
    pub replayed: bool,
    /// The share of the client's body budget the body holds, released when the reply is dropped.
    _budget: Option<OwnedSemaphorePermit>,
}

/// Never the body or the headers (raw server data, which may echo a secret): status and sizes.
impl std::fmt::Debug for HttpReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpReply")
            .field("status", &self.status)
            .field("headers", &self.headers.len())
            .field("body_bytes", &self.body.len())
            .field("truncated", &self.truncated)
            .field("replayed", &self.replayed)
            .finish_non_exhaustive()
    }
}

/// A client-wide budget of bytes for answer bodies held in memory at once, shared by all calls
/// (and clones) of a client: `max_body` bounds one answer, the budget bounds them all.
///
/// A call reserves the answer's `Content-Length` (or 64 KiB when unknown) before reading it,
/// waiting for room if needed; a body that grows past its reservation takes more only if it is
/// free at once, and is otherwise cut and reported as too large. A call waits only while it holds
/// nothing, so calls cannot deadlock on the budget.
#[derive(Debug, Clone)]
pub(crate) struct BodyBudget {
    /// Permits are KiB.
    kib: Arc<Semaphore>,
    bytes: usize,
}

/// The reservation for a body of unknown length.
const UNKNOWN_LENGTH_RESERVATION: usize = 64 * 1024;

impl BodyBudget {
    pub(crate) fn new(bytes: usize) -> Self {
        let kib = (bytes / 1024).clamp(1, Semaphore::MAX_PERMITS);
        BodyBudget {
            kib: Arc::new(Semaphore::new(kib)),
            bytes: kib * 1024,
        }
    }

    fn kib_of(&self, bytes: usize) -> u32 {
        let kib = bytes.div_ceil(1024).clamp(1, self.bytes / 1024);
        u32::try_from(kib).unwrap_or(u32::MAX)
    }

    /// A share of `kib` KiB if it is free now (the usual case).
    fn reserve_now(&self, kib: u32) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.kib).try_acquire_many_owned(kib).ok()
    }

    /// A share of `kib` KiB, waiting for it (the wait boxed, so that it takes no room in every
    /// call's future). `None` only if the semaphore is closed, which it never is.
    async fn reserve(&self, kib: u32) -> Option<OwnedSemaphorePermit> {
        Box::pin(Arc::clone(&self.kib).acquire_many_owned(kib))
            .await
            .ok()
    }
}

/// The body read so far: the first chunk as hyper handed it over, copied out only when a second
/// one comes.
enum Body {
    Empty,
    One(Bytes),
    Joined(Vec<u8>),
}

impl Body {
    fn len(&self) -> usize {
        match self {
            Body::Empty => 0,
            Body::One(b) => b.len(),
            Body::Joined(v) => v.len(),
        }
    }

    fn push(&mut self, chunk: Bytes, capacity: usize) {
        *self = match std::mem::replace(self, Body::Empty) {
            Body::Empty => Body::One(chunk),
            Body::One(first) => {
                let mut joined = Vec::with_capacity(capacity.max(first.len() + chunk.len()));
                joined.extend_from_slice(&first);
                joined.extend_from_slice(&chunk);
                Body::Joined(joined)
            }
            Body::Joined(mut joined) => {
                joined.extend_from_slice(&chunk);
                Body::Joined(joined)
            }
        }
    }

    fn into_bytes(self) -> Bytes {
        match self {
            Body::Empty => Bytes::new(),
            Body::One(b) => b,
            Body::Joined(v) => Bytes::from(v),
        }
    }
}

/// POSTs `body` (JSON) to `url` and reads at most `max_body` bytes of the answer, within the
/// client's body `budget`: the status, the headers (taken, not copied) and the body.
///
/// `url` may contain a webhook code: it is never logged, and errors are stripped of it.
///
/// One `async fn` with its awaits in line (no combinators): the request is built and sent in one
/// expression, so that only the in-flight request's future, then the response, take room in the
/// call's future, each once.
pub(crate) async fn post_json(
    http: &reqwest::Client,
    url: MethodUrl,
    body: Bytes,
    timeout: Duration,
    max_body: usize,
    budget: &BodyBudget,
    idempotency_key: Option<&str>,
) -> Result<HttpReply, TransportError> {
    let mut response = request(http, url, body, timeout, idempotency_key)
        .send()
        .await
        .map_err(TransportError::new)?;
    let status = response.status().as_u16();
    // Only a REST 3.0 call with an idempotency key can be answered from the portal's store.
    let replayed = idempotency_key.is_some()
        && response
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let headers = std::mem::take(response.headers_mut());
    let expected = response
        .content_length()
        .map_or(UNKNOWN_LENGTH_RESERVATION, |n| {
            usize::try_from(n).unwrap_or(usize::MAX)
        })
        .min(max_body);
    let kib = budget.kib_of(expected);
    let mut permit = match budget.reserve_now(kib) {
        Some(permit) => Some(permit),
        None => budget.reserve(kib).await,
    };
    let mut granted = permit.as_ref().map_or(0, |p| p.num_permits() * 1024);
    let capacity = expected.min(granted);
    let mut body = Body::Empty;
    let mut truncated = false;
    let mut limit = max_body;
    while let Some(chunk) = response.chunk().await.map_err(TransportError::new)? {
        let len = body.len();
        let wanted = len.saturating_add(chunk.len()).min(max_body);
        if wanted > granted {
            // Grow only with what is free now: waiting while holding a share could deadlock.
            let more = budget.kib_of(wanted - granted);
            match budget.reserve_now(more) {
                Some(extra) => {
                    granted += extra.num_permits() * 1024;
                    match &mut permit {
                        Some(permit) => permit.merge(extra),
                        None => permit = Some(extra),
                    }
                }
                None => limit = limit.min(granted),
            }
        }
        let room = limit.min(granted).saturating_sub(len);
        if chunk.len() > room {
            body.push(chunk.slice(..room), capacity);
            truncated = true;
            limit = limit.min(granted);
            break;
        }
        body.push(chunk, capacity);
    }
    Ok(HttpReply {
        status,
        headers,
        body: body.into_bytes(),
        truncated,
        limit,
        replayed,
        _budget: permit,
    })
}

/// The request: a JSON body, JSON wanted, the per-exchange timeout, and REST 3.0's idempotency
/// key when there is one.
fn request(
    http: &reqwest::Client,
    url: MethodUrl,
    body: Bytes,
    timeout: Duration,
    idempotency_key: Option<&str>,
) -> reqwest::RequestBuilder {
    let request = match url {
        MethodUrl::Parsed(url) => http.post(url),
        MethodUrl::Text(text) => http.post(text),
    };
    let request = request
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::ACCEPT, "application/json")
        .timeout(timeout)
        .body(body);
    match idempotency_key {
        Some(key) => request.header("idempotency-key", key),
        None => request,
    }
}

/// A minimal HTTP/1.1 server for unit tests: answers canned responses in order (the last one
/// again once they run out) and keeps the request lines.
#[cfg(test)]
pub(crate) mod test_server {
    use std::sync::{Arc, Mutex};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// One canned answer.
    #[derive(Debug, Clone)]
    pub(crate) struct Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Answer {
        pub(crate) fn json(status: u16, body: &str) -> Self {
            Answer {
                status,
                headers: vec![("content-type".into(), "application/json".into())],
                body: body.to_owned(),
            }
        }

        pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
            self.headers.push((name.to_owned(), value.to_owned()));
            self
        }
    }

    #[derive(Default)]
    struct Shared {
        answers: Vec<Answer>,
        next: usize,
        requests: Vec<String>,
    }

    /// A running server on `127.0.0.1`.
    pub(crate) struct Server {
        /// `http://127.0.0.1:PORT/`.
        pub(crate) url: String,
        shared: Arc<Mutex<Shared>>,
    }

    impl Server {
        pub(crate) async fn start(answers: Vec<Answer>) -> Server {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/", listener.local_addr().unwrap());
            let shared = Arc::new(Mutex::new(Shared {
                answers,
                ..Shared::default()
            }));
            let state = Arc::clone(&shared);
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(stream, Arc::clone(&state)));
                }
            });
            Server { url, shared }
        }

        /// The request lines received (`POST /rest/a.b HTTP/1.1`).
        pub(crate) fn requests(&self) -> Vec<String> {
            self.shared.lock().unwrap().requests.clone()
        }
    }

    async fn serve(mut stream: TcpStream, shared: Arc<Mutex<Shared>>) {
        let mut buf = Vec::new();
        loop {
            let head_end = loop {
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
                let mut chunk = [0u8; 4096];
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
            let length = head
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, value)| value.trim().parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < head_end + length {
                let mut chunk = [0u8; 4096];
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            buf.drain(..head_end + length);
            let answer = {
                let mut shared = shared.lock().unwrap();
                shared
                    .requests
                    .push(head.lines().next().unwrap_or_default().to_owned());
                let i = shared.next.min(shared.answers.len() - 1);
                shared.next += 1;
                shared.answers[i].clone()
            };
            let mut out = format!("HTTP/1.1 {} X\r\n", answer.status);
            for (name, value) in &answer.headers {
                out.push_str(&format!("{name}: {value}\r\n"));
            }
            out.push_str(&format!(
                "content-length: {}\r\n\r\n{}",
                answer.body.len(),
                answer.body
            ));
            if stream.write_all(out.as_bytes()).await.is_err() {
                return;
            }
        }
    }
}
