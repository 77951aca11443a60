//! A run compared with the previous finished run of the same selector (from the ledger):
//! which tests newly fail, newly pass, still fail, and which got markedly slower.

use std::collections::HashMap;

use runboard_shared::{HistoryTest, TestResult, TestStatus};

/// A test counts as slower when it took at least this much longer…
pub(crate) const SLOWER_BY_MS: u64 = 500;
/// …and at least this many per cent of its earlier time longer.
pub(crate) const SLOWER_BY_PERCENT: u64 = 50;

/// One test in a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Compared {
    /// The platform's test id.
    pub(crate) id: String,
    /// Its title now.
    pub(crate) title: String,
    /// How long it took then and now, for slower tests.
    pub(crate) durations: Option<(u64, u64)>,
}

/// What changed between the previous run and this one.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Comparison {
    /// Failed now, passed before.
    pub(crate) newly_failing: Vec<Compared>,
    /// Passed now, failed before.
    pub(crate) newly_passing: Vec<Compared>,
    /// Failed both times.
    pub(crate) still_failing: Vec<Compared>,
    /// Markedly slower now ([`SLOWER_BY_MS`] and [`SLOWER_BY_PERCENT`]).
    pub(crate) slower: Vec<Compared>,
}

impl Comparison {
    /// Whether nothing is worth saying.
    pub(crate) fn is_empty(&self) -> bool {
        self.newly_failing.is_empty()
            && self.newly_passing.is_empty()
            && self.still_failing.is_empty()
            && self.slower.is_empty()
    }
}

/// Compares `now` (the report's tests) with `before` (the previous run's recorded
/// results). Tests only one of the two runs has are left out: they cannot have changed.
pub(crate) fn compare(now: &[TestResult], before: &[HistoryTest]) -> Comparison {
    let before: HashMap<&str, &HistoryTest> =
        before.iter().map(|t| (t.test_id.as_str(), t)).collect();
    let mut out = Comparison::default();
    for test in now {
        let Some(earlier) = before.get(test.id.as_str()) else {
            continue;
        };
        let was = TestStatus::parse(&earlier.status);
        let entry = |durations| Compared {
            id: test.id.clone(),
            title: test.title.clone(),
            durations,
        };
        match (&was, &test.status) {
            (TestStatus::Passed, TestStatus::Failed) => out.newly_failing.push(entry(None)),
            (TestStatus::Failed, TestStatus::Passed) => out.newly_passing.push(entry(None)),
            (TestStatus::Failed, TestStatus::Failed) => out.still_failing.push(entry(None)),
            _ => {}
        }
        if let (Some(then), Some(now)) = (earlier.duration_ms, test.duration)
            && slower(then, now)
        {
            out.slower.push(entry(Some((then, now))));
        }
    }
    out
}

fn slower(then: u64, now: u64) -> bool {
    now >= then + SLOWER_BY_MS && now * 100 >= then * (100 + SLOWER_BY_PERCENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now(id: &str, status: &str, duration: u64) -> TestResult {
        serde_json::from_value(serde_json::json!({
            "_id": id, "title": format!("Test {id}"), "status": status, "duration": duration
        }))
        .unwrap()
    }

    fn before(id: &str, status: &str, duration: u64) -> HistoryTest {
        HistoryTest {
            test_id: id.to_owned(),
            title: format!("Test {id}"),
            status: status.to_owned(),
            duration_ms: Some(duration),
        }
    }

    fn ids(list: &[Compared]) -> Vec<&str> {
        list.iter().map(|c| c.id.as_str()).collect()
    }

    #[test]
    fn each_test_lands_where_its_two_results_put_it() {
        let now = [
            now("a", "Failed", 100),
            now("b", "Passed", 100),
            now("c", "Failed", 100),
            now("d", "Passed", 3_000),
            now("e", "Passed", 1_400),
            now("new", "Failed", 100),
        ];
        let before = [
            before("a", "Passed", 100),
            before("b", "Failed", 100),
            before("c", "Failed", 100),
            before("d", "Passed", 1_000),
            before("e", "Passed", 1_000),
            before("gone", "Failed", 100),
        ];
        let c = compare(&now, &before);
        assert_eq!(ids(&c.newly_failing), ["a"]);
        assert_eq!(ids(&c.newly_passing), ["b"]);
        assert_eq!(ids(&c.still_failing), ["c"]);
        // e: 400 ms and 40 % slower is under both thresholds' joint bar.
        assert_eq!(ids(&c.slower), ["d"]);
        assert_eq!(c.slower[0].durations, Some((1_000, 3_000)));
        assert!(!c.is_empty());
        assert!(compare(&[], &before).is_empty());
    }

    #[test]
    fn slower_needs_both_the_time_and_the_share() {
        assert!(slower(1_000, 1_500));
        assert!(!slower(1_000, 1_499));
        assert!(!slower(100, 590), "490 ms more is under 500 ms");
        assert!(!slower(10_000, 14_000), "40 % more is under 50 %");
    }
}
