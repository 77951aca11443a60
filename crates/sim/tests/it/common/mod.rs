//! Test harness: a simulator on a manual clock, driven through its router with
//! `tower::ServiceExt::oneshot` (no socket), with helpers for the three endpoints.
#![allow(unreachable_pub)] // `pub` for the test modules of this one binary.

pub mod checks;
pub mod socket;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode},
    response::Response,
};
use http_body_util::BodyExt;
use runboard_shared::{Job, JobsResponse, ProjectId, RunId, TestRun};
use runboard_sim::{Catalog, ManualClock, SimConfig, SimProject, Simulator};
use serde_json::{Value, json};
use tower::ServiceExt;

pub const PROJECT: &str = "67f8cb3fe236b8d41b7700ac";
pub const KEY: &str = "test-key-1";
pub const OTHER_PROJECT: &str = "67f8cb3fe236b8d41b7700ff";
pub const OTHER_KEY: &str = "test-key-2";

/// [`PROJECT`], typed for the shared path builders.
pub fn typed_project() -> ProjectId {
    ProjectId::parse(PROJECT).expect("a valid project id")
}

/// A run id the simulator gave out, typed for the shared path builders.
pub fn typed_run(id: &str) -> RunId {
    RunId::parse(id).expect("a valid run id")
}

/// The guide's start path for [`PROJECT`].
pub fn execute_path() -> String {
    runboard_shared::execute_path(&typed_project())
}

/// The guide's `jobs` path for [`PROJECT`].
pub fn jobs_path() -> String {
    runboard_shared::jobs_path(&typed_project())
}

/// The guide's report path for `run` (a valid id) in [`PROJECT`].
pub fn run_path(run: &str) -> String {
    runboard_shared::test_run_path(&typed_project(), &typed_run(run))
}

/// A simulator with two projects on a manual clock.
pub struct Harness {
    pub sim: Simulator,
    pub clock: Arc<ManualClock>,
    router: Router,
}

/// A decoded answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub text: String,
    pub response_extensions: axum::http::Extensions,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The `error.code` of an error body, checking the documented shape.
    pub fn error_code(&self) -> String {
        let body = self.json();
        assert_eq!(body["success"], json!(false), "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

pub fn config(tests: usize, speed: f64) -> SimConfig {
    SimConfig {
        seed: 7,
        speed,
        tests_per_project: tests,
        projects: vec![
            SimProject::new(PROJECT, KEY),
            SimProject::new(OTHER_PROJECT, OTHER_KEY),
        ],
        ..SimConfig::default()
    }
}

impl Harness {
    pub fn new() -> Self {
        Self::with_config(config(36, 1.0))
    }

    pub fn with_config(config: SimConfig) -> Self {
        let clock = Arc::new(ManualClock::at_example_time());
        let sim = Simulator::with_clock(config, clock.clone());
        let router = sim.router();
        Self { sim, clock, router }
    }

    pub fn catalog(&self) -> Catalog {
        self.sim.catalog(PROJECT).expect("project exists")
    }

    pub fn advance_ms(&self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
    }

    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response: Response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        Answer {
            status: parts.status,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            response_extensions: parts.extensions,
        }
    }

    /// A request with an optional key and a raw body.
    pub async fn call(&self, method: Method, path: &str, key: Option<&str>, body: &str) -> Answer {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(key) = key {
            builder = builder.header("x-api-key", key);
        }
        if !body.is_empty() {
            builder = builder.header("content-type", "application/json");
        }
        self.send(builder.body(Body::from(body.to_owned())).expect("request"))
            .await
    }

    pub async fn execute_raw(&self, body: Value) -> Answer {
        let path = execute_path();
        self.call(Method::POST, &path, Some(KEY), &body.to_string())
            .await
    }

    /// Starts an execution and returns (scheduleStatus, jobId).
    pub async fn execute(&self, selector: Value) -> (String, String) {
        let mut body = json!({"action": "executeTests"});
        if let (Some(target), Some(fields)) = (body.as_object_mut(), selector.as_object()) {
            target.extend(fields.clone());
        }
        let answer = self.execute_raw(body).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        let body = answer.json();
        assert_eq!(body["success"], json!(true));
        (
            body["scheduleStatus"]
                .as_str()
                .expect("scheduleStatus")
                .to_owned(),
            body["jobId"].as_str().expect("jobId").to_owned(),
        )
    }

    pub async fn jobs(&self, body: Value) -> JobsResponse {
        let path = jobs_path();
        let answer = self
            .call(Method::POST, &path, Some(KEY), &body.to_string())
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        serde_json::from_str(&answer.text).expect("JobsResponse")
    }

    pub async fn job(&self, job_id: &str) -> Job {
        let response = self.jobs(json!({"jobIds": [job_id]})).await;
        assert!(response.missing_job_ids.is_empty(), "{response:?}");
        response.jobs.into_iter().next().expect("one job")
    }

    pub async fn run_answer(&self, run_id: &str) -> Answer {
        let path = run_path(run_id);
        self.call(Method::GET, &path, Some(KEY), "").await
    }

    pub async fn run(&self, run_id: &str) -> TestRun {
        let answer = self.run_answer(run_id).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        serde_json::from_str(&answer.text).expect("TestRun")
    }

    /// The first feature that is not "run everything".
    pub fn feature_id(&self) -> String {
        self.catalog()
            .features
            .iter()
            .find(|f| !f.all)
            .expect("a feature")
            .id
            .clone()
    }
}
