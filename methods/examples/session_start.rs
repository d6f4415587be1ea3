//! Starts an open line session, then shows what the typed errors look like.
//!
//! ```sh
//! cargo run --example session_start                      # against the embedded emulated portal
//! B24_WEBHOOK_URL=https://<portal>/rest/<user>/<code>/ B24_CHAT_ID=2043 \
//!     cargo run --example session_start                  # against a real portal
//! ```
//!
//! Set `RUST_LOG=b24_runtime=debug` to see every call's span and answer in the logs.

use b24::imopenlines::{self, SessionStartError};
use b24::{Client, ErrorKind};
use b24_emulator::{Emulator, Portal, DEMO_IDS};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();

    match std::env::var("B24_WEBHOOK_URL") {
        Ok(url) => real_portal(&url).await,
        Err(_) => emulated_portal().await,
    }
}

/// Calls a real portal: `B24_WEBHOOK_URL` and `B24_CHAT_ID` (an open line chat).
async fn real_portal(url: &str) -> anyhow::Result<()> {
    let chat_id: i64 = std::env::var("B24_CHAT_ID")
        .map_err(|_| anyhow::anyhow!("set B24_CHAT_ID to an open line chat id"))?
        .parse()?;
    let client = Client::from_webhook(url)?;
    println!("portal: {}", client.credentials().rest_root());
    let started = imopenlines::session_start(&client, chat_id).await?;
    println!("imopenlines.session.start(CHAT_ID={chat_id}) -> {started}");
    Ok(())
}

/// Starts the embedded emulator with its demo open line and walks through a session.
async fn emulated_portal() -> anyhow::Result<()> {
    let emu = Emulator::start(Portal::demo()).await?;
    println!(
        "No B24_WEBHOOK_URL set: using the embedded emulated portal at {}",
        emu.base_url()
    );

    let operator =
        Client::from_webhook(&emu.webhook_url(DEMO_IDS.admin_user).expect("demo webhook"))?;

    // Find the open line chat of a livechat visitor, then start a session in it.
    let opened = imopenlines::session_open(&operator, DEMO_IDS.user_code).await?;
    println!(
        "imopenlines.session.open({}) -> chat {}",
        DEMO_IDS.user_code, opened.chat_id
    );

    let reply = operator
        .call(imopenlines::SessionStart::new(opened.chat_id))
        .with_meta()
        .await?;
    let took = reply.time.as_ref().map_or(0.0, |t| t.duration);
    println!(
        "imopenlines.session.start(CHAT_ID={}) -> {} ({took:.3} s on the portal)",
        opened.chat_id, reply.result
    );

    // An ordinary chat is not an open line: the method's own error, typed.
    let err = imopenlines::session_start(&operator, DEMO_IDS.group_chat_id as i64)
        .await
        .expect_err("an ordinary chat is not an open line");
    if let ErrorKind::Method {
        error: SessionStartError::ChatType { description },
        status,
    } = err.kind()
    {
        println!(
            "ordinary chat {} -> CHAT_TYPE (HTTP {status}): {description}",
            DEMO_IDS.group_chat_id
        );
    }
    println!("  as Display: {err}");

    // Another user may not touch the operator's dialogue.
    let outsider =
        Client::from_webhook(&emu.webhook_url(DEMO_IDS.other_user).expect("demo webhook"))?;
    let err = imopenlines::session_start(&outsider, opened.chat_id)
        .await
        .expect_err("user 2 has no access to the open line chat");
    match err.method_error() {
        Some(SessionStartError::AccessDenied { description }) => {
            println!(
                "user {} on chat {} -> ACCESS_DENIED: {description}",
                DEMO_IDS.other_user, opened.chat_id
            )
        }
        other => anyhow::bail!("unexpected answer: {other:?}"),
    }
    println!(
        "  retryable: {}, attempts: {}",
        err.is_retryable(),
        err.attempts()
    );

    emu.shutdown().await;
    Ok(())
}
