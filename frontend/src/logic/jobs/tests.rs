//! Unit tests of the jobs a page knows about: merging answers, ordering, never moving
//! backwards, and when an undocumented status stops being followed.

use super::*;

#[test]
fn a_row_key_changes_with_every_shown_field_and_only_then() {
    let base = TrackedJob::started("j1", "Smoke".into(), None, 1000);
    assert_eq!(base.row_key(), base.clone().row_key());
    let variants = [
        TrackedJob {
            status: Some(JobStatus::parse("Running")),
            ..base.clone()
        },
        TrackedJob {
            updated_at: Some("t".into()),
            ..base.clone()
        },
        TrackedJob {
            test_run_id: Some("r".into()),
            ..base.clone()
        },
        TrackedJob {
            agent: Some("a".into()),
            ..base.clone()
        },
        TrackedJob {
            missing: true,
            ..base.clone()
        },
        TrackedJob {
            agent: Some(String::new()),
            ..base.clone()
        },
        TrackedJob {
            unfollowed: true,
            ..base.clone()
        },
    ];
    let mut keys: Vec<String> = variants.iter().map(TrackedJob::row_key).collect();
    keys.push(base.row_key());
    let count = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), count, "every changed field gives a new key");
}

fn job(id: &str, status: &str, updated: &str, run: Option<&str>) -> Job {
    Job {
        job_id: id.into(),
        status: JobStatus::parse(status),
        updated_at: Some(updated.into()),
        test_run_id: run.map(Into::into),
        agent_name: Some("staging-agent".into()),
    }
}

#[test]
fn remembers_started_jobs_across_reloads() {
    let mut book = JobBook::default();
    book.remember(TrackedJob::started("j1", "Smoke".into(), None, 1000));
    book.remember(TrackedJob::started(
        "j2",
        "test t1".into(),
        Some("a".into()),
        2000,
    ));
    let stored = book.to_storage();
    let again = JobBook::from_storage(Some(&stored));
    assert_eq!(
        again
            .jobs()
            .iter()
            .map(|j| j.job_id.as_str())
            .collect::<Vec<_>>(),
        ["j2", "j1"]
    );
    assert_eq!(JobBook::from_storage(Some("not json")).jobs().len(), 0);
    assert_eq!(
        JobBook::from_storage(Some(r#"[{"jobId":"bad id","mine":true}]"#))
            .jobs()
            .len(),
        0
    );
    assert_eq!(JobBook::from_storage(None), JobBook::default());
}

#[test]
fn polls_open_jobs_in_one_batch_and_discovers_sometimes() {
    let mut book = JobBook::default();
    assert_eq!(book.request(1).job_ids, None);
    book.remember(TrackedJob::started("j1", "Smoke".into(), None, 1000));
    book.remember(TrackedJob::started("j2", "Smoke".into(), None, 2000));
    let ids = book.request(1).job_ids.unwrap_or_default();
    assert_eq!(
        ids.iter().map(|i| i.as_str()).collect::<Vec<_>>(),
        ["j2", "j1"]
    );
    assert_eq!(book.request(5).job_ids, None);
    book.apply(
        &JobsResponse {
            success: true,
            jobs: vec![job("j1", "Success", "2026-04-20T10:15:30Z", Some("r1"))],
            missing_job_ids: vec!["j2".into()],
        },
        0,
    );
    assert_eq!(book.request(1).job_ids, None, "nothing open any more");
    let j1 = book.get("j1").cloned().unwrap_or_else(|| panic!("j1 kept"));
    assert_eq!(j1.test_run_id.as_deref(), Some("r1"));
    assert_eq!(j1.what.as_deref(), Some("Smoke"));
    assert!(book.get("j2").is_some_and(|j| j.missing));
}

#[test]
fn active_jobs_of_others_join_newest_first() {
    let mut book = JobBook::default();
    book.remember(TrackedJob::started("mine", "Smoke".into(), None, 0));
    book.apply(
        &JobsResponse {
            success: true,
            jobs: vec![job(
                "other",
                "PendingAgentConnection",
                "2026-04-20T10:15:30Z",
                None,
            )],
            missing_job_ids: vec![],
        },
        0,
    );
    let ids: Vec<&str> = book.jobs().iter().map(|j| j.job_id.as_str()).collect();
    assert_eq!(ids, ["other", "mine"]);
    assert!(
        !book.to_storage().contains("other"),
        "only this browser's jobs are stored"
    );
}

fn answer(jobs: Vec<Job>) -> JobsResponse {
    JobsResponse {
        success: true,
        jobs,
        missing_job_ids: vec![],
    }
}

// updatedAt values, in order.
const AT_15_30: &str = "2026-04-20T10:15:30Z";
const AT_15_30_5: &str = "2026-04-20T10:15:30.500Z";
const AT_15_40: &str = "2026-04-20T10:15:40Z";
const AT_16_00: &str = "2026-04-20T10:16:00Z";
const AT_16_30: &str = "2026-04-20T10:16:30Z";
const AT_17_30: &str = "2026-04-20T10:17:30Z";

/// Applies an answer about one job that arrived at `now_ms`.
fn hear(book: &mut JobBook, job: Job, now_ms: i64) {
    book.apply(&answer(vec![job]), now_ms);
}

fn status_of(book: &JobBook, id: &str) -> String {
    book.get(id)
        .and_then(|j| j.status.as_ref())
        .map_or_else(String::new, |s| s.as_str().to_owned())
}

#[test]
fn an_older_answer_never_moves_a_job_backwards() {
    let mut book = JobBook::default();
    book.remember(TrackedJob::started("j1", "Smoke".into(), None, 0));
    hear(&mut book, job("j1", "InProgress", AT_15_40, Some("r1")), 0);
    // A slower request that left earlier comes back last.
    hear(
        &mut book,
        job("j1", "PendingAgentConnection", AT_15_30_5, None),
        0,
    );
    assert_eq!(status_of(&book, "j1"), "InProgress");
    assert_eq!(
        book.get("j1").and_then(|j| j.updated_at.as_deref()),
        Some("2026-04-20T10:15:40Z")
    );
    // A newer answer moves it on, even with a time written without a fraction.
    hear(&mut book, job("j1", "Failed", AT_16_00, Some("r1")), 0);
    assert_eq!(status_of(&book, "j1"), "Failed");
}

#[test]
fn a_finished_job_stays_finished_when_times_tie_or_are_missing() {
    let mut book = JobBook::default();
    book.remember(TrackedJob::started("j1", "Smoke".into(), None, 0));
    hear(&mut book, job("j1", "Success", AT_16_00, Some("r1")), 0);
    hear(&mut book, job("j1", "InProgress", AT_16_00, Some("r1")), 0);
    assert_eq!(status_of(&book, "j1"), "Success", "same updatedAt");
    let mut timeless = job("j1", "Pending", "", None);
    timeless.updated_at = None;
    book.apply(&answer(vec![timeless]), 0);
    assert_eq!(status_of(&book, "j1"), "Success", "no updatedAt");
    assert!(!book.get("j1").is_some_and(TrackedJob::is_open));
}

#[test]
fn already_existing_jobs_keep_what_was_learnt() {
    let mut book = JobBook::default();
    book.remember(TrackedJob::started("j1", "Smoke".into(), None, 0));
    book.apply(
        &JobsResponse {
            success: true,
            jobs: vec![job("j1", "InProgress", "2026-04-20T10:15:30Z", Some("r1"))],
            missing_job_ids: vec![],
        },
        0,
    );
    book.remember(TrackedJob::started("j1", "Smoke".into(), None, 5));
    assert_eq!(book.jobs().len(), 1);
    assert_eq!(book.jobs()[0].test_run_id.as_deref(), Some("r1"));
}

const MINUTE: i64 = 60_000;

fn ids(request: &JobsRequest) -> Vec<String> {
    request
        .job_ids
        .iter()
        .flatten()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn an_undocumented_status_is_followed_for_a_bounded_time_across_reloads() {
    let t0 = 1_800_000_000_000;
    let mut book = JobBook::default();
    book.remember(TrackedJob::started("j1", "Smoke".into(), None, t0));
    hear(&mut book, job("j1", "Cancelled", AT_15_30, None), t0);
    book.expire(t0 + 9 * MINUTE);
    assert_eq!(
        ids(&book.request(1)),
        ["j1"],
        "still followed after 9 minutes"
    );
    let j1 = book.get("j1").cloned().unwrap_or_else(|| panic!("j1 kept"));
    assert_eq!(j1.describe(), "Cancelled", "shown verbatim");

    // A reload 9 minutes in keeps the clock: one more minute, not ten.
    let mut reloaded = JobBook::from_storage(Some(&book.to_storage()));
    hear(
        &mut reloaded,
        job("j1", "Cancelled", AT_15_30, None),
        t0 + 9 * MINUTE,
    );
    reloaded.expire(t0 + 10 * MINUTE);
    assert_eq!(
        reloaded.request(1).job_ids,
        None,
        "no longer asked for by id"
    );
    let j1 = reloaded
        .get("j1")
        .cloned()
        .unwrap_or_else(|| panic!("j1 kept"));
    assert!(!j1.is_open());
    assert_eq!(
        j1.describe(),
        "Runboard stopped following this job: its status \"Cancelled\" is not documented"
    );
    let stored = JobBook::from_storage(Some(&reloaded.to_storage()));
    assert!(
        stored.get("j1").is_some_and(|j| j.unfollowed),
        "and a reload keeps that"
    );

    // A clock that ran out while no page was open ends following at load time, so
    // the first request does not ask for the job.
    let mut late = JobBook::from_storage(Some(&book.to_storage()));
    late.expire(t0 + 30 * MINUTE);
    assert_eq!(late.request(1).job_ids, None);
}

#[test]
fn a_final_report_ends_following_an_undocumented_status_at_once() {
    let mut book = JobBook::default();
    book.remember(TrackedJob::started("j1", "Smoke".into(), None, 0));
    book.remember(TrackedJob::started("j2", "Smoke".into(), None, 0));
    hear(&mut book, job("j1", "Cancelled", AT_15_30, Some("r1")), 0);
    hear(&mut book, job("j2", "InProgress", AT_15_30, Some("r2")), 0);
    assert!(book.report_final("j1"));
    assert!(!book.report_final("j1"), "once");
    assert!(
        !book.report_final("j2"),
        "a documented status is followed to its end"
    );
    assert!(!book.report_final("unknown"));
    let again = JobBook::from_storage(Some(&book.to_storage()));
    assert_eq!(ids(&again.request(1)), ["j2"]);
}

#[test]
fn a_new_status_restarts_or_ends_the_undocumented_clock() {
    let t0 = 1_800_000_000_000;
    let mut book = JobBook::default();
    book.remember(TrackedJob::started("j1", "Smoke".into(), None, t0));
    hear(&mut book, job("j1", "Paused", AT_15_30, None), t0);
    hear(
        &mut book,
        job("j1", "Parked", AT_16_30, None),
        t0 + 8 * MINUTE,
    );
    book.expire(t0 + 12 * MINUTE);
    assert_eq!(
        ids(&book.request(1)),
        ["j1"],
        "Parked was first seen 4 minutes ago"
    );
    hear(
        &mut book,
        job("j1", "InProgress", AT_17_30, Some("r1")),
        t0 + 13 * MINUTE,
    );
    book.expire(t0 + 60 * MINUTE);
    assert_eq!(
        ids(&book.request(1)),
        ["j1"],
        "documented statuses are followed to their end"
    );
    assert_eq!(book.get("j1").and_then(|j| j.undocumented_since_ms), None);
}

#[test]
fn jobs_of_others_in_an_undocumented_status_keep_their_clock_too() {
    let mut book = JobBook::default();
    hear(&mut book, job("other", "Cancelled", AT_15_30, None), 5);
    let again = JobBook::from_storage(Some(&book.to_storage()));
    assert_eq!(
        again.get("other").and_then(|j| j.undocumented_since_ms),
        Some(5)
    );
}

#[test]
fn descriptions_follow_the_guide() {
    let described = |status: &str, run: Option<&str>| {
        let mut book = JobBook::default();
        hear(&mut book, job("j", status, AT_15_30, run), 0);
        book.get("j").map(TrackedJob::describe).unwrap_or_default()
    };
    assert_eq!(described("Failed", None), "finished without a report");
    assert_eq!(described("Failed", Some("r")), "finished (Failed)");
    assert_eq!(described("Success", Some("r")), "finished (Success)");
    assert_eq!(
        described("InProgress", None),
        "running on agent staging-agent"
    );
    assert_eq!(described("", None), "unknown");
    let fresh = TrackedJob::started("j", "Smoke".into(), None, 0);
    assert_eq!(fresh.describe(), "starting…");
}

#[test]
fn a_finished_run_is_remembered_with_its_job() {
    let outcome = |total, passed, failed, duration_ms| Outcome {
        total,
        passed,
        failed,
        duration_ms,
    };
    assert_eq!(
        outcome(36, 34, 2, Some(252_000)).describe(),
        "2 of 36 failed · 4 m 12 s"
    );
    assert_eq!(outcome(36, 36, 0, None).describe(), "all 36 passed");
    assert_eq!(outcome(36, 30, 0, None).describe(), "30 of 36 passed");
    let mut book = JobBook::default();
    book.remember(TrackedJob::started("j1", "Smoke".into(), None, 1));
    assert!(book.note_outcome("j1", outcome(3, 3, 0, None)));
    assert!(
        !book.note_outcome("j1", outcome(3, 3, 0, None)),
        "no change the second time"
    );
    assert!(!book.note_outcome("nope", outcome(3, 3, 0, None)));
    let stored = JobBook::from_storage(Some(&book.to_storage()));
    assert_eq!(
        stored.get("j1").and_then(|j| j.outcome),
        Some(outcome(3, 3, 0, None))
    );
    // Starting the same job again (AlreadyExists) keeps what is known about it.
    let mut again = stored.clone();
    again.remember(TrackedJob::started("j1", "Smoke".into(), None, 2));
    assert!(again.get("j1").is_some_and(|j| j.outcome.is_some()));
}
