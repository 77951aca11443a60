//! The status board (issue 21): for each project, from one page of its history, each
//! preset's last finished run, the run going on now if any, and its trend; which
//! verdicts to read for them (only the runs shown); and how often the board refreshes.

use runboard_shared::{HistoryCounts, HistoryExecution, JobStatus, Verdict};

use crate::logic::{
    time::parse_iso_ms,
    trend::{self, Point},
};

/// Executions read per project at each refresh: one history page, newest first. A
/// preset not run among a project's last this many runs shows no last run.
pub(crate) const HISTORY_LIMIT: usize = 100;
/// The board refreshes this often…
pub(crate) const REFRESH_MS: u64 = 30_000;
/// …and this often while a run it shows is going on.
pub(crate) const LIVE_REFRESH_MS: u64 = 5_000;

/// One run a tile shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shown {
    /// Its run (the report and verdict), once the ledger knows it.
    pub(crate) run_id: Option<String>,
    /// Its job.
    pub(crate) job_id: Option<String>,
    /// When it ended, or else when it started (epoch ms): "2 h ago".
    pub(crate) at_ms: Option<i64>,
    /// The job's status as the ledger last saw it.
    pub(crate) status: String,
    /// Its final counts, once finished (what the tile says without a verdict).
    pub(crate) counts: Option<HistoryCounts>,
}

/// One preset of a project on the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tile {
    /// The preset's name.
    pub(crate) preset: String,
    /// Its newest finished run.
    pub(crate) last: Option<Shown>,
    /// A newer run still going on.
    pub(crate) live: Option<Shown>,
    /// Its last finished runs' pass rates, oldest first (two or more), for the
    /// sparkline.
    pub(crate) trend: Option<Vec<Point>>,
}

impl Tile {
    /// The runs whose verdicts the tile shows: the last finished one, and the live one.
    pub(crate) fn runs(&self) -> impl Iterator<Item = &str> {
        [&self.last, &self.live]
            .into_iter()
            .filter_map(|s| s.as_ref()?.run_id.as_deref())
    }
}

/// Whether the ledger still expects `execution` to move: not finished, and not in one of
/// Runboard's own states of a start that never became a job (`Unconfirmed`, `Missing`)
/// or a documented final status.
fn going_on(execution: &HistoryExecution) -> bool {
    if execution.finished {
        return false;
    }
    match JobStatus::parse(&execution.status) {
        JobStatus::Other(s) => s == "Starting",
        status => !status.is_terminal(),
    }
}

fn shown(execution: &HistoryExecution) -> Shown {
    let at = execution
        .finished_at
        .as_deref()
        .unwrap_or(&execution.started_at);
    Shown {
        run_id: execution.test_run_id.clone(),
        job_id: execution.job_id.clone(),
        at_ms: parse_iso_ms(at),
        status: execution.status.clone(),
        counts: execution.counts,
    }
}

/// The tiles of one project: one per preset, in the configuration's order, from its
/// history page (newest first).
pub(crate) fn tiles(presets: &[String], executions: &[HistoryExecution]) -> Vec<Tile> {
    presets
        .iter()
        .map(|preset| {
            let runs: Vec<HistoryExecution> = executions
                .iter()
                .filter(|e| e.preset.as_deref() == Some(preset.as_str()))
                .cloned()
                .collect();
            let last_at = runs.iter().position(|e| e.finished);
            let live = runs
                .iter()
                .take(last_at.unwrap_or(runs.len()))
                .find(|e| going_on(e))
                .map(shown);
            Tile {
                preset: preset.clone(),
                last: last_at.map(|i| shown(&runs[i])),
                live,
                trend: trend::points(&runs),
            }
        })
        .collect()
}

/// The run ids whose verdicts a board of `tiles` needs, each once.
pub(crate) fn verdicts_wanted<'a>(tiles: impl IntoIterator<Item = &'a Tile>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for run in tiles.into_iter().flat_map(Tile::runs) {
        if !out.iter().any(|r| r == run) {
            out.push(run.to_owned());
        }
    }
    out
}

/// How long until the next refresh: quicker while a run is going on.
pub(crate) fn refresh_ms<'a>(tiles: impl IntoIterator<Item = &'a Tile>) -> u64 {
    if tiles.into_iter().any(|t| t.live.is_some()) {
        LIVE_REFRESH_MS
    } else {
        REFRESH_MS
    }
}

/// A tile's verdict in a few words: the server's verdict when known ("1 blocking", "No
/// blocking failures"), else the ledger's counts ("2 of 36 failed"). With the outcome
/// (`passed`, `failed`, `other`) for the tile's colour and `data-outcome`.
pub(crate) fn tile_words(
    verdict: Option<&Verdict>,
    counts: Option<HistoryCounts>,
) -> (&'static str, String, &'static str) {
    use runboard_shared::VerdictStatus::{Failed, Passed};
    match (verdict.map(|v| (v.status, v.blocking, v.counts)), counts) {
        (Some((Failed, blocking, _)), _) => ("✕", format!("{blocking} blocking"), "failed"),
        (Some((Passed, _, c)), _) if c.failed > 0 => {
            ("✓", "No blocking failures".to_owned(), "passed")
        }
        (Some((Passed, _, c)), _) if c.total > 0 && c.passed == c.total => {
            ("✓", format!("All {} passed", c.total), "passed")
        }
        (Some((Passed, _, c)), _) if c.total > 0 => {
            ("✓", format!("{} of {} passed", c.passed, c.total), "passed")
        }
        (_, Some(c)) if c.failed > 0 => {
            ("✕", format!("{} of {} failed", c.failed, c.total), "failed")
        }
        (_, Some(c)) if c.total > 0 && c.passed + c.skipped == c.total => {
            ("✓", format!("{} of {} passed", c.passed, c.total), "passed")
        }
        (_, Some(c)) if c.total > 0 => {
            ("?", format!("{} of {} passed", c.passed, c.total), "other")
        }
        (Some((Passed, _, _)), _) | (_, Some(_)) => ("–", "No tests ran".to_owned(), "other"),
        _ => ("○", "No result yet".to_owned(), "other"),
    }
}

/// How far a live run is: tests done and in all, from its verdict.
pub(crate) fn progress(verdict: &Verdict) -> (u64, u64) {
    let c = verdict.counts;
    (c.passed + c.failed + c.skipped, c.total)
}

/// The same in whole percent, rounded down (0 without tests).
pub(crate) fn percent((done, total): (u64, u64)) -> u64 {
    (done.min(total) * 100).checked_div(total).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use runboard_shared::{HistoryCounts, Origin, VerdictCounts, VerdictStatus};

    use super::*;

    fn run(preset: &str, run: &str, status: &str, finished: bool, passed: u64) -> HistoryExecution {
        HistoryExecution {
            job_id: Some(format!("j-{run}")),
            test_run_id: Some(run.to_owned()),
            user: "ana@corp".to_owned(),
            started_at: "2026-12-07T10:00:00Z".to_owned(),
            status: status.to_owned(),
            finished,
            counts: finished.then_some(HistoryCounts {
                passed,
                failed: 10 - passed,
                skipped: 0,
                total: 10,
            }),
            duration_ms: Some(1_000),
            preset: Some(preset.to_owned()),
            origin: Origin::Runboard,
            selector: Some("testSuiteId".to_owned()),
            selector_value: Some("s".to_owned()),
            agent: None,
            finished_at: finished.then(|| "2026-12-07T10:05:00Z".to_owned()),
            blocking: None,
        }
    }

    fn names(presets: &[&str]) -> Vec<String> {
        presets.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn each_preset_shows_its_last_finished_run_and_a_newer_live_one() {
        // Newest first, as the history answers.
        let history = [
            run("Smoke", "r5", "InProgress", false, 0),
            run("Full", "r4", "Failed", true, 8),
            run("Smoke", "r3", "Success", true, 10),
            run("Full", "r2", "Success", true, 10),
            run("Smoke", "r1", "Failed", true, 9),
        ];
        let tiles = tiles(&names(&["Full", "Smoke", "Nightly"]), &history);
        assert_eq!(tiles.len(), 3);
        let (full, smoke, nightly) = (&tiles[0], &tiles[1], &tiles[2]);
        assert_eq!(full.preset, "Full");
        assert_eq!(
            full.last.as_ref().and_then(|s| s.run_id.as_deref()),
            Some("r4")
        );
        assert_eq!(full.live, None);
        assert_eq!(
            full.last.as_ref().and_then(|s| s.at_ms),
            parse_iso_ms("2026-12-07T10:05:00Z")
        );
        let pass: Vec<u64> = full
            .trend
            .iter()
            .flatten()
            .map(|p| p.pass_permille)
            .collect();
        assert_eq!(pass, [1000, 800], "oldest first");
        assert_eq!(
            smoke.last.as_ref().and_then(|s| s.run_id.as_deref()),
            Some("r3")
        );
        assert_eq!(
            smoke.live.as_ref().and_then(|s| s.run_id.as_deref()),
            Some("r5")
        );
        assert_eq!(
            smoke.live.as_ref().and_then(|s| s.at_ms),
            parse_iso_ms("2026-12-07T10:00:00Z"),
            "a live run is as old as its start"
        );
        assert_eq!(
            (
                nightly.last.as_ref(),
                nightly.live.as_ref(),
                nightly.trend.as_ref()
            ),
            (None, None, None)
        );
        assert_eq!(verdicts_wanted(&tiles), ["r4", "r3", "r5"]);
        assert_eq!(refresh_ms(&tiles), LIVE_REFRESH_MS);
        assert_eq!(refresh_ms(&tiles[..1]), REFRESH_MS);
    }

    #[test]
    fn only_runs_that_can_still_move_are_live() {
        let mut starting = run("Smoke", "r9", "Starting", false, 0);
        starting.test_run_id = None;
        for (status, live) in [
            ("Pending", true),
            ("PendingAgentConnection", true),
            ("InProgress", true),
            ("Starting", true),
            ("Unconfirmed", false),
            ("Missing", false),
            ("Failed", false),
            ("Cancelled", false),
        ] {
            let history = [
                run("Smoke", "r2", status, false, 0),
                run("Smoke", "r1", "Success", true, 10),
            ];
            let tile = &tiles(&names(&["Smoke"]), &history)[0];
            assert_eq!(tile.live.is_some(), live, "{status}");
        }
        // A run older than the last finished one is not live (a stale row).
        let history = [
            run("Smoke", "r2", "Success", true, 10),
            run("Smoke", "r1", "InProgress", false, 0),
        ];
        assert_eq!(tiles(&names(&["Smoke"]), &history)[0].live, None);
        // A start without a run yet is live, but has no verdict to read.
        let tile = &tiles(&names(&["Smoke"]), &[starting])[0];
        assert!(tile.live.is_some() && tile.last.is_none());
        assert!(verdicts_wanted([tile]).is_empty());
    }

    #[test]
    fn a_tile_says_the_verdict_else_the_counts() {
        let counts = |passed, failed, total| HistoryCounts {
            passed,
            failed,
            skipped: total - passed - failed,
            total,
        };
        let verdict = |status, blocking, failed| Verdict {
            run_id: "r".to_owned(),
            status,
            blocking,
            counts: VerdictCounts {
                total: 36,
                passed: 36 - failed,
                failed,
                ..VerdictCounts::default()
            },
            failures: Vec::new(),
        };
        let words = |v: Option<&Verdict>, c| {
            let (icon, text, outcome) = tile_words(v, c);
            format!("{icon} {text} ({outcome})")
        };
        let c = Some(counts(34, 2, 36));
        assert_eq!(
            words(Some(&verdict(VerdictStatus::Failed, 1, 2)), c),
            "✕ 1 blocking (failed)"
        );
        assert_eq!(
            words(Some(&verdict(VerdictStatus::Passed, 0, 2)), c),
            "✓ No blocking failures (passed)"
        );
        assert_eq!(
            words(Some(&verdict(VerdictStatus::Passed, 0, 0)), None),
            "✓ All 36 passed (passed)"
        );
        // A verdict the server has not settled, or none: the ledger's counts.
        assert_eq!(
            words(Some(&verdict(VerdictStatus::Running, 2, 2)), c),
            "✕ 2 of 36 failed (failed)"
        );
        assert_eq!(words(None, c), "✕ 2 of 36 failed (failed)");
        assert_eq!(
            words(None, Some(counts(30, 0, 36))),
            "✓ 30 of 36 passed (passed)"
        );
        assert_eq!(words(None, Some(counts(0, 0, 0))), "– No tests ran (other)");
        assert_eq!(words(None, None), "○ No result yet (other)");
    }

    #[test]
    fn a_live_runs_progress_comes_from_its_verdict() {
        let verdict = Verdict {
            run_id: "r".to_owned(),
            status: VerdictStatus::Running,
            blocking: 0,
            counts: VerdictCounts {
                total: 36,
                passed: 10,
                failed: 1,
                skipped: 1,
                ..VerdictCounts::default()
            },
            failures: Vec::new(),
        };
        assert_eq!(progress(&verdict), (12, 36));
        assert_eq!(percent((12, 36)), 33);
        assert_eq!(percent((0, 0)), 0);
        assert_eq!(percent((40, 36)), 100);
    }
}
