//! [`OfflinePoller`]: offline events, polled from the portal's queue (see the type's docs).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::{EventMeta, Handlers};
use crate::client::Client;
use crate::error::Error;

/// The most failure counts kept (older ones are forgotten past it).
const MAX_TRACKED: usize = 10_000;

/// Polls one portal's offline event queue (`api-reference/events/offline-events.md`), for an
/// application the portal cannot reach: the portal queues the events bound with
/// `event_type=offline`, and the poller fetches them and hands them to the same typed
/// [`Handlers`] as online events.
///
/// At least once, nothing lost:
/// 1. `event.offline.get` with `clear=0` and the poller's `process_id` reserves a batch for this
///    process (and returns what it reserved earlier and did not clear: a poller that died
///    between getting and clearing gets its batch back when it starts again with the same
///    `process_id`);
/// 2. each event goes to its handler, one after the other, in queue order;
/// 3. `event.offline.clear` with the `process_id` and the `ID`s of the events whose handler
///    returned `Ok`: only those leave the queue. A failed handler's event stays reserved and
///    comes back on the next poll; after [`OfflinePoller::max_failures`] failures, or when it has
///    no handler or its data does not decode, it is marked with `event.offline.error` (kept by
///    the portal, out of the way of the others).
///
/// A handler may therefore see an event twice (the process died after the handler and before
/// the clear): handlers of offline events should be idempotent.
///
/// ```no_run
/// use b24_runtime::app::{Handlers, OfflinePoller};
/// # async fn demo(client: b24_runtime::Client, handlers: Handlers) -> Result<(), b24_runtime::Error> {
/// // A stable process id: after a crash, the same id gets the unfinished batch back.
/// let poller = OfflinePoller::new(client, handlers, "sync-worker-1");
/// let report = poller.poll_once().await?;
/// println!("{} handled, {} to retry", report.handled, report.failed);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct OfflinePoller {
    client: Client,
    handlers: Handlers,
    process_id: String,
    member_id: String,
    limit: u32,
    auth_connector: Option<String>,
    max_failures: u32,
    /// Failures so far, by queue record `ID`.
    failures: Mutex<HashMap<String, u32>>,
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PollReport {
    /// Events fetched.
    pub received: usize,
    /// Events handled and cleared.
    pub handled: usize,
    /// Events whose handler failed: still reserved, fetched again next time.
    pub failed: usize,
    /// Events marked with `event.offline.error` (no handler, data that does not decode, or too
    /// many failures).
    pub marked_error: usize,
}

impl OfflinePoller {
    /// The default batch size (`event.offline.get`'s own default).
    pub const DEFAULT_LIMIT: u32 = 50;

    /// A poller of `client`'s portal running `handlers`, reserving events under `process_id`
    /// (keep it stable across restarts of this worker, and distinct between workers).
    pub fn new(client: Client, handlers: Handlers, process_id: impl Into<String>) -> Self {
        OfflinePoller {
            client,
            handlers,
            process_id: process_id.into(),
            member_id: String::new(),
            limit: Self::DEFAULT_LIMIT,
            auth_connector: None,
            max_failures: 5,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The portal's `member_id`, for the handlers' [`EventMeta::member_id`] (offline records
    /// do not carry it; empty by default).
    pub fn member_id(mut self, member_id: impl Into<String>) -> Self {
        self.member_id = member_id.into();
        self
    }

    /// How many events one poll fetches at most (default [`Self::DEFAULT_LIMIT`]).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit.max(1);
        self
    }

    /// The queue's source key (the `auth_connector` of the binding).
    pub fn auth_connector(mut self, key: impl Into<String>) -> Self {
        self.auth_connector = Some(key.into());
        self
    }

    /// After how many failed handler runs an event is marked as an error (default 5).
    pub fn max_failures(mut self, failures: u32) -> Self {
        self.max_failures = failures.max(1);
        self
    }

    /// The process id events are reserved under.
    pub fn process_id(&self) -> &str {
        &self.process_id
    }

    /// Fetches a batch, runs the handlers, clears what was handled.
    pub async fn poll_once(&self) -> Result<PollReport, Error> {
        let mut params = json!({
            "clear": 0,
            "process_id": self.process_id,
            "limit": self.limit,
        });
        if let Some(key) = &self.auth_connector {
            params["auth_connector"] = json!(key);
        }
        let mut answer = self.client.call_raw("event.offline.get", &params).await?;
        let events = match answer.result.get_mut("events").map(Value::take) {
            Some(Value::Array(events)) => events,
            _ => Vec::new(),
        };
        // A portal answering more than asked for: the rest stays reserved for the next poll.
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let mut report = PollReport::default();
        let mut cleared = Vec::new();
        let mut errors = Vec::new();
        for record in events.iter().take(limit) {
            report.received += 1;
            let Some(row) = record.as_object() else {
                continue;
            };
            let id = field(row, "ID");
            let message_id = field(row, "MESSAGE_ID");
            let name = field(row, "EVENT_NAME").to_ascii_uppercase();
            match self.handle(row, &name, &id, &message_id).await {
                // A record without an id cannot be cleared or marked: it is left to the portal.
                Outcome::Handled if !id.is_empty() => cleared.push(id),
                Outcome::Handled => {}
                Outcome::Failed => {
                    let failures = {
                        let mut counts = self.failures.lock().unwrap_or_else(|e| e.into_inner());
                        // Records cleared by someone else leave their counts behind: bounded.
                        if counts.len() >= MAX_TRACKED && !counts.contains_key(&id) {
                            counts.clear();
                        }
                        let count = counts.entry(id.clone()).or_insert(0);
                        *count = count.saturating_add(1);
                        *count
                    };
                    if failures >= self.max_failures && !message_id.is_empty() {
                        errors.push(message_id);
                    } else {
                        report.failed += 1;
                    }
                }
                Outcome::Unhandleable if !message_id.is_empty() => errors.push(message_id),
                Outcome::Unhandleable => {}
            }
        }
        if !cleared.is_empty() {
            self.client
                .call_raw(
                    "event.offline.clear",
                    &json!({"process_id": self.process_id, "id": cleared}),
                )
                .await?;
            let mut counts = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            for id in &cleared {
                counts.remove(id);
            }
            report.handled = cleared.len();
        }
        if !errors.is_empty() {
            self.client
                .call_raw(
                    "event.offline.error",
                    &json!({"process_id": self.process_id, "message_id": errors}),
                )
                .await?;
            report.marked_error = errors.len();
        }
        Ok(report)
    }

    async fn handle(
        &self,
        row: &Map<String, Value>,
        name: &str,
        id: &str,
        message_id: &str,
    ) -> Outcome {
        let Some(handler) = self.handlers.get(name) else {
            tracing::warn!(event = %crate::scrub::cut(name.to_owned(), 64), "offline event without a handler: marked as an error");
            return Outcome::Unhandleable;
        };
        let data = match row.get("EVENT_DATA") {
            Some(data @ (Value::Object(_) | Value::Array(_))) => data.clone(),
            _ => Value::Object(Map::new()),
        };
        let meta = EventMeta {
            name: name.to_owned(),
            member_id: self.member_id.clone(),
            domain: None,
            ts: None,
            handler_id: None,
            offline: Some((id.to_owned(), message_id.to_owned())),
        };
        let future = match handler.start(data, self.client.clone(), meta) {
            Ok(future) => future,
            Err(reason) => {
                tracing::warn!(event = %name, reason = %crate::scrub::cut(reason, 256), "offline event data does not decode: marked as an error");
                return Outcome::Unhandleable;
            }
        };
        match future.await {
            Ok(()) => Outcome::Handled,
            Err(error) => {
                tracing::warn!(event = %name, error = %crate::scrub::cut(error.to_string(), 256), "offline event handler failed: the event stays reserved");
                Outcome::Failed
            }
        }
    }

    /// Polls until the task is dropped: at once while polls clear or set aside events, every
    /// `idle` when the queue is empty or a poll moved nothing on (failing handlers, records the
    /// portal gives back whatever is answered), and after `idle` when a poll fails (logged).
    pub async fn run(&self, idle: Duration) {
        loop {
            match self.poll_once().await {
                Ok(report) if report.handled + report.marked_error > 0 => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "offline poll failed"),
            }
            tokio::time::sleep(idle).await;
        }
    }
}

enum Outcome {
    Handled,
    Failed,
    Unhandleable,
}

/// A queue record's field as text (ids come as strings or numbers); empty when missing or longer
/// than 128 bytes. Never cut: an id is sent back to the portal (`event.offline.clear`), and a cut
/// one would name no record, so the record would be handled again on every poll.
fn field(row: &Map<String, Value>, key: &str) -> String {
    let text = match row.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    if text.len() > 128 {
        String::new()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids are sent back to the portal as they came: a missing or over-long one is no id (left
    /// to the portal), never a cut one.
    #[test]
    fn fields_are_whole_or_empty() {
        let long = "7".repeat(129);
        let row: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "ID": 12, "MESSAGE_ID": "ab12", "EVENT_NAME": long, "EMPTY": null,
        }))
        .unwrap();
        assert_eq!(field(&row, "ID"), "12");
        assert_eq!(field(&row, "MESSAGE_ID"), "ab12");
        assert_eq!(field(&row, "EVENT_NAME"), "");
        assert_eq!(field(&row, "EMPTY"), "");
        assert_eq!(field(&row, "MISSING"), "");
        let edge = "7".repeat(128);
        let row: Map<String, Value> =
            serde_json::from_value(serde_json::json!({ "ID": edge })).unwrap();
        assert_eq!(field(&row, "ID"), edge);
    }
}
