//! A `batch`: several calls in one HTTP request, a later call taking a parameter from an earlier
//! call's result (`$result[open][chatId]`), and each result typed.
//!
//! ```sh
//! cargo run --example batch_references                    # on the embedded emulated portal
//! B24_WEBHOOK_URL=https://<portal>/rest/<user>/<code>/ B24_USER_CODE='livechat|1|1763|587' \
//!     cargo run --example batch_references                # on a real portal (scope imopenlines)
//! ```

use b24::imopenlines::{DialogGet, SessionJoin, SessionOpen, SessionStart};
use b24::Client;
use b24_emulator::{Emulator, Portal, DEMO_IDS};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (url, user_code, _emulator) = match std::env::var("B24_WEBHOOK_URL") {
        Ok(url) => {
            let code = std::env::var("B24_USER_CODE")
                .map_err(|_| anyhow::anyhow!("set B24_USER_CODE to an open line user code"))?;
            (url, code, None)
        }
        Err(_) => {
            let emu = Emulator::start(Portal::demo()).await?;
            println!(
                "No B24_WEBHOOK_URL: using the embedded emulated portal at {}",
                emu.base_url()
            );
            let url = emu.webhook_url(DEMO_IDS.admin_user).expect("demo webhook");
            (url, DEMO_IDS.user_code.to_owned(), Some(emu))
        }
    };
    let client = Client::from_webhook(&url)?;

    // Three calls, one HTTP request. Chat ids are not known yet: the portal fills them in from
    // the first call's result. `0` is a placeholder the binding replaces.
    let mut batch = client.batch();
    let open = batch.push_keyed("open", SessionOpen::new(user_code.clone()));
    let start = batch.push_keyed("start", SessionStart::new(0));
    let dialog = batch.push_keyed("dialog", DialogGet::by_chat_id(0));
    let chat_id = open.result().at("chatId");
    batch.bind(&start, "CHAT_ID", chat_id.clone()); // $result[open][chatId]
    batch.bind(&dialog, "CHAT_ID", chat_id);
    let mut results = batch.send().await;

    let opened = results.take(&open)?;
    println!(
        "imopenlines.session.open({user_code}) -> chat {}",
        opened.chat_id
    );
    println!(
        "imopenlines.session.start(CHAT_ID=$result[open][chatId]) -> {}",
        results.take(&start)?
    );
    let dialog = results.take(&dialog)?;
    println!(
        "imopenlines.dialog.get(CHAT_ID=$result[open][chatId]) -> {:?} ({})",
        dialog.name, dialog.id
    );

    // A failed command fails alone, with its own typed error.
    let mut batch = client.batch();
    let good = batch.push(SessionJoin::new(opened.chat_id));
    let bad = batch.push(SessionStart::new(-1));
    let mut results = batch.send().await;
    println!(
        "session.join({}) -> {:?}",
        opened.chat_id,
        results.take(&good).map_err(|e| e.to_string())
    );
    match results.take(&bad) {
        Ok(started) => println!("session.start(-1) -> {started}?"),
        Err(err) => println!("session.start(-1) -> {err}"),
    }

    // Many calls of one method, packed 50 to a batch request.
    let many = client
        .call_many((0..3).map(|_| SessionStart::new(opened.chat_id)))
        .await;
    println!(
        "call_many: {} calls, {} ok",
        many.len(),
        many.iter().filter(|r| r.is_ok()).count()
    );
    Ok(())
}
