//! OAuth renewal against a hostile token endpoint, over real HTTP on loopback: the portal is the
//! emulator, the token endpoint a raw server answering what each test chooses (absurd expiries,
//! HTML, huge bodies, silence, redirects). Issue 7, items 3 and 5 and the weak points.
//!
//! - a pair the endpoint issued always reaches the store, whatever its expiry fields say, and
//!   they never make the client renew on every call;
//! - every outcome of one renewal attempt is shared by all the calls that waited for it;
//! - the endpoint's answer is capped, its timeout configurable, a store that never answers does
//!   not block calls;
//! - a caller's own `reqwest` builder cannot make the client follow redirects;
//! - the client's answers share one memory budget;
//! - a transport error says why it failed;
//! - a property test: generated hostile answers never panic, hang, leak or lose a pair.

mod common;

use std::future::IntoFuture;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use b24::exports::futures::future::BoxFuture;
use b24::imopenlines::SessionOpen;
use b24::oauth::StoreError;
use b24::{
    Client, Credentials, DecodeReason, ErrorKind, OAuthApp, RenewalError, TokenPair, TokenStore,
};
use b24_emulator::{Emulator, Portal, PortalHandle, DEMO_IDS};
use common::loopback::{Answer, Loopback, Request};

const CLIENT_ID: &str = "local.hostile";
const CLIENT_SECRET: &str = "hostile0client0secret";
const OLD_ACCESS: &str = "old0access0token";
const OLD_REFRESH: &str = "old0refresh0token";

/// A store that keeps every pair it is given; it can be told to never answer.
#[derive(Default)]
struct Journal {
    saved: Mutex<Vec<TokenPair>>,
    hang: AtomicBool,
}

impl Journal {
    fn refresh_tokens(&self) -> Vec<String> {
        let saved = self.saved.lock().expect("journal");
        saved
            .iter()
            .map(|p| p.expose_refresh_token().to_owned())
            .collect()
    }
}

impl TokenStore for Journal {
    fn save<'a>(&'a self, tokens: &'a TokenPair) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            if self.hang.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
            }
            self.saved.lock().expect("journal").push(tokens.clone());
            Ok(())
        })
    }
}

/// The emulator with the demo portal, whose admin's access token has expired.
async fn portal() -> Emulator {
    let emu = Emulator::start(Portal::demo()).await.expect("emulator");
    emu.portal().lock().add_access_token_expiring(
        DEMO_IDS.admin_user,
        OLD_ACCESS,
        SystemTime::now() - Duration::from_secs(1),
    );
    emu
}

/// A fresh pair for answer `n`, registered at the portal so that its access token works there.
fn issue(portal: &PortalHandle, n: usize) -> (String, String) {
    let salt = fastrand::u64(..);
    let access = format!("acc{n}x{salt:x}");
    let refresh = format!("ref{n}x{salt:x}");
    portal
        .lock()
        .add_access_token(DEMO_IDS.admin_user, access.clone());
    (access, refresh)
}

fn pair_json(access: &str, refresh: &str, extra: &str) -> String {
    format!(r#"{{"access_token":"{access}","refresh_token":"{refresh}"{extra}}}"#)
}

fn app(endpoint: &Loopback) -> OAuthApp {
    OAuthApp::new(CLIENT_ID, CLIENT_SECRET)
        .token_url(&format!("{}oauth/token/", endpoint.url))
        .expect("url")
}

fn client(emu: &Emulator, app: OAuthApp, store: Arc<Journal>) -> Client {
    Client::builder()
        .oauth_renewing(
            &emu.base_url(),
            TokenPair::new(OLD_ACCESS, OLD_REFRESH),
            app,
        )
        .token_store(store)
        .build()
        .expect("client")
}

fn session_tokens(client: &Client) -> TokenPair {
    match client.credentials() {
        Credentials::Renewing(session) => session.tokens(),
        other => panic!("{other:?}"),
    }
}

fn open() -> SessionOpen {
    SessionOpen::new(DEMO_IDS.user_code)
}

/// Item 3: whatever the expiry fields say, the pair is saved before use and later calls do not
/// renew again (the old code overflowed on `i64::MAX` after the server had rotated the pair, and
/// renewed on every call for an expiry in the past).
#[tokio::test]
async fn an_absurd_expiry_never_loses_the_pair_nor_renews_every_call() {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let cases = [
        r#","expires_in":9223372036854775807"#.to_owned(),
        r#","expires":-9223372036854775808"#.to_owned(),
        r#","expires":9223372036854775807,"expires_in":9223372036854775807"#.to_owned(),
        r#","expires_in":0"#.to_owned(),
        r#","expires_in":-3600"#.to_owned(),
        format!(r#","expires":{}"#, now - 100),
        r#","expires_in":"soon","expires":[1]"#.to_owned(),
        r#","expires_in":1.5e300"#.to_owned(),
        String::new(),
    ];
    for extra in cases {
        let emu = portal().await;
        let handle = emu.portal();
        let endpoint = Loopback::start(move |n, _| {
            let (access, refresh) = issue(&handle, n);
            Answer::json(200, pair_json(&access, &refresh, &extra))
        })
        .await;
        let store = Arc::new(Journal::default());
        let client = client(&emu, app(&endpoint), store.clone());
        for _ in 0..5 {
            client.call(open()).await.expect("renewed once, then valid");
        }
        assert_eq!(endpoint.requests(), 1, "one renewal");
        let saved = store.refresh_tokens();
        assert_eq!(saved.len(), 1);
        assert_eq!(saved[0], session_tokens(&client).expose_refresh_token());
    }
}

/// Item 5: twenty calls that meet one expired token make one request to the token endpoint and
/// share its outcome, whatever it is (the old code shared only successes and refusals).
#[tokio::test]
async fn every_outcome_of_one_renewal_is_shared_by_all_who_waited() {
    type Check = fn(&RenewalError) -> bool;
    let outcomes: [(&str, Answer, Check); 4] = [
        (
            "HTML 502",
            Answer::html(502, "<html><body>502 Bad Gateway</body></html>"),
            |e| matches!(e, RenewalError::Decode(d) if d.status == 502),
        ),
        (
            "refused",
            Answer::json(400, r#"{"error":"invalid_grant","error_description":"no"}"#),
            |e| matches!(e, RenewalError::Refused { status: 400, .. }),
        ),
        (
            "connection closed",
            Answer {
                hang_up: true,
                ..Answer::default()
            },
            |e| matches!(e, RenewalError::Transport(_)),
        ),
        (
            "timeout",
            Answer::json(200, "{}").delayed(Duration::from_secs(5)),
            |e| matches!(e, RenewalError::Transport(t) if t.is_timeout()),
        ),
    ];
    for (name, answer, check) in outcomes {
        let emu = portal().await;
        let endpoint = Loopback::start(move |_, _| {
            let mut answer = answer.clone();
            answer.delay = answer.delay.max(Duration::from_millis(200));
            answer
        })
        .await;
        let app = app(&endpoint).timeout(Duration::from_millis(700));
        let client = client(&emu, app, Arc::new(Journal::default()));
        let started = Instant::now();
        let calls = (0..20).map(|_| client.call(open()).into_future());
        for result in futures::future::join_all(calls).await {
            match result.expect_err(name).kind() {
                ErrorKind::Renewal(e) => assert!(check(e), "{name}: {e:?}"),
                other => panic!("{name}: {other:?}"),
            }
        }
        assert_eq!(
            endpoint.requests(),
            1,
            "{name}: one request for twenty calls"
        );
        assert!(started.elapsed() < Duration::from_secs(3), "{name}");
    }
}

/// Item 5: the endpoint's answer is read up to 64 KiB, and its timeout is configurable.
#[tokio::test]
async fn the_token_endpoint_answer_is_capped_and_its_timeout_configurable() {
    let emu = portal().await;
    let endpoint = Loopback::start(|_, _| {
        let mut body = br#"{"access_token":""#.to_vec();
        body.resize(8 << 20, b'a');
        Answer::json(200, body)
    })
    .await;
    let capped = client(&emu, app(&endpoint), Arc::new(Journal::default()));
    let err = capped.call(open()).await.expect_err("too large");
    match err.kind() {
        ErrorKind::Renewal(RenewalError::Decode(d)) => {
            assert_eq!(d.reason, DecodeReason::TooLarge { limit: 64 * 1024 });
            assert!(d.body_len <= 64 * 1024);
        }
        other => panic!("{other:?}"),
    }

    let silent =
        Loopback::start(|_, _| Answer::json(200, "{}").delayed(Duration::from_secs(30))).await;
    let app = app(&silent).timeout(Duration::from_millis(300));
    let client = client(&emu, app, Arc::new(Journal::default()));
    let started = Instant::now();
    let err = client.call(open()).await.expect_err("timed out");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(err.kind(), ErrorKind::Renewal(RenewalError::Transport(t)) if t.is_timeout()),
        "{err:?}"
    );
}

/// Item 5: a store that never answers does not block calls: after the store timeout the pair is
/// used from memory (the OAuth server has spent the old refresh token), and the save goes on.
#[tokio::test]
async fn a_store_that_never_answers_does_not_block_calls_nor_lose_the_pair() {
    let emu = portal().await;
    let handle = emu.portal();
    let endpoint = Loopback::start(move |n, _| {
        let (access, refresh) = issue(&handle, n);
        Answer::json(200, pair_json(&access, &refresh, r#","expires_in":3600"#))
    })
    .await;
    let store = Arc::new(Journal::default());
    store.hang.store(true, Ordering::SeqCst);
    let app = app(&endpoint).store_timeout(Duration::from_millis(200));
    let client = client(&emu, app, store.clone());
    let outcome = tokio::time::timeout(Duration::from_secs(5), async {
        for _ in 0..3 {
            client.call(open()).await.expect("call");
        }
    })
    .await;
    assert!(outcome.is_ok(), "calls blocked by the store");
    assert_eq!(endpoint.requests(), 1);
    let Credentials::Renewing(session) = client.credentials() else {
        unreachable!()
    };
    assert!(!session.saved(), "the store does not have it yet");
    assert!(session.tokens().expose_refresh_token().starts_with("ref0x"));
}

/// Weak point: a client built over the caller's own reqwest builder does not follow redirects,
/// neither for calls nor for the token request (which carries the refresh token and secret).
#[tokio::test]
async fn redirects_are_not_followed_with_the_callers_own_builder() {
    let elsewhere = Loopback::start(|_, _| Answer::json(200, r#"{"result":true}"#)).await;
    let target = format!("{}stolen", elsewhere.url);
    let redirect = target.clone();
    let portal =
        Loopback::start(move |_, _| Answer::json(307, "").header("location", &redirect)).await;
    let client = Client::builder()
        .webhook(&format!("{}rest/1/hook0code/", portal.url))
        .http_client(b24::exports::reqwest::Client::builder().user_agent("mine"))
        .build()
        .expect("client");
    let err = client
        .call_raw("a.b", &serde_json::json!({}))
        .await
        .expect_err("a redirect");
    assert_eq!(err.status(), Some(307));

    let emu = portal_emulator().await;
    let redirect = target.clone();
    let endpoint =
        Loopback::start(move |_, _| Answer::json(307, "").header("location", &redirect)).await;
    let client = Client::builder()
        .oauth_renewing(
            &emu.base_url(),
            TokenPair::new(OLD_ACCESS, OLD_REFRESH),
            app(&endpoint),
        )
        .http_client(b24::exports::reqwest::Client::builder())
        .build()
        .expect("client");
    client.call(open()).await.expect_err("no renewal");
    assert_eq!(elsewhere.requests(), 0, "a redirect was followed");
}

async fn portal_emulator() -> Emulator {
    portal().await
}

/// Weak point: answers share the client's memory budget: an answer larger than the budget is
/// cut at it, and concurrent answers that fit one by one all succeed.
#[tokio::test]
async fn answers_share_one_memory_budget() {
    let big = format!(r#"{{"result":"{}"}}"#, "x".repeat(600 * 1024));
    let server = Loopback::start(move |_, _| Answer::json(200, big.clone())).await;
    let client = Client::builder()
        .webhook(&format!("{}rest/1/hook0code/", server.url))
        .no_rate_limit()
        .body_budget(1024 * 1024)
        .build()
        .expect("client");
    let params = serde_json::json!({});
    let calls = (0..6).map(|_| client.call_raw("a.b", &params));
    for result in futures::future::join_all(calls).await {
        result.expect("each fits the budget in its turn");
    }

    let huge = format!(r#"{{"result":"{}"}}"#, "x".repeat(3 << 20));
    let server = Loopback::start(move |_, _| Answer::json(200, huge.clone())).await;
    let client = Client::builder()
        .webhook(&format!("{}rest/1/hook0code/", server.url))
        .body_budget(1024 * 1024)
        .build()
        .expect("client");
    let err = client
        .call_raw("a.b", &serde_json::json!({}))
        .await
        .expect_err("over budget");
    match err.kind() {
        ErrorKind::Decode(d) => assert_eq!(d.reason, DecodeReason::TooLarge { limit: 1024 * 1024 }),
        other => panic!("{other:?}"),
    }
}

/// Transport errors say why they failed, and never show the URL (which holds the webhook code).
#[tokio::test]
async fn transport_errors_show_their_cause_chain() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let client = Client::builder()
        .webhook(&format!("http://127.0.0.1:{port}/rest/1/hook0code/"))
        .retry(b24::RetryPolicy::none())
        .build()
        .expect("client");
    let err = client
        .call_raw("a.b", &serde_json::json!({}))
        .await
        .expect_err("refused");
    let text = err.to_string();
    assert!(text.to_lowercase().contains("connection refused"), "{text}");
    assert!(
        !text.contains("hook0code") && !format!("{err:?}").contains("hook0code"),
        "{text}"
    );

    let stalling = Loopback::start(|_, _| Answer {
        stall_after: Some(5),
        ..Answer::json(200, r#"{"result":true}"#)
    })
    .await;
    let client = Client::builder()
        .webhook(&format!("{}rest/1/hook0code/", stalling.url))
        .timeout(Duration::from_millis(300))
        .retry(b24::RetryPolicy::none())
        .build()
        .expect("client");
    let err = client
        .call_raw("a.b", &serde_json::json!({}))
        .await
        .expect_err("timeout");
    let text = err.to_string();
    assert!(text.contains("timed out"), "{text}");
    assert!(text.contains("body"), "{text}");
    assert!(!text.contains("hook0code"), "{text}");
}

/// Used by the property test: an issued pair the client accepted is in the store.
fn request_refresh_token(request: &Request) -> Option<String> {
    let query = request.line.split_whitespace().nth(1)?.split_once('?')?.1;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("refresh_token="))
        .map(str::to_owned)
}

mod property {
    //! Generated hostile answers from the token endpoint. `PROPTEST_CASES` sets the number of
    //! cases (default 24, for CI).
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    /// A hostile answer: what the endpoint sends, given the tokens it would issue.
    #[derive(Debug, Clone)]
    enum Hostile {
        /// A pair with these extra members (absurd expiries, wrong types, huge or echoed text).
        Pair(Vec<(String, String)>),
        /// A JSON value that is not a pair.
        NotAPair(String),
        Html(u16),
        /// A pair cut at this many bytes.
        Truncated(usize),
        HangUp,
        Huge,
    }

    fn number() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            Just(i64::MAX.to_string()),
            Just(i64::MIN.to_string()),
            Just(u64::MAX.to_string()),
            Just("0".into()),
            Just("-1".into()),
            Just("1e308".into()),
            Just("-1e308".into()),
            Just("3600.75".into()),
            Just(r#""NaN""#.into()),
            Just(r#""inf""#.into()),
            Just(r#""3600""#.into()),
            Just("null".into()),
            Just("true".into()),
            Just("[]".into()),
            Just(r#"{"a":1}"#.into()),
        ]
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(format!(r#""{CLIENT_SECRET}""#)),
            Just(format!(r#""{OLD_REFRESH} {OLD_ACCESS}""#)),
            Just(r#""ECHO""#.to_owned()), // replaced by the issued refresh token
            Just("ECHO".to_owned()),      // …unquoted: the answer is not JSON
            (0usize..200_000).prop_map(|n| format!(r#""{}""#, "z".repeat(n))),
            "[a-z\u{410}-\u{44f}]{0,20}".prop_map(|s| format!(r#""{s}""#)),
            number(),
        ]
    }

    fn hostile() -> impl Strategy<Value = Hostile> {
        let field = prop_oneof![
            Just("expires".to_owned()),
            Just("expires_in".to_owned()),
            Just("member_id".to_owned()),
            Just("scope".to_owned()),
            Just("user_id".to_owned()),
            Just("client_endpoint".to_owned()),
            Just("error".to_owned()),
            Just("error_description".to_owned()),
        ];
        prop_oneof![
            4 => prop::collection::vec((field, text()), 0..6).prop_map(Hostile::Pair),
            1 => prop_oneof![
                Just(format!(r#"{{"error":"{OLD_REFRESH}","error_description":"{CLIENT_SECRET}"}}"#)),
                Just(r#"{"access_token":"ECHO"}"#.to_owned()),
                Just(r#"{"access_token":7,"refresh_token":[]}"#.to_owned()),
                Just("[]".to_owned()),
                Just(r#"{"error":{"ECHO":1}}"#.to_owned()),
            ].prop_map(Hostile::NotAPair),
            1 => (400u16..600).prop_map(Hostile::Html),
            1 => (0usize..120).prop_map(Hostile::Truncated),
            1 => Just(Hostile::HangUp),
            1 => Just(Hostile::Huge),
        ]
    }

    fn answer(hostile: &Hostile, access: &str, refresh: &str) -> Answer {
        let echo = |s: &str| s.replace("ECHO", refresh);
        match hostile {
            Hostile::Pair(fields) => {
                let extra: String = fields
                    .iter()
                    .map(|(k, v)| format!(r#","{k}":{}"#, echo(v)))
                    .collect();
                Answer::json(200, pair_json(access, refresh, &extra))
            }
            Hostile::NotAPair(body) => Answer::json(200, echo(body)),
            Hostile::Html(status) => Answer::html(*status, &format!("<html>{refresh}</html>")),
            Hostile::Truncated(at) => {
                let body = pair_json(access, refresh, r#","expires_in":3600"#);
                Answer::json(200, body.as_bytes()[..(*at).min(body.len())].to_vec())
            }
            Hostile::HangUp => Answer {
                hang_up: true,
                ..Answer::default()
            },
            Hostile::Huge => Answer::json(
                200,
                format!("{}{}", pair_json(access, refresh, ""), " ".repeat(1 << 20)),
            ),
        }
    }

    /// Captured log lines (every level) of the current test.
    #[derive(Clone, Default)]
    struct Logs(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Logs {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("logs").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn hostile_token_endpoints_never_panic_hang_leak_or_lose_a_pair() {
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(24);
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _default = tracing::subscriber::set_default(subscriber);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let emu = runtime.block_on(portal());
        let started = Instant::now();
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let strategy = prop::collection::vec(hostile(), 1..4);
        runner
            .run(&strategy, |answers| {
                logs.0.lock().expect("logs").clear();
                runtime.block_on(run_case(&emu, answers, &logs));
                Ok(())
            })
            .expect("every case holds");
        eprintln!("{cases} cases in {:?}", started.elapsed());
    }

    async fn run_case(emu: &Emulator, answers: Vec<Hostile>, logs: &Logs) {
        emu.portal().lock().add_access_token_expiring(
            DEMO_IDS.admin_user,
            OLD_ACCESS,
            SystemTime::now() - Duration::from_secs(1),
        );
        let handle = emu.portal();
        // (access, refresh, the refresh token the request renewed from, whether the answer
        // delivered the tokens under their keys: an HTML page echoing a token the client never
        // received as one is not a secret the client could know)
        type Issued = (String, String, Option<String>, bool);
        let issued: Arc<Mutex<Vec<Issued>>> = Arc::default();
        let journal = Arc::clone(&issued);
        let script = answers.clone();
        let endpoint = Loopback::start(move |n, request| {
            let (access, refresh) = issue(&handle, n);
            let hostile = &script[n.min(script.len() - 1)];
            let delivered = !matches!(hostile, Hostile::Html(_) | Hostile::NotAPair(_));
            journal.lock().expect("issued").push((
                access.clone(),
                refresh.clone(),
                request_refresh_token(request),
                delivered,
            ));
            answer(hostile, &access, &refresh)
        })
        .await;
        let store = Arc::new(Journal::default());
        let app = app(&endpoint).timeout(Duration::from_millis(500));
        let client = client(emu, app, store.clone());
        let started = Instant::now();
        let mut shown = String::new();
        for _ in 0..answers.len() {
            let outcome =
                tokio::time::timeout(Duration::from_secs(5), client.call(open()).into_future())
                    .await
                    .expect("bounded time");
            if let Err(e) = outcome {
                shown.push_str(&format!("{e} {e:?}\n"));
            }
            shown.push_str(&format!("{:?}\n", session_tokens(&client)));
        }
        assert!(started.elapsed() < Duration::from_secs(15));
        // No lost pair: every pair the endpoint issued in a well-formed pair answer and the
        // client accepted (used for a later renewal or in use now) is in the store.
        let saved = store.refresh_tokens();
        let in_use = session_tokens(&client).expose_refresh_token().to_owned();
        if in_use != OLD_REFRESH {
            assert!(saved.contains(&in_use), "the pair in use is not stored");
        }
        for (_, _, used, _) in issued.lock().expect("issued").iter() {
            if let Some(used) = used.as_deref().filter(|u| *u != OLD_REFRESH) {
                assert!(
                    saved.iter().any(|s| s == used),
                    "a pair renewed from was not stored"
                );
            }
        }
        // No secret in any Debug, Display or log line.
        let logged = String::from_utf8_lossy(&logs.0.lock().expect("logs")).into_owned();
        let mut secrets = vec![
            CLIENT_SECRET.to_owned(),
            OLD_REFRESH.to_owned(),
            OLD_ACCESS.to_owned(),
        ];
        for (access, refresh, _, delivered) in issued.lock().expect("issued").iter() {
            if *delivered {
                secrets.push(access.clone());
                secrets.push(refresh.clone());
            }
        }
        for secret in &secrets {
            assert!(
                !shown.contains(secret.as_str()),
                "{secret} shown: {shown:.2000}"
            );
            assert!(!logged.contains(secret.as_str()), "{secret} logged");
        }
        assert!(
            shown.len() < 200_000,
            "unbounded errors: {} bytes",
            shown.len()
        );
    }
}
