//! Request handling: the key check before any logic, bad input answered with clear 4xx
//! errors in the platform's shape, missing job ids, unknown routes, the control endpoints.

use axum::http::{Method, StatusCode};
use runboard_shared::{API_PREFIX, Endpoint, ProjectId, Route, execute_path, test_run_path};
use serde_json::json;

use crate::common::{self, Harness, KEY, OTHER_KEY, OTHER_PROJECT, PROJECT};

/// [`OTHER_PROJECT`], typed for the shared path builders.
fn other_project() -> ProjectId {
    ProjectId::parse(OTHER_PROJECT).unwrap()
}

#[tokio::test]
async fn the_key_is_checked_before_anything_else() {
    let h = Harness::new();
    let feature = h.feature_id();
    let execute = json!({"action": "executeTests", "featureId": feature}).to_string();
    // A path under the guide's prefix that names no project.
    let no_project = format!("{API_PREFIX}somethingElse");
    let paths = [
        (Method::POST, common::execute_path(), execute.as_str()),
        (Method::POST, common::jobs_path(), "{}"),
        (
            Method::GET,
            common::run_path("0123456789abcdef01234567"),
            "",
        ),
        (Method::POST, common::execute_path(), "{not json"),
        (
            Method::POST,
            Route::Guide(Endpoint::Execute).fill(&["000000000000000000000000"]),
            execute.as_str(),
        ),
        (Method::GET, no_project.clone(), ""),
    ];
    for (method, path, body) in &paths {
        for key in [None, Some("wrong"), Some(OTHER_KEY), Some("")] {
            if key == Some(OTHER_KEY) && *path == no_project {
                continue; // Any valid key passes on paths that name no project.
            }
            let answer = h.call(method.clone(), path, key, body).await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} {key:?}: {}",
                answer.text
            );
            assert_eq!(answer.error_code(), "unauthorized");
        }
    }
    // Nothing was created, everything was counted.
    assert!(h.jobs(json!({})).await.jobs.is_empty());
    let stats = h.sim.stats();
    assert_eq!(stats.status(401), 23);
    assert_eq!(stats.status(200), 1);
    assert_eq!(stats.total, 24);
    assert_eq!(stats.by_endpoint.test_execution, 12);
    assert_eq!(stats.by_endpoint.other, 3);
}

#[tokio::test]
async fn bad_executions_are_refused_with_a_reason() {
    let h = Harness::new();
    let catalog = h.catalog();
    let feature = h.feature_id();
    let suite = catalog.suites().next().expect("suite").1.id.clone();
    let test = catalog.tests().next().expect("test").id.clone();
    let cases = [
        (
            json!({"action": "runTests", "featureId": feature}),
            "invalid_request",
            "action",
        ),
        (json!({"featureId": feature}), "invalid_request", "action"),
        (
            json!({"action": "executeTests"}),
            "invalid_request",
            "featureId",
        ),
        (
            json!({"action": "executeTests", "featureId": feature, "testId": test}),
            "invalid_request",
            "only one",
        ),
        (
            json!({"action": "executeTests", "featureId": "0123456789abcdef01234567"}),
            "unknown_id",
            "featureId",
        ),
        (
            json!({"action": "executeTests", "featureId": suite}),
            "unknown_id",
            "not a feature",
        ),
        (
            json!({"action": "executeTests", "testSuiteId": feature}),
            "unknown_id",
            "testSuiteId",
        ),
        (
            json!({"action": "executeTests", "testId": "nope"}),
            "unknown_id",
            "testId",
        ),
        (
            json!({"action": "executeTests", "tests": []}),
            "invalid_request",
            "at least one",
        ),
        (
            json!({"action": "executeTests", "tests": [test, "nope"]}),
            "unknown_id",
            "tests[1]",
        ),
        (
            json!({"action": "executeTests", "tests": [test, test]}),
            "invalid_request",
            "repeats",
        ),
        (
            json!({"action": "executeTests", "testId": "bad/id"}),
            "invalid_request",
            "testId",
        ),
        (
            json!({"action": "executeTests", "testId": test, "agentName": "ghost"}),
            "unknown_agent",
            "ghost",
        ),
        (
            json!({"action": "executeTests", "testId": test, "agentName": "  "}),
            "invalid_request",
            "agentName",
        ),
        (
            json!({"action": "executeTests", "testId": test, "colour": "red"}),
            "invalid_request",
            "colour",
        ),
        (json!(["executeTests"]), "invalid_request", ""),
    ];
    for (body, code, mention) in cases {
        let answer = h.execute_raw(body.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.text
        );
        assert_eq!(answer.error_code(), code, "{body}: {}", answer.text);
        let message = answer.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            message.contains(mention),
            "{body}: {message:?} should mention {mention:?}"
        );
    }
    for raw in ["{", "", "executeTests", "{\"action\":\"executeTests\",}"] {
        let path = common::execute_path();
        let answer = h.call(Method::POST, &path, Some(KEY), raw).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{raw:?}");
        assert_eq!(answer.error_code(), "invalid_json", "{raw:?}");
    }
    assert!(
        h.jobs(json!({})).await.jobs.is_empty(),
        "no refused request created a job"
    );
}

#[tokio::test]
async fn job_lookups_report_missing_ids_instead_of_failing() {
    let h = Harness::new();
    let (_, mine) = h.execute(json!({"featureId": h.feature_id()})).await;
    let other_feature = h.sim.catalog(OTHER_PROJECT).expect("other").features[0]
        .id
        .clone();
    let other = h
        .call(
            Method::POST,
            &execute_path(&other_project()),
            Some(OTHER_KEY),
            &json!({"action": "executeTests", "featureId": other_feature}).to_string(),
        )
        .await
        .json()["jobId"]
        .as_str()
        .expect("other job")
        .to_owned();
    let asked =
        json!({"jobIds": [mine, "0123456789abcdef01234567", "not an id/../", "", other, mine]});
    let response = h.jobs(asked).await;
    assert!(response.success);
    assert_eq!(response.jobs.len(), 1, "each job once");
    assert_eq!(response.jobs[0].job_id, mine);
    assert_eq!(
        response.missing_job_ids,
        vec![
            "0123456789abcdef01234567",
            "not an id/../",
            "",
            other.as_str()
        ]
    );

    let path = common::jobs_path();
    for (body, code) in [
        ("{", "invalid_json"),
        ("", "invalid_json"),
        (r#"{"jobIds":[1,2]}"#, "invalid_request"),
        (r#"{"jobIds":"x"}"#, "invalid_request"),
    ] {
        let answer = h.call(Method::POST, &path, Some(KEY), body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.error_code(), code, "{body}");
    }
}

#[tokio::test]
async fn unknown_runs_routes_and_methods_are_json_errors() {
    let h = Harness::new();
    let check = |status: StatusCode, code: &'static str| {
        move |answer: common::Answer| {
            assert_eq!(answer.status, status, "{}", answer.text);
            assert_eq!(answer.error_code(), code);
        }
    };
    check(StatusCode::NOT_FOUND, "not_found")(h.run_answer("0123456789abcdef01234567").await);
    check(StatusCode::NOT_FOUND, "not_found")(
        h.call(
            Method::GET,
            &format!("{API_PREFIX}nothing/here"),
            Some(KEY),
            "",
        )
        .await,
    );
    check(StatusCode::NOT_FOUND, "not_found")(h.call(Method::GET, "/", None, "").await);
    check(StatusCode::NOT_FOUND, "not_found")(h.call(Method::GET, "/__sim/nope", None, "").await);
    let jobs = common::jobs_path();
    check(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")(
        h.call(Method::GET, &jobs, Some(KEY), "").await,
    );
    check(StatusCode::UNAUTHORIZED, "unauthorized")(h.call(Method::GET, &jobs, None, "").await);
    check(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")(
        h.call(Method::DELETE, "/__sim/stats", None, "").await,
    );

    // A run of another project is not found through this project.
    let (_, job) = h.execute(json!({"featureId": h.feature_id()})).await;
    h.advance_ms(2_000);
    let run = h.job(&job).await.test_run_id.expect("run");
    let foreign = test_run_path(&other_project(), &common::typed_run(&run));
    check(StatusCode::NOT_FOUND, "not_found")(
        h.call(Method::GET, &foreign, Some(OTHER_KEY), "").await,
    );
    assert_eq!(h.run_answer(&run).await.status, StatusCode::OK);
}

#[tokio::test]
async fn control_endpoints_work_and_refuse_bad_input() {
    let h = Harness::new();
    let catalog = h.call(Method::GET, "/__sim/catalog", None, "").await.json();
    let list: runboard_sim::CatalogList = serde_json::from_value(catalog).expect("CatalogList");
    assert_eq!(list.projects.len(), 2);
    assert_eq!(list.projects[0], h.catalog());
    let agents: Vec<(&str, Option<runboard_sim::Fate>)> = list.projects[0]
        .agents
        .iter()
        .map(|a| (a.name.as_str(), a.fate))
        .collect();
    use runboard_sim::Fate::{Cancelled, FailsWithoutRun, RefusesStarts};
    assert_eq!(
        agents,
        [
            ("staging-agent", None),
            ("nightly-agent", None),
            ("offline-agent", None),
            ("cancel-agent", Some(Cancelled)),
            ("broken-agent", Some(FailsWithoutRun)),
            ("refusing-agent", Some(RefusesStarts)),
        ]
    );

    let faults = json!({"latencyMs": 0, "error5xxRate": 0.25});
    let answer = h
        .call(Method::POST, "/__sim/faults", None, &faults.to_string())
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(h.sim.faults().error5xx_rate, 0.25);
    let read = h.call(Method::GET, "/__sim/faults", None, "").await.json();
    assert_eq!(read["error5xxRate"], json!(0.25));
    for bad in [
        r#"{"dropRate": 2}"#,
        r#"{"dropRate": -0.1}"#,
        r#"{"latencyMs": 99999999}"#,
        r#"{"oops": 1}"#,
        r#"{"shapes": "weird"}"#,
        r#"{"echo_key": "loud"}"#,
        "{",
    ] {
        let answer = h.call(Method::POST, "/__sim/faults", None, bad).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
        answer.error_code();
    }
    assert_eq!(
        h.sim.faults().error5xx_rate,
        0.25,
        "refused faults change nothing"
    );

    for (body, status) in [
        (
            json!({"projectId": PROJECT, "name": "ghost", "connected": true}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"projectId": "nope", "name": "offline-agent", "connected": true}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"projectId": PROJECT, "name": "offline-agent"}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let answer = h
            .call(Method::POST, "/__sim/agents", None, &body.to_string())
            .await;
        assert_eq!(answer.status, status, "{body}");
        answer.error_code();
    }

    h.sim.set_faults(runboard_sim::Faults::default());
    h.jobs(json!({})).await;
    assert_eq!(h.sim.stats().by_endpoint.jobs, 1);
    let reset = h
        .call(Method::POST, "/__sim/stats/reset", None, "")
        .await
        .json();
    assert_eq!(reset["total"], json!(0));
    let stats: runboard_sim::Stats =
        serde_json::from_value(h.call(Method::GET, "/__sim/stats", None, "").await.json())
            .expect("Stats");
    assert_eq!(
        stats,
        runboard_sim::Stats::default(),
        "control endpoints are not counted"
    );
}
