//! The one-line call functions and `client.call(..)` return futures, so the obvious concurrent
//! code compiles and runs: `join_all(ids.map(|id| imopenlines::session_start(&client, id)))`.
//!
//! - 1,000 `session_start` calls over 1,000 open line chats, with auto-batching: 20 `batch`
//!   HTTP requests, one new session in each chat, every caller its own `true`;
//! - the same without auto-batching, through `client.call(..)` and a `FuturesUnordered`: one
//!   request per call;
//! - a call can still be completed before it is first polled.

use b24::exports::futures::future::join_all;
use b24::exports::futures::stream::{FuturesUnordered, StreamExt};
use b24::imopenlines::{self, DialogGet, SessionStart};
use b24::{AutoBatch, Client};
use b24_emulator::{Chat, Emulator, Portal, DEMO_IDS};

mod common;
use common::{admin_unlimited, batch_requests, http_requests};

/// The demo portal with `n` more open line chats on the demo line; returns their ids.
async fn portal_with_chats(n: u64) -> (Emulator, Vec<i64>) {
    let mut portal = Portal::demo();
    let ids = (0..n)
        .map(|i| {
            let chat = Chat::lines(
                DEMO_IDS.line_id,
                format!("livechat|1|{}|{i}", 5000 + i),
                "Guest",
            )
            .with_owner(DEMO_IDS.admin_user)
            .with_member(DEMO_IDS.guest_user);
            portal.add_chat(chat) as i64
        })
        .collect();
    let emu = Emulator::start(portal).await.expect("the emulator starts");
    (emu, ids)
}

fn sessions_of(emu: &Emulator, chat: i64) -> usize {
    emu.portal().lock().sessions_of_chat(chat as u64).count()
}

#[tokio::test]
async fn join_all_over_1000_session_start_calls() {
    let (emu, ids) = portal_with_chats(1_000).await;
    let url = emu.webhook_url(DEMO_IDS.admin_user).expect("webhook");
    let client = Client::builder()
        .webhook(&url)
        .no_rate_limit()
        .auto_batch(AutoBatch::default())
        .build()
        .expect("client");

    let results = join_all(
        ids.iter()
            .map(|&id| imopenlines::session_start(&client, id)),
    )
    .await;

    assert_eq!(results.len(), 1_000);
    for (id, result) in ids.iter().zip(&results) {
        assert!(matches!(result, Ok(true)), "chat {id}: {result:?}");
        assert_eq!(
            sessions_of(&emu, *id),
            1,
            "chat {id} got exactly one session"
        );
    }
    assert_eq!(batch_requests(&emu), 20);
    assert_eq!(http_requests(&emu).len(), 20, "nothing but batches");
}

#[tokio::test]
async fn client_calls_are_futures_too() {
    let (emu, ids) = portal_with_chats(30).await;
    let client = admin_unlimited(&emu);

    let mut pending: FuturesUnordered<_> = ids
        .iter()
        .map(|&id| client.call(SessionStart::new(id)))
        .collect();
    let mut done = 0;
    while let Some(result) = pending.next().await {
        assert!(matches!(result, Ok(true)), "{result:?}");
        done += 1;
    }
    assert_eq!(done, 30);
    assert_eq!(http_requests(&emu).len(), 30, "one request per call");
    assert!(ids.iter().all(|&id| sessions_of(&emu, id) == 1));
}

#[tokio::test]
async fn a_call_is_completed_before_it_is_polled() {
    let emu = common::demo().await;
    let client = admin_unlimited(&emu);
    let mut call = imopenlines::dialog_get(&client);
    assert_eq!(call.request(), &DialogGet::default());
    call.request_mut().chat_id = Some(DEMO_IDS.lines_chat_id as i64);
    let calls = join_all([call]).await;
    let dialog = calls
        .into_iter()
        .next()
        .expect("one call")
        .expect("dialog.get");
    assert_eq!(dialog.id, DEMO_IDS.lines_chat_id as i64);
    assert_eq!(http_requests(&emu)[0].params["CHAT_ID"], 101);
}
