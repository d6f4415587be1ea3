//! A hostile portal: a raw TCP server on loopback that answers every request with the bytes a
//! closure chooses (any status, any body), over HTTP/1.1 with keep-alive. No framework between
//! the test and the wire.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The webhook code of every client of a hostile portal: the secret that must never show.
pub const CODE: &str = "h0st1l3w3bh00kc0d3";

/// One request as the hostile portal saw it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method (the last segment of the path).
    pub method: String,
    /// The JSON body.
    pub body: serde_json::Value,
    /// How many requests came before this one.
    pub index: usize,
}

/// What the hostile portal answers.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body, sent as is.
    pub body: Vec<u8>,
}

impl Answer {
    /// A 200 with `body`.
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Answer {
            status: 200,
            body: body.into(),
        }
    }

    /// `status` with `body`.
    pub fn status(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Answer {
            status,
            body: body.into(),
        }
    }
}

type Responder = dyn Fn(&Request) -> Answer + Send + Sync;

/// A running hostile portal (stopped when dropped).
pub struct Hostile {
    /// The webhook URL of its client (`…/rest/1/<CODE>/`).
    pub webhook: String,
    requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hostile {
    /// Starts a portal answering each request with `respond(request)`.
    pub async fn start(respond: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let requests = Arc::new(AtomicUsize::new(0));
        let respond: Arc<Responder> = Arc::new(respond);
        let counter = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, respond.clone(), counter.clone()));
            }
        });
        Hostile {
            webhook: format!("http://{addr}/rest/1/{CODE}/"),
            requests,
            task,
        }
    }

    /// How many requests it has answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Serves the requests of one connection until the client closes it.
async fn serve(mut stream: TcpStream, respond: Arc<Responder>, counter: Arc<AtomicUsize>) {
    let mut buffer = Vec::new();
    loop {
        let Some((head_len, content_length, path)) = read_head(&mut stream, &mut buffer).await
        else {
            return;
        };
        while buffer.len() < head_len + content_length {
            let mut chunk = [0u8; 16 * 1024];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        let body = buffer[head_len..head_len + content_length].to_vec();
        buffer.drain(..head_len + content_length);
        let request = Request {
            method: path.rsplit('/').next().unwrap_or_default().to_owned(),
            body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
            index: counter.fetch_add(1, Ordering::SeqCst),
        };
        let answer = respond(&request);
        let head = format!(
            "HTTP/1.1 {} Hostile\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            answer.status,
            answer.body.len()
        );
        // One write: a head and a body written apart wait for the client's delayed ACK.
        let mut reply = head.into_bytes();
        reply.extend_from_slice(&answer.body);
        if stream.write_all(&reply).await.is_err() {
            return;
        }
    }
}

/// Reads a request head: its length, the `content-length` and the path.
async fn read_head(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<(usize, usize, String)> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
            let path = head.split_whitespace().nth(1)?.to_owned();
            let content_length = head
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.trim().parse().ok())
                .unwrap_or(0);
            return Some((end + 4, content_length, path));
        }
        let mut chunk = [0u8; 16 * 1024];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}
