//! Job and run lifecycles driven by the manual clock: statuses, transitions, the counts
//! invariant at many instants, AlreadyExists, agents, determinism.

use runboard_shared::{JobStatus, RunStatus, TestStatus};
use serde_json::json;

use crate::common::{Harness, PROJECT, checks::check_report, checks::instant, config};

#[tokio::test]
async fn a_job_walks_its_whole_lifecycle() {
    let h = Harness::new();
    let feature = h
        .catalog()
        .features
        .iter()
        .find(|f| !f.all)
        .cloned()
        .expect("feature");
    let (status, job_id) = h
        .execute(json!({"featureId": feature.id, "agentName": "staging-agent"}))
        .await;
    assert_eq!(status, "Success");
    assert_eq!(job_id.len(), 24);

    let job = h.job(&job_id).await;
    assert_eq!(job.status, JobStatus::Pending);
    assert_eq!(job.updated_at.as_deref(), Some("2026-04-20T10:15:30.000Z"));
    assert_eq!(job.test_run_id, None);
    assert_eq!(job.agent_name.as_deref(), Some("staging-agent"));

    h.advance_ms(1_500);
    let job = h.job(&job_id).await;
    assert_eq!(
        job.status,
        JobStatus::InProgress,
        "a connected agent starts at once"
    );
    assert_eq!(job.updated_at.as_deref(), Some("2026-04-20T10:15:31.500Z"));
    let run_id = job.test_run_id.clone().expect("testRunId once in progress");
    let run = h.run(&run_id).await;
    assert_eq!(run.status, RunStatus::Scheduled);
    assert_eq!(run.title, format!("{} · regression run", feature.title));
    assert_eq!(run.tests_in_project_count, 36);
    check_report(&run, feature.test_count, PROJECT);

    let mut seen_run_statuses = vec![run.status.clone()];
    let mut job_updates = vec![job.updated_at.clone()];
    let mut final_job = job;
    for _ in 0..2_000 {
        h.advance_ms(173);
        let job = h.job(&job_id).await;
        let run = h.run(&run_id).await;
        check_report(&run, feature.test_count, PROJECT);
        if seen_run_statuses.last() != Some(&run.status) {
            seen_run_statuses.push(run.status.clone());
        }
        if job.status != final_job.status {
            job_updates.push(job.updated_at.clone());
        } else {
            assert_eq!(
                job.updated_at, final_job.updated_at,
                "updatedAt moves only at transitions"
            );
        }
        final_job = job;
        if final_job.status.is_terminal() {
            break;
        }
    }
    assert!(final_job.status.is_terminal(), "the job finished");
    assert_eq!(
        seen_run_statuses,
        vec![
            RunStatus::Scheduled,
            RunStatus::Running,
            RunStatus::Completed
        ]
    );
    let updates: Vec<_> = job_updates
        .iter()
        .map(|u| instant(u.as_deref().expect("updatedAt")))
        .collect();
    assert!(updates.windows(2).all(|w| w[0] < w[1]), "{job_updates:?}");

    let run = h.run(&run_id).await;
    let failed = run.count(&TestStatus::Failed) > 0;
    let expected = if failed {
        JobStatus::Failed
    } else {
        JobStatus::Success
    };
    assert_eq!(final_job.status, expected);
    assert_eq!(final_job.test_run_id.as_deref(), Some(run_id.as_str()));

    // A finished report never changes.
    h.advance_ms(3_600_000);
    let again = h.run_answer(&run_id).await.text;
    assert_eq!(again, h.run_answer(&run_id).await.text);
    assert_eq!(
        serde_json::from_str::<runboard_shared::TestRun>(&again).expect("run"),
        run
    );
}

#[tokio::test]
async fn counts_hold_at_every_sampled_instant_of_a_full_regression() {
    let h = Harness::with_config(config(120, 1.0));
    let all = h.catalog().all_feature().cloned().expect("all feature");
    let (_, job_id) = h.execute(json!({"featureId": all.id})).await;
    h.advance_ms(1_500);
    let run_id = h.job(&job_id).await.test_run_id.expect("run");
    let mut samples = 0;
    let mut saw = std::collections::HashSet::new();
    // Irregular steps so that samples fall on and between test boundaries.
    for step in (0..600u64).map(|i| (i * 7919) % 900 + 1) {
        let run = h.run(&run_id).await;
        check_report(&run, 120, PROJECT);
        for t in &run.tests {
            saw.insert(t.status.to_string());
        }
        samples += 1;
        if run.status == RunStatus::Completed {
            break;
        }
        h.advance_ms(step);
    }
    assert!(samples > 100, "sampled {samples} instants");
    for status in ["Passed", "Failed", "Running", "Scheduled"] {
        assert!(
            saw.contains(status),
            "saw {status} at some instant: {saw:?}"
        );
    }
    let run = h.run(&run_id).await;
    assert_eq!(run.status, RunStatus::Completed);
    assert!(run.title.starts_with("Full regression"));
    // Failures come as strings and as objects.
    let errors: Vec<_> = run
        .tests
        .iter()
        .filter_map(|t| t.error.as_ref().map(|e| e.value()))
        .collect();
    assert!(errors.iter().any(|e| e.is_object()), "{errors:?}");
    assert!(errors.iter().any(|e| e.is_string()), "{errors:?}");
}

#[tokio::test]
async fn an_identical_queued_execution_is_reused() {
    let h = Harness::new();
    let feature = h.feature_id();
    let tests: Vec<String> = h.catalog().tests().take(3).map(|t| t.id.clone()).collect();
    let (_, first) = h
        .execute(json!({"featureId": feature, "agentName": "staging-agent"}))
        .await;
    let (status, again) = h
        .execute(json!({"featureId": feature, "agentName": "staging-agent"}))
        .await;
    assert_eq!(
        (status.as_str(), again.as_str()),
        ("AlreadyExists", first.as_str())
    );

    let (status, other_agent) = h.execute(json!({"featureId": feature})).await;
    assert_eq!(status, "Success", "another agent is another execution");
    assert_ne!(other_agent, first);

    let (_, list) = h
        .execute(json!({"tests": [tests[0], tests[1], tests[2]]}))
        .await;
    let (status, reordered) = h
        .execute(json!({"tests": [tests[2], tests[0], tests[1]]}))
        .await;
    assert_eq!(
        (status.as_str(), reordered.as_str()),
        ("AlreadyExists", list.as_str())
    );

    h.advance_ms(1_500);
    assert_eq!(h.job(&first).await.status, JobStatus::InProgress);
    let (status, fresh) = h
        .execute(json!({"featureId": feature, "agentName": "staging-agent"}))
        .await;
    assert_eq!(status, "Success", "a started job is not reused");
    assert_ne!(fresh, first);
}

#[tokio::test]
async fn nightly_agent_connects_by_itself() {
    let h = Harness::new();
    let nightly = h
        .catalog()
        .agents
        .into_iter()
        .find(|a| a.name == "nightly-agent")
        .expect("agent");
    assert!(!nightly.connected);
    assert_eq!(nightly.connects_after_ms, Some(4_000));

    let (_, job_id) = h
        .execute(json!({"featureId": h.feature_id(), "agentName": "nightly-agent"}))
        .await;
    assert_eq!(h.job(&job_id).await.status, JobStatus::Pending);
    h.advance_ms(1_500);
    let waiting = h.job(&job_id).await;
    assert_eq!(waiting.status, JobStatus::PendingAgentConnection);
    assert_eq!(
        waiting.updated_at.as_deref(),
        Some("2026-04-20T10:15:31.500Z")
    );
    assert_eq!(waiting.test_run_id, None);
    let (status, same) = h
        .execute(json!({"featureId": h.feature_id(), "agentName": "nightly-agent"}))
        .await;
    assert_eq!(
        (status.as_str(), same.as_str()),
        ("AlreadyExists", job_id.as_str())
    );

    h.advance_ms(3_999);
    assert_eq!(
        h.job(&job_id).await.status,
        JobStatus::PendingAgentConnection
    );
    h.advance_ms(1);
    let started = h.job(&job_id).await;
    assert_eq!(started.status, JobStatus::InProgress);
    assert_eq!(
        started.updated_at.as_deref(),
        Some("2026-04-20T10:15:35.500Z")
    );
    assert!(started.test_run_id.is_some());
}

#[tokio::test]
async fn offline_agent_waits_until_connected_through_the_endpoint() {
    let h = Harness::new();
    let (_, job_id) = h
        .execute(json!({"featureId": h.feature_id(), "agentName": "offline-agent"}))
        .await;
    h.advance_ms(1_500);
    assert_eq!(
        h.job(&job_id).await.status,
        JobStatus::PendingAgentConnection
    );
    h.advance_ms(3_600_000);
    assert_eq!(
        h.job(&job_id).await.status,
        JobStatus::PendingAgentConnection,
        "still away an hour later"
    );

    let connect = json!({"projectId": PROJECT, "name": "offline-agent", "connected": true});
    let answer = h
        .call(
            axum::http::Method::POST,
            "/__sim/agents",
            None,
            &connect.to_string(),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["agent"]["connected"], json!(true));
    let started = h.job(&job_id).await;
    assert_eq!(started.status, JobStatus::InProgress);
    assert_eq!(
        started.updated_at.as_deref(),
        Some("2026-04-20T11:15:31.500Z")
    );
    let connected = h
        .catalog()
        .agents
        .into_iter()
        .find(|a| a.name == "offline-agent")
        .expect("agent");
    assert!(connected.connected);

    // Disconnected again, new jobs wait again.
    assert!(h.sim.set_agent_connected(PROJECT, "offline-agent", false));
    let (_, second) = h
        .execute(json!({"featureId": h.feature_id(), "agentName": "offline-agent"}))
        .await;
    h.advance_ms(10_000);
    assert_eq!(
        h.job(&second).await.status,
        JobStatus::PendingAgentConnection
    );
    assert_eq!(
        h.job(&job_id).await.status,
        JobStatus::InProgress,
        "a started run carries on"
    );
    assert!(!h.sim.set_agent_connected(PROJECT, "no-such-agent", true));
    assert!(!h.sim.set_agent_connected("nope", "offline-agent", true));
}

#[tokio::test]
async fn without_job_ids_only_recent_active_jobs_are_listed() {
    let h = Harness::new();
    let feature = h.feature_id();
    let (_, waiting) = h
        .execute(json!({"featureId": feature, "agentName": "offline-agent"}))
        .await;
    let (_, quick) = h
        .execute(json!({"testId": h.catalog().tests().next().expect("test").id}))
        .await;
    let listed = |r: runboard_shared::JobsResponse| -> Vec<String> {
        r.jobs.into_iter().map(|j| j.job_id).collect()
    };
    assert_eq!(
        listed(h.jobs(json!({})).await),
        vec![waiting.clone(), quick.clone()]
    );
    h.advance_ms(600_000);
    assert!(h.job(&quick).await.status.is_terminal());
    assert_eq!(
        listed(h.jobs(json!({"jobIds": null})).await),
        vec![waiting.clone()],
        "finished jobs are not active"
    );
    h.advance_ms(31 * 24 * 3_600_000);
    assert!(
        listed(h.jobs(json!({})).await).is_empty(),
        "older than a month"
    );
    assert_eq!(
        h.job(&waiting).await.status,
        JobStatus::PendingAgentConnection,
        "still found by id"
    );
}

#[tokio::test]
async fn same_seed_same_requests_same_answers() {
    async fn scenario(seed: u64) -> (String, String) {
        let mut cfg = config(36, 1.0);
        cfg.seed = seed;
        let h = Harness::with_config(cfg);
        let all = h.catalog().all_feature().cloned().expect("all");
        let (_, job_id) = h.execute(json!({"featureId": all.id})).await;
        h.advance_ms(10_000_000);
        let run_id = h.job(&job_id).await.test_run_id.expect("run");
        (job_id, h.run_answer(&run_id).await.text)
    }
    let (a, b, c) = (scenario(1).await, scenario(1).await, scenario(2).await);
    assert_eq!(a, b);
    assert_ne!(a.0, c.0);
    assert_ne!(a.1, c.1);
}

#[tokio::test]
async fn speed_compresses_a_run() {
    let h = Harness::with_config(config(36, 100.0));
    let all = h.catalog().all_feature().cloned().expect("all");
    let (_, job_id) = h.execute(json!({"featureId": all.id})).await;
    h.advance_ms(2_000);
    let job = h.job(&job_id).await;
    assert!(
        job.status.is_terminal(),
        "36 tests at speed 100 finish within two seconds: {job:?}"
    );
    let run = h.run(&job.test_run_id.expect("run")).await;
    check_report(&run, 36, PROJECT);
}
