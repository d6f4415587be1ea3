//! Auto-batching (opt-in): concurrent independent calls made through one client within a short
//! window are coalesced into `batch` requests, and each caller gets its own typed result or
//! error back. `join_all` over 1,000 calls costs 20 HTTP requests instead of 1,000.
//!
//! A window opens with the first queued call and closes after [`AutoBatch::window`], or as soon
//! as 50 calls are queued. A flush runs in its own task, so that a batch the portal has accepted
//! is always read to its end; calls whose callers have gone away before their batch is sent are
//! left out of it.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::batch::{PendingCall, SubOutcome, MAX_CALLS};
use crate::client::Client;

/// Auto-batching settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoBatch {
    /// How long a window stays open for more calls after the first.
    pub window: Duration,
}

impl Default for AutoBatch {
    /// A 5 ms window.
    fn default() -> Self {
        AutoBatch {
            window: Duration::from_millis(5),
        }
    }
}

type Waiting = (PendingCall, oneshot::Sender<SubOutcome>);

#[derive(Debug)]
pub(crate) struct AutoBatcher {
    settings: AutoBatch,
    queue: Mutex<Queue>,
}

#[derive(Debug, Default)]
struct Queue {
    calls: Vec<Waiting>,
    /// A timed flush is scheduled for the calls in the queue.
    timer: bool,
    /// Counts windows: a timer only flushes the window it was started for, not one opened after
    /// its own was flushed full.
    window: u64,
    /// Counts keys so that they are unique within a batch.
    next_key: u64,
}

impl AutoBatcher {
    pub(crate) fn new(settings: AutoBatch) -> Self {
        AutoBatcher {
            settings,
            queue: Mutex::new(Queue::default()),
        }
    }

    /// Queues `call` and waits for its outcome.
    pub(crate) async fn submit(&self, client: &Client, mut call: PendingCall) -> SubOutcome {
        let (tx, rx) = oneshot::channel();
        let (full, start_timer) = {
            let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            call.key = format!("a{}", queue.next_key);
            queue.next_key += 1;
            queue.calls.push((call, tx));
            let full = (queue.calls.len() >= MAX_CALLS).then(|| std::mem::take(&mut queue.calls));
            if full.is_some() {
                // This window is closed; the next call opens a new one with its own timer.
                queue.timer = false;
                queue.window += 1;
            }
            let start_timer = (!queue.timer && full.is_none()).then_some(queue.window);
            if start_timer.is_some() {
                queue.timer = true;
            }
            (full, start_timer)
        };
        if let Some(calls) = full {
            tokio::spawn(flush(client.clone(), calls));
        }
        if let Some(window_id) = start_timer {
            let client = client.clone();
            let window = self.settings.window;
            tokio::spawn(async move {
                tokio::time::sleep(window).await;
                let Some(batcher) = client.autobatcher() else {
                    return;
                };
                let calls = {
                    let mut queue = batcher.queue.lock().unwrap_or_else(|e| e.into_inner());
                    if queue.window != window_id {
                        return; // flushed full already
                    }
                    queue.timer = false;
                    queue.window += 1;
                    std::mem::take(&mut queue.calls)
                };
                if !calls.is_empty() {
                    flush(client, calls).await;
                }
            });
        }
        // The flush that carried the call ended without an outcome: it may have been sent.
        rx.await.unwrap_or(SubOutcome::Missing)
    }
}

/// Sends the calls whose callers are still waiting and hands each its outcome.
async fn flush(client: Client, calls: Vec<Waiting>) {
    let (calls, senders): (Vec<PendingCall>, Vec<oneshot::Sender<SubOutcome>>) =
        calls.into_iter().filter(|(_, tx)| !tx.is_closed()).unzip();
    if calls.is_empty() {
        return;
    }
    tracing::debug!(calls = calls.len(), "auto-batch flush");
    let outcomes = client.run_batch(&calls, false).await;
    for (tx, outcome) in senders.into_iter().zip(outcomes) {
        let _ = tx.send(outcome);
    }
}
