//! Paging through list methods (those whose answers carry `next` and `total`) as a `Stream` of
//! items, in three modes:
//!
//! - [`Client::list`]: sequential, following `next` page by page;
//! - [`Client::list_fast`]: `start=-1` (the portal skips counting rows) with a cursor on an
//!   ordered id field: `order[ID]=ASC`, `filter[>ID]=<last seen>`; the fastest way through large
//!   tables, as `settings/performance/huge-data.md` recommends;
//! - [`Client::list_parallel`]: reads `total` from the first page, then fetches all other pages
//!   packed 50 to a `batch` request, several requests at a time.
//!
//! Whatever the portal answers, every stream ends: a `next` that does not advance, a cursor that
//! does not move, or a `total` (or `next`) above the client's ceiling
//! ([`ClientBuilder::max_list_rows`](crate::ClientBuilder::max_list_rows)) ends it with
//! [`ErrorKind::Paging`]. Page starts are generated as they are needed, never all at once.
//!
//! ```no_run
//! # use b24_runtime::{Client, paging::ListMethod};
//! # async fn demo<M: ListMethod + Clone>(client: Client, request: M) {
//! use futures::TryStreamExt;
//! let items: Vec<M::Item> = client.list_fast(request).try_collect().await.unwrap();
//! # }
//! ```

use futures::stream::{self, BoxStream, StreamExt};
use serde_json::{Map, Value};

use crate::batch::{typed, PendingCall, SubOutcome};
use crate::client::Client;
use crate::de::Lenient;
use crate::envelope::Response;
use crate::error::{ConfigError, DecodeError, Error, ErrorKind, PagingError};
use crate::method::Method;

/// The page size of Bitrix24 list methods.
pub const PAGE_SIZE: u64 = 50;

/// The most `batch` requests [`Client::list_parallel`] keeps in flight.
pub const MAX_CONCURRENCY: usize = 256;

/// A list method: its answers carry `next`/`total` and it takes `start`.
///
/// Declared with `#[b24_method(…, list(item = T, cursor = "ID"))]`.
pub trait ListMethod: Method {
    /// One row of the list.
    type Item: Lenient + Send + 'static;
    /// The item field that orders rows and serves as the cursor in [`Client::list_fast`].
    const CURSOR: &'static str = "ID";
    /// The wire name of the filter parameter (`filter` or `FILTER`).
    const FILTER: &'static str = "filter";
    /// The wire name of the order parameter (`order` or `ORDER`).
    const ORDER: &'static str = "order";
    /// The key of the list inside `result`, for methods that wrap it (`{"items": […]}`).
    const ITEMS: Option<&'static str> = None;
}

/// A stream of the items of a list, or the error that ended it.
pub type Items<'c, M> = BoxStream<'c, Result<<M as ListMethod>::Item, Error<<M as Method>::Error>>>;

impl Client {
    /// All items of a list, page after page by `next`.
    ///
    /// Each `next` must be past the page just read (by at least its number of rows; a page without
    /// rows has no next) and within [`max_list_rows`](crate::ClientBuilder::max_list_rows); otherwise the
    /// stream ends, after that page's items, with [`PagingError::Stalled`] or
    /// [`PagingError::TooManyRows`].
    pub fn list<M: ListMethod>(&self, request: M) -> Items<'_, M> {
        let params = match params_of(&request) {
            Ok(params) => params,
            Err(e) => return stream::iter(vec![Err(e)]).boxed(),
        };
        let limit = self.max_list_rows();
        let pages = stream::unfold(Some(Ok(0u64)), move |state| {
            let params = params.clone();
            async move {
                let start = match state? {
                    Ok(start) => start,
                    Err(e) => return Some((Err(e), None)),
                };
                match self.page::<M>(with_start(params, start)).await {
                    Ok((items, response)) => {
                        let rows = items.len() as u64;
                        let next = response
                            .next
                            .map(|next| advance::<M>(start, rows, next, limit));
                        Some((Ok(items), next))
                    }
                    Err(e) => Some((Err(e), None)),
                }
            }
        });
        flatten::<M>(pages)
    }

    /// All items of a list by an id cursor with `start=-1`: no row count, one request per 50
    /// rows. The request's own order is replaced by the cursor's; its filter is kept.
    ///
    /// The last row's cursor (a number, or a string holding one or not) must be above the
    /// previous page's; a full page whose cursor is missing or does not advance ends the stream,
    /// after that page's items, with [`PagingError::CursorStalled`]. More rows than
    /// [`max_list_rows`](crate::ClientBuilder::max_list_rows) end it with
    /// [`PagingError::TooManyRows`].
    pub fn list_fast<M: ListMethod>(&self, request: M) -> Items<'_, M> {
        let params = match params_of(&request) {
            Ok(params) => params,
            Err(e) => return stream::iter(vec![Err(e)]).boxed(),
        };
        let limit = self.max_list_rows();
        let pages = stream::unfold(
            (Some(Ok(None::<Value>)), params, 0u64),
            move |(state, params, seen)| async move {
                let cursor = match state? {
                    Ok(cursor) => cursor,
                    Err(e) => return Some((Err(e), (None, params, seen))),
                };
                let page_params = cursor_params::<M>(params.clone(), cursor.as_ref());
                match self.page_values::<M>(page_params).await {
                    Ok((values, _)) => {
                        let full = values.len() as u64 >= PAGE_SIZE;
                        let seen = seen.saturating_add(values.len() as u64);
                        let next_cursor = values.last().and_then(|v| v.get(M::CURSOR)).cloned();
                        let items = decode_items::<M>(values, &|s| self.redact(s));
                        let next = match (&items, full) {
                            (Ok(_), true) if seen >= limit => {
                                let error = PagingError::TooManyRows { rows: seen, limit };
                                Some(Err(paging::<M>(error)))
                            }
                            (Ok(_), true) => Some(match next_cursor {
                                Some(next) if cursor_advances(cursor.as_ref(), &next) => {
                                    Ok(Some(next))
                                }
                                _ => Err(paging::<M>(PagingError::CursorStalled {
                                    field: M::CURSOR,
                                })),
                            }),
                            _ => None,
                        };
                        Some((items, (next, params, seen)))
                    }
                    Err(e) => Some((Err(e), (None, params, seen))),
                }
            },
        );
        flatten::<M>(pages)
    }

    /// All items of a list: the first page gives `total`, the rest are fetched 50 pages to a
    /// `batch` request, `concurrency` requests at a time (at most [`MAX_CONCURRENCY`]; paced by
    /// the rate limit), in order.
    ///
    /// A `total` above [`max_list_rows`](crate::ClientBuilder::max_list_rows) is refused: the
    /// stream is then a single [`PagingError::TooManyRows`]; a first page with a `next` but no
    /// usable `total`, a single [`PagingError::NoTotal`].
    pub fn list_parallel<M: ListMethod>(&self, request: M, concurrency: usize) -> Items<'_, M> {
        let concurrency = concurrency.clamp(1, MAX_CONCURRENCY);
        let params = match params_of(&request) {
            Ok(params) => params,
            Err(e) => return stream::iter(vec![Err(e)]).boxed(),
        };
        let limit = self.max_list_rows();
        let first = {
            async move {
                let (items, response) = self.page::<M>(with_start(params.clone(), 0u64)).await?;
                // Without a `total`, a `next` means pages this mode cannot count: an error, not
                // the first page alone as if it were the whole list.
                let total = match (response.total, response.next) {
                    (Some(total), _) => total,
                    (None, Some(next)) => {
                        return Err(paging::<M>(PagingError::NoTotal { next }));
                    }
                    (None, None) => 0,
                };
                if total > limit {
                    return Err(paging::<M>(PagingError::TooManyRows { rows: total, limit }));
                }
                Ok::<_, Error<M::Error>>((items, params, total))
            }
        };
        let stream = stream::once(first).flat_map(move |first| match first {
            Err(e) => stream::iter(vec![Err(e)]).boxed(),
            Ok((items, params, total)) => {
                let group = concurrency.saturating_mul(crate::batch::MAX_CALLS);
                // Generated as the groups are sent, never collected.
                let starts = (1u64..)
                    .map_while(|i| i.checked_mul(PAGE_SIZE))
                    .take_while(move |s| *s < total);
                let rest = stream::iter(starts)
                    .chunks(group)
                    .then(move |starts| {
                        let params = params.clone();
                        async move { self.pages_batched::<M>(&params, &starts).await }
                    })
                    .flat_map(stream::iter);
                stream::iter(vec![Ok(items)]).chain(rest).boxed()
            }
        });
        flatten::<M>(stream)
    }

    /// One page: its decoded items and the envelope.
    async fn page<M: ListMethod>(
        &self,
        params: Value,
    ) -> Result<(Vec<M::Item>, Response<()>), Error<M::Error>> {
        let (values, response) = self.page_values::<M>(params).await?;
        Ok((decode_items::<M>(values, &|s| self.redact(s))?, response))
    }

    async fn page_values<M: ListMethod>(
        &self,
        params: Value,
    ) -> Result<(Vec<Value>, Response<()>), Error<M::Error>> {
        let response = self
            .send::<_, Value, M::Error>(M::NAME, M::IDEMPOTENT, &params)
            .await?;
        let mut result = Value::Null;
        let envelope = response.map(|r| result = r);
        let values = rows::<M>(result, &|s| self.redact(s))?;
        Ok((values, envelope))
    }

    /// The pages at `starts`, fetched in batches; one entry per page, in order.
    async fn pages_batched<M: ListMethod>(
        &self,
        params: &Value,
        starts: &[u64],
    ) -> Vec<Result<Vec<M::Item>, Error<M::Error>>> {
        let calls: Vec<PendingCall> = starts
            .iter()
            .map(|s| PendingCall {
                key: format!("p{s}"),
                method: M::NAME.into(),
                idempotent: M::IDEMPOTENT,
                params: with_start(params.clone(), *s),
            })
            .collect();
        let outcomes = self.run_batch(&calls, false).await;
        outcomes
            .into_iter()
            .map(|outcome: SubOutcome| {
                let redact = |s| self.redact(s);
                let response = typed::<Value, M::Error>(outcome, M::NAME, M::IDEMPOTENT, &redact)?;
                decode_items::<M>(rows::<M>(response.result, &redact)?, &redact)
            })
            .collect()
    }
}

/// The items of the pages, in order; the first failed page ends the stream with its error
/// (the pages after it are not polled, so no further request is made).
fn flatten<'c, M: ListMethod>(
    pages: impl futures::Stream<Item = Result<Vec<M::Item>, Error<M::Error>>> + Send + 'c,
) -> Items<'c, M> {
    let until_error = stream::unfold(Some(pages.boxed()), |pages| async move {
        let mut pages = pages?;
        let page = pages.next().await?;
        let rest = page.is_ok().then_some(pages);
        Some((page, rest))
    });
    until_error
        .flat_map(|page| {
            let items: Vec<Result<M::Item, Error<M::Error>>> = match page {
                Ok(items) => items.into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e)],
            };
            stream::iter(items)
        })
        .boxed()
}

fn config<E>(method: &'static str, message: &str) -> Error<E> {
    Error::new(
        ErrorKind::Config(ConfigError::Params {
            message: message.to_owned(),
        }),
        method,
    )
}

fn params_of<M: ListMethod>(request: &M) -> Result<Value, Error<M::Error>> {
    match serde_json::to_value(request) {
        Ok(Value::Object(map)) => Ok(Value::Object(map)),
        Ok(_) => Err(config(
            M::NAME,
            "list parameters must serialize to an object",
        )),
        Err(e) => Err(config(M::NAME, &e.to_string())),
    }
}

fn with_start(mut params: Value, start: impl Into<Value>) -> Value {
    if let Value::Object(map) = &mut params {
        map.insert("start".into(), start.into());
    }
    params
}

fn paging<M: ListMethod>(error: PagingError) -> Error<M::Error> {
    Error::new(ErrorKind::Paging(error), M::NAME).with_idempotent(M::IDEMPOTENT)
}

/// The start of the page after the one at `start` (which had `rows` rows), if the portal's
/// `next` is usable: the page had rows, and `next` is past `start` by at least their number (else
/// the stream could go on without end, or read rows again), and within the client's ceiling.
fn advance<M: ListMethod>(
    start: u64,
    rows: u64,
    next: u64,
    limit: u64,
) -> Result<u64, Error<M::Error>> {
    // A page without rows that names a next one is stalled too: else a portal answering `[]`
    // with `next = start + 1` would be asked up to the ceiling, one request a row.
    if rows == 0 || next < start.saturating_add(rows) {
        Err(paging::<M>(PagingError::Stalled { start, next }))
    } else if next > limit {
        Err(paging::<M>(PagingError::TooManyRows { rows: next, limit }))
    } else {
        Ok(next)
    }
}

/// Whether the cursor `next` is past `previous` (any usable cursor is, on the first page):
/// numerically when both hold integers, else as strings. Anything else does not advance.
fn cursor_advances(previous: Option<&Value>, next: &Value) -> bool {
    fn int(v: &Value) -> Option<i128> {
        match v {
            Value::Number(n) => n.as_i64().map(i128::from).or(n.as_u64().map(i128::from)),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
    match (previous, int(next), next.as_str()) {
        (_, None, None) => false,
        (None, _, _) => true,
        (Some(previous), Some(n), _) => int(previous).is_some_and(|p| n > p),
        (Some(previous), None, Some(n)) => previous.as_str().is_some_and(|p| n > p),
    }
}

/// The parameters of a fast-mode page: `start=-1`, ordered by the cursor, after `cursor`.
fn cursor_params<M: ListMethod>(params: Value, cursor: Option<&Value>) -> Value {
    let mut params = with_start(params, -1);
    if let Value::Object(map) = &mut params {
        let mut order = Map::new();
        order.insert(M::CURSOR.into(), Value::from("ASC"));
        map.insert(M::ORDER.into(), Value::Object(order));
        if let Some(cursor) = cursor {
            let filter = map
                .entry(M::FILTER)
                .or_insert_with(|| Value::Object(Map::new()));
            if !filter.is_object() {
                *filter = Value::Object(Map::new());
            }
            if let Value::Object(filter) = filter {
                filter.insert(format!(">{}", M::CURSOR), cursor.clone());
            }
        }
    }
    params
}

/// The rows of a page's `result`.
fn rows<M: ListMethod>(
    result: Value,
    redact: &dyn Fn(String) -> String,
) -> Result<Vec<Value>, Error<M::Error>> {
    let list = match (M::ITEMS, result) {
        (Some(key), Value::Object(mut map)) => map.swap_remove(key).unwrap_or(Value::Null),
        (Some(_), _) => Value::Null,
        (None, result) => result,
    };
    match list {
        Value::Array(rows) => Ok(rows),
        Value::Object(rows) => Ok(rows.into_iter().map(|(_, v)| v).collect()),
        Value::Null => Ok(Vec::new()),
        other => Err(shape_error(
            M::NAME,
            &other,
            "the list is not an array",
            redact,
        )),
    }
}

fn decode_items<M: ListMethod>(
    values: Vec<Value>,
    redact: &dyn Fn(String) -> String,
) -> Result<Vec<M::Item>, Error<M::Error>> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            M::Item::deserialize_lenient(&v)
                .map_err(|e| shape_error(M::NAME, &v, &format!("row {i}: {e}"), redact))
        })
        .collect()
}

fn shape_error<E>(
    method: &'static str,
    value: &Value,
    message: &str,
    redact: &dyn Fn(String) -> String,
) -> Error<E> {
    let error = DecodeError::result_shape(value, "", message, redact);
    Error::new(ErrorKind::Decode(error), method)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::method::NoMethodErrors;

    #[derive(serde::Serialize)]
    struct Rows;

    impl Method for Rows {
        const NAME: &'static str = "x.rows.list";
        const SCOPE: &'static str = "x";
        const IDEMPOTENT: bool = true;
        type Output = Vec<u64>;
        type Error = NoMethodErrors;
    }

    impl ListMethod for Rows {
        type Item = u64;
    }

    #[test]
    fn next_must_advance_within_the_ceiling() {
        assert_eq!(advance::<Rows>(0, 50, 50, 100).ok(), Some(50));
        assert_eq!(advance::<Rows>(50, 3, 100, 100).ok(), Some(100));
        for (start, rows, next) in [
            (0, 50, 0),
            (50, 50, 50),
            (100, 50, 50),
            (0, 50, 1),
            (7, 0, 7),
            (7, 0, 8),
            (0, 0, 1000),
        ] {
            let e = advance::<Rows>(start, rows, next, 1000).unwrap_err();
            assert!(matches!(
                e.kind(),
                ErrorKind::Paging(PagingError::Stalled { .. })
            ));
            assert!(!e.is_retryable());
        }
        let e = advance::<Rows>(0, 50, u64::MAX, 1000).unwrap_err();
        assert!(matches!(
            e.kind(),
            ErrorKind::Paging(PagingError::TooManyRows { limit: 1000, .. })
        ));
    }

    #[test]
    fn cursors_must_advance() {
        use serde_json::json;
        let table = [
            (None, json!(5), true),
            (None, json!("x"), true),
            (None, json!(null), false),
            (None, json!({"a": 1}), false),
            (Some(json!(5)), json!(6), true),
            (Some(json!(5)), json!("6"), true),
            (Some(json!("9")), json!(10), true),
            (Some(json!(5)), json!(5), false),
            (Some(json!(5)), json!(4), false),
            (Some(json!(5)), json!("5"), false),
            (Some(json!("a")), json!("b"), true),
            (Some(json!("b")), json!("b"), false),
            (Some(json!("a")), json!(3), false),
            (Some(json!(u64::MAX)), json!(-1), false),
        ];
        for (previous, next, advances) in table {
            assert_eq!(
                cursor_advances(previous.as_ref(), &next),
                advances,
                "{previous:?} -> {next}"
            );
        }
    }

    #[tokio::test]
    async fn a_failed_page_ends_the_stream_without_polling_later_pages() {
        let polled = AtomicUsize::new(0);
        let pages = stream::iter(0..4).then(|page| {
            polled.fetch_add(1, Ordering::SeqCst);
            async move {
                match page {
                    1 => Err(config::<NoMethodErrors>(Rows::NAME, "page 1 failed")),
                    _ => Ok(vec![page * 10, page * 10 + 1]),
                }
            }
        });
        let items: Vec<Result<u64, Error>> = flatten::<Rows>(pages).collect().await;
        assert_eq!(items.len(), 3);
        assert!(matches!(items[..2], [Ok(0), Ok(1)]));
        assert!(items[2].is_err());
        assert_eq!(
            polled.load(Ordering::SeqCst),
            2,
            "pages 2 and 3 never fetched"
        );
    }
}
