//! The portal clock: portal time runs `scale` times faster than real time.
//!
//! Only durations are scaled (the drain rate of the leaky bucket, the operating-time baskets, token
//! lifetimes); the instants the emulator reports (`time.start`, `operating_reset_at`, `expires`) are
//! real unix times. A portal second lasts `1 / scale` real seconds.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The smallest accepted scale.
const MIN_SCALE: f64 = 1e-3;
/// The largest accepted scale.
const MAX_SCALE: f64 = 1e6;

/// How fast portal time runs compared with real time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Clock {
    scale: f64,
}

impl Default for Clock {
    fn default() -> Self {
        Self { scale: 1.0 }
    }
}

impl Clock {
    /// A clock running `scale` times faster than real time; the scale is clamped to
    /// `0.001..=1_000_000` and a NaN is read as 1.
    pub(crate) fn new(scale: f64) -> Self {
        let scale = if scale.is_nan() {
            1.0
        } else {
            scale.clamp(MIN_SCALE, MAX_SCALE)
        };
        Self { scale }
    }

    /// The scale.
    pub(crate) fn scale(self) -> f64 {
        self.scale
    }

    /// The real duration of `portal_seconds` (zero for negative or NaN, saturating).
    pub(crate) fn real(self, portal_seconds: f64) -> Duration {
        let seconds = portal_seconds / self.scale;
        if seconds.is_nan() || seconds <= 0.0 {
            return Duration::ZERO;
        }
        Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
    }

    /// The portal seconds that pass during a real duration.
    pub(crate) fn portal_seconds(self, real: Duration) -> f64 {
        real.as_secs_f64() * self.scale
    }

    /// Portal seconds since the Unix epoch at the real instant `at` (for minute baskets).
    pub(crate) fn portal_timestamp(self, at: SystemTime) -> f64 {
        unix_seconds(at) * self.scale
    }
}

/// Real seconds since the Unix epoch (0 before it).
pub(crate) fn unix_seconds(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// `at + duration`, saturating at a far-future instant instead of overflowing.
pub(crate) fn later(at: SystemTime, duration: Duration) -> SystemTime {
    at.checked_add(duration)
        .or_else(|| UNIX_EPOCH.checked_add(Duration::from_secs(1 << 40)))
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_durations_both_ways() {
        let clock = Clock::new(100.0);
        assert_eq!(clock.real(600.0), Duration::from_secs(6));
        assert!((clock.portal_seconds(Duration::from_millis(10)) - 1.0).abs() < 1e-9);
        assert_eq!(clock.real(-1.0), Duration::ZERO);
        assert_eq!(clock.real(f64::NAN), Duration::ZERO);
        assert_eq!(Clock::new(1e-300).real(f64::MAX), Duration::MAX);
    }

    #[test]
    fn scale_is_clamped() {
        assert_eq!(Clock::new(f64::NAN).scale(), 1.0);
        assert_eq!(Clock::new(0.0).scale(), MIN_SCALE);
        assert_eq!(Clock::new(f64::INFINITY).scale(), MAX_SCALE);
    }

    #[test]
    fn later_saturates() {
        let now = SystemTime::now();
        assert!(later(now, Duration::MAX) > now);
        assert_eq!(
            later(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
    }
}
