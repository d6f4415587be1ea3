//! [`Call`]: a method call about to be made, awaited to make it.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use crate::client::Client;
use crate::envelope::Response;
use crate::error::Error;
use crate::method::Method;

/// A call of method `M` through a [`Client`]. Await it for the result; use
/// [`with_meta`](Call::with_meta) for the whole envelope (`time`, `next`, `total`).
///
/// Nothing is sent until it is awaited, and dropping the future cancels the call.
#[must_use = "a call does nothing until it is awaited"]
pub struct Call<'c, M> {
    client: &'c Client,
    method: M,
}

impl<'c, M> Call<'c, M> {
    /// A call of `method` through `client` (what [`Client::call`] returns).
    pub fn new(client: &'c Client, method: M) -> Self {
        Call { client, method }
    }

    /// The request.
    pub fn request(&self) -> &M {
        &self.method
    }

    /// The request, for changing parameters before the call is made.
    pub fn request_mut(&mut self) -> &mut M {
        &mut self.method
    }
}

impl<'c, M: Method + 'c> Call<'c, M> {
    /// Makes the call and returns the result with its envelope.
    pub async fn with_meta(self) -> Result<Response<M::Output>, Error<M::Error>> {
        self.client.execute(&self.method).await
    }
}

impl<'c, M: Method + 'c> IntoFuture for Call<'c, M> {
    type Output = Result<M::Output, Error<M::Error>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'c>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.with_meta().await.map(|r| r.result) })
    }
}
