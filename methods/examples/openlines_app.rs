//! A Bitrix24 application for open lines: installed on a portal, it binds `ONSESSIONSTART`,
//! receives the event when an operator starts a session, and answers through that portal's
//! client (reads the dialog, pins the session to the operator).
//!
//! ```sh
//! cargo run --example openlines_app        # the whole loop on the embedded emulated portal
//! B24_CLIENT_ID=… B24_CLIENT_SECRET=… B24_APP_URL=https://app.example.com/b24 \
//!     cargo run --example openlines_app    # a real application, serving B24_LISTEN (0.0.0.0:8080)
//! ```
//!
//! For a real portal, register `B24_APP_URL` as the application's installation handler (a local
//! application "using the API only", or the installation callback of a Market application), with
//! the `imopenlines` scope. Installed portals are kept in `B24_PORTAL_FILE` (default
//! `portals.json`): restart the application and it carries on with them. The application's own
//! dependency needs `b24 = { features = ["axum"] }`.
//!
//! The event's payload is the generated `b24::imopenlines::OnSessionStart` (from its docs page).

use std::sync::Arc;
use std::time::Duration;

use b24::app::{AppInstall, Delivery, FilePortalStore, Handlers, Portals, Receiver};
use b24::imopenlines::{DialogGet, OnSessionStart, SessionModePin, SessionStart as StartSession};
use b24::{Client, OAuthApp};
use b24_emulator::{Emulator, Portal, DEMO_IDS};
use tokio::sync::mpsc;

/// What the session handler did, for the demo to show.
#[derive(Debug)]
struct Answered {
    member_id: String,
    session_id: i64,
    chat_name: String,
    messages: i64,
}

/// The application's handlers: `answered` hears of every session it answered.
fn handlers(answered: mpsc::UnboundedSender<Answered>) -> Handlers {
    Handlers::new()
        .on(|delivery: Delivery<AppInstall>| async move {
            println!(
                "installed on portal {} (version {:?}); ONSESSIONSTART is bound",
                delivery.meta.member_id, delivery.event.version
            );
            Ok::<_, b24::Error>(())
        })
        .on(move |delivery: Delivery<OnSessionStart>| {
            let answered = answered.clone();
            async move {
                let client = &delivery.client; // the portal this event came from
                                               // Every field of a documented payload is optional: a portal may leave any out.
                for item in delivery.event.data.iter().flatten() {
                    let (Some(chat_id), Some(session_id)) = (
                        item.chat.as_ref().and_then(|chat| chat.id),
                        item.session.as_ref().and_then(|session| session.id),
                    ) else {
                        continue;
                    };
                    let dialog = client.call(DialogGet::by_chat_id(chat_id)).await?;
                    // Answer: keep the dialog with the operator who started the session.
                    client
                        .call(SessionModePin {
                            chat_id,
                            activate: Some(true),
                        })
                        .await?;
                    let _ = answered.send(Answered {
                        member_id: delivery.meta.member_id.clone(),
                        session_id,
                        chat_name: dialog.name,
                        messages: dialog.message_count,
                    });
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            }
        })
}

/// Serves `receiver` at `/b24` on `listener`.
fn serve(listener: tokio::net::TcpListener, receiver: Receiver) -> tokio::task::JoinHandle<()> {
    let router =
        b24::app::axum::Router::new().route("/b24", b24::app::axum::post_handler(receiver));
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            eprintln!("the application stopped: {e}");
        }
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    match (
        std::env::var("B24_CLIENT_ID"),
        std::env::var("B24_CLIENT_SECRET"),
    ) {
        (Ok(id), Ok(secret)) => real_application(&id, &secret).await,
        _ => emulated_portal().await,
    }
}

/// Serves the application for real portals until the process is stopped.
async fn real_application(client_id: &str, client_secret: &str) -> anyhow::Result<()> {
    let url = std::env::var("B24_APP_URL")
        .map_err(|_| anyhow::anyhow!("set B24_APP_URL to the address portals reach /b24 at"))?;
    let listen = std::env::var("B24_LISTEN").unwrap_or_else(|_| "0.0.0.0:8080".into());
    let file = std::env::var("B24_PORTAL_FILE").unwrap_or_else(|_| "portals.json".into());
    let portals = Portals::new(
        OAuthApp::new(client_id, client_secret),
        Arc::new(FilePortalStore::open(&file)?),
    );
    println!(
        "portals installed so far: {:?}",
        portals.member_ids().await?
    );
    let (answered, mut seen) = mpsc::unbounded_channel();
    let receiver = Receiver::new(portals, handlers(answered)).bind_to(url);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening on {listen}, portals kept in {file}");
    let server = serve(listener, receiver);
    while let Some(done) = seen.recv().await {
        println!("answered {done:?}");
    }
    server.await?;
    Ok(())
}

/// The whole loop on the embedded emulator: install, bind, a session starts, the answer.
async fn emulated_portal() -> anyhow::Result<()> {
    const CLIENT_ID: &str = "local.openlines0app";
    const CLIENT_SECRET: &str = "openlines0app0secret";
    let mut portal = Portal::demo();
    portal.add_oauth_app(CLIENT_ID, CLIENT_SECRET);
    let emu = Emulator::start(portal).await?;
    println!(
        "No B24_CLIENT_ID set: the embedded emulated portal at {}",
        emu.base_url()
    );

    // The application: its portals in a file, its handlers, served over HTTP.
    let file = std::env::temp_dir().join(format!("b24-openlines-app-{}.json", std::process::id()));
    let portals = Portals::new(
        OAuthApp::new(CLIENT_ID, CLIENT_SECRET).token_url(&emu.token_url())?,
        Arc::new(FilePortalStore::open(&file)?),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/b24", listener.local_addr()?);
    let (answered, mut seen) = mpsc::unbounded_channel();
    let receiver = Receiver::new(portals.clone(), handlers(answered)).bind_to(&url);
    let server = serve(listener, receiver);

    // 1. The portal's administrator installs it: ONAPPINSTALL reaches the application, which
    //    checks the tokens at the OAuth server, stores the portal and binds ONSESSIONSTART.
    let installed = emu.install_app(CLIENT_ID, &url).await?;
    anyhow::ensure!(
        installed.status == Some(200),
        "installation answered {:?}",
        installed.status
    );
    println!(
        "stored portals: {:?} (in {})",
        portals.member_ids().await?,
        file.display()
    );

    // 2. An operator starts a session in the open line chat.
    let started = std::time::Instant::now();
    let operator =
        Client::from_webhook(&emu.webhook_url(DEMO_IDS.admin_user).expect("demo webhook"))?;
    operator
        .call(StartSession::new(i64::try_from(DEMO_IDS.lines_chat_id)?))
        .await?;
    println!(
        "the operator started a session in chat {}",
        DEMO_IDS.lines_chat_id
    );

    // 3. The portal POSTs ONSESSIONSTART; the handler answers through the portal's client.
    let done = tokio::time::timeout(Duration::from_secs(10), seen.recv())
        .await?
        .ok_or_else(|| anyhow::anyhow!("the handler is gone"))?;
    println!(
        "ONSESSIONSTART from portal {}: session {} in {:?} ({} messages), pinned to its operator \
         ({} ms from the operator's call to the answer)",
        done.member_id,
        done.session_id,
        done.chat_name,
        done.messages,
        started.elapsed().as_millis()
    );
    let session = u64::try_from(done.session_id)?;
    let pinned = emu
        .portal()
        .lock()
        .session(session)
        .is_some_and(|s| s.pinned);
    anyhow::ensure!(pinned, "the session was not pinned");

    // 4. Uninstalling: ONAPPUNINSTALL, checked against the stored application token.
    emu.uninstall_app(CLIENT_ID).await;
    println!(
        "uninstalled: stored portals now {:?}",
        portals.member_ids().await?
    );
    server.abort();
    std::fs::remove_file(&file)?;
    Ok(())
}
