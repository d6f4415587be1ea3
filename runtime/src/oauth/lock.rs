//! [`RenewalLock`]: one renewal at a time across processes, with a lease (see the type's docs).

use std::fmt;
use std::time::Duration;

use futures::future::BoxFuture;

use super::StoreError;

/// Proof of holding a [`RenewalLock`]: a random value only its holder knows.
#[derive(Clone, PartialEq, Eq)]
pub struct Lease(String);

impl Lease {
    /// A new random lease value (128 bits and the process id).
    pub fn random() -> Self {
        Lease(format!(
            "{:016x}{:016x}-{}",
            fastrand::u64(..),
            fastrand::u64(..),
            std::process::id()
        ))
    }

    /// The value, to store with the lock.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Lease(..)")
    }
}

/// A lock that one process at a time holds to renew a portal's tokens, for at most a lease.
///
/// Within one process, calls that meet an expired token already share one renewal. Several
/// processes (replicas of one application on one portal) need more: the OAuth server rotates the
/// refresh token, so when two of them renew with the same one, the second gets `invalid_grant`.
/// With a lock (given with [`ClientBuilder::renewal_lock`](crate::ClientBuilder::renewal_lock))
/// and a [`TokenStore`](super::TokenStore) shared by the processes, a renewal goes:
///
/// 1. load the store's pair: if another process put a newer pair there, use it, done;
/// 2. try to take the lock; if another process holds it, wait a little and go to 1;
/// 3. holding the lock, load the store once more (a renewal may have ended just before), then
///    renew, save the new pair to the store *before* using it, and release the lock.
///
/// A process that dies holding the lock blocks the others for at most the lease: after it, the
/// lock is free again. If it died after saving, the others already found the pair in step 1; if
/// it died before asking the OAuth server, one of them renews. (If it died between the OAuth
/// server's answer and the save, the new pair died with it: no client can prevent that, and the
/// others get `invalid_grant` until the application is authorized again.)
///
/// The release is checked: a holder whose lease ran out and was taken by another process does
/// not release the other's lock. `oauth::redis::RedisRenewalLock` (feature `redis`) is one.
///
/// ```
/// use std::sync::Mutex;
/// use std::time::Duration;
/// use b24_runtime::oauth::{Lease, RenewalLock, StoreError};
/// use futures::future::BoxFuture;
///
/// /// One process only: a lock in memory (a real one lives where every replica sees it).
/// #[derive(Default)]
/// struct Local(Mutex<Option<Lease>>);
///
/// impl RenewalLock for Local {
///     fn try_acquire(&self) -> BoxFuture<'_, Result<Option<Lease>, StoreError>> {
///         let mut held = self.0.lock().unwrap();
///         let lease = held.is_none().then(Lease::random);
///         if lease.is_some() {
///             *held = lease.clone();
///         }
///         Box::pin(async move { Ok(lease) })
///     }
///     fn release<'a>(&'a self, lease: &'a Lease) -> BoxFuture<'a, Result<(), StoreError>> {
///         let mut held = self.0.lock().unwrap();
///         if held.as_ref() == Some(lease) {
///             *held = None;
///         }
///         Box::pin(async { Ok(()) })
///     }
///     fn lease(&self) -> Duration {
///         Duration::from_secs(60)
///     }
/// }
/// ```
pub trait RenewalLock: Send + Sync + 'static {
    /// Takes the lock for [`lease`](Self::lease) if nobody holds it (`Some`), else `None`.
    fn try_acquire(&self) -> BoxFuture<'_, Result<Option<Lease>, StoreError>>;

    /// Releases the lock if `lease` still holds it (a lease that ran out, whose lock another
    /// process took since, is left alone).
    fn release<'a>(&'a self, lease: &'a Lease) -> BoxFuture<'a, Result<(), StoreError>>;

    /// How long a lease lasts: how long the others wait for a holder that died. Longer than a
    /// renewal takes (the OAuth timeout plus the store's).
    fn lease(&self) -> Duration;
}
