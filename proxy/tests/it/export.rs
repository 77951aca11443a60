//! `GET /runboard/export/{projId}/{runId}`, over a real socket: a finished run's report as
//! CSV and JUnit XML with the right headers and every test in it, read through the shared
//! reads (no extra upstream call for a cached report), and the report route's errors.

use std::{sync::Arc, time::Duration};

use reqwest::{StatusCode, header};
use runboard_proxy::Server;
use runboard_shared::{Endpoint, ExportFormat, Route};
use runboard_sim::{ManualClock, RunningSim, SimConfig, SimProject};
use serde_json::{Value, json};

use crate::{
    common::{self, KEY, PROJECT},
    paths,
};

/// A simulator on a stopped clock and Runboard in front of it.
struct Stack {
    sim: RunningSim,
    clock: Arc<ManualClock>,
    server: Server,
    client: reqwest::Client,
}

async fn stack() -> Stack {
    let sim_config = SimConfig {
        speed: 1.0,
        tests_per_project: 8,
        projects: vec![SimProject::new(PROJECT, KEY)],
        ..SimConfig::default()
    };
    let (sim, clock) = common::manual_sim(sim_config).await;
    let config = common::config_for(&sim.url(), KEY);
    let server = Server::start(config).await.expect("runboard starts");
    Stack {
        sim,
        clock,
        server,
        client: reqwest::Client::new(),
    }
}

impl Stack {
    async fn get(&self, path: &str) -> reqwest::Response {
        let url = format!("{}{path}", self.server.url());
        self.client.get(url).send().await.unwrap()
    }

    /// One call straight to the simulator with the project's key, as JSON (so polling
    /// for the run does not count against Runboard's per-user read limit).
    async fn direct(&self, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.sim.url());
        let request = self.client.post(url).json(&body).header("x-api-key", KEY);
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.json().await.unwrap()
    }

    /// Starts a run of every test at the simulator, moves the clock until it is over: its
    /// run id and report (read once through Runboard, so it is cached there).
    async fn finished_run(&self) -> (String, Value) {
        let catalog = self.sim.sim.catalog(PROJECT).unwrap();
        let feature = catalog.features.iter().find(|f| f.all).unwrap().id.clone();
        let started = self
            .direct(
                &common::execute_path(),
                json!({"action": "executeTests", "featureId": feature}),
            )
            .await;
        let job = started["jobId"].as_str().unwrap().to_owned();
        for _ in 0..3600 {
            let jobs = self
                .direct(&common::jobs_path(), json!({"jobIds": [job]}))
                .await;
            if let Some(id) = jobs["jobs"][0]["testRunId"].as_str() {
                self.clock.advance(Duration::from_secs(24 * 3600));
                let response = self.get(&common::run_path(id)).await;
                assert_eq!(response.status(), StatusCode::OK);
                let report: Value = response.json().await.unwrap();
                assert_eq!(report["status"], "Completed", "{report}");
                return (id.to_owned(), report);
            }
            self.clock.advance(Duration::from_millis(500));
        }
        panic!("the run never got a run id");
    }
}

impl Stack {
    /// The export of `run` in `format`, checked for status 200, `mime`, an attachment
    /// named `filename` and no key anywhere: its body.
    async fn download(
        &self,
        run: &str,
        format: ExportFormat,
        mime: &str,
        filename: &str,
    ) -> String {
        let response = self.get(&paths::export_path(run, format)).await;
        assert_eq!(response.status(), StatusCode::OK, "{format}");
        let header_of = |name: header::HeaderName| {
            let value = response.headers().get(name);
            value.map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(header_of(header::CONTENT_TYPE).as_deref(), Some(mime));
        assert_eq!(
            header_of(header::CONTENT_DISPOSITION),
            Some(format!("attachment; filename=\"{filename}\""))
        );
        let head = format!("{:?}", response.headers());
        let body = response.text().await.unwrap();
        assert!(!body.contains(KEY) && !head.contains(KEY), "{format}");
        body
    }
}

#[tokio::test]
async fn exports_a_finished_report_as_csv_and_junit() {
    let stack = stack().await;
    let (run, report) = stack.finished_run().await;
    let tests = report["tests"].as_array().unwrap();
    assert!(!tests.is_empty(), "{report}");
    let calls_before = stack.sim.sim.stats().by_endpoint.test_run;

    let csv = stack
        .download(
            &run,
            ExportFormat::Csv,
            "text/csv; charset=utf-8",
            &format!("run-{run}.csv"),
        )
        .await;
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert!(lines[0].starts_with("id,title,status,"), "{csv}");
    for test in tests {
        let id = test["_id"].as_str().unwrap();
        let status = test["status"].as_str().unwrap();
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("{id},")) && l.contains(&format!(",{status},"))),
            "{id} {status} in {csv}"
        );
    }

    let xml = stack
        .download(
            &run,
            ExportFormat::Junit,
            "application/xml; charset=utf-8",
            &format!("run-{run}.junit.xml"),
        )
        .await;
    assert_eq!(xml.matches("<testcase ").count(), tests.len(), "{xml}");
    for test in tests {
        let id = test["_id"].as_str().unwrap();
        assert!(
            xml.contains(&format!("classname=\"{id}\"")),
            "{id} in {xml}"
        );
    }
    let failed = tests.iter().filter(|t| t["status"] == "Failed").count();
    assert!(
        failed > 0,
        "the seeded run must have failures, or the checks below prove nothing"
    );
    assert!(
        xml.contains(&format!("failures=\"{failed}\"")),
        "{failed} failures in {xml}"
    );
    assert_eq!(xml.matches("<failure ").count(), failed);

    assert_eq!(
        stack.sim.sim.stats().by_endpoint.test_run,
        calls_before,
        "a cached finished report is exported without asking the platform again"
    );
}

#[tokio::test]
async fn refuses_as_the_report_route_does() {
    let stack = stack().await;
    let (run, _) = stack.finished_run().await;
    let error = |response: reqwest::Response| async move {
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        (status, body)
    };

    // Each query as written: the typed target could not send them.
    let no_query = Route::Export.fill(&[PROJECT, &run]);
    for query in ["?format=pdf", "", "?format=csv&extra=1"] {
        let (status, body) = error(stack.get(&format!("{no_query}{query}")).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_query", "{body}");
    }
    let (_, body) = error(stack.get(&format!("{no_query}?format=pdf")).await).await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("csv") && message.contains("junit"),
        "{message}"
    );

    let unknown = "0123456789abcdef01234567";
    let csv_of =
        |project: &str, run: &str| format!("{}?format=csv", Route::Export.fill(&[project, run]));
    let report_of =
        |project: &str, run: &str| Route::Guide(Endpoint::TestRun).fill(&[project, run]);
    let export = error(stack.get(&csv_of(unknown, &run)).await).await;
    let report = error(stack.get(&report_of(unknown, &run)).await).await;
    assert_eq!(export.0, StatusCode::NOT_FOUND);
    assert_eq!(export, report, "the same error as the report route");

    let before = stack.sim.sim.stats().total;
    let export = error(stack.get(&csv_of(PROJECT, "bad%20id%3B")).await).await;
    let report = error(stack.get(&report_of(PROJECT, "bad%20id%3B")).await).await;
    assert_eq!(export.0, StatusCode::BAD_REQUEST, "{:?}", export.1);
    assert_eq!(export.1["error"]["code"], "invalid_id");
    assert_eq!(export, report, "the same error as the report route");
    assert_eq!(
        stack.sim.sim.stats().total,
        before,
        "a bad id reaches nothing upstream"
    );
    assert!(!export.1.to_string().contains(KEY));
}
