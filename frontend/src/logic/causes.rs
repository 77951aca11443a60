//! Why a run failed: its failed tests grouped by error headline, so the report shows
//! each distinct cause once with how many tests it broke.

use runboard_shared::{TestResult, TestStatus, error_text};

/// One distinct error headline and the failed tests that share it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cause {
    /// The error's headline (its first line, or an object's `message`).
    pub(crate) headline: String,
    /// Indices into the report's tests, in report order.
    pub(crate) tests: Vec<usize>,
}

/// The headline a failed test is grouped under; a failed test without an error gets
/// the same wording the detail panel shows.
pub(crate) fn headline(test: &TestResult) -> String {
    match &test.error {
        Some(error) => error_text(error).0,
        None => "failed without an error message".to_owned(),
    }
}

/// The failed tests grouped by headline: most tests first, ties in the order the
/// causes first appear in the report.
pub(crate) fn causes(tests: &[TestResult]) -> Vec<Cause> {
    let mut out: Vec<Cause> = Vec::new();
    for (i, test) in tests.iter().enumerate() {
        if test.status != TestStatus::Failed {
            continue;
        }
        let headline = headline(test);
        match out.iter_mut().find(|c| c.headline == headline) {
            Some(cause) => cause.tests.push(i),
            None => out.push(Cause {
                headline,
                tests: vec![i],
            }),
        }
    }
    // A stable sort keeps first appearance among equal counts.
    out.sort_by_key(|c| std::cmp::Reverse(c.tests.len()));
    out
}

#[cfg(test)]
mod tests {
    use runboard_shared::RawJson;

    use super::*;

    fn test(status: &str, error: Option<&str>) -> TestResult {
        TestResult {
            id: "x".into(),
            title: "x".into(),
            status: TestStatus::parse(status),
            duration: None,
            has_video: false,
            video_link: None,
            start_time: None,
            timeline: Default::default(),
            error: error.map(|e| {
                RawJson::from(serde_json::from_str::<serde_json::Value>(e).expect("valid JSON"))
            }),
        }
    }

    #[test]
    fn failures_group_by_headline() {
        let tests = vec![
            test(
                "Failed",
                Some(r#""expected \"Declined\", got \"Approved\"""#),
            ),
            test("Passed", None),
            test(
                "Failed",
                Some(r##"{"message":"no element matched","selector":"#ok"}"##),
            ),
            test("Failed", Some(r#""no element matched\nat step 3""#)),
            test("Failed", None),
            test("Skipped", Some(r#""not a failure""#)),
        ];
        let got: Vec<(String, Vec<usize>)> = causes(&tests)
            .into_iter()
            .map(|c| (c.headline, c.tests))
            .collect();
        assert_eq!(
            got,
            vec![
                ("no element matched".to_owned(), vec![2, 3]),
                (
                    "expected \"Declined\", got \"Approved\"".to_owned(),
                    vec![0]
                ),
                ("failed without an error message".to_owned(), vec![4]),
            ]
        );
        assert!(causes(&[test("Passed", None)]).is_empty());
    }
}
