//! `b24::blocking::Client` (feature `blocking`) from plain `#[test]` threads, with no async code
//! in the test: the emulator runs on a runtime of its own in the background.
//!
//! - a declared method's result, its envelope, and its typed method error, as the async client
//!   gives them;
//! - `call_raw` and its refusal of a malformed method name;
//! - clones used from several threads at once share one client.

use b24::blocking::Client;
use b24::imopenlines::{self, SessionStart, SessionStartError};
use b24::{ConfigError, ErrorKind};
use b24_emulator::{Emulator, Portal, DEMO_IDS};
use serde_json::json;

/// The demo emulator on a multi-thread runtime that keeps serving after `block_on` returns.
fn emulator() -> (tokio::runtime::Runtime, Emulator) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the emulator");
    let emu = runtime
        .block_on(Emulator::start(Portal::demo()))
        .expect("the emulator starts");
    (runtime, emu)
}

fn admin(emu: &Emulator) -> Client {
    Client::from_webhook(&emu.webhook_url(DEMO_IDS.admin_user).expect("webhook"))
        .expect("a loopback webhook URL is accepted")
}

#[test]
fn a_declared_method_with_its_result_envelope_and_typed_error() {
    let (_runtime, emu) = emulator();
    let client = admin(&emu);

    let started = imopenlines::SessionStart::new(DEMO_IDS.lines_chat_id as i64);
    assert!(client.call(started).expect("session.start"));

    let reply = client
        .call_with_meta(imopenlines::SessionOpen::new(DEMO_IDS.user_code))
        .expect("session.open");
    assert_eq!(reply.result.chat_id, DEMO_IDS.lines_chat_id as i64);
    assert!(reply.time.is_some(), "the envelope's time block");

    let err = client
        .call(SessionStart::new(DEMO_IDS.group_chat_id as i64))
        .expect_err("an ordinary chat is not an open line");
    assert!(
        matches!(err.method_error(), Some(SessionStartError::ChatType { .. })),
        "{err:?}"
    );
    assert_eq!(err.attempts(), 1);
    assert_eq!(
        emu.portal()
            .lock()
            .sessions_of_chat(DEMO_IDS.lines_chat_id)
            .count(),
        3,
        "one session started"
    );
}

#[test]
fn call_raw_and_its_errors() {
    let (_runtime, emu) = emulator();
    let client = admin(&emu);
    let reply = client
        .call_raw(
            "imopenlines.session.open",
            &json!({"USER_CODE": DEMO_IDS.user_code}),
        )
        .expect("session.open");
    assert_eq!(
        reply.result["chatId"],
        json!(DEMO_IDS.lines_chat_id.to_string())
    );

    let err = client
        .call_raw("not a method", &json!({}))
        .expect_err("a malformed name");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Config(ConfigError::InvalidMethodName { .. })
        ),
        "{err:?}"
    );
}

#[test]
fn clones_work_from_several_threads() {
    let (_runtime, emu) = emulator();
    let client = admin(&emu);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || {
                (0..5).all(|_| {
                    client
                        .call(SessionStart::new(DEMO_IDS.lines_chat_id as i64))
                        .is_ok_and(|started| started)
                })
            })
        })
        .collect();
    for thread in threads {
        assert!(
            thread.join().expect("no panic"),
            "every call started a session"
        );
    }
    assert_eq!(
        emu.portal()
            .lock()
            .sessions_of_chat(DEMO_IDS.lines_chat_id)
            .count(),
        2 + 20
    );
    let (_, level) = client.as_async().rate_limit().expect("the default bucket");
    assert!(level > 0.0, "one bucket shared by the clones");
}
