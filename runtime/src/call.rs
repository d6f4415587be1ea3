//! [`Call`]: a method call about to be made, awaited to make it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::client::{encode, Attempts, Client, Exchanged};
use crate::envelope::{declares, Response};
use crate::error::Error;
use crate::method::Method;

/// An auto-batched call once it has started: the batcher's loop, owning the request.
type Batched<'c, O, E> = Pin<Box<dyn Future<Output = Result<O, Error<E>>> + Send + 'c>>;

/// A call of method `M` through a [`Client`]. It is a [`Future`]: await it for the result, or
/// hand many of them to `futures::future::join_all` or a `FuturesUnordered`. Use
/// [`with_meta`](Call::with_meta) for the whole envelope (`time`, `next`, `total`).
///
/// Nothing is sent until it is first polled, and dropping it cancels the call.
///
/// ```no_run
/// # use b24_runtime::{Client, Method};
/// # async fn demo<M: Method + Clone>(client: Client, method: M) {
/// use futures::future::join_all;
///
/// let results = join_all((0..1_000).map(|_| client.call(method.clone()))).await;
/// # }
/// ```
#[must_use = "a call does nothing until it is awaited"]
pub struct Call<'c, M: Method> {
    client: &'c Client,
    state: State<'c, M>,
}

enum State<'c, M: Method> {
    /// Not polled yet: the request can still be read and changed.
    Idle(M),
    /// Polled: the call loop owns the encoded request.
    Running(Attempts<'c>),
    /// Polled, on a client that auto-batches: the batcher owns the request.
    Batched(Batched<'c, M::Output, M::Error>),
    /// Finished (or the request was taken by `with_meta`).
    Done,
}

impl<'c, M: Method> Call<'c, M> {
    /// A call of `method` through `client` (what [`Client::call`] returns).
    pub fn new(client: &'c Client, method: M) -> Self {
        Call {
            client,
            state: State::Idle(method),
        }
    }

    /// The request.
    ///
    /// # Panics
    ///
    /// If the call has already been polled (the call loop then owns the request).
    pub fn request(&self) -> &M {
        match &self.state {
            State::Idle(method) => method,
            _ => panic!("Call::request after the call was polled"),
        }
    }

    /// The request, for changing parameters before the call is made.
    ///
    /// # Panics
    ///
    /// If the call has already been polled (the call loop then owns the request).
    pub fn request_mut(&mut self) -> &mut M {
        match &mut self.state {
            State::Idle(method) => method,
            _ => panic!("Call::request_mut after the call was polled"),
        }
    }

    /// Makes the call and returns the result with its envelope. The whole `time` block (dates
    /// included) is decoded only here: awaiting the call itself reads only the numbers the
    /// operating-time accounting needs.
    ///
    /// # Panics
    ///
    /// If the call has already been polled.
    pub async fn with_meta(self) -> Result<Response<M::Output>, Error<M::Error>> {
        let method = match self.state {
            State::Idle(method) => method,
            _ => panic!("Call::with_meta after the call was polled"),
        };
        self.client.execute(&method).await
    }
}

// The request is never pinned: it is encoded (or moved into the batcher's loop) on the first
// poll, and what runs after that is boxed.
impl<M: Method> Unpin for Call<'_, M> {}

impl<'c, M: Method + 'c> Future for Call<'c, M> {
    type Output = Result<M::Output, Error<M::Error>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let client = this.client;
        if matches!(this.state, State::Idle(_)) {
            if let State::Idle(method) = std::mem::replace(&mut this.state, State::Done) {
                this.state = if client.batches(M::API_VERSION) {
                    State::Batched(Box::pin(async move {
                        client.execute(&method).await.map(|r| r.result)
                    }))
                } else {
                    match encode(&method) {
                        Ok(params) => State::Running(client.launch(
                            M::NAME,
                            M::IDEMPOTENT,
                            M::API_VERSION,
                            params,
                            declares::<M::Error>,
                        )),
                        Err(kind) => {
                            return Poll::Ready(finish::<M>(client, Exchanged::failed(kind)))
                        }
                    }
                };
            }
        }
        let output = match &mut this.state {
            State::Running(attempts) => {
                let exchanged = std::task::ready!(attempts.as_mut().poll(cx));
                finish::<M>(client, exchanged)
            }
            State::Batched(batched) => std::task::ready!(batched.as_mut().poll(cx)),
            State::Idle(_) | State::Done => panic!("Call polled after it completed"),
        };
        this.state = State::Done;
        Poll::Ready(output)
    }
}

/// The result of a call's attempts, decoded as `M`'s.
fn finish<M: Method>(client: &Client, exchanged: Exchanged) -> Result<M::Output, Error<M::Error>> {
    client
        .finish::<M::Output, M::Error>(M::NAME.into(), M::IDEMPOTENT, exchanged)
        .map(|response| response.result)
}

impl<M: Method + fmt::Debug> fmt::Debug for Call<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Call");
        match &self.state {
            State::Idle(method) => d.field("request", method),
            State::Running(_) | State::Batched(_) => d.field("state", &"running"),
            State::Done => d.field("state", &"done"),
        };
        d.finish_non_exhaustive()
    }
}
