//! The poll and backoff state machine: when to ask again after a success, a failure, the
//! tab being hidden or shown. The browser driver (`crate::poller`) only executes its
//! decisions, so the timing rules are tested here.

/// The longest wait between two attempts after repeated failures.
pub(crate) const MAX_BACKOFF_MS: u64 = 30_000;

/// What the driver should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Ask now.
    Now,
    /// Ask again after this many milliseconds.
    After(u64),
    /// Wait until the tab is visible again.
    Paused,
    /// Never ask again: the thing watched is finished, or the failure will not heal.
    Stopped,
}

/// What a failure allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Asking again cannot help (a refusal, a lost start, a missing run).
    Never,
    /// Ask again after the usual, growing backoff.
    Backoff,
    /// The server said how long to wait (`Retry-After`), in milliseconds.
    After(u64),
}

/// The state of one polling loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PollMachine {
    interval_ms: u64,
    failures: u32,
    hidden: bool,
    stopped: bool,
    /// When the server's last `Retry-After` ends (epoch ms): showing the tab again does
    /// not ask sooner.
    not_before_ms: Option<i64>,
}

impl PollMachine {
    /// A loop that asks every `interval_ms` (at least 250 ms) while all goes well.
    pub(crate) fn new(interval_ms: u64, hidden: bool) -> Self {
        Self {
            interval_ms: interval_ms.max(250),
            failures: 0,
            hidden,
            stopped: false,
            not_before_ms: None,
        }
    }

    /// The first decision, when the loop starts.
    pub(crate) fn start(&self) -> Next {
        if self.hidden { Next::Paused } else { Next::Now }
    }

    /// An answer arrived; `finished` says the watched thing will not change any more.
    pub(crate) fn on_success(&mut self, finished: bool) -> Next {
        self.failures = 0;
        self.not_before_ms = None;
        if finished {
            self.stopped = true;
        }
        self.wait(self.interval_ms)
    }

    /// An attempt failed at `now_ms`; `retry` says whether trying again can help, and
    /// when. A server's `Retry-After` is waited exactly (but never less than 250 ms),
    /// also across the tab being hidden and shown; it still counts as a failure for the
    /// backoff that follows.
    pub(crate) fn on_failure(&mut self, retry: Retry, now_ms: i64) -> Next {
        self.failures = self.failures.saturating_add(1);
        self.not_before_ms = None;
        match retry {
            Retry::Never => {
                self.stopped = true;
                self.wait(0)
            }
            Retry::Backoff => self.wait(self.backoff_ms()),
            Retry::After(ms) => {
                let ms = ms.max(250);
                self.not_before_ms = Some(now_ms.saturating_add(ms as i64));
                self.wait(ms)
            }
        }
    }

    /// The wait after the current number of failures: the interval doubled per failure,
    /// capped at [`MAX_BACKOFF_MS`] (or the interval, when that is longer).
    pub(crate) fn backoff_ms(&self) -> u64 {
        let factor = 1u64 << self.failures.min(16);
        self.interval_ms
            .saturating_mul(factor)
            .min(MAX_BACKOFF_MS.max(self.interval_ms))
    }

    /// The tab was hidden: stop asking until it is shown.
    pub(crate) fn on_hidden(&mut self) -> Next {
        self.hidden = true;
        if self.stopped {
            Next::Stopped
        } else {
            Next::Paused
        }
    }

    /// The tab was shown again at `now_ms`: refresh at once, or when the server's
    /// `Retry-After` ends.
    pub(crate) fn on_visible(&mut self, now_ms: i64) -> Next {
        self.hidden = false;
        match self.not_before_ms {
            _ if self.stopped => Next::Stopped,
            Some(at) if at > now_ms => Next::After((at - now_ms) as u64),
            _ => Next::Now,
        }
    }

    /// The user pressed "retry now", or the watched thing changed: ask at once, even
    /// after a stop.
    pub(crate) fn on_retry(&mut self) -> Next {
        self.stopped = false;
        if self.hidden { Next::Paused } else { Next::Now }
    }

    fn wait(&self, ms: u64) -> Next {
        match (self.stopped, self.hidden) {
            (true, _) => Next::Stopped,
            (false, true) => Next::Paused,
            (false, false) => Next::After(ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_at_the_interval_until_finished() {
        let mut m = PollMachine::new(2000, false);
        assert_eq!(m.start(), Next::Now);
        assert_eq!(m.on_success(false), Next::After(2000));
        assert_eq!(m.on_success(false), Next::After(2000));
        assert_eq!(m.on_success(true), Next::Stopped);
        assert_eq!(m.on_visible(0), Next::Stopped);
    }

    #[test]
    fn backs_off_on_errors_and_recovers() {
        let mut m = PollMachine::new(2000, false);
        let waits: Vec<Next> = (0..6).map(|_| m.on_failure(Retry::Backoff, 0)).collect();
        assert_eq!(
            waits,
            [4000, 8000, 16_000, 30_000, 30_000, 30_000]
                .map(Next::After)
                .to_vec()
        );
        assert_eq!(m.on_success(false), Next::After(2000));
        assert_eq!(
            m.on_failure(Retry::Backoff, 0),
            Next::After(4000),
            "a success resets the backoff"
        );
    }

    #[test]
    fn long_intervals_are_not_shortened_by_the_cap() {
        let mut m = PollMachine::new(60_000, false);
        assert_eq!(m.on_failure(Retry::Backoff, 0), Next::After(60_000));
        let mut tiny = PollMachine::new(0, false);
        assert_eq!(tiny.on_success(false), Next::After(250));
    }

    #[test]
    fn pauses_while_hidden_and_refreshes_when_shown() {
        let mut m = PollMachine::new(2000, true);
        assert_eq!(m.start(), Next::Paused);
        assert_eq!(m.on_visible(0), Next::Now);
        assert_eq!(m.on_hidden(), Next::Paused);
        assert_eq!(m.on_success(false), Next::Paused);
        assert_eq!(m.on_failure(Retry::Backoff, 0), Next::Paused);
        assert_eq!(m.on_visible(0), Next::Now);
    }

    #[test]
    fn a_servers_retry_after_is_waited_exactly() {
        let mut m = PollMachine::new(2000, false);
        assert_eq!(m.on_failure(Retry::After(12_000), 0), Next::After(12_000));
        assert_eq!(
            m.on_failure(Retry::After(0), 0),
            Next::After(250),
            "never a busy loop"
        );
        assert_eq!(
            m.on_failure(Retry::Backoff, 0),
            Next::After(16_000),
            "the waits counted as failures"
        );
        assert_eq!(m.on_success(false), Next::After(2000));
        let mut hidden = PollMachine::new(2000, true);
        assert_eq!(hidden.on_failure(Retry::After(12_000), 0), Next::Paused);
    }

    #[test]
    fn showing_the_tab_does_not_cut_a_servers_wait_short() {
        let mut m = PollMachine::new(2000, false);
        assert_eq!(
            m.on_failure(Retry::After(12_000), 1_000),
            Next::After(12_000)
        );
        assert_eq!(m.on_hidden(), Next::Paused);
        assert_eq!(
            m.on_visible(5_000),
            Next::After(8_000),
            "the rest of the wait"
        );
        m.on_hidden();
        assert_eq!(m.on_visible(13_000), Next::Now, "the wait is over");
        m.on_hidden();
        assert_eq!(m.on_failure(Retry::Backoff, 13_500), Next::Paused);
        assert_eq!(
            m.on_visible(13_600),
            Next::Now,
            "only the server's wait is kept"
        );
    }

    #[test]
    fn failures_that_cannot_heal_stop_until_retried() {
        let mut m = PollMachine::new(2000, false);
        assert_eq!(m.on_failure(Retry::Never, 0), Next::Stopped);
        assert_eq!(m.on_visible(0), Next::Stopped);
        assert_eq!(m.on_retry(), Next::Now);
        assert_eq!(m.on_success(false), Next::After(2000));
    }
}
