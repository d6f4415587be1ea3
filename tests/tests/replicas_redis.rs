//! Several replicas of one application (separate OS processes: the `replica` binary) sharing one
//! portal on the emulator through a real `redis-server` that the test starts:
//!
//! - together they stay inside the portal's leaky bucket (no `QUERY_LIMIT_EXCEEDED`), where the
//!   same replicas with a bucket each are refused;
//! - ten replicas that meet an expired token make exactly one request to the OAuth server (as do
//!   ten sessions in one process sharing a store and an in-memory lock), and the pair in the store
//!   at the end works on the portal;
//! - without a lock, a client whose refresh token another spent takes the other's pair from the
//!   store after `invalid_grant`;
//! - a replica killed (SIGKILL) holding the renewal lock blocks the others only until its lease
//!   runs out, then exactly one renews;
//! - a replica killed after saving the renewed pair, before using it, loses nothing: the others
//!   take the pair from the store without renewing;
//! - an operating-time block one client saw holds back the method in another client (another
//!   connection, as another process would have) instead of drawing `OPERATION_TIME_LIMIT`;
//! - Redis going away fails no call; a renewal waits for it (a typed store error);
//! - a hung Redis (stopped, its socket open) costs one command timeout per pause, not one per
//!   call, and is used again once it answers.
//!
//! Without `redis-server` on PATH each test says loudly that it did not run (and fails under CI,
//! whose `.ci/run` installs it).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use b24::limits::redis::{connect, RedisLimits};
use b24::oauth::redis::RedisTokenStore;
use b24::{Client, OperatingLimit, RateLimit, RetryPolicy, TokenPair, TokenStore};
use b24_emulator::{Emulator, Fault, FaultId, Plan, Portal, DEMO_IDS};
use b24_tests::redis_server::RedisServer;
use b24_tests::replica::{Config, Stall, Summary};
use serde_json::json;

const CLIENT_ID: &str = "local.b24test.replicas";
const CLIENT_SECRET: &str = "replicas0client0secret";
const PORTAL_KEY: &str = "replicas-test-portal";
const PING: &str = "replica.ping";
/// The portal's clock runs this much faster: the Standard bucket drains 20 requests a second.
const SCALE: f64 = 10.0;

struct Rig {
    emu: Emulator,
    redis: RedisServer,
    dir: PathBuf,
    token_requests: FaultId,
}

/// Counts the requests that reach the token endpoint, granted or refused (a fault that changes
/// nothing).
fn count_token_requests(emu: &Emulator) -> FaultId {
    emu.faults().add(Fault::token_endpoint().always())
}

/// A portal with the Standard bucket, the application, and a first pair whose access token has
/// already expired, saved in a fresh Redis.
async fn rig(test: &str) -> Option<Rig> {
    let redis = RedisServer::start(test)?;
    let mut portal = Portal::demo();
    portal.set_time_scale(SCALE);
    portal.set_rate_limit(Some(Plan::Standard));
    portal.add_oauth_app(CLIENT_ID, CLIENT_SECRET);
    portal.set_access_token_lifetime(Duration::from_secs(1)); // 0.1 s of real time
    let (access, refresh) = portal.issue_tokens(DEMO_IDS.admin_user, CLIENT_ID);
    portal.set_access_token_lifetime(Duration::from_secs(3600));
    let emu = Emulator::start(portal).await.expect("the emulator starts");
    emu.register(PING, |_ctx, _params| Ok(json!(true)));
    let conn = connect(&redis.url).await.expect("redis");
    RedisTokenStore::new(conn, PORTAL_KEY)
        .save(&TokenPair::new(access, refresh))
        .await
        .expect("the first pair is stored");
    tokio::time::sleep(Duration::from_millis(300)).await; // the access token expires
    let dir = std::env::temp_dir().join(format!(
        "b24-replicas-{}-{:016x}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let token_requests = count_token_requests(&emu);
    Some(Rig {
        emu,
        redis,
        dir,
        token_requests,
    })
}

impl Rig {
    fn config(&self, calls: u64, concurrency: u64) -> Config {
        Config {
            portal: self.emu.base_url(),
            token_url: self.emu.token_url(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            redis: self.redis.url.clone(),
            portal_key: PORTAL_KEY.into(),
            method: PING.into(),
            calls,
            concurrency,
            rate: RateLimit::STANDARD.time_scaled(SCALE),
            shared_limits: true,
            lease: Duration::from_secs(2),
            stall: None,
        }
    }

    fn marker(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The pair in the store works on the portal: its access token answers a call and its
    /// refresh token would be accepted.
    async fn assert_stored_pair_works(&self) {
        let conn = connect(&self.redis.url).await.expect("redis");
        let pair = RedisTokenStore::new(conn, PORTAL_KEY)
            .current()
            .await
            .expect("the store answers")
            .expect("a pair is stored");
        {
            let portal = self.emu.portal();
            let portal = portal.lock();
            assert!(
                portal.refresh_token_valid(pair.expose_refresh_token()),
                "the stored refresh token is spent: the newest pair was lost"
            );
            let access = portal.access_token(pair.expose_access_token());
            assert!(
                access.is_some_and(|a| a.expires_at.is_none_or(|e| e > SystemTime::now())),
                "the stored access token is unknown or expired"
            );
        }
        let client = Client::builder()
            .oauth(&self.emu.base_url(), pair.expose_access_token())
            .no_rate_limit()
            .build()
            .expect("client");
        client
            .call_raw(PING, &json!({}))
            .await
            .expect("the stored access token works");
    }

    fn token_requests(&self) -> u64 {
        self.emu.faults().fired(self.token_requests)
    }

    fn rejected(&self) -> u64 {
        self.emu.portal().lock().rate_stats().rejected
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn spawn(config: &Config) -> Child {
    Command::new(env!("CARGO_BIN_EXE_replica"))
        .args(config.args())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the replica starts")
}

/// Waits for a replica and reads its summary; it must have exited successfully.
async fn finish(child: Child) -> Summary {
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("the replica ends");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "replica failed ({}): {stdout} {stderr}",
        output.status
    );
    Summary::from_json(&stdout).unwrap_or_else(|| panic!("no summary: {stdout} {stderr}"))
}

async fn wait_for(marker: &std::path::Path) {
    let started = Instant::now();
    while !marker.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the replica never reached {}",
            marker.display()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_replicas_stay_inside_the_bucket_and_renew_once() {
    let Some(rig) = rig("ten_replicas_stay_inside_the_bucket_and_renew_once").await else {
        return;
    };
    let config = rig.config(12, 3);
    let children: Vec<Child> = (0..10).map(|_| spawn(&config)).collect();
    let mut renewals = 0;
    for child in children {
        let summary = finish(child).await;
        assert_eq!((summary.ok, summary.failed), (12, 0), "{summary:?}");
        renewals += summary.renewals;
    }
    // 120 calls and 10 refused with expired_token went through a bucket of 50: it was full.
    assert_eq!(rig.rejected(), 0, "QUERY_LIMIT_EXCEEDED answers");
    assert_eq!(rig.token_requests(), 1, "requests to the OAuth server");
    assert_eq!(rig.emu.token_renewals(), 1, "renewals on the OAuth server");
    assert_eq!(renewals, 1, "renewals the replicas made");
    rig.assert_stored_pair_works().await;
}

/// The control: the same replicas with a bucket each (one renewal still, through the lock) are
/// refused by the portal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_with_a_bucket_each_are_refused() {
    let Some(rig) = rig("replicas_with_a_bucket_each_are_refused").await else {
        return;
    };
    let config = Config {
        shared_limits: false,
        ..rig.config(30, 10)
    };
    let children: Vec<Child> = (0..4).map(|_| spawn(&config)).collect();
    for child in children {
        // Refused calls are retried; whether all of them get through in the end is not the
        // point here.
        let output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .expect("join")
            .expect("the replica ends");
        assert!(output.status.code().is_some(), "the replica ran to its end");
    }
    assert!(rig.rejected() > 0, "four buckets of 49 overflow one of 50");
    assert_eq!(rig.token_requests(), 1);
    rig.assert_stored_pair_works().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_holding_the_lock_delays_the_others_only_for_its_lease() {
    let Some(rig) = rig("a_replica_killed_holding_the_lock").await else {
        return;
    };
    let lease = Duration::from_millis(1500);
    let marker = rig.marker("locked");
    let mut staller = spawn(&Config {
        lease,
        stall: Some((Stall::AfterLock, marker.clone())),
        ..rig.config(1, 1)
    });
    wait_for(&marker).await;
    let locked_at = Instant::now();
    let config = Config {
        lease,
        ..rig.config(5, 2)
    };
    let others: Vec<Child> = (0..4).map(|_| spawn(&config)).collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    staller.kill().expect("SIGKILL");
    let _ = staller.wait();
    let mut renewals = 0;
    for child in others {
        let summary = finish(child).await;
        assert_eq!((summary.ok, summary.failed), (5, 0), "{summary:?}");
        renewals += summary.renewals;
    }
    let waited = locked_at.elapsed();
    assert!(
        waited >= lease - Duration::from_millis(300),
        "the others renewed while the lease was held: {waited:?}"
    );
    assert!(
        waited < lease + Duration::from_secs(15),
        "blocked past the lease: {waited:?}"
    );
    assert_eq!(rig.token_requests(), 1, "requests to the OAuth server");
    assert_eq!(renewals, 1);
    assert_eq!(rig.rejected(), 0);
    rig.assert_stored_pair_works().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_after_saving_the_renewed_pair_loses_nothing() {
    let Some(rig) = rig("a_replica_killed_after_saving").await else {
        return;
    };
    // A long lease: the others must not need it to run out.
    let lease = Duration::from_secs(60);
    let marker = rig.marker("saved");
    let mut staller = spawn(&Config {
        lease,
        stall: Some((Stall::AfterSave, marker.clone())),
        ..rig.config(1, 1)
    });
    wait_for(&marker).await;
    staller.kill().expect("SIGKILL");
    let _ = staller.wait();
    let started = Instant::now();
    let config = Config {
        lease,
        ..rig.config(5, 2)
    };
    let others: Vec<Child> = (0..4).map(|_| spawn(&config)).collect();
    let mut renewals = 0;
    for child in others {
        let summary = finish(child).await;
        assert_eq!((summary.ok, summary.failed), (5, 0), "{summary:?}");
        renewals += summary.renewals;
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the others waited for the lease: {:?}",
        started.elapsed()
    );
    assert_eq!(rig.token_requests(), 1, "only the killed replica renewed");
    assert_eq!(renewals, 0, "the others took its pair from the store");
    assert_eq!(rig.rejected(), 0);
    rig.assert_stored_pair_works().await;
}

/// Both ways a shared block is checked: in the bucket's script (both limits in Redis) and on its
/// own (no client-side rate limit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operating_time_block_seen_by_one_client_holds_back_another() {
    let Some(redis) = RedisServer::start("an_operating_time_block_seen_by_one_client") else {
        return;
    };
    const SLOW: &str = "replica.slow";
    for (case, rate_limited) in [("with the bucket", true), ("without a bucket", false)] {
        let mut portal = Portal::demo();
        portal.set_time_scale(600.0); // the ten-minute window lasts one second
        portal.set_operating_budget(Some(10.0));
        portal.set_method_cost(SLOW, 11.0);
        let emu = Emulator::start(portal).await.expect("the emulator starts");
        emu.register(SLOW, |_ctx, _params| Ok(json!(true)));
        let webhook = emu.webhook_url(DEMO_IDS.admin_user).expect("a webhook");
        let client = |conn| {
            let builder = Client::builder()
                .webhook(&webhook)
                .limit_backend(Arc::new(RedisLimits::new(conn).prefix(case)))
                .operating_limit(OperatingLimit {
                    budget: Duration::from_secs(10),
                    ..OperatingLimit::default()
                })
                .retry(RetryPolicy::none());
            let builder = if rate_limited {
                builder.rate_limit(RateLimit::STANDARD.time_scaled(600.0))
            } else {
                builder.no_rate_limit()
            };
            builder.build().expect("client")
        };
        // Two connections, as two processes would have.
        let first = client(connect(&redis.url).await.expect("redis"));
        let second = client(connect(&redis.url).await.expect("redis"));
        first
            .call_raw(SLOW, &json!({}))
            .await
            .expect("the first call");
        assert!(
            first
                .operating_time(SLOW)
                .and_then(|s| s.blocked_for)
                .is_some(),
            "{case}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await; // the block reaches Redis
        let started = Instant::now();
        second
            .call_raw(SLOW, &json!({}))
            .await
            .unwrap_or_else(|e| panic!("{case}: the second client was refused: {e}"));
        assert!(
            started.elapsed() > Duration::from_millis(300),
            "{case}: not held back: {:?}",
            started.elapsed()
        );
        let refused = emu.requests().iter().filter(|r| r.status == 429).count();
        assert_eq!(refused, 0, "{case}: OPERATION_TIME_LIMIT answers");
    }
}

/// Without a lock, a client whose refresh token another client (or process) spent gets
/// `invalid_grant`, and takes the pair the other saved to the shared store instead of failing.
#[tokio::test]
async fn a_refresh_token_spent_by_another_sends_the_client_to_the_store() {
    let mut portal = Portal::demo();
    portal.add_oauth_app(CLIENT_ID, CLIENT_SECRET);
    portal.set_access_token_lifetime(Duration::from_secs(1));
    let (access, refresh) = portal.issue_tokens(DEMO_IDS.admin_user, CLIENT_ID);
    portal.set_access_token_lifetime(Duration::from_secs(3600));
    let emu = Emulator::start(portal).await.expect("the emulator starts");
    emu.register(PING, |_ctx, _params| Ok(json!(true)));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let token_requests = count_token_requests(&emu);
    let store = Arc::new(b24::MemoryTokenStore::new());
    let client = || {
        let app = b24::OAuthApp::new(CLIENT_ID, CLIENT_SECRET)
            .token_url(&emu.token_url())
            .expect("token url");
        Client::builder()
            .oauth_renewing(
                &emu.base_url(),
                TokenPair::new(access.clone(), refresh.clone()),
                app,
            )
            .token_store(store.clone())
            .no_rate_limit()
            .build()
            .expect("client")
    };
    let (first, second) = (client(), client());
    first.call_raw(PING, &json!({})).await.expect("renews");
    second
        .call_raw(PING, &json!({}))
        .await
        .expect("takes the stored pair after invalid_grant");
    assert_eq!(emu.token_renewals(), 1);
    assert_eq!(
        emu.faults().fired(token_requests),
        2,
        "without a lock the second asks"
    );
    let (b24::Credentials::Renewing(a), b24::Credentials::Renewing(b)) =
        (first.credentials(), second.credentials())
    else {
        panic!("renewing credentials")
    };
    assert_eq!(
        a.tokens().expose_refresh_token(),
        b.tokens().expose_refresh_token()
    );
}

/// Redis going away does not fail calls: the bucket falls back to the process's own. A renewal,
/// which needs the lock, fails with a typed store error instead of racing other replicas.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_go_on_when_redis_goes_away_and_renewal_waits_for_it() {
    let Some(mut rig) = rig("calls_go_on_when_redis_goes_away").await else {
        return;
    };
    let limits = Arc::new(RedisLimits::new(
        connect(&rig.redis.url).await.expect("redis"),
    ));
    let webhook = rig.emu.webhook_url(DEMO_IDS.admin_user).expect("a webhook");
    let webhook_client = Client::builder()
        .webhook(&webhook)
        .rate_limit(RateLimit::STANDARD.time_scaled(SCALE))
        .limit_backend(limits.clone())
        .build()
        .expect("client");
    let conn = connect(&rig.redis.url).await.expect("redis");
    let store = RedisTokenStore::new(conn.clone(), PORTAL_KEY);
    let tokens = store.current().await.expect("load").expect("stored");
    let app = b24::OAuthApp::new(CLIENT_ID, CLIENT_SECRET)
        .token_url(&rig.emu.token_url())
        .expect("token url");
    let renewing = Client::builder()
        .oauth_renewing(&rig.emu.base_url(), tokens, app)
        .token_store(Arc::new(store))
        .renewal_lock(Arc::new(b24::oauth::redis::RedisRenewalLock::new(
            conn, PORTAL_KEY,
        )))
        .limit_backend(limits)
        .build()
        .expect("client");
    webhook_client
        .call_raw(PING, &json!({}))
        .await
        .expect("with Redis");

    rig.redis.stop(); // killed, its socket removed
    let started = Instant::now();
    for _ in 0..3 {
        webhook_client
            .call_raw(PING, &json!({}))
            .await
            .expect("without Redis");
    }
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let err = renewing.call_raw(PING, &json!({})).await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            b24::ErrorKind::Renewal(b24::RenewalError::Store(_))
        ),
        "{err:?}"
    );
    assert_eq!(rig.token_requests(), 0, "no renewal without the lock");
}

/// A hung Redis (its process stopped: connections accepted, nothing answered) is asked again only
/// after a pause: one call of many pays the command timeout (2 s), not each (20 calls asking it
/// would take 40 s); once it answers again, the calls share the bucket in it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_costs_one_timeout_per_pause_not_one_per_call() {
    let Some(rig) = rig("a_hung_redis").await else {
        return;
    };
    let conn = connect(&rig.redis.url).await.expect("redis");
    let limits = Arc::new(RedisLimits::new(conn.clone()).prefix("hung"));
    let webhook = rig.emu.webhook_url(DEMO_IDS.admin_user).expect("a webhook");
    let client = Client::builder()
        .webhook(&webhook)
        .rate_limit(RateLimit::STANDARD.time_scaled(SCALE))
        .limit_backend(limits)
        .build()
        .expect("client");
    let keys = || {
        let mut conn = conn.clone();
        async move {
            b24::exports::redis::cmd("KEYS")
                .arg("hung:*")
                .query_async::<Vec<String>>(&mut conn)
                .await
                .expect("KEYS")
        }
    };
    client.call_raw(PING, &json!({})).await.expect("with Redis");
    let shared = keys().await;
    assert!(!shared.is_empty(), "the bucket is in Redis");

    rig.redis.pause();
    let started = Instant::now();
    for _ in 0..20 {
        client
            .call_raw(PING, &json!({}))
            .await
            .expect("without Redis");
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(12), "20 calls took {took:?}");

    rig.redis.resume();
    let mut conn2 = conn.clone();
    let _: i64 = b24::exports::redis::cmd("DEL")
        .arg(&shared)
        .query_async(&mut conn2)
        .await
        .expect("DEL");
    let mut calls = 0;
    while keys().await.is_empty() {
        calls += 1;
        assert!(
            calls <= 100,
            "Redis answers but the calls do not use it again"
        );
        client.call_raw(PING, &json!({})).await.expect("call");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A lock in memory, for the test below (a real one lives where every replica sees it).
#[derive(Default)]
struct MemoryLock(std::sync::Mutex<Option<b24::oauth::Lease>>);

impl b24::oauth::RenewalLock for MemoryLock {
    fn try_acquire(
        &self,
    ) -> b24::exports::futures::future::BoxFuture<
        '_,
        Result<Option<b24::oauth::Lease>, b24::oauth::StoreError>,
    > {
        let mut held = self.0.lock().expect("lock");
        let lease = held.is_none().then(b24::oauth::Lease::random);
        if lease.is_some() {
            held.clone_from(&lease);
        }
        Box::pin(async move { Ok(lease) })
    }

    fn release<'a>(
        &'a self,
        lease: &'a b24::oauth::Lease,
    ) -> b24::exports::futures::future::BoxFuture<'a, Result<(), b24::oauth::StoreError>> {
        let mut held = self.0.lock().expect("lock");
        if held.as_ref() == Some(lease) {
            *held = None;
        }
        Box::pin(async { Ok(()) })
    }

    fn lease(&self) -> Duration {
        Duration::from_secs(5)
    }
}

/// The session's side of the lock, without Redis: ten clients with a session each (as ten
/// replicas have) sharing a store and a lock meet an expired token at once: one renewal, and all
/// end on the same pair.
#[tokio::test]
async fn ten_sessions_sharing_a_store_and_a_lock_renew_once() {
    let mut portal = Portal::demo();
    portal.add_oauth_app(CLIENT_ID, CLIENT_SECRET);
    portal.set_access_token_lifetime(Duration::from_secs(1));
    let (access, refresh) = portal.issue_tokens(DEMO_IDS.admin_user, CLIENT_ID);
    portal.set_access_token_lifetime(Duration::from_secs(3600));
    let emu = Emulator::start(portal).await.expect("the emulator starts");
    emu.register(PING, |_ctx, _params| Ok(json!(true)));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let token_requests = count_token_requests(&emu);
    let store = Arc::new(b24::MemoryTokenStore::new());
    store
        .save(&TokenPair::new(access.clone(), refresh.clone()))
        .await
        .expect("saved");
    let lock = Arc::new(MemoryLock::default());
    let clients: Vec<Client> = (0..10)
        .map(|_| {
            let app = b24::OAuthApp::new(CLIENT_ID, CLIENT_SECRET)
                .token_url(&emu.token_url())
                .expect("token url");
            Client::builder()
                .oauth_renewing(
                    &emu.base_url(),
                    TokenPair::new(access.clone(), refresh.clone()),
                    app,
                )
                .token_store(store.clone())
                .renewal_lock(lock.clone())
                .no_rate_limit()
                .build()
                .expect("client")
        })
        .collect();
    let params = json!({});
    let calls = clients.iter().map(|c| c.call_raw(PING, &params));
    for outcome in b24::exports::futures::future::join_all(calls).await {
        outcome.expect("every call succeeds");
    }
    assert_eq!(
        emu.faults().fired(token_requests),
        1,
        "requests to the OAuth server"
    );
    let stored = store.latest().expect("stored");
    for client in &clients {
        let b24::Credentials::Renewing(session) = client.credentials() else {
            panic!("renewing credentials")
        };
        assert_eq!(
            session.tokens().expose_refresh_token(),
            stored.expose_refresh_token()
        );
    }
    assert!(
        lock.0.lock().expect("lock").is_none(),
        "the lock is released"
    );
}
