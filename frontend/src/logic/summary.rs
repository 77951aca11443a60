//! The run header's numbers: counts per status, the stacked bar's proportions, progress,
//! elapsed time, and whether the report is still live.

use runboard_shared::{JobStatus, RunStatus, TestRun, TestStatus};

use crate::logic::time::parse_iso_ms;

/// The summary bar's statuses, in the bar's order.
pub(crate) const BAR_STATUSES: [TestStatus; 5] = [
    TestStatus::Passed,
    TestStatus::Failed,
    TestStatus::Skipped,
    TestStatus::Running,
    TestStatus::Scheduled,
];

/// The run's numbers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Summary {
    /// Count per [`BAR_STATUSES`] entry, same order.
    pub(crate) counts: Vec<(TestStatus, u64)>,
    /// Tests in the run.
    pub(crate) total: u64,
    /// Tests finished (passed, failed or skipped; once the run itself is over, also
    /// those with a label the guide does not document, which will not change any more).
    pub(crate) done: u64,
}

impl Summary {
    /// Reads the server's `statuses`; when it is empty, counts the tests themselves.
    /// Labels the guide does not document ("Blocked") get their own entries after the
    /// documented ones, also when only the tests carry them, so the bar covers every
    /// test.
    pub(crate) fn of(run: &TestRun) -> Self {
        let mut counts: Vec<(TestStatus, u64)> =
            BAR_STATUSES.iter().map(|s| (s.clone(), 0)).collect();
        if run.statuses.is_empty() {
            run.tests
                .iter()
                .for_each(|t| add(&mut counts, &t.status, 1));
        } else {
            run.statuses
                .iter()
                .for_each(|s| add(&mut counts, &s.label, s.count));
            let listed = counts.len();
            for test in &run.tests {
                let documented = BAR_STATUSES.contains(&test.status);
                if !documented && !counts[..listed].iter().any(|(s, _)| s == &test.status) {
                    add(&mut counts, &test.status, 1);
                }
            }
        }
        let known: u64 = counts.iter().map(|(_, n)| n).sum();
        let total = known.max(run.tests.len() as u64);
        let over = !run.status.is_live();
        let done = counts
            .iter()
            .filter(|(s, _)| s.is_finished() || (over && matches!(s, TestStatus::Other(_))))
            .map(|(_, n)| n)
            .sum();
        Self {
            counts,
            total,
            done,
        }
    }

    /// Finished share in whole percent, rounded down so 100 % means really done.
    pub(crate) fn percent_done(&self) -> u64 {
        (self.done * 100).checked_div(self.total).unwrap_or(0)
    }

    /// Each status's share of the bar in percent (0–100, summing to 100 when not empty).
    pub(crate) fn shares(&self) -> Vec<(TestStatus, f64)> {
        let sum: u64 = self.counts.iter().map(|(_, n)| n).sum();
        self.counts
            .iter()
            .map(|(s, n)| {
                (
                    s.clone(),
                    if sum == 0 {
                        0.0
                    } else {
                        *n as f64 * 100.0 / sum as f64
                    },
                )
            })
            .collect()
    }
}

/// The run's outcome in one line, the largest text of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// The icon beside the words.
    pub(crate) icon: &'static str,
    /// "2 of 36 failed", "All 36 passed", "Running · 12 of 36 done".
    pub(crate) text: String,
    /// `passed`, `failed`, `running` or `other`: the element's `data-outcome`.
    pub(crate) outcome: &'static str,
}

impl Summary {
    /// How many tests have `status`.
    pub(crate) fn count(&self, status: &TestStatus) -> u64 {
        self.counts
            .iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n)
    }

    /// The verdict: while `live`, progress; once final, failures first, then passes.
    /// An aborted run or one whose tests did not all pass or skip says how many passed.
    pub(crate) fn verdict(&self, run: &RunStatus, live: bool) -> Verdict {
        let (total, failed, passed) = (
            self.total,
            self.count(&TestStatus::Failed),
            self.count(&TestStatus::Passed),
        );
        let skipped = self.count(&TestStatus::Skipped);
        let (icon, text, outcome) = if live {
            (
                "●",
                format!("Running · {} of {total} done", self.done),
                "running",
            )
        } else if failed > 0 {
            ("✕", format!("{failed} of {total} failed"), "failed")
        } else if matches!(run, RunStatus::Aborted) {
            (
                "✕",
                format!("Aborted · {passed} of {total} passed"),
                "failed",
            )
        } else if total == 0 {
            ("–", "No tests ran".to_owned(), "other")
        } else if passed == total {
            ("✓", format!("All {total} passed"), "passed")
        } else if passed + skipped == total {
            (
                "✓",
                format!("{passed} of {total} passed · {skipped} skipped"),
                "passed",
            )
        } else {
            ("?", format!("{passed} of {total} passed"), "other")
        };
        Verdict {
            icon,
            text,
            outcome,
        }
    }
}

/// Adds `n` tests with `status`, as a new entry when the status has none yet.
fn add(counts: &mut Vec<(TestStatus, u64)>, status: &TestStatus, n: u64) {
    match counts.iter_mut().find(|(s, _)| s == status) {
        Some((_, count)) => *count = count.saturating_add(n),
        None => counts.push((status.clone(), n)),
    }
}

/// Whether the report may still change: the run is scheduled or running, or its job is
/// known and in a documented status that is not finished. An undocumented run status
/// counts as finished unless the job says otherwise; an undocumented job status
/// ("Cancelled") says nothing, so the run's own status decides and a final report ends
/// the refreshing.
pub(crate) fn is_live(run: &RunStatus, job: Option<&JobStatus>) -> bool {
    run.is_live() || job.is_some_and(|j| !j.is_terminal() && !matches!(j, JobStatus::Other(_)))
}

/// How long the run has taken: until `now_ms` while live, else until the last test
/// ended (start plus duration). `None` without a start time.
pub(crate) fn elapsed_ms(run: &TestRun, live: bool, now_ms: i64) -> Option<u64> {
    let start = parse_iso_ms(run.start_time.as_deref()?)?;
    let end = if live {
        now_ms
    } else {
        run.tests
            .iter()
            .filter_map(|t| Some(parse_iso_ms(t.start_time.as_deref()?)? + t.duration? as i64))
            .max()?
    };
    u64::try_from(end - start).ok()
}

#[cfg(test)]
mod tests {
    use runboard_shared::{StatusCount, TestResult};

    use super::*;

    fn run(statuses: &[(&str, u64)], tests: Vec<TestResult>) -> TestRun {
        TestRun {
            run_id: "r".into(),
            project_id: "p".into(),
            status: RunStatus::Running,
            start_time: Some("2026-04-20T10:15:31.000Z".into()),
            tests_in_project_count: 24,
            title: "t".into(),
            statuses: statuses
                .iter()
                .map(|(l, c)| StatusCount {
                    label: TestStatus::parse(l),
                    count: *c,
                })
                .collect(),
            tests,
        }
    }

    fn test(status: &str, start: &str, duration: u64) -> TestResult {
        TestResult {
            id: "x".into(),
            title: "x".into(),
            status: TestStatus::parse(status),
            duration: Some(duration),
            has_video: false,
            video_link: None,
            start_time: Some(start.into()),
            timeline: Default::default(),
            error: None,
        }
    }

    #[test]
    fn counts_come_from_the_summary() {
        let s = Summary::of(&run(
            &[("Passed", 18), ("Failed", 2), ("Skipped", 4)],
            vec![],
        ));
        assert_eq!(s.counts[0], (TestStatus::Passed, 18));
        assert_eq!(s.counts[3], (TestStatus::Running, 0));
        assert_eq!((s.total, s.done, s.percent_done()), (24, 24, 100));
        let shares = s.shares();
        assert!((shares[0].1 - 75.0).abs() < 1e-9);
        assert!((shares.iter().map(|(_, p)| p).sum::<f64>() - 100.0).abs() < 1e-9);
    }

    #[test]
    fn progress_counts_only_finished_tests() {
        let s = Summary::of(&run(
            &[("Passed", 5), ("Running", 2), ("Scheduled", 3)],
            vec![],
        ));
        assert_eq!((s.total, s.done, s.percent_done()), (10, 5, 50));
        let empty = Summary::of(&run(&[], vec![]));
        assert_eq!((empty.total, empty.percent_done()), (0, 0));
        assert!(empty.shares().iter().all(|(_, p)| *p == 0.0));
    }

    #[test]
    fn without_a_summary_the_tests_are_counted() {
        let s = Summary::of(&run(
            &[],
            vec![
                test("Failed", "2026-04-20T10:15:31Z", 1),
                test("Passed", "2026-04-20T10:15:31Z", 1),
            ],
        ));
        assert_eq!(s.counts[1], (TestStatus::Failed, 1));
        assert_eq!(s.total, 2);
    }

    #[test]
    fn undocumented_labels_get_their_own_share_of_the_bar() {
        let blocked = TestStatus::Other("Blocked".into());
        let s = Summary::of(&run(
            &[("Passed", 34), ("Failed", 1), ("Blocked", 1)],
            vec![],
        ));
        assert_eq!(s.counts.len(), 6);
        assert_eq!(s.counts[5], (blocked.clone(), 1));
        assert_eq!(s.total, 36);
        let shares = s.shares();
        assert!((shares.iter().map(|(_, p)| p).sum::<f64>() - 100.0).abs() < 1e-9);
        assert!((shares[5].1 - 100.0 / 36.0).abs() < 1e-9);
        assert_eq!(s.done, 35, "a Blocked test of a running run is not done");
        let mut finished = run(&[("Passed", 34), ("Failed", 1), ("Blocked", 1)], vec![]);
        finished.status = RunStatus::Completed;
        assert_eq!(
            Summary::of(&finished).percent_done(),
            100,
            "nor pending once the run is over"
        );

        // Counted from the tests when the summary is empty, or when it leaves them out.
        let tests = vec![
            test("Passed", "2026-04-20T10:15:31Z", 1),
            test("Blocked", "2026-04-20T10:15:31Z", 1),
            test("Blocked", "2026-04-20T10:15:31Z", 1),
        ];
        let counted = Summary::of(&run(&[], tests.clone()));
        assert_eq!(counted.counts[5], (blocked.clone(), 2));
        let left_out = Summary::of(&run(&[("Passed", 1)], tests));
        assert_eq!(left_out.counts[5], (blocked, 2));
        assert_eq!(left_out.counts.iter().map(|(_, n)| n).sum::<u64>(), 3);
    }

    #[test]
    fn the_verdict_reads_in_one_line() {
        let check = |statuses: &[(&str, u64)], status: RunStatus, live: bool, want: &str| {
            let mut r = run(statuses, vec![]);
            r.status = status.clone();
            let v = Summary::of(&r).verdict(&status, live);
            assert_eq!(v.text, want, "{statuses:?}");
        };
        let done = RunStatus::Completed;
        check(
            &[("Passed", 34), ("Failed", 2)],
            done.clone(),
            false,
            "2 of 36 failed",
        );
        check(&[("Passed", 36)], done.clone(), false, "All 36 passed");
        check(
            &[("Passed", 30), ("Skipped", 6)],
            done.clone(),
            false,
            "30 of 36 passed · 6 skipped",
        );
        check(
            &[("Passed", 12), ("Running", 4), ("Scheduled", 20)],
            RunStatus::Running,
            true,
            "Running · 12 of 36 done",
        );
        check(
            &[("Passed", 3), ("Scheduled", 3)],
            RunStatus::Aborted,
            false,
            "Aborted · 3 of 6 passed",
        );
        check(&[], done.clone(), false, "No tests ran");
        check(
            &[("Passed", 35), ("Blocked", 1)],
            done,
            false,
            "35 of 36 passed",
        );
        let failed =
            Summary::of(&run(&[("Failed", 1)], vec![])).verdict(&RunStatus::Completed, false);
        assert_eq!((failed.icon, failed.outcome), ("✕", "failed"));
    }

    #[test]
    fn liveness_follows_run_and_job() {
        assert!(is_live(&RunStatus::Running, None));
        assert!(!is_live(&RunStatus::Completed, None));
        assert!(!is_live(&RunStatus::Other("Weird".into()), None));
        assert!(is_live(
            &RunStatus::Other("Weird".into()),
            Some(&JobStatus::InProgress)
        ));
        assert!(is_live(&RunStatus::Completed, Some(&JobStatus::InProgress)));
        assert!(!is_live(&RunStatus::Completed, Some(&JobStatus::Failed)));
        let cancelled = JobStatus::Other("Cancelled".into());
        assert!(!is_live(&RunStatus::Completed, Some(&cancelled)));
        assert!(!is_live(&RunStatus::Aborted, Some(&cancelled)));
        assert!(is_live(&RunStatus::Running, Some(&cancelled)));
    }

    #[test]
    fn elapsed_runs_to_now_or_to_the_last_test() {
        let r = run(
            &[],
            vec![
                test("Passed", "2026-04-20T10:15:40Z", 2000),
                test("Failed", "2026-04-20T10:16:00Z", 1500),
            ],
        );
        let start = parse_iso_ms("2026-04-20T10:15:31Z").unwrap_or_default();
        assert_eq!(elapsed_ms(&r, true, start + 252_000), Some(252_000));
        assert_eq!(elapsed_ms(&r, false, 0), Some(30_500));
        let mut no_start = r.clone();
        no_start.start_time = None;
        assert_eq!(elapsed_ms(&no_start, true, 0), None);
    }
}
