//! Over a real socket (`spawn` + reqwest): a run at speed, dropped connections, hung
//! requests released by shutdown, and a 10,000-test report.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use runboard_shared::{RunStatus, TestRun};
use runboard_sim::{Faults, ManualClock, Simulator};
use serde_json::json;

use crate::common::{
    self, KEY, PROJECT,
    checks::check_report,
    config,
    socket::{client, execute, jobs, report, report_raw, run_id_after, start},
};

#[tokio::test]
async fn a_fast_run_completes_over_http() {
    let running = start(Simulator::new(config(36, 200.0))).await;
    let url = running.url();
    let c = client();
    let catalog = running.sim.catalog(PROJECT).expect("catalog");
    let feature = catalog.features.iter().find(|f| !f.all).expect("feature");
    let job_id = execute(&c, &url, json!({"featureId": feature.id}))
        .await
        .job_id;

    let deadline = Instant::now() + Duration::from_secs(20);
    let job = loop {
        let answer = jobs(&c, &url, &[&job_id]).await;
        let job = answer.jobs.into_iter().next().expect("job");
        if job.status.is_terminal() {
            break job;
        }
        assert!(Instant::now() < deadline, "job did not finish: {job:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let run_id = job.test_run_id.expect("run id");
    let run = report(&c, &url, &run_id).await;
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
        .post(format!("{}{}", running.url(), common::jobs_path()))
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
async fn hung_requests_get_no_answer_and_do_not_block_shutdown() {
    let running = start(Simulator::new(config(36, 1.0))).await;
    running.sim.set_faults(Faults {
        hang_rate: 1.0,
        ..Faults::default()
    });
    let url = running.url();
    // The client's own timeout is far beyond the hang this test waits for.
    let patient = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let hung = tokio::spawn(
        patient
            .post(format!("{url}{}", common::jobs_path()))
            .header("x-api-key", KEY)
            .body("{}")
            .send(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while running.sim.stats().by_status.get("hung").copied() < Some(1) {
        assert!(Instant::now() < deadline, "the request never arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!hung.is_finished(), "a hung request was answered");

    // Stopping the server releases the hung request without an answer; a shutdown
    // that never ends is the failure looked for here, so the bound is generous.
    tokio::time::timeout(Duration::from_secs(10), running.shutdown())
        .await
        .expect("shutdown hangs");
    let outcome = tokio::time::timeout(Duration::from_secs(10), hung)
        .await
        .expect("the hung request was not released")
        .expect("join");
    let error = outcome.expect_err("the hung request got no response");
    assert!(
        !error.is_timeout(),
        "released by shutdown, not by the client: {error:?}"
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
    let job_id = execute(&c, &url, json!({"featureId": all.id})).await.job_id;
    let run_id = run_id_after(&c, &url, &job_id, &clock, 10_000).await;
    let live = report(&c, &url, &run_id).await;
    check_report(&live, 10_000, PROJECT);
    assert_eq!(live.status, RunStatus::Running);

    // How fast these are served is the benchmarks' business (crates/bench), not a test's.
    clock.advance(Duration::from_secs(30 * 24 * 3600));
    let first = report_raw(&c, &url, &run_id).await;
    assert_eq!(first.status, 200);
    let done: TestRun = first.parse();
    check_report(&done, 10_000, PROJECT);
    assert_eq!(done.status, RunStatus::Completed);
    let again = report_raw(&c, &url, &run_id).await;
    assert_eq!(again.status, 200);
    assert!(
        again.text == first.text,
        "a completed report is served again byte for byte"
    );
    running.shutdown().await;
}
