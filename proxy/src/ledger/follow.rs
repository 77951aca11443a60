//! The follower: one task per instance that takes every unfinished job it holds a lease
//! on to its end through the shared reads (`reads::jobs`, `reads::test_run`, so it costs
//! no upstream call a browser is making anyway), sweeps each project's active-jobs list
//! for jobs started elsewhere, and purges past the retention. It needs no open tab, and
//! after a restart it simply claims the unfinished jobs again.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use chrono::DateTime;
use runboard_ledger::{Counts, Finish, Held, SeenJob, TestOutcome};
use runboard_shared::{
    Job, JobId, JobsRequest, JobsResponse, ProjectId, RunId, TestRun, TestStatus,
};
use tokio::{sync::watch, task::JoinHandle};

use crate::{AppError, AppState, api::MAX_JOB_IDS, config::ProjectConfig, notify, reads};

/// The status of a job the platform no longer knows (`missingJobIds`).
const MISSING: &str = "Missing";
/// How often the retention purge runs.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// The running follower; [`Follower::stop`] ends it and hands its jobs back.
pub(crate) struct Follower {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    /// The notifications' delivery task (`notify/`), stopped with the follower.
    delivery: Option<notify::Delivery>,
}

impl Follower {
    /// Starts following for `state`'s instance, unless `[ledger] follow_ms` is 0.
    pub(crate) fn spawn(state: AppState) -> Option<Self> {
        let every = state.ledger().config().follow?;
        let (stop, stopped) = watch::channel(false);
        let delivery = notify::Delivery::spawn(state.clone(), every, stopped.clone());
        let task = tokio::spawn(run(state, every, stopped));
        Some(Self {
            stop,
            task,
            delivery,
        })
    }

    /// Stops the task and releases this instance's leases, so another instance takes
    /// the jobs over at once (a crash instead lets them expire).
    pub(crate) async fn stop(self, state: &AppState) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        if let Some(delivery) = self.delivery {
            delivery.join().await;
        }
        let recorder = state.ledger();
        if let Err(err) = recorder.ledger().release(recorder.owner()).await {
            tracing::warn!(error = %err, "could not release the ledger's leases");
        }
    }
}

async fn run(state: AppState, every: Duration, mut stopped: watch::Receiver<bool>) {
    let config = state.ledger().config().clone();
    let sweep_every = Duration::from_millis(state.config().poll.jobs_ms);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut swept: Option<Instant> = None;
    let mut purged: Option<Instant> = None;
    let recorder = state.ledger();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = recorder.nudged() => {}
            _ = stopped.changed() => return,
        }
        let round = recorder.round_started();
        let work = async {
            if swept.is_none_or(|at| at.elapsed() >= sweep_every) {
                swept = Some(Instant::now());
                sweep(&state).await;
            }
            follow(&state).await;
            if config.retention_days > 0 && purged.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
                purged = Some(Instant::now());
                purge(&state, config.retention_days).await;
            }
        };
        tokio::select! {
            () = work => {}
            _ = stopped.changed() => return,
        }
        recorder.round_finished(round);
    }
}

/// One round: claim (and so renew) this instance's jobs, read their states per project,
/// and record what changed.
async fn follow(state: &AppState) {
    let recorder = state.ledger();
    let lease_ms = i64::try_from(recorder.config().lease.as_millis()).unwrap_or(i64::MAX);
    let limit = i64::try_from(MAX_JOB_IDS).unwrap_or(200);
    let now = runboard_ledger::now_ms();
    let projects: Vec<&str> = state
        .config()
        .projects
        .iter()
        .map(|p| p.id.as_str())
        .collect();
    let claimed = recorder
        .ledger()
        .claim(recorder.owner(), &projects, now, lease_ms, limit)
        .await;
    let held = match claimed {
        Ok(held) => held,
        Err(err) => {
            tracing::warn!(error = %err, "the follower could not claim jobs");
            return;
        }
    };
    let mut by_project: BTreeMap<String, Vec<Held>> = BTreeMap::new();
    for job in held {
        by_project.entry(job.project.clone()).or_default().push(job);
    }
    for (project, jobs) in by_project {
        let Some(project) = ProjectId::parse(&project)
            .ok()
            .and_then(|id| state.config().project(&id))
        else {
            continue;
        };
        if let Err(err) = follow_project(state, project, &jobs).await {
            tracing::debug!(error = %err, project = %project.id, "the follower will try again");
        }
    }
}

async fn follow_project(
    state: &AppState,
    project: &ProjectConfig,
    jobs: &[Held],
) -> Result<(), AppError> {
    let ids: Vec<JobId> = jobs
        .iter()
        .filter_map(|h| JobId::parse(&h.job_id).ok())
        .collect();
    // No id left (rows an older sweep stored unchecked): a call would ask about nothing.
    if ids.is_empty() {
        return Ok(());
    }
    let request = JobsRequest { job_ids: Some(ids) };
    let answer = reads::jobs(state, project, &request).await?;
    let response: JobsResponse =
        serde_json::from_slice(answer.bytes()).map_err(|_| AppError::UpstreamInvalid)?;
    for held in jobs {
        let outcome = match response.jobs.iter().find(|j| j.job_id == held.job_id) {
            Some(job) => advance(state, project, held, job).await,
            None if response.missing_job_ids.contains(&held.job_id) => {
                let end = Finish {
                    status: MISSING.to_owned(),
                    finished_at: runboard_ledger::now_ms(),
                    ..Finish::default()
                };
                finish(state, held, end).await;
                Ok(())
            }
            None => Ok(()),
        };
        if let Err(err) = outcome {
            tracing::debug!(error = %err, job = %held.job_id, "the follower will try again");
        }
    }
    Ok(())
}

/// Records `job`'s progress, or its end once the job is final and its report (if any)
/// is too.
async fn advance(
    state: &AppState,
    project: &ProjectConfig,
    held: &Held,
    job: &Job,
) -> Result<(), AppError> {
    let run_id = job.test_run_id.clone().or_else(|| held.test_run_id.clone());
    let recorder = state.ledger();
    let update = async |status: &str| {
        let changed = status != held.status || run_id != held.test_run_id;
        if changed
            && let Err(err) = recorder
                .ledger()
                .update_job(held.id, recorder.owner(), status, run_id.as_deref())
                .await
        {
            tracing::warn!(error = %err, "the follower could not record a job's progress");
        }
    };
    let status = job.status.as_str();
    if !job.status.is_terminal() {
        update(status).await;
        notify::started(state, project, held).await;
        return Ok(());
    }
    let Some(run) = run_id.as_deref().and_then(|id| RunId::parse(id).ok()) else {
        let end = Finish {
            status: status.to_owned(),
            duration_ms: Some(runboard_ledger::now_ms() - held.started_at),
            finished_at: runboard_ledger::now_ms(),
            ..Finish::default()
        };
        finish(state, held, end).await;
        return Ok(());
    };
    let answer = reads::test_run(state, project, &run).await?;
    if !answer.is_finished() {
        update(status).await;
        return Ok(());
    }
    let report: TestRun =
        serde_json::from_slice(answer.bytes()).map_err(|_| AppError::UpstreamInvalid)?;
    if finish(state, held, ending(held, job, &report)).await {
        notify::finished(state, project, held, &run, &report).await;
    }
    Ok(())
}

/// The end of `held` from its final job state and report.
fn ending(held: &Held, job: &Job, report: &TestRun) -> Finish {
    let now = runboard_ledger::now_ms();
    let count = |status: TestStatus| report.tests.iter().filter(|t| t.status == status).count();
    let counts = Counts {
        passed: count(TestStatus::Passed) as i64,
        failed: count(TestStatus::Failed) as i64,
        skipped: count(TestStatus::Skipped) as i64,
        total: report.tests.len() as i64,
    };
    let millis = |text: &Option<String>| {
        DateTime::parse_from_rfc3339(text.as_deref()?)
            .ok()
            .map(|t| t.timestamp_millis())
    };
    let duration_ms = match (millis(&report.start_time), millis(&job.updated_at)) {
        (Some(start), Some(end)) if end >= start => end - start,
        _ => now - held.started_at,
    };
    Finish {
        status: job.status.as_str().to_owned(),
        test_run_id: Some(report.run_id.clone()).filter(|id| !id.is_empty()),
        counts: Some(counts),
        duration_ms: Some(duration_ms),
        results: report
            .tests
            .iter()
            .map(|t| TestOutcome {
                test_id: t.id.clone(),
                title: t.title.clone(),
                status: t.status.as_str().to_owned(),
                duration_ms: t.duration.and_then(|d| i64::try_from(d).ok()),
            })
            .collect(),
        finished_at: now,
    }
}

/// Records `held`'s end; true when this instance recorded it (and so tells the
/// channels about it).
async fn finish(state: &AppState, held: &Held, end: Finish) -> bool {
    notify::ended(state, held);
    let recorder = state.ledger();
    match recorder
        .ledger()
        .finish(held.id, recorder.owner(), &end)
        .await
    {
        Ok(true) => {
            tracing::info!(job = %held.job_id, status = %end.status, "ledger: job finished");
            true
        }
        Ok(false) => {
            tracing::info!(job = %held.job_id, "ledger: another instance holds this job now");
            false
        }
        Err(err) => {
            tracing::warn!(error = %err, "the follower could not record a job's end");
            false
        }
    }
}

/// Records every job of every project's active-jobs list the ledger does not have, as
/// started elsewhere (or as the orphaned intent it is).
async fn sweep(state: &AppState) {
    let recorder = state.ledger();
    let now = runboard_ledger::now_ms();
    // A start still in flight is not an orphan: every attempt and look-up is over by then.
    let in_flight = (state.config().upstream.timeout * 4).max(Duration::from_secs(60));
    let orphan_before = now - i64::try_from(in_flight.as_millis()).unwrap_or(i64::MAX);
    for project in &state.config().projects {
        let Ok(answer) = reads::jobs(state, project, &JobsRequest::default()).await else {
            continue;
        };
        let Ok(response) = serde_json::from_slice::<JobsResponse>(answer.bytes()) else {
            continue;
        };
        let mut invalid = 0;
        for job in &response.jobs {
            // Only an id Runboard could ask about is stored: any other would stay
            // unfinished for ever, its row claimed each round for nothing.
            if JobId::parse(&job.job_id).is_err() {
                invalid += 1;
                continue;
            }
            if recorder.knows(&project.id, &job.job_id) {
                continue;
            }
            let seen = SeenJob {
                project: project.id.clone(),
                job_id: job.job_id.clone(),
                status: job.status.as_str().to_owned(),
                agent: job.agent_name.clone(),
                test_run_id: job.test_run_id.clone(),
            };
            match recorder.ledger().saw_job(&seen, now, orphan_before).await {
                Ok(_) => recorder.remember(&project.id, &job.job_id),
                Err(err) => tracing::warn!(error = %err, "the sweep could not record a job"),
            }
        }
        if invalid > 0 {
            // The ids themselves are not logged: they are the platform's text, unchecked.
            tracing::warn!(
                project = %project.id,
                invalid,
                "the active-jobs list holds job ids that fail validation; skipped"
            );
        }
    }
}

async fn purge(state: &AppState, days: u32) {
    let before = runboard_ledger::now_ms() - i64::from(days) * 86_400_000;
    let ledger = state.ledger().ledger();
    match ledger.purge(before).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(executions = n, "ledger: purged past the retention"),
        Err(err) => tracing::warn!(error = %err, "the ledger purge failed"),
    }
    if let Err(err) = ledger.analyze().await {
        tracing::warn!(error = %err, "the ledger's statistics could not be refreshed");
    }
}
