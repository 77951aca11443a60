//! Filtering, searching and sorting a run's tests. Work is done on indices into the
//! report with a per-refresh [`TestIndex`], so a 10,000-test report keeps up with typing.

use std::cmp::Ordering;

use runboard_shared::{TestResult, TestStatus};

use crate::logic::{case::lower, time::parse_iso_ms};

/// The statuses a filter chip can pick, in the order the chips are shown.
pub(crate) const CHIP_STATUSES: [TestStatus; 5] = [
    TestStatus::Failed,
    TestStatus::Passed,
    TestStatus::Skipped,
    TestStatus::Running,
    TestStatus::Scheduled,
];

/// Which tests the table shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StatusFilter {
    /// Every test.
    All,
    /// Only tests with this status.
    Only(TestStatus),
}

impl StatusFilter {
    /// The chip's `data-status` / query value: `All` or the wire status.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::All => "All",
            Self::Only(s) => s.as_str(),
        }
    }

    /// Parses a query value; anything unknown means all.
    pub(crate) fn parse(value: &str) -> Self {
        match value {
            "" | "All" | "all" => Self::All,
            other => Self::Only(TestStatus::parse(other)),
        }
    }

    fn admits(&self, status: &TestStatus) -> bool {
        match self {
            Self::All => true,
            Self::Only(s) => s == status,
        }
    }
}

/// How the table is ordered; the `<select data-testid=sort>` option values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortKey {
    /// Problems first: failed, running, scheduled, passed, skipped (the default).
    Status,
    /// Slowest first.
    Duration,
    /// Alphabetical.
    Title,
    /// In the order they started.
    Start,
}

impl SortKey {
    /// Every key, in the order the picker shows them.
    pub(crate) const ALL: [SortKey; 4] = [
        SortKey::Status,
        SortKey::Duration,
        SortKey::Title,
        SortKey::Start,
    ];

    /// The option value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Duration => "duration",
            Self::Title => "title",
            Self::Start => "start",
        }
    }

    /// The option label.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Status => "Failed first",
            Self::Duration => "Slowest first",
            Self::Title => "Title A–Z",
            Self::Start => "Start time",
        }
    }

    /// Parses an option value; anything unknown is the default.
    pub(crate) fn parse(value: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == value)
            .unwrap_or(Self::Status)
    }
}

/// Values derived once per report refresh, so filtering and sorting do no parsing.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TestIndex {
    haystacks: Vec<String>,
    titles: Vec<String>,
    starts: Vec<Option<i64>>,
}

impl TestIndex {
    /// Indexes `tests`: lower-cased title and id for search, lower-cased titles for
    /// sorting, parsed start times.
    pub(crate) fn new(tests: &[TestResult]) -> Self {
        Self {
            haystacks: tests
                .iter()
                .map(|t| format!("{}\u{1f}{}", lower(&t.title), lower(&t.id)))
                .collect(),
            titles: tests.iter().map(|t| lower(&t.title)).collect(),
            starts: tests
                .iter()
                .map(|t| t.start_time.as_deref().and_then(parse_iso_ms))
                .collect(),
        }
    }
}

/// Indices of the tests that pass `filter` and contain `query` (case-insensitive, in
/// the title or the id), ordered by `sort`. Ties keep the report's order.
pub(crate) fn select(
    tests: &[TestResult],
    index: &TestIndex,
    filter: &StatusFilter,
    query: &str,
    sort: SortKey,
) -> Vec<usize> {
    let needle = lower(query.trim());
    let mut picked: Vec<usize> = tests
        .iter()
        .enumerate()
        .filter(|(i, t)| {
            filter.admits(&t.status)
                && (needle.is_empty()
                    || index.haystacks.get(*i).is_some_and(|h| h.contains(&needle)))
        })
        .map(|(i, _)| i)
        .collect();
    picked.sort_by(|&a, &b| compare(tests, index, sort, a, b).then(a.cmp(&b)));
    picked
}

fn compare(tests: &[TestResult], index: &TestIndex, sort: SortKey, a: usize, b: usize) -> Ordering {
    let (ta, tb) = (&tests[a], &tests[b]);
    match sort {
        SortKey::Status => ta.status.rank().cmp(&tb.status.rank()),
        // Slowest first; tests without a duration go last.
        SortKey::Duration => tb.duration.cmp(&ta.duration),
        SortKey::Title => index.titles.get(a).cmp(&index.titles.get(b)),
        // Earliest first; tests that have not started go last.
        SortKey::Start => match (
            index.starts.get(a).copied().flatten(),
            index.starts.get(b).copied().flatten(),
        ) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        },
    }
}

/// How many tests have each chip's status, counted from the tests themselves so the
/// chips always agree with the table; statuses the guide does not document ("Blocked")
/// get chips of their own after the documented ones, in the order they first appear.
pub(crate) fn chip_counts(tests: &[TestResult]) -> Vec<(TestStatus, usize)> {
    let mut counts: Vec<(TestStatus, usize)> =
        CHIP_STATUSES.iter().map(|s| (s.clone(), 0)).collect();
    for test in tests {
        match counts.iter_mut().find(|(s, _)| s == &test.status) {
            Some((_, n)) => *n += 1,
            None => counts.push((test.status.clone(), 1)),
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test(
        id: &str,
        title: &str,
        status: &str,
        duration: Option<u64>,
        start: Option<&str>,
    ) -> TestResult {
        TestResult {
            id: id.into(),
            title: title.into(),
            status: TestStatus::parse(status),
            duration,
            has_video: false,
            video_link: None,
            start_time: start.map(Into::into),
            timeline: Default::default(),
            error: None,
        }
    }

    fn sample() -> Vec<TestResult> {
        vec![
            test(
                "a",
                "Login works",
                "Passed",
                Some(1200),
                Some("2026-04-20T10:15:40Z"),
            ),
            test(
                "b",
                "Checkout rejects expired card",
                "Failed",
                Some(3400),
                Some("2026-04-20T10:15:52Z"),
            ),
            test("c", "Search finds shoes", "Skipped", None, None),
            test(
                "d",
                "Cart keeps items",
                "Running",
                None,
                Some("2026-04-20T10:15:30Z"),
            ),
            test(
                "e",
                "Another failure",
                "Failed",
                Some(500),
                Some("2026-04-20T10:15:35Z"),
            ),
        ]
    }

    fn check(filter: StatusFilter, query: &str, sort: SortKey, expected: &[&str]) {
        let tests = sample();
        let index = TestIndex::new(&tests);
        let ids: Vec<&str> = select(&tests, &index, &filter, query, sort)
            .into_iter()
            .map(|i| tests[i].id.as_str())
            .collect();
        assert_eq!(ids, expected, "{filter:?} {query:?} {sort:?}");
    }

    #[test]
    fn failed_tests_come_first_by_default() {
        check(
            StatusFilter::All,
            "",
            SortKey::Status,
            &["b", "e", "d", "a", "c"],
        );
    }

    #[test]
    fn other_sorts() {
        check(
            StatusFilter::All,
            "",
            SortKey::Duration,
            &["b", "a", "e", "c", "d"],
        );
        check(
            StatusFilter::All,
            "",
            SortKey::Title,
            &["e", "d", "b", "a", "c"],
        );
        check(
            StatusFilter::All,
            "",
            SortKey::Start,
            &["d", "e", "a", "b", "c"],
        );
    }

    #[test]
    fn filters_and_search_combine() {
        check(
            StatusFilter::Only(TestStatus::Failed),
            "",
            SortKey::Status,
            &["b", "e"],
        );
        check(StatusFilter::All, "CART", SortKey::Status, &["d"]);
        check(StatusFilter::All, "  card ", SortKey::Title, &["b"]);
        check(
            StatusFilter::Only(TestStatus::Passed),
            "card",
            SortKey::Status,
            &[],
        );
        check(
            StatusFilter::All,
            "e",
            SortKey::Title,
            &["e", "d", "b", "c"],
        );
    }

    #[test]
    fn chips_count_every_status() {
        let counts = chip_counts(&sample());
        assert_eq!(counts[0], (TestStatus::Failed, 2));
        assert_eq!(counts[1], (TestStatus::Passed, 1));
        assert_eq!(counts[4], (TestStatus::Scheduled, 0));
        assert_eq!(counts.len(), 5);
        let mut odd = sample();
        odd.push(test("f", "", "Blocked", None, None));
        let counts = chip_counts(&odd);
        assert_eq!(counts[5], (TestStatus::Other("Blocked".into()), 1));
        assert_eq!(counts.iter().map(|(_, n)| n).sum::<usize>(), odd.len());
        check_odd(&odd);
    }

    fn check_odd(tests: &[TestResult]) {
        let index = TestIndex::new(tests);
        let blocked = StatusFilter::parse("Blocked");
        let picked = select(tests, &index, &blocked, "", SortKey::Status);
        assert_eq!(
            picked,
            [5],
            "the Blocked chip's filter finds the Blocked test"
        );
    }

    #[test]
    fn query_values_parse_leniently() {
        assert_eq!(StatusFilter::parse(""), StatusFilter::All);
        assert_eq!(
            StatusFilter::parse("Failed"),
            StatusFilter::Only(TestStatus::Failed)
        );
        assert_eq!(SortKey::parse("duration"), SortKey::Duration);
        assert_eq!(SortKey::parse("bogus"), SortKey::Status);
    }

    #[test]
    fn ten_thousand_tests_filter_and_sort_correctly() {
        // How fast this is belongs in a benchmark, not in a test that a busy machine
        // could fail with nothing wrong; this checks the answer at that size.
        let tests: Vec<TestResult> = (0..10_000)
            .map(|i| {
                test(
                    &format!("t{i}"),
                    &format!("Test number {i}"),
                    if i % 7 == 0 { "Failed" } else { "Passed" },
                    Some(i),
                    None,
                )
            })
            .collect();
        let index = TestIndex::new(&tests);
        let picked = select(
            &tests,
            &index,
            &StatusFilter::All,
            "number 9",
            SortKey::Duration,
        );
        assert_eq!(picked.len(), 1111);
        assert_eq!(tests[picked[0]].id, "t9999");
        assert_eq!(tests[picked[picked.len() - 1]].id, "t9");
        let durations: Vec<Option<u64>> = picked.iter().map(|&i| tests[i].duration).collect();
        assert!(durations.windows(2).all(|w| w[0] >= w[1]), "slowest first");
    }

    /// Search as the widget ships it: in a real browser, lower-casing through
    /// JavaScript (`logic::case`). Run as `case`'s browser tests are (see there).
    #[cfg(target_arch = "wasm32")]
    mod browser {
        use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

        use super::*;

        wasm_bindgen_test_configure!(run_in_browser);

        #[wasm_bindgen_test]
        fn a_non_ascii_search_finds_its_test_in_the_browser() {
            let tests = vec![
                test("a", "Login works", "Passed", None, None),
                test("b", "ÄRGER mit der Straße", "Passed", None, None),
                test("c", "Οδός Πανεπιστημίου", "Passed", None, None),
            ];
            let index = TestIndex::new(&tests);
            let found =
                |query: &str| select(&tests, &index, &StatusFilter::All, query, SortKey::Title);
            assert_eq!(found("ärger"), [1]);
            assert_eq!(
                found("STRASSE"),
                Vec::<usize>::new(),
                "ß lower-cases to itself"
            );
            assert_eq!(found("straße"), [1]);
            assert_eq!(found("ΟΔΌΣ"), [2]);
        }
    }
}
