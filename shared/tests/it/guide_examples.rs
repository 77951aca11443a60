//! Every JSON example of the vendor's guide parses into the shared types and round-trips.

use runboard_shared::{
    ExecuteRequest, ExecuteResponse, JobStatus, JobsRequest, JobsResponse, RunStatus,
    ScheduleStatus, Selector, TestRun, TestStatus,
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

/// Parses `value` as `T`, serializes it again, and checks nothing the guide sent was lost.
fn round_trip<T: Serialize + DeserializeOwned>(value: Value) -> T {
    let parsed: T = serde_json::from_value(value.clone()).expect("guide example parses");
    let again = serde_json::to_value(&parsed).expect("serializes");
    assert_eq!(again, value, "round trip changed the document");
    parsed
}

#[test]
fn execute_request_example() {
    let req: ExecuteRequest = round_trip(json!({
        "action": "executeTests",
        "featureId": "67f8cb3fe236b8d41b7700ac",
        "agentName": "my-agent"
    }));
    assert_eq!(req.selector.field(), "featureId");
    assert_eq!(req.agent_name.unwrap().as_str(), "my-agent");
}

#[test]
fn every_selector_kind_round_trips() {
    for (key, value) in [
        ("featureId", json!("67f8cb3fe236b8d41b7700ac")),
        ("testSuiteId", json!("6804f1d1d2d4e0a1c1a0d001")),
        ("testId", json!("6804f1f1d2d4e0a1c1a0d789")),
        ("tests", json!(["a1", "b2", "c3"])),
    ] {
        let mut doc = json!({ "action": "executeTests" });
        doc[key] = value;
        let req: ExecuteRequest = round_trip(doc);
        assert_eq!(req.selector.field(), key);
    }
}

#[test]
fn execute_response_example() {
    let resp: ExecuteResponse = round_trip(json!({
        "success": true,
        "scheduleStatus": "Success",
        "jobId": "6804f1d1d2d4e0a1c1a0d123"
    }));
    assert_eq!(resp.schedule_status, ScheduleStatus::Success);
    let again: ExecuteResponse = round_trip(json!({
        "success": true, "scheduleStatus": "AlreadyExists", "jobId": "6804f1d1d2d4e0a1c1a0d123"
    }));
    assert_eq!(again.schedule_status, ScheduleStatus::AlreadyExists);
}

#[test]
fn jobs_request_example() {
    let req: JobsRequest = round_trip(json!({ "jobIds": ["6804f1d1d2d4e0a1c1a0d123"] }));
    assert_eq!(req.job_ids.unwrap().len(), 1);
    let all: JobsRequest = round_trip(json!({}));
    assert!(
        all.job_ids.is_none(),
        "omitted jobIds asks for all active jobs"
    );
}

#[test]
fn jobs_response_example() {
    let resp: JobsResponse = round_trip(json!({
        "success": true,
        "jobs": [{
            "jobId": "6804f1d1d2d4e0a1c1a0d123",
            "status": "InProgress",
            "updatedAt": "2026-04-20T10:15:30.000Z",
            "testRunId": "6804f1e2d2d4e0a1c1a0d456"
        }],
        "missingJobIds": []
    }));
    assert_eq!(resp.jobs[0].status, JobStatus::InProgress);
    assert!(!resp.jobs[0].status.is_terminal());
}

#[test]
fn test_run_example() {
    let run: TestRun = round_trip(json!({
        "runId": "6804f1e2d2d4e0a1c1a0d456",
        "projectId": "67f8cb3fe236b8d41b7700ac",
        "status": "Completed",
        "startTime": "2026-04-20T10:15:31.000Z",
        "testsInProjectCount": 24,
        "title": "Regression run",
        "statuses": [
            { "label": "Passed", "count": 18 },
            { "label": "Failed", "count": 2 },
            { "label": "Skipped", "count": 4 }
        ],
        "tests": [{
            "_id": "6804f1f1d2d4e0a1c1a0d789",
            "title": "Login works for valid users",
            "status": "Passed",
            "duration": 1240,
            "hasVideo": true,
            "videoLink": "https://example.com/videos/run-1",
            "startTime": "2026-04-20T10:15:40.000Z",
            "timeline": []
        }]
    }));
    assert_eq!(run.status, RunStatus::Completed);
    assert!(!run.status.is_live());
    assert_eq!(run.count(&TestStatus::Passed), 18);
    assert_eq!(run.count(&TestStatus::Running), 0);
}

#[test]
fn unknown_statuses_and_fields_parse_and_survive() {
    let resp: JobsResponse = serde_json::from_value(json!({
        "success": true,
        "jobs": [{ "jobId": "j1", "status": "Cancelled", "priority": 3 }],
        "somethingNew": { "nested": true }
    }))
    .unwrap();
    assert_eq!(resp.jobs[0].status, JobStatus::Other("Cancelled".into()));
    assert_eq!(
        serde_json::to_value(&resp.jobs[0].status).unwrap(),
        json!("Cancelled")
    );

    let run: TestRun = serde_json::from_value(json!({
        "runId": "r1", "status": "Paused",
        "statuses": [{ "label": "Quarantined", "count": 1 }],
        "tests": [{ "_id": "t1", "status": "Flaky",
                    "timeline": [{ "weird": [1, 2] }], "error": { "code": 7 } }]
    }))
    .unwrap();
    assert_eq!(run.status, RunStatus::Other("Paused".into()));
    assert_eq!(run.tests[0].status, TestStatus::Other("Flaky".into()));
    assert_eq!(
        run.tests[0].error.as_ref().map(|e| e.value()),
        Some(json!({ "code": 7 }))
    );
    assert_eq!(
        run.tests[0].timeline.steps(),
        vec![json!({ "weird": [1, 2] })]
    );
    assert_eq!(
        run.statuses[0].label,
        TestStatus::Other("Quarantined".into())
    );
}

#[test]
fn missing_optional_fields_default() {
    let run: TestRun = serde_json::from_value(json!({
        "runId": "r1", "status": "Running", "tests": [{ "_id": "t1", "status": "Scheduled" }]
    }))
    .unwrap();
    assert!(run.status.is_live());
    let test = &run.tests[0];
    assert_eq!(
        (test.duration, test.has_video, test.timeline.len()),
        (None, false, 0)
    );
    assert!(matches!(
        serde_json::from_value::<ExecuteRequest>(json!({"action":"executeTests","testId":"t1"}))
            .unwrap()
            .selector,
        Selector::Test(_)
    ));
}
