//! The first steps with an incoming webhook: a client, a typed call, the envelope, optional
//! parameters, and what a failed call tells you.
//!
//! ```sh
//! cargo run --example webhook_quickstart                  # on the embedded emulated portal
//! B24_WEBHOOK_URL=https://<portal>/rest/<user>/<code>/ \
//!     cargo run --example webhook_quickstart              # on a real portal (scope crm)
//! ```

use b24::crm::LeadList;
use b24::exports::futures::TryStreamExt;
use b24::imopenlines::{self, SessionStartError};
use b24::{Client, ErrorKind};
use b24_emulator::{Emulator, Portal, DEMO_IDS};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // A real portal's webhook, or the emulator's (kept alive until the end of main).
    let (url, _emulator) = match std::env::var("B24_WEBHOOK_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let mut portal = Portal::demo();
            portal.seed_leads(120);
            let emu = Emulator::start(portal).await?;
            println!(
                "No B24_WEBHOOK_URL: using the embedded emulated portal at {}",
                emu.base_url()
            );
            let url = emu.webhook_url(DEMO_IDS.admin_user).expect("demo webhook");
            (url, Some(emu))
        }
    };

    // 1. A client. Webhook codes never appear in Debug, Display or logs.
    let client = Client::from_webhook(&url)?;
    println!("client: {client:?}");

    // 2. A typed call with optional parameters as chainable setters, and the whole envelope.
    let first_page = client
        .call(LeadList::new().filter_by(">OPPORTUNITY", 0))
        .with_meta()
        .await?;
    println!(
        "crm.lead.list: {} leads on the first page, {} in all, next page at {:?}",
        first_page.result.len(),
        first_page.total.unwrap_or(0),
        first_page.next
    );
    if let Some(lead) = first_page.result.first() {
        println!(
            "  first: #{} {:?} ({:?})",
            lead.id, lead.title, lead.opportunity
        );
    }

    // 3. Every row of a list, as a stream (50 to a request, by an id cursor).
    let all: Vec<_> = client.list_fast(LeadList::new()).try_collect().await?;
    println!("list_fast: {} leads", all.len());

    // 4. A failed call: the method's own error codes are a typed enum.
    match imopenlines::session_start(&client, 0).await {
        Ok(started) => println!("session.start(0) -> {started}?"),
        Err(err) => {
            match err.method_error() {
                Some(SessionStartError::ChatId { description }) => {
                    println!("session.start(0) -> CHAT_ID: {description}")
                }
                _ => match err.kind() {
                    ErrorKind::Api(api) => {
                        println!("session.start(0) -> {}: {}", api.code, api.description)
                    }
                    _ => println!("session.start(0) -> {err}"),
                },
            }
            println!(
                "  retryable: {}, attempts: {}",
                err.is_retryable(),
                err.attempts()
            );
        }
    }
    Ok(())
}
