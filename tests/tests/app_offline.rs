//! Offline events over real HTTP: the application binds `ONSESSIONSTART` offline, the emulated
//! portal queues one record per session start, and an `OfflinePoller` hands them to the same
//! typed handlers, at least once: a poller that dies between `event.offline.get` and
//! `event.offline.clear` loses nothing (a new poller with the same process id gets the batch
//! again), and only the events whose handler succeeded are cleared.

mod app_support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app_support::*;
use b24::app::{bind, Binding, Delivery, Handlers, MemoryPortalStore, OfflinePoller};
use b24::exports::serde_json::{json, Value};
use b24::Client;
use b24_emulator::{Emulator, DEMO_IDS};

const MEMBER: &str = "0ff11e000000000000000000000000000";

/// An installed application with `ONSESSIONSTART` bound offline, and three session starts queued.
async fn queued() -> (Emulator, App, Client, BTreeSet<u64>) {
    let emu = emulator(MEMBER).await;
    let app = App::serve(
        portals(&emu, Arc::new(MemoryPortalStore::new())),
        Handlers::new(),
    )
    .await;
    emu.install_app(CLIENT_ID, &app.url).await.unwrap();
    let client = app.portals().client(MEMBER).await.unwrap();
    assert!(bind(&client, &Binding::of::<SessionStart>().offline())
        .await
        .unwrap());
    for _ in 0..3 {
        client
            .call_raw(
                "imopenlines.session.start",
                &json!({"CHAT_ID": DEMO_IDS.lines_chat_id}),
            )
            .await
            .unwrap();
    }
    let all: Vec<u64> = emu
        .portal()
        .lock()
        .sessions_of_chat(DEMO_IDS.lines_chat_id)
        .map(|s| s.id)
        .collect();
    let sessions: BTreeSet<u64> = all[all.len() - 3..].iter().copied().collect();
    assert_eq!(emu.portal().lock().offline_events().len(), 3);
    assert!(emu
        .event_deliveries()
        .iter()
        .all(|d| d.event != "ONSESSIONSTART"));
    (emu, app, client, sessions)
}

/// The session ids handled, with the `member_id` each delivery said.
type Handled = Arc<Mutex<Vec<(u64, String)>>>;

/// Handlers recording the session ids they handled; `fail` says which ones fail.
fn recording(fail: impl Fn(u64) -> bool + Send + Sync + 'static) -> (Handlers, Handled) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let handlers = Handlers::new().on(move |delivery: Delivery<SessionStart>| {
        let id = delivery.event.data[0].session.id;
        let failed = fail(id);
        log.lock()
            .unwrap()
            .push((id, delivery.meta.member_id.clone()));
        async move {
            if failed {
                Err(format!("session {id} failed"))
            } else {
                Ok(())
            }
        }
    });
    (handlers, seen)
}

/// The queue as `event.offline.list` shows it: (session id, PROCESS_ID, ERROR).
async fn listed(client: &Client) -> Vec<(u64, String, String)> {
    let rows = client
        .call_raw("event.offline.list", &json!({}))
        .await
        .unwrap()
        .result;
    rows.as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (
                row["EVENT_DATA"]["DATA"][0]["session"]["id"]
                    .as_u64()
                    .unwrap(),
                text(&row["PROCESS_ID"]),
                text(&row["ERROR"]),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_poller_that_dies_before_clearing_loses_nothing() {
    let (_emu, _app, client, sessions) = queued().await;

    // The first worker gets the batch and dies inside its handler, before clearing.
    let entered = Arc::new(tokio::sync::Notify::new());
    let signal = entered.clone();
    let stuck = Handlers::new().on(move |_: Delivery<SessionStart>| {
        signal.notify_one();
        futures::future::pending::<Result<(), &'static str>>()
    });
    let doomed = OfflinePoller::new(client.clone(), stuck, "worker-1");
    let task = tokio::spawn(async move { doomed.poll_once().await });
    tokio::time::timeout(Duration::from_secs(10), entered.notified())
        .await
        .expect("the handler ran");
    task.abort();
    let _ = task.await;
    let reserved = listed(&client).await;
    assert_eq!(reserved.len(), 3);
    assert!(
        reserved.iter().all(|(_, pid, _)| pid == "worker-1"),
        "{reserved:?}"
    );

    // Another worker does not see the reserved batch.
    let (handlers, other_seen) = recording(|_| false);
    let other = OfflinePoller::new(client.clone(), handlers, "worker-2");
    assert_eq!(other.poll_once().await.unwrap().received, 0);
    assert!(other_seen.lock().unwrap().is_empty());

    // The worker restarts with its process id: it gets the batch again, handles and clears it.
    let (handlers, seen) = recording(|_| false);
    let restarted = OfflinePoller::new(client.clone(), handlers, "worker-1").member_id(MEMBER);
    let report = restarted.poll_once().await.unwrap();
    assert_eq!((report.received, report.handled, report.failed), (3, 3, 0));
    let handled: BTreeSet<u64> = seen.lock().unwrap().iter().map(|(id, _)| *id).collect();
    assert_eq!(handled, sessions);
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .all(|(_, member)| member == MEMBER));
    assert!(listed(&client).await.is_empty());
    assert_eq!(restarted.poll_once().await.unwrap().received, 0);
}

#[tokio::test]
async fn only_handled_events_are_cleared_and_failures_come_back() {
    let (_emu, _app, client, sessions) = queued().await;
    let failing = *sessions.iter().next().unwrap();

    let (handlers, seen) = recording(move |id| id == failing);
    let poller = OfflinePoller::new(client.clone(), handlers, "worker-1").max_failures(2);
    let report = poller.poll_once().await.unwrap();
    assert_eq!((report.received, report.handled, report.failed), (3, 2, 1));
    assert_eq!(seen.lock().unwrap().len(), 3);
    assert_eq!(
        listed(&client).await,
        [(failing, "worker-1".to_owned(), "0".to_owned())]
    );

    // Tried again on the next poll; failing again, it is set aside as an error.
    let report = poller.poll_once().await.unwrap();
    assert_eq!(
        (report.received, report.handled, report.marked_error),
        (1, 0, 1)
    );
    assert_eq!(
        listed(&client).await,
        [(failing, String::new(), "1".to_owned())]
    );
    assert_eq!(poller.poll_once().await.unwrap().received, 0);

    // A new session start after that is handled normally.
    client
        .call_raw(
            "imopenlines.session.start",
            &json!({"CHAT_ID": DEMO_IDS.lines_chat_id}),
        )
        .await
        .unwrap();
    let report = poller.poll_once().await.unwrap();
    assert_eq!((report.received, report.handled), (1, 1));
}

#[tokio::test]
async fn offline_binding_needs_an_administrator_and_the_application() {
    let (emu, _app, client, _) = queued().await;
    // A webhook is not an application.
    let webhook = Client::builder()
        .webhook(&emu.webhook_url(DEMO_IDS.admin_user).unwrap())
        .build()
        .unwrap();
    let err = bind(&webhook, &Binding::of::<SessionStart>().offline())
        .await
        .unwrap_err();
    let code = err.api_error().map(|e| e.code.as_str().to_owned());
    assert_eq!(
        (code.as_deref(), err.status()),
        (Some("WRONG_AUTH_TYPE"), Some(403))
    );
    let err = client
        .call_raw(
            "event.bind",
            &json!({"event": "ONNOSUCHTHING", "handler": "http://127.0.0.1:1/"}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    // An application token of a user who is not an administrator.
    let (access, _) = emu
        .portal()
        .lock()
        .issue_tokens(DEMO_IDS.other_user, CLIENT_ID);
    let employee = Client::builder()
        .oauth(&emu.rest_url(), access)
        .build()
        .unwrap();
    let err = employee
        .call_raw("event.offline.get", &json!({"clear": 0}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    let bound = b24::app::bound(&client).await.unwrap();
    assert!(bound
        .iter()
        .any(|b| b.event == "ONSESSIONSTART" && b.offline));
}
