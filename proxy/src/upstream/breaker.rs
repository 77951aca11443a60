//! The circuit breaker: after `breaker_failures` consecutive failed upstream calls,
//! calls are refused for a cool-down instead of hammering a failing platform; then one
//! probe call is let through (half-open), and its outcome closes or reopens the circuit.

use std::{
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use crate::AppError;

/// The breaker's state, shared by every call.
pub(super) struct Breaker {
    threshold: u32,
    cool_down: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    consecutive: u32,
    opened_at: Option<Instant>,
    probing: bool,
}

/// Leave to make one call. Record its outcome with [`Pass::record`]; dropping it
/// unrecorded (the browser went away) frees a half-open probe without judging.
pub(super) struct Pass<'a> {
    breaker: &'a Breaker,
    probe: bool,
}

impl Breaker {
    pub(super) fn new(threshold: u32, cool_down: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cool_down,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Leave to call, or `upstream_circuit_open` with the seconds to wait.
    pub(super) fn admit(&self) -> Result<Pass<'_>, AppError> {
        let mut state = self.lock();
        let Some(opened_at) = state.opened_at else {
            return Ok(Pass {
                breaker: self,
                probe: false,
            });
        };
        let reopens = opened_at + self.cool_down;
        let now = Instant::now();
        if now < reopens {
            return Err(self.open_error(reopens - now));
        }
        if state.probing {
            // Another call is the probe; its outcome decides for everyone.
            return Err(self.open_error(Duration::from_secs(1)));
        }
        state.probing = true;
        Ok(Pass {
            breaker: self,
            probe: true,
        })
    }

    /// `Some(error)` while the circuit is open and cooling down (for `/readyz`).
    pub(super) fn open(&self) -> Option<AppError> {
        let state = self.lock();
        let reopens = state.opened_at? + self.cool_down;
        let now = Instant::now();
        (now < reopens).then(|| self.open_error(reopens - now))
    }

    fn open_error(&self, wait: Duration) -> AppError {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        AppError::UpstreamCircuitOpen(self.threshold, seconds.max(1))
    }
}

impl Pass<'_> {
    /// Counts the call's outcome; returns whether this opened the circuit.
    pub(super) fn record(mut self, failed: bool) -> bool {
        let probe = std::mem::take(&mut self.probe);
        let mut state = self.breaker.lock();
        if probe {
            state.probing = false;
        }
        if !failed {
            *state = State::default();
            return false;
        }
        state.consecutive = state.consecutive.saturating_add(1);
        let opens =
            probe || (state.opened_at.is_none() && state.consecutive >= self.breaker.threshold);
        if opens {
            state.opened_at = Some(Instant::now());
        }
        opens
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        if self.probe {
            self.breaker.lock().probing = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_consecutive_failures_and_a_probe_closes_it() {
        let breaker = Breaker::new(3, Duration::ZERO);
        for _ in 0..2 {
            assert!(!breaker.admit().unwrap().record(true));
        }
        // A success in between starts the count again.
        breaker.admit().unwrap().record(false);
        for _ in 0..2 {
            assert!(!breaker.admit().unwrap().record(true));
        }
        assert!(
            breaker.admit().unwrap().record(true),
            "the third failure opens it"
        );
        // Cool-down zero: half-open at once, one probe at a time.
        let probe = breaker.admit().unwrap();
        assert!(matches!(
            breaker.admit(),
            Err(AppError::UpstreamCircuitOpen(3, 1))
        ));
        assert!(probe.record(true), "a failed probe opens it again");
        breaker.admit().unwrap().record(false);
        assert!(breaker.open().is_none());
        assert!(breaker.admit().is_ok());
    }

    #[test]
    fn an_open_circuit_refuses_until_the_cool_down_ends() {
        let breaker = Breaker::new(1, Duration::from_secs(30));
        assert!(breaker.admit().unwrap().record(true));
        let err = breaker.admit().err().unwrap();
        assert!(matches!(err, AppError::UpstreamCircuitOpen(1, s) if (29..=30).contains(&s)));
        assert!(breaker.open().is_some());
    }

    #[test]
    fn a_dropped_probe_lets_the_next_call_probe() {
        let breaker = Breaker::new(1, Duration::ZERO);
        breaker.admit().unwrap().record(true);
        drop(breaker.admit().unwrap());
        assert!(breaker.admit().is_ok());
    }
}
