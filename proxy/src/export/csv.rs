//! The run report as CSV (RFC 4180), for "Export CSV" (`?format=csv`), with each
//! failure's class from the run's verdict in the last column.

use std::collections::HashMap;

use runboard_shared::{
    FailureClass, RawJson, TestResult, TestRun, TestStatus, Verdict, error_text,
};

const HEADER: [&str; 9] = [
    "id",
    "title",
    "status",
    "duration_ms",
    "start_time",
    "has_video",
    "video_link",
    "error",
    "class",
];

/// Every test of `run` as one CSV row, with a header, CRLF line ends; `class` is the
/// failure's class in `verdict` (`new`, `known`, `flaky`, `quarantined`, `failing`),
/// empty for tests that did not fail.
pub(crate) fn run_csv(run: &TestRun, verdict: &Verdict) -> String {
    let classes: HashMap<&str, &FailureClass> = verdict
        .failures
        .iter()
        .map(|f| (f.test_id.as_str(), &f.class))
        .collect();
    let mut out = String::new();
    push_row(&mut out, HEADER.iter().map(|h| (*h).to_owned()));
    for test in &run.tests {
        let class = classes
            .get(test.id.as_str())
            .filter(|_| test.status == TestStatus::Failed)
            .map(|c| c.to_string())
            .unwrap_or_default();
        push_row(&mut out, row(test).chain([class]));
    }
    out
}

fn row(test: &TestResult) -> impl Iterator<Item = String> + use<> {
    [
        test.id.clone(),
        test.title.clone(),
        test.status.to_string(),
        test.duration.map(|d| d.to_string()).unwrap_or_default(),
        test.start_time.clone().unwrap_or_default(),
        test.has_video.to_string(),
        test.video_link.clone().unwrap_or_default(),
        test.error.as_ref().map(full_error).unwrap_or_default(),
    ]
    .into_iter()
}

/// The whole error text: a spreadsheet cell has room for every line.
fn full_error(error: &RawJson) -> String {
    let (headline, details) = error_text(error);
    details.unwrap_or(headline)
}

fn push_row(out: &mut String, cells: impl Iterator<Item = String>) {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&crate::csv::field(&cell));
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use runboard_shared::{FailureFacts, RunStatus};
    use serde_json::json;

    use super::*;

    fn run(tests: Vec<TestResult>) -> TestRun {
        TestRun {
            run_id: "r1".into(),
            project_id: "p1".into(),
            status: RunStatus::Completed,
            start_time: None,
            tests_in_project_count: 0,
            title: "Regression".into(),
            statuses: vec![],
            tests,
        }
    }

    fn test(
        id: &str,
        title: &str,
        status: TestStatus,
        error: Option<serde_json::Value>,
    ) -> TestResult {
        TestResult {
            id: id.into(),
            title: title.into(),
            status,
            duration: Some(1240),
            has_video: true,
            video_link: Some("https://v/1".into()),
            start_time: Some("2026-04-20T10:15:40.000Z".into()),
            timeline: Default::default(),
            error: error.map(Into::into),
        }
    }

    #[test]
    fn writes_a_header_and_one_row_per_test() {
        let report = run(vec![test("a", "Login works", TestStatus::Passed, None)]);
        let csv = run_csv(&report, &plain(&report));
        assert_eq!(
            csv,
            "id,title,status,duration_ms,start_time,has_video,video_link,error,class\r\n\
             a,Login works,Passed,1240,2026-04-20T10:15:40.000Z,true,https://v/1,,\r\n"
        );
    }

    /// The verdict with nothing known: every failure `failing`.
    fn plain(run: &TestRun) -> Verdict {
        Verdict::of_run(run, true, |_| FailureFacts::default(), |_| Vec::new())
    }

    #[test]
    fn the_class_column_is_each_failures_class() {
        let report = run(vec![
            test("n", "New", TestStatus::Failed, Some(json!("boom"))),
            test("p", "Passes", TestStatus::Passed, None),
            test("o", "Old", TestStatus::Failed, Some(json!("boom"))),
        ]);
        let verdict = Verdict::of_run(
            &report,
            true,
            |t| FailureFacts {
                passed_before: t.id == "n",
                ..FailureFacts::default()
            },
            |_| Vec::new(),
        );
        let csv = run_csv(&report, &verdict);
        let classes: Vec<&str> = csv
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .map(|l| l.rsplit(',').next().unwrap())
            .collect();
        assert_eq!(classes, ["class", "new", "", "failing"]);
    }

    #[test]
    fn quotes_and_defuses() {
        let report = run(vec![
            test(
                "b",
                "Says \"hi\", twice",
                TestStatus::Failed,
                Some(json!("line 1\nline 2")),
            ),
            test(
                "c",
                "=HYPERLINK(\"x\")",
                TestStatus::Failed,
                Some(json!({"message": "boom"})),
            ),
        ]);
        let csv = run_csv(&report, &plain(&report));
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert!(
            lines[1].starts_with("b,\"Says \"\"hi\"\", twice\",Failed"),
            "{}",
            lines[1]
        );
        assert!(
            lines[1].ends_with(",\"line 1\nline 2\",failing"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("c,\"'=HYPERLINK(\"\"x\"\")\",Failed"),
            "{}",
            lines[2]
        );
        assert!(
            lines[2].contains(",Failed,") && lines[2].contains("\"\"message\"\": \"\"boom\"\""),
            "{}",
            lines[2]
        );
    }
}
