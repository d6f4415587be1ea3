//! Helpers shared by the end-to-end test files: each file is its own crate and uses a part.
#![allow(dead_code)]

pub mod hostile;
pub mod loopback;

use b24::Client;
use b24_emulator::{Emulator, Portal, RecordedRequest, DEMO_IDS};

/// The emulator with the demo portal.
pub async fn demo() -> Emulator {
    Emulator::start(Portal::demo())
        .await
        .expect("the emulator starts")
}

/// A webhook client of user 1 without the client-side rate limit (for tests not about it).
pub fn admin_unlimited(emu: &Emulator) -> Client {
    let url = emu
        .webhook_url(DEMO_IDS.admin_user)
        .expect("the demo admin has a webhook");
    Client::builder()
        .webhook(&url)
        .no_rate_limit()
        .build()
        .expect("a loopback http webhook URL is accepted")
}

/// The HTTP requests the emulator received (batch commands left out).
pub fn http_requests(emu: &Emulator) -> Vec<RecordedRequest> {
    emu.requests()
        .into_iter()
        .filter(|r| r.batch_key.is_none())
        .collect()
}

/// How many `batch` HTTP requests the emulator received.
pub fn batch_requests(emu: &Emulator) -> usize {
    http_requests(emu)
        .iter()
        .filter(|r| r.method == "batch")
        .count()
}

/// The commands the emulator ran inside batches, in the order it ran them.
pub fn commands(emu: &Emulator) -> Vec<RecordedRequest> {
    emu.requests()
        .into_iter()
        .filter(|r| r.batch_key.is_some())
        .collect()
}

/// The number of commands each `batch` HTTP request carried, in journal order.
pub fn commands_per_request(emu: &Emulator) -> Vec<usize> {
    let mut sizes = Vec::new();
    for entry in emu.requests() {
        match entry.batch_key {
            None if entry.method == "batch" => sizes.push(0),
            None => {}
            Some(_) => *sizes.last_mut().expect("a command follows its batch") += 1,
        }
    }
    sizes
}
