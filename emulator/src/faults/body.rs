//! The body of an injected reply: sent in chunks, generated lazily when large, and optionally cut
//! short by an error so that the server drops the connection mid-response.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Bytes, HttpBody};
use http_body::{Frame, SizeHint};

/// The largest chunk sent at once.
const CHUNK: usize = 64 * 1024;

/// How long a cut body waits after its last bytes before failing, so that they (and the headers)
/// reach the client before the connection is dropped.
const FLUSH_PAUSE: Duration = Duration::from_millis(50);

/// Where the bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// Bytes in memory.
    Bytes(Bytes),
    /// `prefix`, then `filler` bytes of `x`, then `suffix`.
    Filled {
        prefix: Bytes,
        filler: u64,
        suffix: Bytes,
    },
}

impl Source {
    /// The total length.
    pub(crate) fn len(&self) -> u64 {
        match self {
            Source::Bytes(bytes) => bytes.len() as u64,
            Source::Filled {
                prefix,
                filler,
                suffix,
            } => (prefix.len() as u64)
                .saturating_add(*filler)
                .saturating_add(suffix.len() as u64),
        }
    }

    /// Up to `max` bytes starting at `at`.
    fn chunk(&self, at: u64, max: usize) -> Bytes {
        match self {
            Source::Bytes(bytes) => {
                let start = usize::try_from(at).unwrap_or(usize::MAX).min(bytes.len());
                let end = start.saturating_add(max).min(bytes.len());
                bytes.slice(start..end)
            }
            Source::Filled {
                prefix,
                filler,
                suffix,
            } => {
                let prefix_len = prefix.len() as u64;
                let filler_end = prefix_len.saturating_add(*filler);
                if at < prefix_len {
                    Source::Bytes(prefix.clone()).chunk(at, max)
                } else if at < filler_end {
                    let n = (filler_end - at).min(max as u64) as usize;
                    Bytes::from(vec![b'x'; n])
                } else {
                    Source::Bytes(suffix.clone()).chunk(at - filler_end, max)
                }
            }
        }
    }
}

/// A response body that sends `source`, or only its first `cut_after` bytes and then fails, which
/// makes the server close the connection with the answer incomplete.
pub(crate) struct FaultBody {
    source: Source,
    sent: u64,
    cut_after: Option<u64>,
    /// Wait before failing, so that what was sent reaches the client.
    flush: bool,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl FaultBody {
    /// A body; `cut_after` at or beyond the length still keeps the last byte back.
    pub(crate) fn new(source: Source, cut_after: Option<u64>) -> Self {
        let cut_after = cut_after.map(|cut| cut.min(source.len().saturating_sub(1)));
        Self {
            source,
            sent: 0,
            cut_after,
            flush: true,
            pause: None,
        }
    }

    /// Fails at once when the cut is reached, without giving the server time to send what it
    /// holds: with nothing sent, the client usually gets no answer at all.
    pub(crate) fn without_flush(mut self) -> Self {
        self.flush = false;
        self
    }
}

fn dropped() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "b24-emulator fault: connection dropped mid-response",
    )
}

impl HttpBody for FaultBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = &mut *self;
        let limit = this.cut_after.unwrap_or_else(|| this.source.len());
        if this.sent < limit {
            let max = usize::try_from(limit - this.sent)
                .unwrap_or(CHUNK)
                .min(CHUNK);
            let chunk = this.source.chunk(this.sent, max);
            if chunk.is_empty() {
                return Poll::Ready(None);
            }
            this.sent += chunk.len() as u64;
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        if this.cut_after.is_none() {
            return Poll::Ready(None);
        }
        if !this.flush {
            return Poll::Ready(Some(Err(dropped())));
        }
        let pause = this
            .pause
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(FLUSH_PAUSE)));
        match pause.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => Poll::Ready(Some(Err(dropped()))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.cut_after.is_none() && self.sent >= self.source.len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.source.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filled_source_chunks() {
        let source = Source::Filled {
            prefix: Bytes::from_static(b"{\"a\":\""),
            filler: 10,
            suffix: Bytes::from_static(b"\"}"),
        };
        assert_eq!(source.len(), 18);
        let mut all = Vec::new();
        let mut at = 0;
        while at < source.len() {
            let chunk = source.chunk(at, 4);
            at += chunk.len() as u64;
            all.extend_from_slice(&chunk);
        }
        assert_eq!(all, b"{\"a\":\"xxxxxxxxxx\"}");
    }

    #[test]
    fn cut_keeps_the_last_byte_back() {
        let body = FaultBody::new(Source::Bytes(Bytes::from_static(b"abc")), Some(10));
        assert_eq!(body.cut_after, Some(2));
        assert_eq!(body.size_hint().exact(), Some(3));
        let empty = FaultBody::new(Source::Bytes(Bytes::new()), Some(10));
        assert_eq!(empty.cut_after, Some(0));
    }
}
