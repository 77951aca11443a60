//! When to try a call again: jittered exponential backoff, a few times at most, and only
//! while the call's overall deadline leaves room for another attempt.

use std::time::{Duration, Instant};

use rand::Rng;

/// Retries after the first attempt.
const MAX_RETRIES: u32 = 2;
/// The first wait; each retry doubles it.
const BASE: Duration = Duration::from_millis(100);

/// The waits of one call.
pub(super) struct Backoff {
    retries: u32,
}

impl Backoff {
    pub(super) fn new() -> Self {
        Self { retries: 0 }
    }

    /// How long to wait before the next attempt, or `None` when the call should give up:
    /// retries used up, or the wait and a short attempt would not fit before `deadline`.
    pub(super) fn next(&mut self, deadline: Instant) -> Option<Duration> {
        if self.retries >= MAX_RETRIES {
            return None;
        }
        let cap = BASE * 2u32.pow(self.retries);
        self.retries += 1;
        // "Equal jitter": half fixed, half random, so many browsers retrying after one
        // failure spread out instead of arriving together.
        let wait = cap / 2 + rand::thread_rng().gen_range(Duration::ZERO..=cap / 2);
        (Instant::now() + wait + BASE < deadline).then_some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_stay_jittered_and_stop() {
        let far = Instant::now() + Duration::from_secs(60);
        let mut backoff = Backoff::new();
        let first = backoff.next(far).unwrap();
        let second = backoff.next(far).unwrap();
        assert!((BASE / 2..=BASE).contains(&first), "{first:?}");
        assert!((BASE..=BASE * 2).contains(&second), "{second:?}");
        assert_eq!(backoff.next(far), None, "two retries at most");
        let near = Instant::now() + BASE;
        assert_eq!(
            Backoff::new().next(near),
            None,
            "no retry without time for it"
        );
    }
}
