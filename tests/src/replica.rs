//! One replica of an application, as its own OS process: it loads the portal's token pair from
//! Redis, builds a client whose bucket, operating time, token store and renewal lock live in
//! that Redis, makes a number of calls, and prints a one-line JSON [`Summary`].
//!
//! The `replica` binary of this crate runs it; the tests and the `replicas` benchmark spawn it
//! many times. A test can make it stall at a chosen point of a renewal (after taking the lock,
//! after saving the new pair), writing a marker file first, so that it can be killed there.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use b24::exports::futures::future::BoxFuture;
use b24::limits::redis::{connect, RedisLimits};
use b24::oauth::redis::{RedisRenewalLock, RedisTokenStore};
use b24::oauth::{Lease, RenewalLock, StoreError};
use b24::{Client, OAuthApp, RateLimit, TokenPair, TokenStore};
use serde_json::json;

/// Where a replica stalls forever (to be killed there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stall {
    /// Right after taking the renewal lock, before asking the OAuth server.
    AfterLock,
    /// Right after the renewed pair is saved to the store, before it is used or the lock
    /// released.
    AfterSave,
}

/// What a replica does.
#[derive(Debug, Clone)]
pub struct Config {
    /// The portal's address (`http://127.0.0.1:PORT/`).
    pub portal: String,
    /// The OAuth token endpoint.
    pub token_url: String,
    /// The application's keys.
    pub client_id: String,
    /// The application's secret.
    pub client_secret: String,
    /// The Redis URL.
    pub redis: String,
    /// The portal's key in Redis.
    pub portal_key: String,
    /// The method called.
    pub method: String,
    /// How many calls.
    pub calls: u64,
    /// How many at once.
    pub concurrency: u64,
    /// The bucket.
    pub rate: RateLimit,
    /// Keep the bucket and operating time in Redis (else in this process).
    pub shared_limits: bool,
    /// The renewal lock's lease.
    pub lease: Duration,
    /// Stall at this point of a renewal, after writing `marker`.
    pub stall: Option<(Stall, PathBuf)>,
}

impl Config {
    /// The command line that makes a replica of this configuration.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec![
            self.portal.clone(),
            self.token_url.clone(),
            self.client_id.clone(),
            self.client_secret.clone(),
            self.redis.clone(),
            self.portal_key.clone(),
            self.method.clone(),
            self.calls.to_string(),
            self.concurrency.to_string(),
            self.rate.burst.to_string(),
            self.rate.per_second.to_string(),
            self.shared_limits.to_string(),
            self.lease.as_millis().to_string(),
        ];
        if let Some((stall, marker)) = &self.stall {
            args.push(match stall {
                Stall::AfterLock => "after-lock".into(),
                Stall::AfterSave => "after-save".into(),
            });
            args.push(marker.display().to_string());
        }
        args
    }

    /// Reads [`Config::args`] back.
    pub fn parse(args: &[String]) -> Result<Config, String> {
        let at = |i: usize| args.get(i).cloned().ok_or(format!("argument {i} missing"));
        let number = |i: usize| -> Result<f64, String> {
            at(i)?.parse().map_err(|e| format!("argument {i}: {e}"))
        };
        let stall = match args.get(13).map(String::as_str) {
            None => None,
            Some("after-lock") => Some((Stall::AfterLock, PathBuf::from(at(14)?))),
            Some("after-save") => Some((Stall::AfterSave, PathBuf::from(at(14)?))),
            Some(other) => return Err(format!("unknown stall {other}")),
        };
        Ok(Config {
            portal: at(0)?,
            token_url: at(1)?,
            client_id: at(2)?,
            client_secret: at(3)?,
            redis: at(4)?,
            portal_key: at(5)?,
            method: at(6)?,
            calls: number(7)? as u64,
            concurrency: (number(8)? as u64).max(1),
            rate: RateLimit::new(number(9)? as u32, number(10)?),
            shared_limits: at(11)? == "true",
            lease: Duration::from_millis(number(12)? as u64),
            stall,
        })
    }
}

/// What a replica did (its stdout, one JSON line).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Calls that succeeded.
    pub ok: u64,
    /// Calls that failed, and the first few errors.
    pub failed: u64,
    /// Up to five errors, as shown.
    pub errors: Vec<String>,
    /// Renewals this replica made.
    pub renewals: u64,
    /// From the first call to the last answer.
    pub elapsed: Duration,
}

impl Summary {
    /// The JSON line.
    pub fn to_json(&self) -> String {
        json!({
            "ok": self.ok,
            "failed": self.failed,
            "errors": self.errors,
            "renewals": self.renewals,
            "elapsed_us": self.elapsed.as_micros() as u64,
        })
        .to_string()
    }

    /// Reads the JSON line back.
    pub fn from_json(line: &str) -> Option<Summary> {
        let v: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
        Some(Summary {
            ok: v["ok"].as_u64()?,
            failed: v["failed"].as_u64()?,
            errors: v["errors"]
                .as_array()?
                .iter()
                .filter_map(|e| e.as_str().map(str::to_owned))
                .collect(),
            renewals: v["renewals"].as_u64()?,
            elapsed: Duration::from_micros(v["elapsed_us"].as_u64()?),
        })
    }
}

/// Writes the marker, then never returns.
async fn stall_here(marker: &std::path::Path) -> ! {
    let _ = std::fs::write(marker, std::process::id().to_string());
    loop {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}

/// A lock that stalls its holder once it has the lock.
struct StallAfterLock {
    inner: RedisRenewalLock,
    marker: PathBuf,
}

impl RenewalLock for StallAfterLock {
    fn try_acquire(&self) -> BoxFuture<'_, Result<Option<Lease>, StoreError>> {
        Box::pin(async move {
            let lease = self.inner.try_acquire().await?;
            if lease.is_some() {
                stall_here(&self.marker).await;
            }
            Ok(lease)
        })
    }
    fn release<'a>(&'a self, lease: &'a Lease) -> BoxFuture<'a, Result<(), StoreError>> {
        self.inner.release(lease)
    }
    fn lease(&self) -> Duration {
        self.inner.lease()
    }
}

/// A store that stalls once it has saved a pair.
struct StallAfterSave {
    inner: RedisTokenStore,
    marker: PathBuf,
}

impl TokenStore for StallAfterSave {
    fn save<'a>(&'a self, tokens: &'a TokenPair) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.inner.save(tokens).await?;
            stall_here(&self.marker).await
        })
    }
    fn load(&self) -> BoxFuture<'_, Result<Option<TokenPair>, StoreError>> {
        self.inner.load()
    }
}

/// Runs a replica.
pub async fn run(config: &Config) -> Result<Summary, String> {
    let conn = connect(&config.redis)
        .await
        .map_err(|e| format!("redis: {e}"))?;
    let store = RedisTokenStore::new(conn.clone(), &config.portal_key);
    let tokens = store
        .current()
        .await
        .map_err(|e| format!("loading the pair: {e}"))?
        .ok_or("no token pair in the store")?;
    let lock = RedisRenewalLock::new(conn.clone(), &config.portal_key).with_lease(config.lease);
    let (store, lock): (Arc<dyn TokenStore>, Arc<dyn RenewalLock>) = match &config.stall {
        Some((Stall::AfterLock, marker)) => (
            Arc::new(store),
            Arc::new(StallAfterLock {
                inner: lock,
                marker: marker.clone(),
            }),
        ),
        Some((Stall::AfterSave, marker)) => (
            Arc::new(StallAfterSave {
                inner: store,
                marker: marker.clone(),
            }),
            Arc::new(lock),
        ),
        None => (Arc::new(store), Arc::new(lock)),
    };
    let app = OAuthApp::new(&config.client_id, &config.client_secret)
        .token_url(&config.token_url)
        .map_err(|e| e.to_string())?;
    let mut builder = Client::builder()
        .oauth_renewing(&config.portal, tokens, app)
        .token_store(store)
        .renewal_lock(lock)
        .portal_key(&config.portal_key)
        .rate_limit(config.rate);
    if config.shared_limits {
        builder = builder.limit_backend(Arc::new(RedisLimits::new(conn)));
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers = (0..config.concurrency).map(|_| {
        let (client, next, method, calls) = (
            client.clone(),
            Arc::clone(&next),
            config.method.clone(),
            config.calls,
        );
        tokio::spawn(async move {
            let mut out = Summary::default();
            while next.fetch_add(1, Ordering::SeqCst) < calls {
                match client.call_raw(&method, &json!({})).await {
                    Ok(_) => out.ok += 1,
                    Err(e) => {
                        out.failed += 1;
                        if out.errors.len() < 5 {
                            out.errors.push(e.to_string());
                        }
                    }
                }
            }
            out
        })
    });
    let mut summary = Summary::default();
    for worker in b24::exports::futures::future::join_all(workers).await {
        let part = worker.map_err(|e| e.to_string())?;
        summary.ok += part.ok;
        summary.failed += part.failed;
        summary.errors.extend(part.errors);
    }
    summary.elapsed = started.elapsed();
    summary.errors.truncate(5);
    if let b24::Credentials::Renewing(session) = client.credentials() {
        summary.renewals = session.renewals();
    }
    Ok(summary)
}

/// The `replica` binary: arguments as [`Config::args`] makes them; prints the summary; exits 1
/// when a call failed, 2 on bad arguments or setup.
pub fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    main_with(&args)
}

/// [`main`] with the arguments given (for a binary that runs replicas of itself).
pub fn main_with(args: &[String]) -> std::process::ExitCode {
    let config = match Config::parse(args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("replica: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(&config)) {
        Ok(summary) => {
            println!("{}", summary.to_json());
            if summary.failed == 0 {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("replica: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
