//! The agents with fixed fates, over a real socket: `cancel-agent` (an undocumented
//! `Cancelled`, never a run), `broken-agent` (`Failed` without a run) and
//! `refusing-agent` (a `success:false` refusal in a 200).

use std::time::Duration;

use runboard_shared::{ExecuteResponse, JobStatus};
use serde_json::json;

use crate::common::socket::{
    active_jobs, client, execute, execute_raw, feature_id, jobs, start_manual,
};

#[tokio::test]
async fn fated_jobs_end_without_a_run() {
    for (agent, status, described) in [
        ("cancel-agent", JobStatus::parse("Cancelled"), "Cancelled"),
        (
            "broken-agent",
            JobStatus::Failed,
            "finished without a report",
        ),
    ] {
        let (running, clock) = start_manual().await;
        let (c, url) = (client(), running.url());
        let fields = json!({"featureId": feature_id(&running), "agentName": agent});
        let started = execute(&c, &url, fields).await;
        assert!(started.success, "{agent}: {started:?}");
        let job_id = started.job_id;
        assert_eq!(
            jobs(&c, &url, &[&job_id]).await.jobs[0].status,
            JobStatus::Pending
        );

        // At the end of Pending the job ends, and a day later it is still the same.
        for advance in [1_500, 24 * 3_600_000] {
            clock.advance(Duration::from_millis(advance));
            let job = jobs(&c, &url, &[&job_id]).await.jobs.remove(0);
            assert_eq!(job.status, status, "{agent}");
            assert_eq!(job.test_run_id, None, "{agent}: never a run");
            assert_eq!(job.describe(), described, "{agent}");
        }
        let active = active_jobs(&c, &url).await;
        assert_eq!(active, json!([]), "{agent}: an ended job is not active");
        running.shutdown().await;
    }
}

#[tokio::test]
async fn refusing_agent_refuses_every_start_in_a_200() {
    let (running, _clock) = start_manual().await;
    let (c, url) = (client(), running.url());
    let fields = json!({"featureId": feature_id(&running), "agentName": "refusing-agent"});
    for _ in 0..2 {
        let answer = execute_raw(&c, &url, fields.clone()).await;
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.json(),
            json!({"success": false, "message": "agent refusing-agent is disabled for this project"})
        );
        let parsed: ExecuteResponse = answer.parse();
        assert!(!parsed.success && parsed.job_id.is_empty(), "{parsed:?}");
    }
    assert_eq!(active_jobs(&c, &url).await, json!([]), "no job was created");
    running.shutdown().await;
}
