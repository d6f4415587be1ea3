//! No webhook code, access token, refresh token or client secret in anything a program may print
//! or log: a full run of webhook, static-token and renewing clients through renewals and faults
//! (including answers that echo the secrets back, and token endpoint answers that are cut short),
//! with every `tracing` event and span at TRACE level captured (and the HTTP client's `log`
//! records, through the `log` bridge a subscriber's `init` installs), and the `Debug` (plain and
//! pretty) and `Display` of every client, credential, token type, store and error it produced.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use b24::imopenlines::{SessionOpen, SessionStart};
use b24::oauth::RenewalError;
use b24::{
    Client, ConfigError, Credentials, Error, MemoryTokenStore, OAuthApp, RetryPolicy, TokenPair,
};
use b24_emulator::{Emulator, Fault, Portal, Reply, DEMO_IDS};
use serde_json::json;
use tracing_subscriber::util::SubscriberInitExt;

const WEBHOOK_CODE: &str = "w3bh00k0s3cr3t0c0d3";
const STATIC_TOKEN: &str = "st4t1c0acc3ss0t0k3n";
const CLIENT_ID: &str = "local.b24test.secrets";
const CLIENT_SECRET: &str = "cl13nt0s3cr3t0v4lu3";
/// A token the "OAuth server" hands out in an answer that is not a complete pair.
const HALF_PAIR_TOKEN: &str = "h4lf0p41r0acc3ss0t0k3n";
const OPEN: &str = "imopenlines.session.open";
const START: &str = "imopenlines.session.start";

/// Everything written to the global subscriber.
#[derive(Clone)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once per test binary) a global TRACE subscriber writing into a buffer, with the
/// `log` bridge, as an application's `tracing_subscriber::fmt().init()` would.
fn captured() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured(Arc::default());
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .with_writer(move || writer.clone())
            .finish()
            .try_init()
            .expect("the only subscriber of this test binary");
        captured
    })
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

/// Collects texts to search.
#[derive(Default)]
struct Texts(Vec<String>);

impl Texts {
    fn debug_display(&mut self, value: &(impl std::fmt::Debug + std::fmt::Display)) {
        self.0.push(format!("{value:?}"));
        self.0.push(format!("{value:#?}"));
        self.0.push(value.to_string());
    }

    fn debug(&mut self, value: &impl std::fmt::Debug) {
        self.0.push(format!("{value:?}"));
        self.0.push(format!("{value:#?}"));
    }

    /// An error, and every error in its source chain.
    fn error<E: std::error::Error>(&mut self, err: &E) {
        self.debug_display(err);
        let mut source = err.source();
        while let Some(inner) = source {
            self.0.push(inner.to_string());
            self.0.push(format!("{inner:?}"));
            source = inner.source();
        }
    }

    fn result<T: std::fmt::Debug>(&mut self, result: &Result<T, Error>) {
        match result {
            Ok(value) => self.debug(value),
            Err(err) => self.error(err),
        }
    }
}

/// Asserts that no secret appears in any text; lists every leak.
#[track_caller]
fn assert_no_secrets(secrets: &[String], texts: &[String]) {
    let mut leaks = Vec::new();
    for secret in secrets {
        assert!(secret.len() >= 8, "{secret:?} is too short to search for");
        for text in texts {
            if let Some(at) = text.find(secret.as_str()) {
                let from = text[..at]
                    .char_indices()
                    .rev()
                    .nth(120)
                    .map_or(0, |(i, _)| i);
                let to = (at + secret.len() + 80).min(text.len());
                let to = (to..=text.len())
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(text.len());
                leaks.push(format!("{secret:?} in …{}…", &text[from..to]));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}

fn open() -> SessionOpen {
    SessionOpen::new(DEMO_IDS.user_code)
}

async fn call_open(client: &Client) -> Result<b24::imopenlines::SessionOpened, Error> {
    client.call(open()).await.map_err(Error::erase)
}

async fn call_start(client: &Client) -> Result<bool, Error> {
    client
        .call(SessionStart::new(DEMO_IDS.lines_chat_id as i64))
        .await
        .map_err(Error::erase)
}

/// The faults of the run, for any client: answers that echo `secrets` back included.
fn add_faults(emu: &Emulator, method: &str, secrets: &[&str]) {
    let echo = secrets.join(" ");
    let faults = emu.faults();
    for fault in [
        Fault::on(method).nth(1).respond(Reply::bad_gateway()),
        Fault::on(method).nth(2).delay(Duration::from_secs(2)),
        Fault::on(method).nth(3).drop_connection(),
        Fault::on(method).nth(4).respond(Reply::hang_up()),
        Fault::on(method)
            .nth(5)
            .respond(Reply::html(502, format!("<p>upstream said {echo}</p>"))),
        Fault::on(method)
            .nth(6)
            .respond(Reply::error(400, "WRONG_AUTH", &format!("bad {echo}"))),
        Fault::on(method)
            .nth(7)
            .respond(Reply::empty_error(500, &format!("nope {echo}"))),
        Fault::on(method).nth(8).respond(Reply::new(
            200,
            "application/json",
            format!("{{\"result\":{{\"echo\":\"{echo}\""),
        )),
        Fault::on(method)
            .nth(9)
            .respond(Reply::wrong_shape(json!({ "chatId": echo }))),
        Fault::on(method).nth(10).respond(Reply::truncated_json()),
        Fault::on(method).nth(11).respond(Reply::huge(2)),
        Fault::on(method).nth(12).respond(Reply::error(
            503,
            "QUERY_LIMIT_EXCEEDED",
            &format!("slow down {echo}"),
        )),
    ] {
        faults.add(fault);
    }
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(3)
        .base_delay(Duration::from_millis(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_renewal_and_fault_run_leaks_no_secret() {
    let log = captured();
    let mut texts = Texts::default();

    let mut portal = Portal::demo();
    portal.add_webhook_with_code(DEMO_IDS.admin_user, WEBHOOK_CODE);
    portal.add_access_token(DEMO_IDS.admin_user, STATIC_TOKEN);
    portal.add_oauth_app(CLIENT_ID, CLIENT_SECRET);
    let (access, refresh) = portal.issue_tokens(DEMO_IDS.admin_user, CLIENT_ID);
    let emu = Emulator::start(portal).await.expect("emulator");
    let mut secrets: Vec<String> = [WEBHOOK_CODE, STATIC_TOKEN, CLIENT_SECRET, HALF_PAIR_TOKEN]
        .iter()
        .map(|s| s.to_string())
        .chain([access.clone(), refresh.clone()])
        .collect();

    // ---- a webhook client through every kind of fault
    let webhook = Client::builder()
        .webhook(&emu.webhook_url_with_code(DEMO_IDS.admin_user, WEBHOOK_CODE))
        .timeout(Duration::from_millis(500))
        .max_body(1 << 20)
        .retry(fast_retries())
        .no_rate_limit()
        .build()
        .expect("webhook client");
    add_faults(&emu, OPEN, &[WEBHOOK_CODE]);
    add_faults(&emu, START, &[WEBHOOK_CODE]);
    for _ in 0..8 {
        let result = call_open(&webhook).await;
        texts.result(&result);
        let result = call_start(&webhook).await;
        texts.result(&result);
    }
    texts.debug(&webhook);
    texts.debug(webhook.credentials());
    emu.faults().clear();

    // ---- a static OAuth token
    let static_oauth = Client::builder()
        .oauth(&emu.base_url(), STATIC_TOKEN)
        .retry(fast_retries())
        .build()
        .expect("static client");
    add_faults(&emu, OPEN, &[STATIC_TOKEN]);
    for _ in 0..6 {
        let result = call_open(&static_oauth).await;
        texts.result(&result);
    }
    assert!(emu.portal().lock().expire_access_token(STATIC_TOKEN));
    emu.faults().clear();
    let result = call_open(&static_oauth).await;
    assert!(result.is_err(), "a static token is not renewed");
    texts.result(&result);
    texts.debug(&static_oauth);
    texts.debug(static_oauth.credentials());

    // ---- a renewing OAuth client: renewals, token endpoint failures, refusals
    let store = Arc::new(MemoryTokenStore::new());
    let app = OAuthApp::new(CLIENT_ID, CLIENT_SECRET)
        .token_url(&emu.token_url())
        .expect("token url");
    texts.debug(&app);
    let tokens = TokenPair::new(&access, &refresh);
    texts.debug(&tokens);
    let renewing = Client::builder()
        .oauth_renewing(&emu.base_url(), tokens, app)
        .token_store(store.clone())
        .retry(fast_retries())
        .timeout(Duration::from_millis(500))
        .no_rate_limit()
        .build()
        .expect("renewing client");
    let current = |client: &Client| match client.credentials() {
        Credentials::Renewing(session) => session.tokens(),
        other => panic!("{other:?}"),
    };

    // The token endpoint fails in every way before it renews: a 502 page, an answer with an access
    // token but no refresh token, one cut short, a refusal that echoes the refresh token.
    let token_faults = [
        Reply::bad_gateway(),
        Reply::json(
            200,
            &json!({"access_token": HALF_PAIR_TOKEN, "expires_in": 3600}),
        ),
        Reply::new(
            200,
            "application/json",
            format!("{{\"expires_in\":3600,\"access_token\":\"{HALF_PAIR_TOKEN}"),
        ),
        Reply::json(
            400,
            &json!({"error": "invalid_grant", "error_description": format!("{refresh} is not valid for {CLIENT_SECRET}")}),
        ),
    ];
    let count = token_faults.len();
    for (n, reply) in token_faults.into_iter().enumerate() {
        emu.faults()
            .add(Fault::token_endpoint().nth(n as u64 + 1).respond(reply));
    }
    assert!(emu.portal().lock().expire_access_token(&access));
    for _ in 0..count {
        let result = call_open(&renewing).await;
        assert!(
            matches!(
                result.as_ref().map_err(Error::kind),
                Err(b24::ErrorKind::Renewal(_))
            ),
            "{result:?}"
        );
        texts.result(&result);
    }
    // Now the real renewal, then faults (with echoes of every token in use), then more renewals.
    let result = call_open(&renewing).await;
    texts.result(&result);
    result.expect("renewed");
    for round in 0..3 {
        let pair = current(&renewing);
        secrets.push(pair.expose_access_token().to_owned());
        secrets.push(pair.expose_refresh_token().to_owned());
        add_faults(
            &emu,
            OPEN,
            &[
                pair.expose_access_token(),
                pair.expose_refresh_token(),
                CLIENT_SECRET,
            ],
        );
        emu.faults()
            .add(Fault::on(OPEN).nth(13).respond(Reply::error(
                401,
                "INVALID_TOKEN",
                &format!("invalid {}", pair.expose_access_token()),
            )));
        for _ in 0..6 {
            let result = call_open(&renewing).await;
            texts.result(&result);
        }
        emu.faults().clear();
        assert!(emu
            .portal()
            .lock()
            .expire_access_token(pair.expose_access_token()));
        let result = call_open(&renewing).await;
        texts.result(&result);
        result.unwrap_or_else(|e| panic!("round {round}: {e}"));
    }
    let pair = current(&renewing);
    secrets.push(pair.expose_access_token().to_owned());
    secrets.push(pair.expose_refresh_token().to_owned());
    assert!(emu.token_renewals() >= 4, "the run renewed");

    // Finally a refusal: the refresh token is revoked.
    {
        let portal = emu.portal();
        let mut portal = portal.lock();
        assert!(portal.revoke_refresh_token(pair.expose_refresh_token()));
        assert!(portal.expire_access_token(pair.expose_access_token()));
    }
    let result = call_open(&renewing).await;
    match &result {
        Err(e) => match e.kind() {
            b24::ErrorKind::Renewal(renewal @ RenewalError::Refused { .. }) => {
                texts.error(renewal);
            }
            other => panic!("{other:?}"),
        },
        Ok(_) => panic!("the refresh token was revoked"),
    }
    texts.result(&result);
    texts.debug(&renewing);
    texts.debug(renewing.credentials());
    texts.debug(&pair);
    texts.debug(&*store);
    texts.debug(&store.latest());
    for client in [&webhook, &static_oauth, &renewing] {
        texts.debug(&client.rate_limit());
        texts.debug(&client.operating_time(OPEN));
    }

    // The secrets were really used: webhook and OAuth calls were authenticated by the portal.
    let requests = emu.requests();
    assert!(requests
        .iter()
        .any(|r| r.auth == b24_emulator::AuthKind::Webhook && r.user_id == Some(1)));
    assert!(requests
        .iter()
        .any(|r| r.auth == b24_emulator::AuthKind::OAuth && r.user_id == Some(1)));

    // What was logged: the client's events and spans, and the HTTP client's own records.
    let logged = log.text();
    for expected in [
        "b24.call",
        "retrying",
        "OAuth access token renewed",
        "access token expired: renewing and replaying",
        "transport failure",
        "starting new connection",
    ] {
        assert!(logged.contains(expected), "{expected:?} not logged");
    }
    texts.0.push(logged);
    assert_no_secrets(&secrets, &texts.0);
}

/// Configuration errors and transport errors quote URLs without their secrets.
#[tokio::test]
async fn config_and_transport_errors_leak_no_secret() {
    let log = captured();
    let mut texts = Texts::default();
    for url in [
        format!("https://ex.bitrix24.com/rest/1/{WEBHOOK_CODE}/crm.deal.list"),
        format!("https://ex.bitrix24.com/rest/x/{WEBHOOK_CODE}/"),
        format!("https://ex.bitrix24.com/rest/1/{WEBHOOK_CODE}/?x=1"),
        format!("http://ex.bitrix24.com/rest/1/{WEBHOOK_CODE}/"),
        format!("ftp://ex.bitrix24.com/rest/1/{WEBHOOK_CODE}/"),
    ] {
        let err: ConfigError = Client::from_webhook(&url).expect_err("refused");
        texts.error(&err);
    }
    let err = Client::from_oauth("http://ex.bitrix24.com", STATIC_TOKEN).expect_err("refused");
    texts.error(&err);

    // Nothing listens: connect errors, for a webhook and for a renewal (whose URL holds the client
    // secret and the refresh token in its query).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let client = Client::builder()
        .webhook(&format!("http://127.0.0.1:{port}/rest/1/{WEBHOOK_CODE}/"))
        .retry(fast_retries())
        .build()
        .expect("client");
    let result = call_open(&client).await;
    assert!(result.is_err());
    texts.result(&result);

    let emu = Emulator::start(Portal::demo()).await.expect("emulator");
    emu.portal().lock().add_access_token_expiring(
        1,
        "exp1red0acc3ss0t0k3n",
        std::time::SystemTime::UNIX_EPOCH,
    );
    let app = OAuthApp::new(CLIENT_ID, CLIENT_SECRET)
        .token_url(&format!("http://127.0.0.1:{port}/oauth/token/"))
        .expect("url");
    let renewing = Client::builder()
        .oauth_renewing(
            &emu.base_url(),
            TokenPair::new("exp1red0acc3ss0t0k3n", "r3fr3sh0t0k3n0s3cr3t"),
            app,
        )
        .build()
        .expect("client");
    let result = call_open(&renewing).await;
    assert!(result.is_err());
    texts.result(&result);

    texts.0.push(log.text());
    let secrets: Vec<String> = [
        WEBHOOK_CODE,
        STATIC_TOKEN,
        CLIENT_SECRET,
        "exp1red0acc3ss0t0k3n",
        "r3fr3sh0t0k3n0s3cr3t",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_no_secrets(&secrets, &texts.0);
}
