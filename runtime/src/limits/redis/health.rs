//! Whether the limits ask Redis: after a command fails (Redis down, or hung until the command's
//! timeout), calls keep to their process's own state for a pause that doubles with each failure
//! in a row (from [`FIRST_PAUSE`] to [`LONGEST_PAUSE`]); then one call asks Redis again (a probe)
//! while the others go on without it. A hung Redis costs one command timeout per pause, not one
//! per call.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ::redis::RedisError;

use super::RedisLimits;

/// The pause after the first failure.
pub(super) const FIRST_PAUSE: Duration = Duration::from_millis(250);
/// The longest pause, however many failures in a row.
pub(super) const LONGEST_PAUSE: Duration = Duration::from_secs(30);

/// Shared by every limit of one [`RedisLimits`] (they share its connection).
#[derive(Debug)]
pub(super) struct Health {
    epoch: Instant,
    /// Milliseconds after `epoch` (plus one) before which Redis is not asked; 0 while it answers.
    retry_at: AtomicU64,
    /// Failures in a row.
    failures: AtomicU32,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            epoch: Instant::now(),
            retry_at: AtomicU64::new(0),
            failures: AtomicU32::new(0),
        }
    }
}

impl Health {
    /// Never 0 (which means "answers").
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1)
    }

    /// Whether this call may ask Redis, and how: always while it answers ([`Ask::Normal`]);
    /// during a pause, no; after it, one caller (the first to ask) probes ([`Ask::Probe`]), and
    /// the others wait for its outcome (as long as a command may take) before probing in turn.
    pub(super) fn may_ask(&self) -> Option<Ask> {
        let retry_at = self.retry_at.load(Ordering::Relaxed);
        if retry_at == 0 {
            return Some(Ask::Normal);
        }
        let now = self.now();
        if now < retry_at {
            return None;
        }
        let probe_ends = now.saturating_add(command_timeout_ms()).saturating_add(1);
        self.retry_at
            .compare_exchange(retry_at, probe_ends, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
            .then_some(Ask::Probe)
    }

    /// A command failed: pause asking Redis. The calls in flight when Redis went away fail
    /// together: the first of them starts the pause and the others change nothing; a failed
    /// probe doubles it. Warns at the first failure in a row.
    pub(super) fn failed(&self, ask: Ask, what: &str, error: &RedisError) {
        let failures = match ask {
            Ask::Normal => {
                let pause_ends = self.now().saturating_add(millis(FIRST_PAUSE));
                if self
                    .retry_at
                    .compare_exchange(0, pause_ends, Ordering::Relaxed, Ordering::Relaxed)
                    .is_err()
                {
                    return;
                }
                self.failures.store(1, Ordering::Relaxed);
                1
            }
            Ask::Probe => {
                let failures = self
                    .failures
                    .fetch_add(1, Ordering::Relaxed)
                    .saturating_add(1);
                let pause_ends = self.now().saturating_add(millis(pause_after(failures)));
                self.retry_at.store(pause_ends, Ordering::Relaxed);
                failures
            }
        };
        if failures == 1 {
            tracing::warn!(%error, "{what}: Redis failed, using this process's own state until it answers");
        } else {
            tracing::debug!(%error, failures, "{what}: Redis failed again");
        }
    }

    /// A command succeeded. A probe's answer ends the pause: every call asks Redis again (and
    /// the recovery is logged). An answer to a command sent before a pause began says nothing
    /// about Redis now and changes nothing.
    pub(super) fn answered(&self, ask: Ask, what: &str) {
        if ask == Ask::Normal {
            return;
        }
        self.retry_at.store(0, Ordering::Relaxed);
        if self.failures.swap(0, Ordering::Relaxed) > 0 {
            tracing::info!("{what}: Redis answers again");
        }
    }
}

/// How a call asks Redis (from [`Health::may_ask`]), told back with its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ask {
    /// Redis answers: every call asks.
    Normal,
    /// The one call that asks after a pause.
    Probe,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn command_timeout_ms() -> u64 {
    millis(RedisLimits::COMMAND_TIMEOUT)
}

/// [`FIRST_PAUSE`] doubled for each failure after the first, at most [`LONGEST_PAUSE`].
fn pause_after(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST_PAUSE
        .saturating_mul(1 << doublings)
        .min(LONGEST_PAUSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error() -> RedisError {
        RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
    }

    #[test]
    fn pauses_double_up_to_the_longest() {
        let pauses: Vec<u64> = [1, 2, 3, 4, 8, 9, 1000, u32::MAX]
            .into_iter()
            .map(|n| pause_after(n).as_millis() as u64)
            .collect();
        assert_eq!(
            pauses,
            [250, 500, 1000, 2000, 30_000, 30_000, 30_000, 30_000]
        );
    }

    #[test]
    fn after_a_failure_nobody_asks_until_the_pause_ends_then_one_probes() {
        let health = Health::default();
        assert!(
            health.may_ask().is_some() && health.may_ask().is_some(),
            "answers: everyone asks"
        );
        health.failed(Ask::Normal, "test", &error());
        assert!(health.may_ask().is_none(), "in the pause");
        // The other calls in flight when Redis went away fail too, and answers to commands sent
        // before: neither counts.
        health.failed(Ask::Normal, "test", &error());
        health.answered(Ask::Normal, "test");
        assert_eq!(health.failures.load(Ordering::Relaxed), 1);
        assert!(health.may_ask().is_none(), "still in the first pause");
        std::thread::sleep(FIRST_PAUSE + Duration::from_millis(50));
        assert_eq!(
            health.may_ask(),
            Some(Ask::Probe),
            "the first after the pause probes"
        );
        assert!(health.may_ask().is_none(), "the others wait for the probe");
        health.failed(Ask::Probe, "test", &error());
        assert_eq!(health.failures.load(Ordering::Relaxed), 2);
        assert!(health.may_ask().is_none(), "a longer pause");
        std::thread::sleep(2 * FIRST_PAUSE + Duration::from_millis(50));
        assert_eq!(health.may_ask(), Some(Ask::Probe));
        health.answered(Ask::Probe, "test");
        assert!(
            health.may_ask() == Some(Ask::Normal) && health.may_ask() == Some(Ask::Normal),
            "answers again: everyone asks"
        );
        assert_eq!(health.failures.load(Ordering::Relaxed), 0);
    }
}
