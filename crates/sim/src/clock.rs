//! Time sources: the real clock, and a manual clock tests move forward without sleeping.

use std::{
    sync::{Mutex, PoisonError},
    time::Duration,
};

use chrono::{DateTime, Utc};

/// Where the simulator reads "now". Every state (job status, run progress) is derived
/// from this, so an injected clock drives a whole lifecycle deterministically.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to, for tests that walk through a run's lifecycle
/// instantly. Share it as `Arc<ManualClock>` and pass a clone to
/// [`Simulator::with_clock`](crate::Simulator::with_clock).
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// A clock stopped at 2026-04-20T10:15:30Z, the guide's example instant.
    pub fn at_example_time() -> Self {
        let start = DateTime::from_timestamp(1_776_680_130, 0).unwrap_or_default();
        Self::new(start)
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let step = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = now.checked_add_signed(step).unwrap_or(*now);
    }

    /// Moves the clock to `at` (backwards too, for tests that need it).
    pub fn set(&self, at: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::at_example_time()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::at_example_time();
        let start = clock.now();
        assert_eq!(start.to_rfc3339(), "2026-04-20T10:15:30+00:00");
        clock.advance(Duration::from_millis(1500));
        assert_eq!((clock.now() - start).num_milliseconds(), 1500);
        clock.set(start);
        assert_eq!(clock.now(), start);
    }
}
