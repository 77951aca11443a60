//! Shapes the guide allows but never shows, through Runboard: odd reports and job lists
//! pass as the platform sent them, a refusal is a 422 with the platform's own reason,
//! and a duplicate start answered 409 `AlreadyExists` is followed like any start.

use std::time::Duration;

use runboard_sim::Faults;
use serde_json::{Value, json};

use crate::common::{self, Harness, KEY, PROJECT, code, start, wait_for};

/// Sets the simulator's switches by their names in the contract (`/__sim/faults`).
fn switch(h: &Harness, faults: Value) {
    h.sim
        .sim
        .set_faults(serde_json::from_value::<Faults>(faults).unwrap());
}

async fn start_run(h: &Harness, extra: Value) -> (u16, Value) {
    let mut body = json!({"action": "executeTests", "featureId": h.feature_id()});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    h.post(&common::execute_path(), &body).await
}

/// The platform's own answer to `GET path`, asked directly.
async fn at_sim(h: &Harness, path: &str) -> Value {
    let response = h
        .client
        .get(format!("{}{path}", h.sim.url()))
        .header("x-api-key", KEY)
        .send()
        .await
        .unwrap();
    common::read(response).await.1
}

#[tokio::test]
async fn odd_reports_and_job_lists_pass_as_sent() {
    let h = start(|_| {}).await;
    switch(&h, json!({"shapes": "odd"}));
    let (status, started) = start_run(&h, json!({})).await;
    assert_eq!(status, 200, "{started}");
    let job = started["jobId"].as_str().unwrap().to_owned();
    let jobs_path = common::jobs_path();
    // Polled through Runboard until the job is finished and has its report.
    let run = wait_for(Duration::from_secs(10), || async {
        let (status, body) = h.post(&jobs_path, &json!({"jobIds": [job]})).await;
        assert_eq!(status, 200, "{body}");
        let job = &body["jobs"][0];
        let done = matches!(job["status"].as_str(), Some("Success" | "Failed"));
        done.then(|| job["testRunId"].as_str().map(str::to_owned))
            .flatten()
    })
    .await;
    let (status, body) = h.post(&jobs_path, &json!({})).await;
    assert_eq!(status, 200, "the list of active jobs: {body}");
    assert_eq!(body["missingJobIds"], Value::Null, "{body}");

    let report_path = common::run_path(&run);
    let (status, report) = h.get(&report_path).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report, at_sim(&h, &report_path).await, "passed on as sent");
    let text = report.to_string();
    for odd in [
        r#""title":null"#,
        r#""duration":-1"#,
        r#""status":"Blocked""#,
        r#""label":"Blocked""#,
    ] {
        assert!(text.contains(odd), "the report holds {odd}: {text}");
    }
    h.stop().await;
}

#[tokio::test]
async fn a_refusal_is_422_with_the_platforms_reason() {
    let h = start(|_| {}).await;
    let (status, body) = start_run(&h, json!({"agentName": "refusing-agent"})).await;
    assert_eq!((status, code(&body)), (422, "upstream_refused"), "{body}");
    assert_eq!(
        body["error"]["message"],
        "The test platform refused this: agent refusing-agent is disabled for this project"
    );
    h.stop().await;
}

#[tokio::test]
async fn a_duplicate_start_in_a_409_follows_the_existing_job() {
    let h = start(|_| {}).await;
    switch(&h, json!({"shapes": "odd"}));
    // An agent that is not connected keeps the first job queued, so the second is a duplicate.
    let agent = h.sim.sim.catalog(PROJECT).unwrap().agents[0].name.clone();
    assert!(h.sim.sim.set_agent_connected(PROJECT, &agent, false));
    let (status, first) = start_run(&h, json!({"agentName": agent})).await;
    assert_eq!(status, 200, "{first}");
    let (status, second) = start_run(&h, json!({"agentName": agent})).await;
    assert_eq!(
        status, 200,
        "a 409 AlreadyExists is an accepted start: {second}"
    );
    assert_eq!(second["jobId"], first["jobId"]);
    assert_eq!(second["scheduleStatus"], "AlreadyExists");
    assert_eq!(second["success"], true);
    assert_eq!(h.stats().status(409), 1, "the platform did answer 409");
    h.stop().await;
}
