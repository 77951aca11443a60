//! Over a real socket (`spawn` + reqwest): a run at speed, dropped connections, hung
//! requests released by shutdown, and a 10,000-test report.

mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use common::{KEY, PROJECT, checks::check_report, config};
use runboard_shared::{ExecuteResponse, JobsResponse, RunStatus, TestRun};
use runboard_sim::{Faults, ManualClock, RunningSim, Simulator, spawn};
use serde_json::json;

async fn start(sim: Simulator) -> RunningSim {
    spawn(sim, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("spawn")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// Reads a run report over the socket.
async fn run_report(c: &reqwest::Client, url: &str, run_id: &str) -> TestRun {
    c.get(format!("{url}/api/testRun/{PROJECT}/{run_id}"))
        .header("x-api-key", KEY)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("TestRun")
}

/// Asks for one job's state over the socket.
async fn job_states(c: &reqwest::Client, url: &str, job_id: &str) -> JobsResponse {
    c.post(format!("{url}/api/jobs/{PROJECT}"))
        .header("x-api-key", KEY)
        .json(&json!({"jobIds": [job_id]}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("JobsResponse")
}

async fn execute(c: &reqwest::Client, url: &str, feature: &str) -> ExecuteResponse {
    c.post(format!("{url}/api/testExecution/{PROJECT}"))
        .header("x-api-key", KEY)
        .json(&json!({"action": "executeTests", "featureId": feature}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("ExecuteResponse")
}

#[tokio::test]
async fn a_fast_run_completes_over_http() {
    let running = start(Simulator::new(config(36, 200.0))).await;
    let url = running.url();
    let c = client();
    let catalog = running.sim.catalog(PROJECT).expect("catalog");
    let feature = catalog.features.iter().find(|f| !f.all).expect("feature");
    let job_id = execute(&c, &url, &feature.id).await.job_id;

    let deadline = Instant::now() + Duration::from_secs(20);
    let job = loop {
        let jobs = job_states(&c, &url, &job_id).await;
        let job = jobs.jobs.into_iter().next().expect("job");
        if job.status.is_terminal() {
            break job;
        }
        assert!(Instant::now() < deadline, "job did not finish: {job:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let run_id = job.test_run_id.expect("run id");
    let run = run_report(&c, &url, &run_id).await;
    assert_eq!(run.status, RunStatus::Completed);
    check_report(&run, feature.test_count, PROJECT);
    running.shutdown().await;
}

#[tokio::test]
async fn dropped_connections_get_no_response() {
    let running = start(Simulator::new(config(36, 1.0))).await;
    running.sim.set_faults(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    });
    let result = client()
        .post(format!("{}/api/jobs/{PROJECT}", running.url()))
        .header("x-api-key", KEY)
        .body("{}")
        .send()
        .await;
    let error = result.expect_err("no response at all");
    assert!(!error.is_timeout() && error.status().is_none(), "{error:?}");
    assert_eq!(
        running.sim.stats().by_status.get("dropped").copied(),
        Some(1)
    );
    // The control endpoints still answer.
    let stats = client()
        .get(format!("{}/__sim/stats", running.url()))
        .send()
        .await
        .expect("stats");
    assert!(stats.status().is_success());
    running.shutdown().await;
}

#[tokio::test]
async fn hung_requests_time_out_and_do_not_block_shutdown() {
    let running = start(Simulator::new(config(36, 1.0))).await;
    running.sim.set_faults(Faults {
        hang_rate: 1.0,
        ..Faults::default()
    });
    let url = running.url();
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let error = impatient
        .post(format!("{url}/api/jobs/{PROJECT}"))
        .header("x-api-key", KEY)
        .body("{}")
        .send()
        .await
        .expect_err("never answered");
    assert!(error.is_timeout(), "{error:?}");

    // A request still hanging when the server stops is released, and shutdown is prompt.
    let patient = tokio::spawn(
        client()
            .post(format!("{url}/api/jobs/{PROJECT}"))
            .header("x-api-key", KEY)
            .body("{}")
            .send(),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while running.sim.stats().by_status.get("hung").copied() < Some(2) {
        assert!(Instant::now() < deadline, "second request never arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stopping = Instant::now();
    running.shutdown().await;
    assert!(
        stopping.elapsed() < Duration::from_secs(2),
        "shutdown took {:?}",
        stopping.elapsed()
    );
    let outcome = patient.await.expect("join");
    assert!(
        outcome.is_err(),
        "the hung request got no response: {outcome:?}"
    );
}

#[tokio::test]
async fn a_ten_thousand_test_run_is_served() {
    let clock = Arc::new(ManualClock::at_example_time());
    let sim = Simulator::with_clock(config(10_000, 1.0), clock.clone());
    let running = start(sim).await;
    let url = running.url();
    let c = client();
    let all = running
        .sim
        .catalog(PROJECT)
        .expect("catalog")
        .all_feature()
        .cloned()
        .expect("all");
    assert_eq!(all.test_count, 10_000);
    let job_id = execute(&c, &url, &all.id).await.job_id;
    let run_id = run_id_after(&c, &url, &job_id, &clock, 10_000).await;
    let get = || async {
        let started = Instant::now();
        let run = run_report(&c, &url, &run_id).await;
        (run, started.elapsed())
    };
    let (live, took) = get().await;
    eprintln!("live 10,000-test report served in {took:?}");
    check_report(&live, 10_000, PROJECT);
    assert_eq!(live.status, RunStatus::Running);

    clock.advance(Duration::from_secs(30 * 24 * 3600));
    let (done, took) = get().await;
    eprintln!("completed 10,000-test report served in {took:?}");
    check_report(&done, 10_000, PROJECT);
    assert_eq!(done.status, RunStatus::Completed);
    let (_, took) = get().await;
    eprintln!("completed report served again (cached) in {took:?}");
    running.shutdown().await;
}

/// Moves the clock past `Pending` and `into_ms` into the run, and returns the run id.
async fn run_id_after(
    c: &reqwest::Client,
    url: &str,
    job_id: &str,
    clock: &ManualClock,
    into_ms: u64,
) -> String {
    clock.advance(Duration::from_millis(1_500 + into_ms));
    let jobs = job_states(c, url, job_id).await;
    jobs.jobs[0].test_run_id.clone().expect("run id")
}
