//! Invariants every run report must hold at every instant.

use chrono::{DateTime, Utc};
use runboard_shared::{RunStatus, TestRun, TestStatus};

/// Parses a platform timestamp, checking its exact shape (`2026-04-20T10:15:30.000Z`).
pub fn instant(text: &str) -> DateTime<Utc> {
    assert_eq!(text.len(), 24, "{text}");
    assert!(text.ends_with('Z') && text.as_bytes()[19] == b'.', "{text}");
    DateTime::parse_from_rfc3339(text)
        .expect("ISO 8601")
        .with_timezone(&Utc)
}

const LABELS: [TestStatus; 5] = [
    TestStatus::Passed,
    TestStatus::Failed,
    TestStatus::Skipped,
    TestStatus::Running,
    TestStatus::Scheduled,
];

/// Checks one report; `size` is the number of tests the execution selected.
pub fn check_report(run: &TestRun, size: usize, project_id: &str) {
    assert_eq!(run.project_id, project_id);
    assert_eq!(run.tests.len(), size);
    assert!(!run.title.is_empty());
    let labels: Vec<&TestStatus> = run.statuses.iter().map(|s| &s.label).collect();
    assert_eq!(
        labels,
        LABELS.iter().collect::<Vec<_>>(),
        "all five labels, in order"
    );
    let total: u64 = run.statuses.iter().map(|s| s.count).sum();
    assert_eq!(total, size as u64, "statuses sum to the tests of the run");
    for label in &LABELS {
        let listed = run.tests.iter().filter(|t| &t.status == label).count() as u64;
        assert_eq!(run.count(label), listed, "{label} count matches the tests");
    }
    assert!(
        run.count(&TestStatus::Running) <= 3,
        "a few tests run in parallel"
    );
    let start = instant(run.start_time.as_deref().expect("run startTime"));
    match run.status {
        RunStatus::Scheduled => assert_eq!(run.count(&TestStatus::Scheduled), size as u64),
        RunStatus::Running => assert!(run.count(&TestStatus::Scheduled) < size as u64 || size == 0),
        RunStatus::Completed => {
            let open = run.count(&TestStatus::Running) + run.count(&TestStatus::Scheduled);
            assert_eq!(open, 0, "a completed run has no open test");
        }
        ref other => panic!("unexpected run status {other}"),
    }
    for test in &run.tests {
        check_test(test, start);
    }
}

fn check_test(test: &runboard_shared::TestResult, run_start: DateTime<Utc>) {
    assert_eq!(test.id.len(), 24);
    assert!(!test.title.is_empty());
    match test.status {
        TestStatus::Scheduled | TestStatus::Skipped => {
            assert!(
                test.timeline.is_empty() && test.error.is_none() && !test.has_video,
                "{test:?}"
            );
            return;
        }
        _ => {}
    }
    let started = instant(
        test.start_time
            .as_deref()
            .expect("a test that ran has a startTime"),
    );
    assert!(started >= run_start);
    assert!(!test.timeline.is_empty(), "a test that ran has a timeline");
    let finished = test.status.is_finished();
    assert_eq!(test.duration.is_some(), finished, "{test:?}");
    assert_eq!(
        test.error.is_some(),
        test.status == TestStatus::Failed,
        "{test:?}"
    );
    if test.has_video {
        assert!(finished);
        assert!(
            test.video_link
                .as_deref()
                .is_some_and(|l| l.starts_with("https://"))
        );
    }
    // Steps follow each other: each starts when the previous ended, and the durations
    // add up to the test's.
    let mut cursor = started;
    let mut summed = 0;
    let mut failed_steps = 0;
    for step in &test.timeline.steps() {
        assert!(
            step["name"].as_str().is_some_and(|n| !n.is_empty()),
            "{step}"
        );
        let status = step["status"].as_str().expect("step status");
        if status == "Skipped" {
            assert!(step.get("duration").is_none());
            continue;
        }
        assert_eq!(
            instant(step["startTime"].as_str().expect("step start")),
            cursor
        );
        if status == "Running" {
            assert_eq!(test.status, TestStatus::Running);
            continue;
        }
        let duration = step["duration"].as_u64().expect("step duration");
        cursor += chrono::Duration::milliseconds(duration as i64);
        summed += duration;
        if status == "Failed" {
            failed_steps += 1;
        }
    }
    if finished {
        assert_eq!(Some(summed), test.duration, "step durations add up");
        assert_eq!(failed_steps, usize::from(test.status == TestStatus::Failed));
    }
}
