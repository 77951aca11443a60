//! Status semantics and presets: what the widget tells people and what a config may say.

use runboard_shared::{Job, JobStatus, Preset, RunStatus, Selector, TestStatus};
use serde_json::json;

#[test]
fn job_statuses_read_as_sentences() {
    let check = |status: JobStatus, agent: Option<&str>, expected: &str| {
        assert_eq!(status.describe(agent), expected);
    };
    check(
        JobStatus::PendingAgentConnection,
        Some("my-agent"),
        "waiting for agent my-agent to connect",
    );
    check(JobStatus::Pending, None, "queued, waiting to start");
    check(
        JobStatus::InProgress,
        Some("staging"),
        "running on agent staging",
    );
    // The guide says only that Success and Failed mean "finished".
    check(JobStatus::Success, None, "finished (Success)");
    check(JobStatus::Failed, Some("staging"), "finished (Failed)");
    check(JobStatus::parse("Cancelled"), None, "Cancelled");
    check(JobStatus::parse(""), None, "unknown");
}

#[test]
fn a_failed_job_without_a_run_says_so() {
    let job = |status: &str, run: Option<&str>| -> Job {
        serde_json::from_value(json!({
            "jobId": "j1", "status": status, "testRunId": run, "agentName": "staging"
        }))
        .expect("job parses")
    };
    let check = |job: Job, expected: &str| assert_eq!(job.describe(), expected, "{job:?}");
    check(job("Failed", None), "finished without a report");
    check(job("Failed", Some("r1")), "finished (Failed)");
    check(job("Success", Some("r1")), "finished (Success)");
    check(job("InProgress", Some("r1")), "running on agent staging");
    check(job("Cancelled", None), "Cancelled");
    let unknown: Job =
        serde_json::from_value(json!({"jobId": "j1", "status": null})).expect("parses");
    check(unknown, "unknown");
}

#[test]
fn terminal_and_live_states() {
    let terminal: Vec<bool> = JobStatus::KNOWN
        .iter()
        .map(JobStatus::is_terminal)
        .collect();
    assert_eq!(terminal, [false, false, false, true, true]);
    assert!(RunStatus::Running.is_live() && RunStatus::Scheduled.is_live());
    assert!(!RunStatus::Completed.is_live());
    assert!(TestStatus::Failed.rank() < TestStatus::Passed.rank());
}

#[test]
fn presets_use_the_guides_selector_keys() {
    let preset: Preset = serde_json::from_value(json!({
        "name": "Smoke on staging",
        "testSuiteId": "6804f1d1d2d4e0a1c1a0d001",
        "agentName": "staging-agent"
    }))
    .unwrap();
    assert!(matches!(preset.selector, Selector::TestSuite(_)));
    assert_eq!(
        preset.description,
        "test suite 6804f1d1d2d4e0a1c1a0d001 · agent staging-agent"
    );
    let back: Preset = serde_json::from_value(serde_json::to_value(&preset).unwrap()).unwrap();
    assert_eq!(back, preset);

    let err =
        serde_json::from_value::<Preset>(json!({"name": "Both", "testId": "a", "featureId": "b"}))
            .unwrap_err();
    assert!(err.to_string().contains("only one of"), "{err}");
}
