//! Derives what a job and its run look like at a given instant from the job's fixed
//! plan: the job's status, and the live run report with per-test status and timeline.
//! Nothing here changes state, so every instant is consistent by construction.

use chrono::{DateTime, Utc};
use runboard_shared::{
    Job, JobStatus, RunStatus, StatusCount, TestResult, TestRun, TestStatus, Timeline,
};
use serde_json::json;

use crate::{
    catalog::{Fate, ProjectData, TestSpec},
    job::JobRecord,
    plan::{Outcome, PlannedTest},
};

/// Formats an instant the way the platform does: `2026-04-20T10:15:30.000Z`.
pub(crate) fn iso(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `at` plus `ms` milliseconds.
pub(crate) fn after(at: DateTime<Utc>, ms: u64) -> DateTime<Utc> {
    at + chrono::Duration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX / 2))
}

/// Where a job is at one instant, and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Pending,
    WaitingForAgent,
    InProgress,
    Done {
        failed: bool,
    },
    /// A fated agent's job, ended at the close of `Pending` without a run.
    EndedWithoutRun(Fate),
}

impl Phase {
    /// Whether the job will not change any more.
    pub(crate) fn is_final(self) -> bool {
        matches!(self, Self::Done { .. } | Self::EndedWithoutRun(_))
    }
}

/// The job's phase at `now` and the instant it entered it (its `updatedAt`).
pub(crate) fn phase(job: &JobRecord, now: DateTime<Utc>) -> (Phase, DateTime<Utc>) {
    if now < job.pending_end {
        return (Phase::Pending, job.created_at);
    }
    if let Some(fate) = job.fate {
        return (Phase::EndedWithoutRun(fate), job.pending_end);
    }
    let Some(run_start) = job.run_start.filter(|start| *start <= now) else {
        return (Phase::WaitingForAgent, job.pending_end);
    };
    let done_at = after(run_start, job.plan.total_ms);
    if now < done_at {
        (Phase::InProgress, run_start)
    } else {
        (
            Phase::Done {
                failed: job.plan.failed,
            },
            done_at,
        )
    }
}

/// The job as `POST /api/jobs` reports it at `now`.
pub(crate) fn job_view(job: &JobRecord, now: DateTime<Utc>) -> Job {
    let (phase, since) = phase(job, now);
    let status = match phase {
        Phase::Pending => JobStatus::Pending,
        Phase::WaitingForAgent => JobStatus::PendingAgentConnection,
        Phase::InProgress => JobStatus::InProgress,
        Phase::Done { failed: true } => JobStatus::Failed,
        Phase::Done { failed: false } => JobStatus::Success,
        Phase::EndedWithoutRun(Fate::Cancelled) => JobStatus::parse("Cancelled"),
        Phase::EndedWithoutRun(_) => JobStatus::Failed,
    };
    let has_run = matches!(phase, Phase::InProgress | Phase::Done { .. });
    Job {
        job_id: job.id.clone(),
        status,
        updated_at: Some(iso(since)),
        test_run_id: has_run.then(|| job.run_id.clone()),
        agent_name: job.agent.clone(),
    }
}

/// The run report at `now`, or `None` while the run record does not exist yet.
pub(crate) fn run_report(
    job: &JobRecord,
    data: &ProjectData,
    now: DateTime<Utc>,
) -> Option<TestRun> {
    let run_start = job.run_start.filter(|start| *start <= now)?;
    let elapsed = u64::try_from((now - run_start).num_milliseconds()).unwrap_or(0);
    let plan = &job.plan;
    let tests: Vec<TestResult> = plan
        .tests
        .iter()
        .map(|planned| {
            test_result(
                planned,
                &data.tests[planned.test],
                run_start,
                elapsed,
                &job.run_id,
            )
        })
        .collect();
    let status = if elapsed < plan.first_start_ms {
        RunStatus::Scheduled
    } else if elapsed < plan.total_ms {
        RunStatus::Running
    } else {
        RunStatus::Completed
    };
    Some(TestRun {
        run_id: job.run_id.clone(),
        project_id: data.catalog.id.clone(),
        status,
        start_time: Some(iso(run_start)),
        tests_in_project_count: data.tests.len() as u64,
        title: job.title.clone(),
        statuses: summarize(&tests),
        tests,
    })
}

/// The five documented labels with their counts; they always sum to the tests listed.
fn summarize(tests: &[TestResult]) -> Vec<StatusCount> {
    [
        TestStatus::Passed,
        TestStatus::Failed,
        TestStatus::Skipped,
        TestStatus::Running,
        TestStatus::Scheduled,
    ]
    .into_iter()
    .map(|label| StatusCount {
        count: tests.iter().filter(|t| t.status == label).count() as u64,
        label,
    })
    .collect()
}

/// One test at `elapsed` milliseconds into the run.
fn test_result(
    planned: &PlannedTest,
    spec: &TestSpec,
    run_start: DateTime<Utc>,
    elapsed: u64,
    run_id: &str,
) -> TestResult {
    let mut result = TestResult {
        id: spec.id.clone(),
        title: spec.title.clone(),
        status: TestStatus::Scheduled,
        duration: None,
        has_video: false,
        video_link: None,
        start_time: None,
        timeline: Timeline::default(),
        error: None,
    };
    if elapsed < planned.start_ms {
        return result;
    }
    if planned.outcome == Outcome::Skipped {
        result.status = TestStatus::Skipped;
        return result;
    }
    let test_start = after(run_start, planned.start_ms);
    result.start_time = Some(iso(test_start));
    result.timeline = timeline(planned, spec, test_start, elapsed - planned.start_ms);
    if elapsed < planned.end_ms() {
        result.status = TestStatus::Running;
        return result;
    }
    result.status = match planned.outcome {
        Outcome::Failed => TestStatus::Failed,
        _ => TestStatus::Passed,
    };
    result.duration = Some(planned.duration_ms());
    result.error = planned.error.as_ref().map(Into::into);
    if planned.has_video {
        result.has_video = true;
        result.video_link = Some(format!(
            "https://videos.example.com/runs/{run_id}/{}.mp4",
            spec.id
        ));
    }
    result
}

/// The steps of a test `into` milliseconds after it started: done steps with their
/// durations, the current one `Running`; once finished, the failing step `Failed` and
/// the steps after it `Skipped`.
fn timeline(
    planned: &PlannedTest,
    spec: &TestSpec,
    test_start: DateTime<Utc>,
    into: u64,
) -> Timeline {
    let mut steps = Vec::with_capacity(spec.steps.len());
    let mut step_start = 0;
    let last_run = planned.step_ends.len().saturating_sub(1);
    for (index, &step_end) in planned.step_ends.iter().enumerate() {
        if into < step_start {
            break;
        }
        let name = &spec.steps[index];
        let started = iso(after(test_start, step_start));
        if into < step_end {
            steps.push(json!({"name": name, "status": "Running", "startTime": started}));
            return Timeline::from_steps(&steps);
        }
        let status = if index == last_run && planned.outcome == Outcome::Failed {
            "Failed"
        } else {
            "Passed"
        };
        steps.push(json!({
            "name": name,
            "status": status,
            "duration": step_end - step_start,
            "startTime": started,
        }));
        step_start = step_end;
    }
    if into >= planned.duration_ms() {
        for name in &spec.steps[planned.step_ends.len()..] {
            steps.push(json!({"name": name, "status": "Skipped"}));
        }
    }
    Timeline::from_steps(&steps)
}
