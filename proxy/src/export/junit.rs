//! The run report as JUnit XML, for "Export JUnit XML" (`?format=junit`), so CI tools
//! and test dashboards can import a Runboard run.

use std::{collections::HashMap, fmt::Write};

use runboard_shared::{FailureClass, TestRun, TestStatus, Verdict, error_text};

use super::test_title;

/// The run as one `<testsuite>` inside `<testsuites>`. Failed tests carry `<failure>`
/// with the error, except quarantined ones (`verdict`), which never block and so are
/// `<skipped message="quarantined: reason">` for CI tools; skipped tests, and tests
/// that have not finished, carry `<skipped>`.
pub(crate) fn run_junit(run: &TestRun, verdict: &Verdict) -> String {
    let quarantined: HashMap<&str, &str> = verdict
        .failures
        .iter()
        .filter(|f| f.class == FailureClass::Quarantined)
        .map(|f| {
            let reason = f.rule.as_ref().map_or("", |r| r.reason.as_str());
            (f.test_id.as_str(), reason)
        })
        .collect();
    let reason_of = |test: &runboard_shared::TestResult| {
        (test.status == TestStatus::Failed)
            .then(|| quarantined.get(test.id.as_str()).copied())
            .flatten()
    };
    let failures = run
        .tests
        .iter()
        .filter(|t| t.status == TestStatus::Failed && reason_of(t).is_none())
        .count();
    let skipped = run
        .tests
        .iter()
        .filter(|t| {
            !matches!(t.status, TestStatus::Passed | TestStatus::Failed) || reason_of(t).is_some()
        })
        .count();
    // Integer arithmetic: the same text as `{:.3}` of `ms / 1000.0`, exactly.
    let seconds = |ms: u64| format!("{}.{:03}", ms / 1000, ms % 1000);
    let total_ms: u64 = run.tests.iter().filter_map(|t| t.duration).sum();
    let name = if run.title.is_empty() {
        &run.run_id
    } else {
        &run.title
    };
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{n}\" tests=\"{t}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{time}\">",
        n = escape(name),
        t = run.tests.len(),
        time = seconds(total_ms),
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{n}\" id=\"{id}\" tests=\"{t}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time}\"{stamp}>",
        n = escape(name),
        id = escape(&run.run_id),
        t = run.tests.len(),
        time = seconds(total_ms),
        stamp = run
            .start_time
            .as_deref()
            .map(|s| format!(" timestamp=\"{}\"", escape(s)))
            .unwrap_or_default(),
    );
    for test in &run.tests {
        let _ = write!(
            out,
            "    <testcase name=\"{n}\" classname=\"{c}\" time=\"{time}\"",
            n = escape(test_title(&test.title)),
            c = escape(&test.id),
            time = seconds(test.duration.unwrap_or(0)),
        );
        if let Some(reason) = reason_of(test) {
            let _ = write!(
                out,
                ">\n      <skipped message=\"quarantined: {}\"/>\n    </testcase>\n",
                escape(reason)
            );
            continue;
        }
        match &test.status {
            TestStatus::Passed => out.push_str("/>\n"),
            TestStatus::Failed => {
                let (headline, details) = test
                    .error
                    .as_ref()
                    .map(error_text)
                    .unwrap_or_else(|| ("failed without an error message".into(), None));
                let body = details.unwrap_or_else(|| headline.clone());
                let _ = write!(
                    out,
                    ">\n      <failure message=\"{m}\">{b}</failure>\n    </testcase>\n",
                    m = escape(&headline),
                    b = escape(&body),
                );
            }
            TestStatus::Skipped => out.push_str(">\n      <skipped/>\n    </testcase>\n"),
            TestStatus::Other(label) => {
                let _ = write!(
                    out,
                    ">\n      <skipped message=\"status {}, which the platform's guide does not list\"/>\n    </testcase>\n",
                    escape(label)
                );
            }
            other => {
                let _ = write!(
                    out,
                    ">\n      <skipped message=\"not finished: {}\"/>\n    </testcase>\n",
                    escape(other.as_str())
                );
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Escapes text for XML attributes and content, dropping characters XML 1.0 forbids.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use runboard_shared::{FailureFacts, RuleKind, RuleRef, RunStatus, TestResult};
    use serde_json::json;

    use super::*;

    fn test(id: &str, title: &str, status: &str, error: Option<serde_json::Value>) -> TestResult {
        TestResult {
            id: id.into(),
            title: title.into(),
            status: TestStatus::parse(status),
            duration: Some(1500),
            has_video: false,
            video_link: None,
            start_time: None,
            timeline: Default::default(),
            error: error.map(Into::into),
        }
    }

    #[test]
    fn writes_cases_with_failures_and_skips() {
        let run = TestRun {
            run_id: "r1".into(),
            project_id: "p".into(),
            status: RunStatus::Completed,
            start_time: Some("2026-04-20T10:15:31.000Z".into()),
            tests_in_project_count: 3,
            title: "Regression <nightly>".into(),
            statuses: vec![],
            tests: vec![
                test("a", "Login & logout", "Passed", None),
                test(
                    "b",
                    "Checkout",
                    "Failed",
                    Some(json!("expected \"Declined\"\u{1}")),
                ),
                test("c", "Search", "Skipped", None),
                test("d", "Cart", "Running", None),
            ],
        };
        let xml = run_junit(&run, &plain(&run));
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"Regression &lt;nightly&gt;\" tests=\"4\" failures=\"1\" skipped=\"2\" time=\"6.000\">"), "{xml}");
        assert!(xml.contains("timestamp=\"2026-04-20T10:15:31.000Z\""));
        assert!(
            xml.contains("<testcase name=\"Login &amp; logout\" classname=\"a\" time=\"1.500\"/>")
        );
        assert!(xml.contains("<failure message=\"expected &quot;Declined&quot;\">expected &quot;Declined&quot;</failure>"), "{xml}");
        assert!(xml.contains(
            "<testcase name=\"Search\" classname=\"c\" time=\"1.500\">\n      <skipped/>"
        ));
        assert!(xml.contains("<skipped message=\"not finished: Running\"/>"));
        assert!(xml.ends_with("  </testsuite>\n</testsuites>\n"));
        assert_eq!(xml.matches("<testcase ").count(), 4);
    }

    /// The verdict with nothing known: every failure `failing`.
    fn plain(run: &TestRun) -> Verdict {
        Verdict::of_run(run, true, |_| FailureFacts::default(), |_| Vec::new())
    }

    #[test]
    fn a_quarantined_failure_is_skipped_with_its_reason() {
        let run = TestRun {
            run_id: "r1".into(),
            project_id: "p".into(),
            status: RunStatus::Completed,
            start_time: None,
            tests_in_project_count: 2,
            title: "Nightly".into(),
            statuses: vec![],
            tests: vec![
                test("q", "Flaky login", "Failed", Some(json!("timeout"))),
                test("f", "Checkout", "Failed", Some(json!("boom"))),
            ],
        };
        let rule = RuleRef {
            id: "7".into(),
            kind: RuleKind::Quarantine,
            reason: "JIRA-1 <flaky>".into(),
            link: None,
            until: Some("2026-05-01".into()),
            by: "ann".into(),
        };
        let verdict = Verdict::of_run(
            &run,
            true,
            |t| FailureFacts {
                quarantine: (t.id == "q").then(|| rule.clone()),
                ..FailureFacts::default()
            },
            |_| Vec::new(),
        );
        let xml = run_junit(&run, &verdict);
        assert!(
            xml.contains("tests=\"2\" failures=\"1\" skipped=\"1\""),
            "{xml}"
        );
        assert!(
            xml.contains(
                "classname=\"q\" time=\"1.500\">\n      <skipped message=\"quarantined: JIRA-1 &lt;flaky&gt;\"/>"
            ),
            "{xml}"
        );
        assert!(xml.contains("<failure message=\"boom\">"), "{xml}");
        assert_eq!(xml.matches("<failure ").count(), 1);
    }

    #[test]
    fn untitled_and_undocumented_tests_still_make_valid_cases() {
        let run = TestRun {
            run_id: "r1".into(),
            project_id: "p".into(),
            status: RunStatus::Completed,
            start_time: None,
            tests_in_project_count: 1,
            title: String::new(),
            statuses: vec![],
            tests: vec![test("e", "", "Blocked", None)],
        };
        let xml = run_junit(&run, &plain(&run));
        assert!(
            xml.contains("<testcase name=\"untitled test\" classname=\"e\""),
            "{xml}"
        );
        assert!(
            xml.contains(
                "<skipped message=\"status Blocked, which the platform's guide does not list\"/>"
            ),
            "{xml}"
        );
    }
}
