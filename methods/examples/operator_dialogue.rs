//! An open line operator's dialogue: open the visitor's chat, start a session, transfer it to a
//! colleague, and let them finish it; with the typed errors met on the way.
//!
//! ```sh
//! cargo run --example operator_dialogue               # on the embedded emulated portal
//! B24_WEBHOOK_URL=https://<portal>/rest/<user>/<code>/ B24_USER_CODE='livechat|1|1763|587' \
//!     B24_OPERATOR_ID=15 B24_OPERATOR_WEBHOOK_URL=https://<portal>/rest/15/<code>/ \
//!     cargo run --example operator_dialogue           # on a real portal (scope imopenlines)
//! ```
//!
//! On a real portal, `B24_OPERATOR_ID` is the colleague to transfer to, and
//! `B24_OPERATOR_WEBHOOK_URL` their webhook, to finish the dialogue as them (without it, the first
//! operator finishes it with `imopenlines.operator.another.finish`).

use b24::imopenlines::{self, OperatorFinishError, OperatorTransferError};
use b24::Client;
use b24_emulator::{Emulator, Portal, DEMO_IDS};

/// Where the dialogue happens.
struct Setup {
    /// The first operator.
    operator: Client,
    /// The colleague, if we can call as them.
    colleague: Option<Client>,
    colleague_id: i64,
    /// A user who cannot take a dialogue (a channel visitor), to show the refusal.
    not_an_operator: Option<i64>,
    user_code: String,
    /// The embedded portal, kept alive until the end.
    emulator: Option<Emulator>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let setup = match std::env::var("B24_WEBHOOK_URL") {
        Ok(url) => real_portal(&url)?,
        Err(_) => emulated_portal().await?,
    };
    let Setup {
        operator,
        colleague,
        colleague_id,
        not_an_operator,
        user_code,
        ..
    } = &setup;

    // 1. Open: the visitor's user code names the open line chat.
    let chat = imopenlines::session_open(operator, user_code.as_str()).await?;
    let chat_id = chat.chat_id;
    println!("imopenlines.session.open({user_code}) -> chat {chat_id}");

    // 2. Start: a new session, handled by the caller.
    let started = imopenlines::session_start(operator, chat_id).await?;
    println!("imopenlines.session.start(CHAT_ID={chat_id}) -> {started}");

    // 3. Transfer: USER_ID, QUEUE_ID or TRANSFER_ID (one of them) names the target.
    if let Some(visitor) = not_an_operator {
        let refused = operator
            .call(imopenlines::OperatorTransfer::new(chat_id).user_id(*visitor))
            .await
            .expect_err("a channel visitor cannot take the dialogue");
        match refused.method_error() {
            Some(OperatorTransferError::OperatorWrong { description }) => {
                println!("transfer to user {visitor} -> OPERATOR_WRONG: {description}")
            }
            _ => return Err(refused.into()),
        }
    }
    let transferred = operator
        .call(imopenlines::OperatorTransfer::new(chat_id).user_id(*colleague_id))
        .await?;
    println!(
        "imopenlines.operator.transfer(CHAT_ID={chat_id}, USER_ID={colleague_id}) -> {transferred}"
    );

    // 4. Finish: only the dialogue's operator may, now the colleague.
    match colleague {
        Some(colleague) => {
            match imopenlines::operator_finish(operator, chat_id).await {
                Err(e)
                    if matches!(
                        e.method_error(),
                        Some(OperatorFinishError::AccessDenied { .. })
                    ) =>
                {
                    println!(
                        "the first operator's finish -> ACCESS_DENIED: no longer their dialogue"
                    )
                }
                other => println!("the first operator's finish -> {other:?}"),
            }
            let finished = imopenlines::operator_finish(colleague, chat_id).await?;
            println!("imopenlines.operator.finish as user {colleague_id} -> {finished}");
        }
        None => {
            let finished = imopenlines::operator_another_finish(operator, chat_id).await?;
            println!("imopenlines.operator.another.finish(CHAT_ID={chat_id}) -> {finished}");
        }
    }

    // What the emulated portal now holds.
    if let Some(emu) = &setup.emulator {
        let portal = emu.portal().snapshot();
        let session = portal
            .last_session(chat_id.unsigned_abs())
            .expect("the started session");
        println!(
            "session {}: operator {}, {}",
            session.id,
            session.operator_id,
            if session.closed { "closed" } else { "open" }
        );
        anyhow::ensure!(session.closed && session.operator_id == colleague_id.unsigned_abs());
    }
    Ok(())
}

/// `B24_WEBHOOK_URL`, `B24_USER_CODE`, `B24_OPERATOR_ID` and, optionally,
/// `B24_OPERATOR_WEBHOOK_URL`.
fn real_portal(url: &str) -> anyhow::Result<Setup> {
    let var = |name: &str| {
        std::env::var(name).map_err(|_| anyhow::anyhow!("set {name} (see the example's docs)"))
    };
    Ok(Setup {
        operator: Client::from_webhook(url)?,
        colleague: match std::env::var("B24_OPERATOR_WEBHOOK_URL") {
            Ok(url) => Some(Client::from_webhook(&url)?),
            Err(_) => None,
        },
        colleague_id: var("B24_OPERATOR_ID")?.parse()?,
        not_an_operator: None,
        user_code: var("B24_USER_CODE")?,
        emulator: None,
    })
}

/// The demo portal: user 1 operates the demo line; user 2 is the colleague; user 3 the visitor.
async fn emulated_portal() -> anyhow::Result<Setup> {
    let emu = Emulator::start(Portal::demo()).await?;
    println!(
        "No B24_WEBHOOK_URL set: using the embedded emulated portal at {}",
        emu.base_url()
    );
    let webhook = |user| emu.webhook_url(user).expect("demo webhook");
    Ok(Setup {
        operator: Client::from_webhook(&webhook(DEMO_IDS.admin_user))?,
        colleague: Some(Client::from_webhook(&webhook(DEMO_IDS.other_user))?),
        colleague_id: DEMO_IDS.other_user as i64,
        not_an_operator: Some(DEMO_IDS.guest_user as i64),
        user_code: DEMO_IDS.user_code.to_owned(),
        emulator: Some(emu),
    })
}
