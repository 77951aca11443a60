//! The `shapes: odd` switch over a real socket: every odd value the switch promises is
//! really in the bytes sent (so the switch cannot quietly turn plain), and every answer
//! still parses with runboard-shared's types, keeping what can be kept.

use runboard_shared::{
    ExecuteResponse, JobsResponse, RunStatus, ScheduleStatus, TestRun, TestStatus,
};
use serde_json::{Value, json};

use crate::common;
use crate::common::socket::{
    client, execute, execute_raw, feature_id, jobs_raw, report_raw, run_id_after, set_faults,
    start_manual,
};

/// The tests of a raw report, as JSON.
fn tests_of(report: &Value) -> &Vec<Value> {
    report["tests"].as_array().expect("tests")
}

#[tokio::test]
async fn odd_answers_hold_the_odd_values_and_still_parse() {
    let (running, clock) = start_manual().await;
    let (c, url) = (client(), running.url());
    set_faults(&c, &url, json!({"shapes": "odd"})).await;
    let feature = json!({"featureId": feature_id(&running)});

    // A duplicate start is a 409 that still names the job, and parses as AlreadyExists.
    let job_id = execute(&c, &url, feature.clone()).await.job_id;
    let duplicate = execute_raw(&c, &url, feature).await;
    assert_eq!(duplicate.status, 409, "{}", duplicate.text);
    assert_eq!(
        duplicate.json()["message"],
        "an identical execution is already queued"
    );
    let parsed: ExecuteResponse = duplicate.parse();
    assert_eq!(
        (
            parsed.success,
            parsed.schedule_status,
            parsed.job_id.as_str()
        ),
        (false, ScheduleStatus::AlreadyExists, job_id.as_str())
    );

    // Jobs: `missingJobIds` is null when empty, `updatedAt` has no fraction.
    let answer = jobs_raw(&c, &url, &[&job_id]).await;
    let raw = answer.json();
    assert!(raw["missingJobIds"].is_null(), "{raw}");
    let updated = raw["jobs"][0]["updatedAt"].as_str().expect("updatedAt");
    assert!(updated.len() == 20 && !updated.contains('.'), "{updated}");
    let parsed: JobsResponse = answer.parse();
    assert!(parsed.missing_job_ids.is_empty());
    assert_eq!(parsed.jobs[0].updated_at.as_deref(), Some(updated));

    // A run that has not started a test: scheduled tests say `"startTime": null`.
    let run_id = run_id_after(&c, &url, &job_id, &clock, 0).await;
    let answer = report_raw(&c, &url, &run_id).await;
    let raw = answer.json();
    assert_eq!(raw["status"], "Scheduled");
    assert!(
        tests_of(&raw)
            .iter()
            .all(|t| t["startTime"].is_null() && t.get("startTime").is_some())
    );
    assert!(
        !answer.text.contains("Blocked"),
        "only finished reports have a Blocked test"
    );
    let parsed: TestRun = answer.parse();
    assert!(parsed.tests.iter().all(|t| t.start_time.is_none()));

    clock.advance(std::time::Duration::from_secs(3_600));
    check_completed(report_raw(&c, &url, &run_id).await).await;
    running.shutdown().await;
}

/// Every odd shape of a completed report, first in the bytes, then as parsed.
async fn check_completed(answer: common::socket::Raw) {
    let raw = answer.json();
    assert_eq!(raw["status"], "Completed");
    assert!(
        answer.text.contains("\"testsInProjectCount\":36.0"),
        "a float count"
    );
    let tests = tests_of(&raw);
    assert!(tests[0]["title"].is_null(), "{}", tests[0]);
    let durations: Vec<f64> = tests
        .iter()
        .filter_map(|t| t["duration"].as_f64())
        .collect();
    assert_eq!(
        durations.iter().filter(|d| **d == -1.0).count(),
        1,
        "one duration is -1"
    );
    assert!(
        durations
            .iter()
            .filter(|d| **d != -1.0)
            .all(|d| d.fract() == 0.5),
        "{durations:?}"
    );
    for test in tests.iter().filter(|t| t["hasVideo"] == false) {
        assert!(
            test["videoLink"].is_null() && test.get("videoLink").is_some(),
            "{test}"
        );
    }
    let passed: Vec<&Value> = tests.iter().filter(|t| t["status"] == "Passed").collect();
    assert!(!passed.is_empty(), "the run has passed tests");
    for test in passed {
        assert!(
            test.get("timeline").is_none() && test["error"].is_null(),
            "{test}"
        );
        assert!(test.get("error").is_some(), "{test}");
    }
    let blocked = tests.iter().filter(|t| t["status"] == "Blocked").count();
    assert_eq!(blocked, 1, "exactly one undocumented status");
    let statuses = raw["statuses"].as_array().expect("statuses");
    assert!(
        statuses.contains(&json!({"label": "Blocked", "count": 1})),
        "{statuses:?}"
    );
    let counted: u64 = statuses.iter().filter_map(|s| s["count"].as_u64()).sum();
    assert_eq!(counted, tests.len() as u64, "the counts still add up");

    let parsed: TestRun = answer.parse();
    assert_eq!(parsed.status, RunStatus::Completed);
    assert_eq!(parsed.tests_in_project_count, 36);
    assert_eq!(parsed.tests.len(), tests.len(), "no test was lost");
    assert_eq!(parsed.tests[0].title, "", "a null title reads as unknown");
    assert_eq!(parsed.count(&TestStatus::parse("Blocked")), 1);
    let summed: u64 = parsed.statuses.iter().map(|s| s.count).sum();
    assert_eq!(summed, parsed.tests.len() as u64);
    let unknown = parsed
        .tests
        .iter()
        .filter(|t| t.status.is_finished() && t.duration.is_none());
    assert_eq!(unknown.count(), 1, "the negative duration reads as unknown");
}

#[tokio::test]
async fn plain_is_the_default_and_comes_back() {
    let (running, clock) = start_manual().await;
    let (c, url) = (client(), running.url());
    let faults = common::socket::send(c.get(format!("{url}/__sim/faults")))
        .await
        .json();
    assert_eq!(
        (&faults["shapes"], &faults["echo_key"]),
        (&json!("plain"), &json!("none"))
    );
    set_faults(&c, &url, json!({"shapes": "odd"})).await;
    set_faults(&c, &url, json!({"shapes": "plain"})).await;
    let feature = json!({"featureId": feature_id(&running)});
    let job_id = execute(&c, &url, feature.clone()).await.job_id;
    assert_eq!(
        execute_raw(&c, &url, feature).await.status,
        200,
        "plain duplicates are 200"
    );
    let answer = jobs_raw(&c, &url, &[&job_id]).await.json();
    assert_eq!(answer["missingJobIds"], json!([]));
    let run_id = run_id_after(&c, &url, &job_id, &clock, 3_600_000).await;
    let answer = report_raw(&c, &url, &run_id).await;
    assert!(
        answer.text.contains("\"testsInProjectCount\":36,"),
        "{}",
        answer.text
    );
    assert!(!answer.text.contains("null") && !answer.text.contains("Blocked"));
    running.shutdown().await;
}
