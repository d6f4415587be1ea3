//! `batch`: up to 50 method calls in one HTTP request, typed.
//!
//! ```no_run
//! # use b24_runtime::{Client, Method};
//! # async fn demo<A: Method, B: Method>(client: Client, a: A, b: B) {
//! let mut batch = client.batch();
//! let first = batch.push(a);
//! let second = batch.push(b);
//! let mut results = batch.send().await;
//! let a_result = results.take(&first);   // Result<A::Output, Error<A::Error>>
//! let b_result = results.take(&second);
//! # }
//! ```
//!
//! More than 50 calls are split into several `batch` requests (sent concurrently, paced by the
//! client's rate limit). Each sub-call's `time` feeds the operating-time accounting of its own
//! method. Sub-calls are encoded as PHP's `http_build_query` ([`php_query`]); a parameter may
//! instead refer to an earlier call's result ([`ResultRef`], `$result[key][field]`).

pub mod php_query;
mod wire;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures::future::join_all;

use crate::client::Client;
use crate::de::Lenient;
use crate::envelope::Response;
use crate::error::{description_of, ApiError, ConfigError, DecodeError, Error, ErrorKind};
use crate::error_code::ErrorCode;
use crate::method::{Method, MethodError};

pub(crate) use wire::{PendingCall, SubOutcome};

/// The most calls one `batch` request carries.
pub const MAX_CALLS: usize = 50;

/// Tells batches apart, so that a handle or a reference is only used with its own batch.
static NEXT_BATCH_ID: AtomicU64 = AtomicU64::new(1);

/// A batch of calls being assembled. Created by [`Client::batch`].
#[must_use = "a batch does nothing until it is sent"]
pub struct Batch<'c> {
    client: &'c Client,
    id: u64,
    calls: Vec<PendingCall>,
    keys: HashMap<String, usize>,
    halt: bool,
    invalid: Option<ConfigError>,
}

/// A typed handle to one call in a [`Batch`], to take its result and to refer to it.
pub struct Handle<M> {
    batch: u64,
    index: usize,
    key: String,
    _method: PhantomData<fn() -> M>,
}

impl<M> Clone for Handle<M> {
    fn clone(&self) -> Self {
        Handle {
            batch: self.batch,
            index: self.index,
            key: self.key.clone(),
            _method: PhantomData,
        }
    }
}

impl<M> fmt::Debug for Handle<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").field("key", &self.key).finish()
    }
}

impl<M> Handle<M> {
    /// The call's key in the `cmd` map.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// A reference to this call's whole result, for a later call's parameter.
    pub fn result(&self) -> ResultRef {
        ResultRef {
            batch: self.batch,
            key: self.key.clone(),
            path: Vec::new(),
        }
    }
}

/// A reference to (part of) an earlier call's result: `$result[key][field]…`, which the portal
/// replaces by the value before running the later call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultRef {
    batch: u64,
    key: String,
    path: Vec<String>,
}

impl ResultRef {
    /// The field `name` of the referenced value (`…[name]`).
    pub fn at(mut self, name: impl Into<String>) -> Self {
        self.path.push(name.into());
        self
    }

    /// The element `index` of the referenced list (`…[index]`).
    pub fn index(mut self, index: usize) -> Self {
        self.path.push(index.to_string());
        self
    }
}

impl fmt::Display for ResultRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "$result[{}]", self.key)?;
        for p in &self.path {
            write!(f, "[{p}]")?;
        }
        Ok(())
    }
}

impl<'c> Batch<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Batch {
            client,
            id: NEXT_BATCH_ID.fetch_add(1, Ordering::Relaxed),
            calls: Vec::new(),
            keys: HashMap::new(),
            halt: false,
            invalid: None,
        }
    }

    /// Stop at the first failing call (`halt=1`); the calls after it are reported as not run.
    /// With more than 50 calls, later requests are not sent either.
    pub fn halt(mut self, halt: bool) -> Self {
        self.halt = halt;
        self
    }

    /// How many calls the batch holds.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Whether the batch holds no call.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Adds a call under an automatic key.
    pub fn push<M: Method>(&mut self, method: M) -> Handle<M> {
        let key = format!("c{}", self.calls.len());
        self.push_keyed(key, method)
    }

    /// Adds a call under `key` (letters, digits and `_`; unique in the batch).
    pub fn push_keyed<M: Method>(&mut self, key: impl Into<String>, method: M) -> Handle<M> {
        let key = key.into();
        let index = self.calls.len();
        let valid = !key.is_empty()
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !key.chars().all(|c| c.is_ascii_digit());
        if !valid || self.keys.contains_key(&key) {
            self.invalid.get_or_insert(ConfigError::Params {
                message: format!(
                    "batch key {key:?} is not unique or not letters, digits and _ (with a letter)"
                ),
            });
        }
        let params = match serde_json::to_value(&method) {
            Ok(v) => v,
            Err(e) => {
                self.invalid.get_or_insert(ConfigError::Params {
                    message: e.to_string(),
                });
                serde_json::Value::Null
            }
        };
        self.keys.insert(key.clone(), index);
        self.calls.push(PendingCall {
            key: key.clone(),
            method: Cow::Borrowed(M::NAME),
            idempotent: M::IDEMPOTENT,
            params,
        });
        Handle {
            batch: self.id,
            index,
            key,
            _method: PhantomData,
        }
    }

    /// Sets the parameter `param` (its wire name, e.g. `CHAT_ID`) of the call behind `handle`
    /// to an earlier call's result.
    ///
    /// The handle and the reference must come from this batch, the parameter must be one the
    /// call sends, and the referenced call must come earlier in the same request of 50;
    /// otherwise sending reports a configuration error for the whole batch.
    pub fn bind<M>(&mut self, handle: &Handle<M>, param: &str, value: ResultRef) -> &mut Self {
        if handle.batch != self.id || value.batch != self.id {
            self.invalid.get_or_insert(ConfigError::Params {
                message: format!(
                    "cannot bind {param} of call {} to {value}: the call or the reference belongs \
                     to another batch",
                    handle.key
                ),
            });
            return self;
        }
        let referenced = self.keys.get(&value.key).copied();
        let call = &mut self.calls[handle.index];
        let ok_order = referenced
            .is_some_and(|r| r < handle.index && r / MAX_CALLS == handle.index / MAX_CALLS);
        match (&mut call.params, ok_order) {
            (serde_json::Value::Object(map), true) if map.contains_key(param) => {
                map.insert(
                    param.to_owned(),
                    serde_json::Value::String(value.to_string()),
                );
            }
            _ => {
                self.invalid.get_or_insert(ConfigError::Params {
                    message: format!(
                        "cannot bind {param} of {} to {value}: the parameter must be one the \
                         call sends, and the referenced call must come earlier in the same \
                         request of {MAX_CALLS}",
                        call.method
                    ),
                });
            }
        }
        self
    }

    /// Sends the batch (as several requests if it holds more than 50 calls).
    pub async fn send(self) -> BatchResults {
        let outcomes = match self.invalid {
            Some(e) => {
                let e = Arc::new(Error::new(ErrorKind::Config(e), "batch"));
                self.calls
                    .iter()
                    .map(|_| SubOutcome::Failed(e.clone()))
                    .collect()
            }
            None => self.client.run_batch(&self.calls, self.halt).await,
        };
        BatchResults {
            client: self.client.clone(),
            batch: self.id,
            calls: self.calls,
            outcomes: outcomes.into_iter().map(Some).collect(),
        }
    }
}

/// The outcome of every call of a sent [`Batch`].
pub struct BatchResults {
    /// For redacting copies of sub-results in errors.
    client: Client,
    batch: u64,
    calls: Vec<PendingCall>,
    outcomes: Vec<Option<SubOutcome>>,
}

impl fmt::Debug for BatchResults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchResults")
            .field("calls", &self.calls.len())
            .finish_non_exhaustive()
    }
}

impl BatchResults {
    /// Takes the typed result of the call behind `handle` (a second take reports it as not run;
    /// a handle of another batch gets a configuration error).
    pub fn take<M: Method>(&mut self, handle: &Handle<M>) -> Result<M::Output, Error<M::Error>> {
        self.take_with_meta(handle).map(|r| r.result)
    }

    /// Takes the typed result of the call behind `handle` with its `time`, `next` and `total`.
    pub fn take_with_meta<M: Method>(
        &mut self,
        handle: &Handle<M>,
    ) -> Result<Response<M::Output>, Error<M::Error>> {
        if handle.batch != self.batch {
            let message = format!("the handle of call {} belongs to another batch", handle.key);
            let kind = ErrorKind::Config(ConfigError::Params { message });
            return Err(Error::new(kind, M::NAME));
        }
        let outcome = self
            .outcomes
            .get_mut(handle.index)
            .and_then(Option::take)
            .unwrap_or(SubOutcome::NotExecuted);
        typed(outcome, M::NAME, M::IDEMPOTENT, &|s| self.client.redact(s))
    }

    /// Every call's raw result in order (for heterogeneous batches read without handles).
    pub fn into_raw(self) -> Vec<Result<Response<serde_json::Value>, Error>> {
        self.calls
            .into_iter()
            .zip(self.outcomes)
            .map(|(call, outcome)| {
                typed(
                    outcome.unwrap_or(SubOutcome::NotExecuted),
                    call.method,
                    call.idempotent,
                    &|s| self.client.redact(s),
                )
            })
            .collect()
    }
}

/// Why a call in a batch has no result of its own.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum BatchFailure {
    /// The call did not run: `halt` stopped the batch at an earlier failure, or the portal left
    /// it out of its answer.
    #[error("the call was not run (the batch halted before it)")]
    NotExecuted,
    /// The portal's answer says nothing about the call (neither a result nor an error): it may
    /// or may not have run, so it is retryable only if the method is idempotent.
    #[error("the batch answer has no result for the call: it may or may not have run")]
    Missing,
    /// The `batch` request carrying the call failed as a whole.
    #[error("the batch request failed: {0}")]
    Request(Arc<Error>),
}

/// Decodes one sub-call's outcome into the method's types.
pub(crate) fn typed<T: Lenient, E: MethodError>(
    outcome: SubOutcome,
    method: impl Into<Cow<'static, str>>,
    idempotent: bool,
    redact: &dyn Fn(String) -> String,
) -> Result<Response<T>, Error<E>> {
    let method = method.into();
    let fail = |kind: ErrorKind<E>, method: Cow<'static, str>| {
        let attempts = match &kind {
            ErrorKind::Batch(BatchFailure::Request(e)) => e.attempts(),
            ErrorKind::Batch(BatchFailure::NotExecuted) => 0,
            _ => 1,
        };
        Err(Error::new(kind, method)
            .with_idempotent(idempotent)
            .with_attempts(attempts))
    };
    match outcome {
        SubOutcome::Ok {
            result,
            time,
            total,
            next,
        } => {
            let mut de = serde_json::Deserializer::from_str(result.get());
            match serde_path_to_error::deserialize::<_, crate::de::Tolerant<T>>(&mut de) {
                Ok(crate::de::Tolerant(decoded)) => Ok(Response {
                    result: decoded,
                    time,
                    next,
                    total,
                    status: 200,
                }),
                Err(e) => {
                    let path = e.path().to_string();
                    let message = e.into_inner().to_string();
                    let error =
                        DecodeError::raw_result_shape(result.get(), &path, &message, redact);
                    fail(ErrorKind::Decode(error), method)
                }
            }
        }
        SubOutcome::Err { code, description } => {
            // The server's words: redacted and bounded like a direct call's.
            let description = description_of(&description, redact);
            // Sub-call errors carry no HTTP status: 0 means "inside a batch".
            match E::from_code(&code, 0, &description) {
                Some(error) => fail(ErrorKind::Method { error, status: 0 }, method),
                None => fail(
                    ErrorKind::Api(ApiError::from_wire(&code, description, 0, redact)),
                    method,
                ),
            }
        }
        SubOutcome::NotExecuted => fail(ErrorKind::Batch(BatchFailure::NotExecuted), method),
        SubOutcome::Missing => fail(ErrorKind::Batch(BatchFailure::Missing), method),
        SubOutcome::Failed(error) => fail(ErrorKind::Batch(BatchFailure::Request(error)), method),
    }
}

impl Client {
    /// A new, empty batch of calls.
    pub fn batch(&self) -> Batch<'_> {
        Batch::new(self)
    }

    /// Calls `method` for every request of `requests` in as few `batch` requests as possible
    /// and returns their results in order.
    pub async fn call_many<M: Method>(
        &self,
        requests: impl IntoIterator<Item = M>,
    ) -> Vec<Result<M::Output, Error<M::Error>>> {
        let mut batch = self.batch();
        let handles: Vec<Handle<M>> = requests.into_iter().map(|m| batch.push(m)).collect();
        let mut results = batch.send().await;
        handles.iter().map(|h| results.take(h)).collect()
    }

    /// Runs erased calls as `batch` requests of at most 50, concurrently, in order.
    pub(crate) async fn run_batch(&self, calls: &[PendingCall], halt: bool) -> Vec<SubOutcome> {
        let mut outcomes = Vec::with_capacity(calls.len());
        if halt {
            // Chunks one after another: a failure stops the rest.
            let mut stopped = false;
            for chunk in calls.chunks(MAX_CALLS) {
                if stopped {
                    outcomes.extend(chunk.iter().map(|_| SubOutcome::NotExecuted));
                    continue;
                }
                let chunk_outcomes = self.send_chunk(chunk, true).await;
                stopped = chunk_outcomes
                    .iter()
                    .any(|o| !matches!(o, SubOutcome::Ok { .. }));
                outcomes.extend(chunk_outcomes);
            }
        } else {
            let sent = join_all(calls.chunks(MAX_CALLS).map(|c| self.send_chunk(c, false))).await;
            outcomes.extend(sent.into_iter().flatten());
        }
        outcomes
    }

    async fn send_chunk(&self, chunk: &[PendingCall], halt: bool) -> Vec<SubOutcome> {
        if let Some(operating) = self.operating() {
            for call in chunk {
                operating.wait(&call.method).await;
            }
        }
        let body = wire::request(chunk, halt);
        let idempotent = chunk.iter().all(|c| c.idempotent);
        let answer = self
            .send::<_, wire::BatchAnswer, crate::method::NoMethodErrors>("batch", idempotent, &body)
            .await;
        match answer {
            Ok(response) => {
                let outcomes = wire::outcomes(chunk, response.result, halt);
                if let Some(operating) = self.operating() {
                    for (call, outcome) in chunk.iter().zip(&outcomes) {
                        match outcome {
                            SubOutcome::Ok { time: Some(t), .. } => {
                                operating.observe(&call.method, t)
                            }
                            SubOutcome::Err { code, .. }
                                if ErrorCode::parse(code) == ErrorCode::OperationTimeLimit =>
                            {
                                operating.limit_reached(&call.method)
                            }
                            _ => {}
                        }
                    }
                }
                outcomes
            }
            Err(e) => {
                let e = Arc::new(e);
                chunk
                    .iter()
                    .map(|_| SubOutcome::Failed(e.clone()))
                    .collect()
            }
        }
    }
}
