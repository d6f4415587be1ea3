//! OAuth 2.0 renewal against the emulated portal and its token endpoint (which rotates the pair
//! on every renewal, as Bitrix24's does):
//!
//! - `expired_token` and `INVALID_TOKEN` renew the token and replay the call, transparently;
//! - a hundred calls in flight that all meet an expired token cause one renewal request, and all
//!   succeed;
//! - every new pair reaches the token store before any call uses it, and is never lost: not when
//!   the store fails once, not when the call that started the renewal is dropped;
//! - a failed renewal (`invalid_grant`, `invalid_client`, an unreachable OAuth server) is a clear
//!   error and the old pair stays;
//! - the OAuth server's address is configurable.

use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use b24::exports::futures::future::BoxFuture;
use b24::imopenlines::SessionOpen;
use b24::oauth::{StoreError, DEFAULT_TOKEN_URL};
use b24::{
    Client, ConfigError, Credentials, ErrorCode, ErrorKind, OAuthApp, RenewalError, TokenPair,
    TokenStore,
};
use b24_emulator::{Emulator, Fault, FaultId, Portal, Reply, DEMO_IDS};

const CLIENT_ID: &str = "local.b24test.renewal";
const CLIENT_SECRET: &str = "app0client0secret0xyz";
const OPEN: &str = "imopenlines.session.open";

fn open() -> SessionOpen {
    SessionOpen::new(DEMO_IDS.user_code)
}

/// A portal with the application registered and a first pair issued for the admin.
async fn portal() -> (Emulator, String, String) {
    let mut portal = Portal::demo();
    portal.add_oauth_app(CLIENT_ID, CLIENT_SECRET);
    let (access, refresh) = portal.issue_tokens(DEMO_IDS.admin_user, CLIENT_ID);
    let emu = Emulator::start(portal).await.expect("the emulator starts");
    (emu, access, refresh)
}

fn app(emu: &Emulator) -> OAuthApp {
    OAuthApp::new(CLIENT_ID, CLIENT_SECRET)
        .token_url(&emu.token_url())
        .expect("the emulator's token URL")
}

fn renewing(emu: &Emulator, tokens: TokenPair, store: Arc<dyn TokenStore>) -> Client {
    Client::builder()
        .oauth_renewing(&emu.base_url(), tokens, app(emu))
        .token_store(store)
        .no_rate_limit()
        .build()
        .expect("client")
}

/// Counts the requests that reach the token endpoint (a fault that changes nothing); add it after
/// any other token-endpoint fault, so that it counts the requests those do not hit.
fn count_token_requests(emu: &Emulator) -> FaultId {
    emu.faults().add(Fault::token_endpoint().always())
}

/// The pair the client calls with now.
fn tokens_of(client: &Client) -> TokenPair {
    match client.credentials() {
        Credentials::Renewing(session) => session.tokens(),
        other => panic!("not a renewing client: {other:?}"),
    }
}

/// A store that keeps every pair it is given, when it finished saving each, and can be told to
/// fail.
#[derive(Default)]
struct Journal {
    saved: Mutex<Vec<(TokenPair, SystemTime)>>,
    failures_to_come: AtomicUsize,
}

impl Journal {
    fn saved(&self) -> Vec<(TokenPair, SystemTime)> {
        self.saved.lock().expect("journal").clone()
    }
}

impl TokenStore for Journal {
    fn save<'a>(&'a self, tokens: &'a TokenPair) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            // A store takes a while (a database write): no call may use the pair meanwhile.
            tokio::time::sleep(Duration::from_millis(50)).await;
            if self
                .failures_to_come
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err("the database is down".into());
            }
            self.saved
                .lock()
                .expect("journal")
                .push((tokens.clone(), SystemTime::now()));
            Ok(())
        })
    }
}

/// Asserts that `pair` is the one the portal honours now: its refresh token is valid and its
/// access token works.
#[track_caller]
fn assert_live_at_portal(emu: &Emulator, pair: &TokenPair) {
    let portal = emu.portal();
    let portal = portal.lock();
    assert!(portal.refresh_token_valid(pair.expose_refresh_token()));
    let record = portal
        .access_token(pair.expose_access_token())
        .expect("the portal issued this access token");
    assert!(record.expires_at.is_none_or(|at| at > SystemTime::now()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_calls_meeting_an_expired_token_cause_one_renewal() {
    let (emu, access, refresh) = portal().await;
    let store = Arc::new(Journal::default());
    // The default client settings: the client-side rate limit is on (50 requests at once, then
    // 2 a second), so the hundred calls (and their replays) spread over some 50 seconds.
    let client = Client::builder()
        .oauth_renewing(
            &emu.base_url(),
            TokenPair::new(&access, &refresh),
            app(&emu),
        )
        .token_store(store.clone())
        .build()
        .expect("client");
    let renewal_requests = count_token_requests(&emu);
    assert!(emu.portal().lock().expire_access_token(&access));
    // The portal answers the first hundred calls half a second late, so that all the calls the
    // bucket lets through are in flight with the expired token before any of them learns that
    // it expired.
    emu.faults().add(
        Fault::on(OPEN)
            .times(100)
            .after()
            .delay(Duration::from_millis(500)),
    );

    let calls = (0..100).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.call(open()).await })
    });
    let results = futures::future::join_all(calls).await;
    for result in results {
        let opened = result.expect("no panic").expect("renewed and replayed");
        assert_eq!(opened.chat_id, DEMO_IDS.lines_chat_id as i64);
    }

    // One renewal request, one renewal.
    assert_eq!(emu.faults().fired(renewal_requests), 1);
    assert_eq!(emu.token_renewals(), 1);
    let Credentials::Renewing(session) = client.credentials() else {
        unreachable!()
    };
    assert_eq!(session.renewals(), 1);

    // Every call met the expired token at most once and succeeded once; those the bucket held
    // back until after the renewal used the new token at once.
    let requests = emu.requests();
    let expired = requests
        .iter()
        .filter(|r| r.status == 401 && r.error.as_deref() == Some("expired_token"))
        .count();
    let succeeded: Vec<_> = requests.iter().filter(|r| r.status == 200).collect();
    assert!((1..=100).contains(&expired), "{expired}");
    assert_eq!((succeeded.len(), requests.len()), (100, 100 + expired));

    // No lost token: the store holds the pair the client uses, which is the one the portal
    // honours; the old pair is dead.
    let saved = store.saved();
    assert_eq!(saved.len(), 1);
    let (pair, saved_at) = &saved[0];
    let current = tokens_of(&client);
    assert_eq!(pair.expose_access_token(), current.expose_access_token());
    assert_eq!(pair.expose_refresh_token(), current.expose_refresh_token());
    assert_ne!(pair.expose_refresh_token(), refresh);
    assert_live_at_portal(&emu, pair);
    assert!(!emu.portal().lock().refresh_token_valid(&refresh));
    assert!(pair.expires.is_some() && pair.member_id.is_some());
    // …and it was saved before any call used it.
    for request in succeeded {
        assert!(
            request.time >= *saved_at,
            "a call used the new token before the store had it"
        );
    }
}

#[tokio::test]
async fn expired_and_invalid_token_answers_are_renewed_and_replayed() {
    let (emu, access, refresh) = portal().await;
    let store = Arc::new(Journal::default());
    let client = renewing(&emu, TokenPair::new(&access, &refresh), store.clone());

    // The token works: no renewal.
    client.call(open()).await.expect("valid token");
    assert_eq!(emu.token_renewals(), 0);

    // expired_token from the portal.
    assert!(emu.portal().lock().expire_access_token(&access));
    client.call(open()).await.expect("renewed and replayed");
    assert_eq!(emu.token_renewals(), 1);
    let statuses: Vec<_> = emu.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 401, 200]);

    // INVALID_TOKEN (here from a fault: the token itself is fine) renews too.
    emu.faults()
        .add(Fault::on(OPEN).once().respond(Reply::error(
            401,
            "INVALID_TOKEN",
            "Invalid token provided",
        )));
    client
        .call_raw(OPEN, &serde_json::json!({"USER_CODE": DEMO_IDS.user_code}))
        .await
        .expect("renewed and replayed");
    assert_eq!(emu.token_renewals(), 2);
    assert_eq!(store.saved().len(), 2);
    assert_live_at_portal(&emu, &tokens_of(&client));

    // A replay that meets an expired token again is not renewed a second time.
    emu.faults()
        .add(Fault::on(OPEN).times(2).respond(Reply::error(
            401,
            "expired_token",
            "The access token provided has expired",
        )));
    let err = client.call(open()).await.expect_err("expired twice");
    assert_eq!(
        err.api_error().map(|a| a.code.clone()),
        Some(ErrorCode::ExpiredToken)
    );
    assert_eq!(err.attempts(), 2);
    assert!(!err.is_retryable());
    assert_eq!(emu.token_renewals(), 3);
}

/// A pair known to expire within 30 s is renewed before the call, not after a failed attempt.
#[tokio::test]
async fn a_pair_about_to_expire_is_renewed_before_the_call() {
    let (emu, access, refresh) = portal().await;
    let store = Arc::new(Journal::default());
    let tokens = TokenPair::new(&access, &refresh).expires_at(unix_now() + 10);
    let client = renewing(&emu, tokens, store.clone());
    client.call(open()).await.expect("call");
    assert_eq!(emu.token_renewals(), 1);
    let statuses: Vec<_> = emu.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200], "no attempt with the old token");
    assert_eq!(store.saved().len(), 1);
}

/// On a portal whose clock runs 200 times faster an access token lives 18 s: the renewed pair is
/// used until it nears its end, not renewed again by every call.
#[tokio::test]
async fn short_lived_tokens_are_renewed_once_not_by_every_call() {
    let mut portal = Portal::demo();
    portal.set_time_scale(200.0);
    portal.add_oauth_app(CLIENT_ID, CLIENT_SECRET);
    let (access, refresh) = portal.issue_tokens(DEMO_IDS.admin_user, CLIENT_ID);
    let emu = Emulator::start(portal).await.expect("emulator");
    let store = Arc::new(Journal::default());
    let client = renewing(&emu, TokenPair::new(&access, &refresh), store.clone());
    assert!(emu.portal().lock().expire_access_token(&access));
    for _ in 0..5 {
        client.call(open()).await.expect("call");
    }
    assert_eq!(emu.token_renewals(), 1);
    let saved = store.saved();
    assert_eq!(saved.len(), 1);
    let lifetime = saved[0].0.expires.expect("expires") - unix_now();
    assert!((10..=19).contains(&lifetime), "{lifetime}");
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

#[tokio::test]
async fn a_failed_renewal_is_a_clear_error_and_keeps_the_old_pair() {
    let (emu, access, refresh) = portal().await;
    let store = Arc::new(Journal::default());
    let client = renewing(&emu, TokenPair::new(&access, &refresh), store.clone());
    // The OAuth server takes its time to refuse, so that concurrent calls overlap with it.
    let renewal_requests = emu.faults().add(
        Fault::token_endpoint()
            .always()
            .delay(Duration::from_millis(200)),
    );
    {
        let portal = emu.portal();
        let mut portal = portal.lock();
        assert!(portal.revoke_refresh_token(&refresh));
        assert!(portal.expire_access_token(&access));
    }

    let err = client.call(open()).await.expect_err("renewal refused");
    match err.kind() {
        ErrorKind::Renewal(RenewalError::Refused {
            code,
            description,
            status,
        }) => {
            assert_eq!(code.as_str(), "invalid_grant");
            assert_eq!(description, "Invalid refresh token");
            assert_eq!(*status, 400);
        }
        other => panic!("expected a refused renewal, got {other:?}"),
    }
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.attempts(), 1, "the expired attempt; no replay");
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        "imopenlines.session.open failed: the OAuth server refused to renew the token: \
         invalid_grant (HTTP 400): Invalid refresh token"
    );
    // The old pair was not overwritten, and the store got nothing.
    let kept = tokens_of(&client);
    assert_eq!(
        (kept.expose_access_token(), kept.expose_refresh_token()),
        (access.as_str(), refresh.as_str())
    );
    assert!(store.saved().is_empty());
    assert_eq!(emu.requests().len(), 1);

    // Twenty calls at once that meet the dead pair: one renewal request between them, and each
    // gets the same clear error.
    let results =
        futures::future::join_all((0..20).map(|_| client.call(open()).into_future())).await;
    for result in results {
        let err = result.expect_err("renewal refused");
        assert!(matches!(
            err.kind(),
            ErrorKind::Renewal(RenewalError::Refused { status: 400, .. })
        ));
    }
    assert_eq!(emu.faults().fired(renewal_requests), 2);
    assert_eq!(emu.token_renewals(), 0);
    assert!(store.saved().is_empty());
}

#[tokio::test]
async fn a_wrong_client_secret_is_invalid_client() {
    let (emu, access, refresh) = portal().await;
    let wrong = OAuthApp::new(CLIENT_ID, "not0the0secret")
        .token_url(&emu.token_url())
        .expect("url");
    let client = Client::builder()
        .oauth_renewing(&emu.base_url(), TokenPair::new(&access, &refresh), wrong)
        .build()
        .expect("client");
    assert!(emu.portal().lock().expire_access_token(&access));
    let err = client.call(open()).await.expect_err("refused");
    match err.kind() {
        ErrorKind::Renewal(RenewalError::Refused { code, status, .. }) => {
            assert_eq!((code.as_str(), *status), ("invalid_client", 401));
        }
        other => panic!("{other:?}"),
    }
    // The refresh token was not consumed.
    assert!(emu.portal().lock().refresh_token_valid(&refresh));
}

#[tokio::test]
async fn the_oauth_server_address_is_configurable() {
    let default = OAuthApp::new(CLIENT_ID, CLIENT_SECRET);
    assert_eq!(default.token_endpoint().as_str(), DEFAULT_TOKEN_URL);
    assert_eq!(DEFAULT_TOKEN_URL, "https://oauth.bitrix.info/oauth/token/");
    match OAuthApp::new(CLIENT_ID, CLIENT_SECRET).token_url("not a url") {
        Err(ConfigError::InvalidUrl { url, .. }) => assert_eq!(url, "not a url"),
        other => panic!("{other:?}"),
    }

    // Renewal goes to the configured server: the emulator's endpoint renews…
    let (emu, access, refresh) = portal().await;
    let configured = app(&emu);
    assert_eq!(configured.token_endpoint().as_str(), emu.token_url());
    assert!(emu.portal().lock().expire_access_token(&access));
    let client = Client::builder()
        .oauth_renewing(
            &emu.base_url(),
            TokenPair::new(&access, &refresh),
            configured,
        )
        .build()
        .expect("client");
    client.call(open()).await.expect("renewed at the emulator");
    assert_eq!(emu.token_renewals(), 1);

    // …and a server that is not there is a transport error of the renewal.
    let current = tokens_of(&client);
    assert!(emu
        .portal()
        .lock()
        .expire_access_token(current.expose_access_token()));
    let nowhere = OAuthApp::new(CLIENT_ID, CLIENT_SECRET)
        .token_url("http://127.0.0.1:9/oauth/token/")
        .expect("url");
    let client = Client::builder()
        .oauth_renewing(&emu.base_url(), current, nowhere)
        .build()
        .expect("client");
    let err = client.call(open()).await.expect_err("no OAuth server");
    match err.kind() {
        ErrorKind::Renewal(RenewalError::Transport(t)) => assert!(t.is_connect(), "{t:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(emu.token_renewals(), 1);
}

/// The store fails: the renewed pair (the portal has already rotated) is kept pending, not used,
/// and saved by the next call, without a second renewal.
#[tokio::test]
async fn a_pair_the_store_refused_is_kept_and_saved_by_the_next_call() {
    let (emu, access, refresh) = portal().await;
    let store = Arc::new(Journal::default());
    store.failures_to_come.store(1, Ordering::SeqCst);
    let client = renewing(&emu, TokenPair::new(&access, &refresh), store.clone());
    let renewal_requests = count_token_requests(&emu);
    assert!(emu.portal().lock().expire_access_token(&access));

    let err = client.call(open()).await.expect_err("the store failed");
    match err.kind() {
        ErrorKind::Renewal(RenewalError::Store(e)) => {
            assert_eq!(e.to_string(), "the database is down");
        }
        other => panic!("{other:?}"),
    }
    // The pair in use is still the old one: the new one is not used before it is stored.
    assert_eq!(tokens_of(&client).expose_access_token(), access);
    assert_eq!(emu.requests().len(), 1);

    client
        .call(open())
        .await
        .expect("the pending pair is saved, then used");
    assert_eq!(emu.faults().fired(renewal_requests), 1, "no second renewal");
    let saved = store.saved();
    assert_eq!(saved.len(), 1);
    assert_eq!(
        saved[0].0.expose_access_token(),
        tokens_of(&client).expose_access_token()
    );
    assert_live_at_portal(&emu, &saved[0].0);
    let statuses: Vec<_> = emu.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [401, 200]);
}

/// The call that started a renewal is dropped while the OAuth server answers (it has already
/// rotated the pair): the renewal still completes and the store gets the pair, so that a process
/// restarted from the store carries on.
#[tokio::test]
async fn a_dropped_call_does_not_lose_the_renewed_pair() {
    let (emu, access, refresh) = portal().await;
    let store = Arc::new(Journal::default());
    let client = renewing(&emu, TokenPair::new(&access, &refresh), store.clone());
    emu.faults().add(
        Fault::token_endpoint()
            .after()
            .delay(Duration::from_millis(300)),
    );
    assert!(emu.portal().lock().expire_access_token(&access));

    // Dropped once the OAuth server has rotated the pair, before its answer arrives.
    {
        let mut call = std::pin::pin!(client.call(open()).into_future());
        loop {
            tokio::select! {
                biased;
                () = tokio::time::sleep(Duration::from_millis(5)) => {
                    if emu.token_renewals() == 1 {
                        break;
                    }
                }
                _ = &mut call => panic!("the call finished before the renewal was answered"),
            }
        }
    }
    assert!(!emu.portal().lock().refresh_token_valid(&refresh));

    // The renewal finishes on its own.
    let mut saved = Vec::new();
    for _ in 0..100 {
        saved = store.saved();
        if !saved.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(saved.len(), 1, "the renewed pair reached the store");
    assert_live_at_portal(&emu, &saved[0].0);

    // A process restarted from the store carries on without renewing.
    drop(client);
    let restarted = renewing(&emu, saved[0].0.clone(), Arc::new(Journal::default()));
    restarted.call(open()).await.expect("the stored pair works");
    assert_eq!(emu.token_renewals(), 1);
}
