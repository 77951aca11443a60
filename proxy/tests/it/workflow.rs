//! The guide's whole workflow through Runboard over real sockets, with no key on the
//! client, plus the answers a script relies on: strict bodies, unknown projects, 404/405.

use std::time::Duration;

use runboard_shared::{API_PREFIX, Endpoint, RUNBOARD_PREFIX, Route};
use serde_json::{Value, json};

use crate::common::{self, KEY, code, start, wait_for};

#[tokio::test]
async fn the_guides_workflow_works_without_a_key_on_the_client() {
    let h = start(|_| {}).await;
    // 1. Start a run. A stray client key and credentials on every call must not matter
    // (nor be forwarded: checked at the end against what the simulator received).
    let response = stray_credentials(
        h.client
            .post(h.url(&common::execute_path()))
            .json(&json!({"action": "executeTests", "featureId": h.feature_id(), "agentName": "staging-agent"})),
    )
    .send()
    .await
    .unwrap();
    assert!(response.headers().get("set-cookie").is_none());
    assert!(response.headers().get("server").is_none());
    let (status, started) = common::read(response).await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["success"], true);
    assert_eq!(started["scheduleStatus"], "Success");
    let job_id = started["jobId"].as_str().unwrap().to_owned();

    // 2. Poll the job until it is terminal and has a run id.
    let job: Value = wait_for(Duration::from_secs(15), || async {
        let request = h
            .client
            .post(h.url(&common::jobs_path()))
            .json(&json!({"jobIds": [job_id]}));
        let (status, body) = common::read(stray_credentials(request).send().await.unwrap()).await;
        assert_eq!(status, 200, "{body}");
        let job = body["jobs"][0].clone();
        let terminal = matches!(job["status"].as_str(), Some("Success" | "Failed"));
        (terminal && job["testRunId"].is_string()).then_some(job)
    })
    .await;
    assert_eq!(job["jobId"], job_id.as_str());

    // 3. Load the run report.
    let run_id = job["testRunId"].as_str().unwrap();
    let request = h.client.get(h.url(&common::run_path(run_id)));
    let (status, run) = common::read(stray_credentials(request).send().await.unwrap()).await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["runId"], run_id);
    assert_eq!(run["status"], "Completed");
    assert!(!run["tests"].as_array().unwrap().is_empty());

    // Every upstream call was accepted with the injected key: no 401 at the simulator,
    // and each carried exactly the configured key and none of the client's credentials.
    let stats = h.stats();
    assert_eq!(stats.status(401), 0);
    assert!(stats.by_endpoint.test_execution == 1 && stats.by_endpoint.test_run == 1);
    assert_eq!(only_the_configured_key_went_upstream(&h), stats.total);
    // A finished report through the proxy is the simulator's own, field for field.
    let direct: Value = h
        .client
        .get(format!("{}{}", h.sim.url(), common::run_path(run_id)))
        .header("x-api-key", KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(run, direct);
    h.stop().await;
}

/// Adds what a browser or script might send on its own: another key, a bearer token, a
/// session cookie, and headers of its own that are nobody upstream's business.
fn stray_credentials(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request
        .header("x-api-key", "client-supplied-wrong-key")
        .header("authorization", "Bearer nope")
        .header("cookie", "session=abc")
        .header("user-agent", "Mozilla/5.0 (a browser)")
        .header("accept-language", "de-CH")
        .header("x-forwarded-for", "203.0.113.9")
}

/// Checks the simulator's log of every `/api` request it received (the same as
/// `GET /__sim/requests`): each carried exactly the headers Runboard sends, one
/// `x-api-key` (the configured one) and nothing of the client's. Answers how many
/// requests there were.
fn only_the_configured_key_went_upstream(h: &common::Harness) -> u64 {
    let log = h.sim.sim.requests();
    let methods: Vec<&str> = log.requests.iter().map(|r| r.method.as_str()).collect();
    assert!(
        methods.contains(&"GET") && methods.contains(&"POST"),
        "{methods:?}"
    );
    common::assert_forwarded_cleanly(h, KEY) as u64
}

#[tokio::test]
async fn unknown_ids_in_jobs_come_back_missing_and_unknown_runs_404() {
    let h = start(|_| {}).await;
    let (status, body) = h
        .post(
            &common::jobs_path(),
            &json!({"jobIds": ["6804f1d1d2d4e0a1c1a0d123"]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["missingJobIds"], json!(["6804f1d1d2d4e0a1c1a0d123"]));
    let (status, body) = h.get(&common::run_path("6804f1e2d2d4e0a1c1a0d456")).await;
    assert_eq!((status, code(&body)), (404, "upstream_rejected"), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not found")
    );
    let (status, body) = h.post(&common::jobs_path(), &json!({})).await;
    assert_eq!(status, 200, "{body}");
    h.stop().await;
}

#[tokio::test]
async fn an_unknown_project_is_404_and_never_reaches_the_upstream() {
    let h = start(|_| {}).await;
    let other = "aaaaaaaaaaaaaaaaaaaaaaaa";
    let (status, body) = h
        .post(
            &Route::Guide(Endpoint::Execute).fill(&[other]),
            &json!({"action": "executeTests", "testId": "t1"}),
        )
        .await;
    assert_eq!((status, code(&body)), (404, "unknown_project"));
    let (status, body) = h
        .post(&Route::Guide(Endpoint::Jobs).fill(&[other]), &json!({}))
        .await;
    assert_eq!((status, code(&body)), (404, "unknown_project"));
    let (status, body) = h
        .get(&Route::Guide(Endpoint::TestRun).fill(&[other, "r1"]))
        .await;
    assert_eq!((status, code(&body)), (404, "unknown_project"));
    assert_eq!(h.stats().total, 0);
    h.stop().await;
}

#[tokio::test]
async fn malformed_bodies_are_400_with_the_field_named() {
    let h = start(|_| {}).await;
    let path = common::execute_path();
    let cases = [
        (
            json!({"action": "executeTests", "featureId": "f1", "colour": "red"}),
            "colour",
        ),
        (
            json!({"action": "executeTests", "featureId": "f1", "testId": "t1"}),
            "only one",
        ),
        (
            json!({"action": "deleteEverything", "featureId": "f1"}),
            "action",
        ),
        (json!({"action": "executeTests"}), "selector"),
        (
            json!({"action": "executeTests", "featureId": "../etc"}),
            "featureId",
        ),
        (json!({"action": "executeTests", "tests": []}), "tests"),
    ];
    for (body, needle) in cases {
        let (status, answer) = h.post(&path, &body).await;
        assert_eq!((status, code(&answer)), (400, "invalid_body"), "{body}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{message:?} should name {needle}");
        assert!(!message.contains("line 1"), "{message}");
    }
    let (status, answer) = h
        .post(&common::jobs_path(), &json!({"jobIds": ["a/b"]}))
        .await;
    assert_eq!((status, code(&answer)), (400, "invalid_body"), "{answer}");
    let response = h
        .client
        .post(h.url(&path))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, answer) = common::read(response).await;
    assert_eq!((status, code(&answer)), (400, "invalid_body"));
    assert_eq!(h.stats().total, 0);
    h.stop().await;
}

#[tokio::test]
async fn other_methods_and_paths_get_json_errors() {
    let h = start(|_| {}).await;
    let response = h
        .client
        .get(h.url(&common::jobs_path()))
        .send()
        .await
        .unwrap();
    let (status, body) = common::read(response).await;
    assert_eq!((status, code(&body)), (405, "method_not_allowed"));
    let response = h
        .client
        .delete(h.url(&common::run_path("r1")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let unknown = [
        format!("{API_PREFIX}other"),
        format!("{API_PREFIX}{}/p", Endpoint::TestRun.label()),
        format!("{RUNBOARD_PREFIX}nothing"),
        API_PREFIX.trim_end_matches('/').to_owned(),
    ];
    for path in unknown {
        let (status, body) = h.get(&path).await;
        assert_eq!((status, code(&body)), (404, "not_found"), "{path}");
    }
    assert_eq!(h.stats().total, 0);
    h.stop().await;
}
