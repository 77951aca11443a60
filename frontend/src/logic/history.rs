//! How a recorded execution (the ledger's `HistoryExecution`) reads to people: what ran,
//! who started it, how it ended. Shared by the history view and the start page's recent
//! runs.

use runboard_shared::{HistoryExecution, Origin};

use crate::logic::jobs::Outcome;

/// What ran: the preset's name, else the selector ("testSuiteId 6804…"), else, for a job
/// started elsewhere, that it was.
pub(crate) fn what(execution: &HistoryExecution) -> String {
    match (&execution.preset, &execution.selector_value) {
        (Some(preset), _) => preset.clone(),
        (None, Some(value)) => format!(
            "{} {value}",
            execution.selector.as_deref().unwrap_or_default()
        ),
        (None, None) => "Run started elsewhere".to_owned(),
    }
}

/// Who started it: "by ana@corp", or "started elsewhere".
pub(crate) fn who(execution: &HistoryExecution) -> String {
    match execution.origin {
        Origin::Runboard => format!("by {}", execution.user),
        Origin::Elsewhere => "started elsewhere".to_owned(),
    }
}

/// How it ended, once the ledger has its counts.
pub(crate) fn outcome(execution: &HistoryExecution) -> Option<Outcome> {
    execution.counts.map(|c| Outcome {
        total: c.total,
        passed: c.passed,
        failed: c.failed,
        duration_ms: execution.duration_ms,
    })
}

#[cfg(test)]
mod tests {
    use runboard_shared::HistoryCounts;

    use super::*;

    fn execution() -> HistoryExecution {
        HistoryExecution {
            job_id: Some("j".to_owned()),
            test_run_id: None,
            user: "ana@corp".to_owned(),
            started_at: "2026-12-06T10:00:00Z".to_owned(),
            status: "Failed".to_owned(),
            finished: true,
            counts: Some(HistoryCounts {
                passed: 34,
                failed: 2,
                skipped: 0,
                total: 36,
            }),
            duration_ms: Some(252_000),
            preset: None,
            origin: Origin::Runboard,
            selector: Some("testSuiteId".to_owned()),
            selector_value: Some("s1".to_owned()),
            agent: None,
            finished_at: None,
            blocking: None,
        }
    }

    #[test]
    fn an_execution_says_what_ran_who_started_it_and_how_it_ended() {
        let mut e = execution();
        assert_eq!(what(&e), "testSuiteId s1");
        assert_eq!(who(&e), "by ana@corp");
        assert_eq!(outcome(&e).map(|o| o.failed), Some(2));
        e.preset = Some("Smoke".to_owned());
        assert_eq!(what(&e), "Smoke");
        e.origin = Origin::Elsewhere;
        e.preset = None;
        e.selector_value = None;
        assert_eq!(what(&e), "Run started elsewhere");
        assert_eq!(who(&e), "started elsewhere");
        e.counts = None;
        assert_eq!(outcome(&e), None);
    }
}
