//! Helpers for tests over a real socket: a simulator on `127.0.0.1:0` (on a manual
//! clock unless a test brings its own simulator), a client with a generous hang
//! timeout, and the three endpoints as raw answers (status and text, so tests can look
//! at the bytes) or parsed with runboard-shared's types.

use std::{sync::Arc, time::Duration};

use runboard_shared::{ExecuteResponse, JobsResponse, TestRun};
use runboard_sim::{ManualClock, RunningSim, Simulator, spawn};
use serde_json::{Value, json};

use super::{KEY, PROJECT, config, execute_path, jobs_path, run_path};

pub async fn start(sim: Simulator) -> RunningSim {
    spawn(sim, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("spawn")
}

/// A 36-test simulator on a manual clock, served; with the clock to walk it.
pub async fn start_manual() -> (RunningSim, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at_example_time());
    let running = start(Simulator::with_clock(config(36, 1.0), clock.clone())).await;
    (running, clock)
}

/// A client whose timeout only catches a hang (10 s), never a slow machine.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// An answer as received.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    pub text: String,
}

impl Raw {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// Parses the text with a shared type, as the proxy and the widget do.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("does not parse ({e}): {}", self.text))
    }
}

/// Sends `request` and reads the whole answer.
pub async fn send(request: reqwest::RequestBuilder) -> Raw {
    let response = request.send().await.expect("send");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    Raw { status, text }
}

/// Starts an execution with `body`'s fields added to `{"action":"executeTests"}`.
pub async fn execute_raw(c: &reqwest::Client, url: &str, fields: Value) -> Raw {
    let mut body = json!({"action": "executeTests"});
    if let (Some(target), Some(fields)) = (body.as_object_mut(), fields.as_object()) {
        target.extend(fields.clone());
    }
    send(
        c.post(format!("{url}{}", execute_path()))
            .header("x-api-key", KEY)
            .json(&body),
    )
    .await
}

pub async fn execute(c: &reqwest::Client, url: &str, fields: Value) -> ExecuteResponse {
    let raw = execute_raw(c, url, fields).await;
    assert_eq!(raw.status, 200, "{}", raw.text);
    raw.parse()
}

/// Asks for the listed jobs' states.
pub async fn jobs_raw(c: &reqwest::Client, url: &str, job_ids: &[&str]) -> Raw {
    send(
        c.post(format!("{url}{}", jobs_path()))
            .header("x-api-key", KEY)
            .json(&json!({"jobIds": job_ids})),
    )
    .await
}

pub async fn jobs(c: &reqwest::Client, url: &str, job_ids: &[&str]) -> JobsResponse {
    let raw = jobs_raw(c, url, job_ids).await;
    assert_eq!(raw.status, 200, "{}", raw.text);
    raw.parse()
}

/// Asks for every active job (`{}`, no ids): the `jobs` list as sent.
pub async fn active_jobs(c: &reqwest::Client, url: &str) -> Value {
    let raw = send(
        c.post(format!("{url}{}", jobs_path()))
            .header("x-api-key", KEY)
            .json(&json!({})),
    )
    .await;
    raw.json()["jobs"].clone()
}

/// Reads a run report.
pub async fn report_raw(c: &reqwest::Client, url: &str, run_id: &str) -> Raw {
    send(
        c.get(format!("{url}{}", run_path(run_id)))
            .header("x-api-key", KEY),
    )
    .await
}

pub async fn report(c: &reqwest::Client, url: &str, run_id: &str) -> TestRun {
    let raw = report_raw(c, url, run_id).await;
    assert_eq!(raw.status, 200, "{}", raw.text);
    raw.parse()
}

/// Replaces the faults through `POST /__sim/faults`, as a test driver would.
pub async fn set_faults(c: &reqwest::Client, url: &str, faults: Value) {
    let raw = send(c.post(format!("{url}/__sim/faults")).json(&faults)).await;
    assert_eq!(raw.status, 200, "{}", raw.text);
}

/// The first feature that is not "run everything".
pub fn feature_id(running: &RunningSim) -> String {
    let catalog = running.sim.catalog(PROJECT).expect("catalog");
    let feature = catalog.features.iter().find(|f| !f.all).expect("feature");
    feature.id.clone()
}

/// Moves the clock past `Pending` and `into_ms` into the run, and returns the run id.
pub async fn run_id_after(
    c: &reqwest::Client,
    url: &str,
    job_id: &str,
    clock: &ManualClock,
    into_ms: u64,
) -> String {
    clock.advance(Duration::from_millis(1_500 + into_ms));
    let answer = jobs(c, url, &[job_id]).await;
    answer.jobs[0].test_run_id.clone().expect("run id")
}
