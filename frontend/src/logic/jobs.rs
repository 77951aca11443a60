//! The jobs a page knows about: those this browser started (kept in localStorage) and
//! the project's active jobs, merged from `jobs` answers, with the one-request-per-tick
//! plan that polls them.

use runboard_shared::{Job, JobId, JobStatus, JobsRequest, JobsResponse};
use serde::{Deserialize, Serialize};

use crate::logic::time::parse_iso_ms;

/// How many of this browser's jobs are remembered per project.
pub(crate) const MAX_REMEMBERED: usize = 50;
/// Every this many ticks the request asks for all active jobs instead of known ones.
pub(crate) const DISCOVERY_EVERY: u64 = 5;
/// How long a job in a status the guide does not document is followed: the guide
/// cannot say whether such a job will ever change, so it is not polled forever.
pub(crate) const UNDOCUMENTED_FOLLOW_MS: i64 = 10 * 60 * 1000;

/// One job as the jobs view shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TrackedJob {
    /// The job id.
    pub(crate) job_id: String,
    /// What it runs ("Smoke suite", "test suite s1"), known for jobs started here.
    #[serde(default)]
    pub(crate) what: Option<String>,
    /// The agent it was routed to.
    #[serde(default)]
    pub(crate) agent: Option<String>,
    /// When this browser started it (epoch ms).
    #[serde(default)]
    pub(crate) started_ms: Option<i64>,
    /// The last status seen.
    #[serde(default)]
    pub(crate) status: Option<JobStatus>,
    /// The upstream's `updatedAt`.
    #[serde(default)]
    pub(crate) updated_at: Option<String>,
    /// The run, once it exists.
    #[serde(default)]
    pub(crate) test_run_id: Option<String>,
    /// Started from this browser.
    #[serde(default)]
    pub(crate) mine: bool,
    /// The upstream no longer knows it.
    #[serde(default)]
    pub(crate) missing: bool,
    /// When this browser first saw the job in its current, undocumented status (epoch
    /// ms). Stored, so a reload does not restart the [`UNDOCUMENTED_FOLLOW_MS`] clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) undocumented_since_ms: Option<i64>,
    /// Runboard stopped following it: its status is undocumented and the clock ran out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) unfollowed: bool,
    /// How its run ended, noted by the run view once this browser saw the final report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) outcome: Option<Outcome>,
}

/// A finished run's counts and duration, kept with its job for the job's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Outcome {
    /// Tests in the run.
    pub(crate) total: u64,
    /// Passed tests.
    pub(crate) passed: u64,
    /// Failed tests.
    pub(crate) failed: u64,
    /// How long the run took, when known (ms).
    #[serde(default)]
    pub(crate) duration_ms: Option<u64>,
}

impl Outcome {
    /// "34 passed · 2 failed · 4 m 12 s": only the counts that are not zero.
    pub(crate) fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.failed > 0 {
            parts.push(format!("{} of {} failed", self.failed, self.total));
        } else if self.passed == self.total && self.total > 0 {
            parts.push(format!("all {} passed", self.total));
        } else {
            parts.push(format!("{} of {} passed", self.passed, self.total));
        }
        if let Some(ms) = self.duration_ms {
            // Said as the report's header says it.
            parts.push(crate::logic::format::elapsed(ms));
        }
        parts.join(" · ")
    }
}

impl TrackedJob {
    /// What identifies this job's row in the list: a row is rebuilt when any of the
    /// shown fields changes. One string, so the list's keyed diff shares its code with
    /// the tests table's.
    pub(crate) fn row_key(&self) -> String {
        let mut key = self.job_id.clone();
        for part in [
            self.status.as_ref().map(|s| s.as_str()),
            self.updated_at.as_deref(),
            self.test_run_id.as_deref(),
            self.agent.as_deref(),
        ] {
            key.push('\u{1f}');
            if let Some(part) = part {
                key.push('+');
                key.push_str(part);
            }
        }
        key.push_str(if self.missing {
            "\u{1f}missing"
        } else {
            "\u{1f}"
        });
        if self.unfollowed {
            key.push_str("\u{1f}unfollowed");
        }
        if let Some(outcome) = &self.outcome {
            key.push('\u{1f}');
            key.push_str(&outcome.describe());
        }
        key
    }

    /// A job this browser just started.
    pub(crate) fn started(job_id: &str, what: String, agent: Option<String>, now_ms: i64) -> Self {
        Self {
            job_id: job_id.to_owned(),
            what: Some(what),
            agent,
            started_ms: Some(now_ms),
            status: None,
            updated_at: None,
            test_run_id: None,
            mine: true,
            missing: false,
            undocumented_since_ms: None,
            unfollowed: false,
            outcome: None,
        }
    }

    /// Whether storage keeps it: started here, or its undocumented-status clock runs.
    fn is_kept(&self) -> bool {
        self.mine || self.undocumented_since_ms.is_some()
    }

    /// A job first met in an answer, not started here.
    fn met(job_id: &str) -> Self {
        Self {
            mine: false,
            started_ms: None,
            what: None,
            ..Self::started(job_id, String::new(), None, 0)
        }
    }

    /// Whether the job still needs polling: not finished, not gone, and not in an
    /// undocumented status for longer than [`UNDOCUMENTED_FOLLOW_MS`].
    pub(crate) fn is_open(&self) -> bool {
        !self.missing
            && !self.unfollowed
            && !self.status.as_ref().is_some_and(JobStatus::is_terminal)
    }

    /// A sentence for a person about where the job is.
    pub(crate) fn describe(&self) -> String {
        let Some(status) = &self.status else {
            return if self.missing {
                "the platform does not know this job".to_owned()
            } else {
                "starting…".to_owned()
            };
        };
        if self.missing {
            return "the platform no longer knows this job".to_owned();
        }
        if self.unfollowed {
            return match status.as_str() {
                "" => "Runboard stopped following this job: its status is unknown".to_owned(),
                text => format!(
                    "Runboard stopped following this job: its status \"{text}\" is not documented"
                ),
            };
        }
        Job {
            job_id: self.job_id.clone(),
            status: status.clone(),
            updated_at: None,
            test_run_id: self.test_run_id.clone(),
            agent_name: self.agent.clone(),
        }
        .describe()
    }

    /// Stops following the job once it has been in an undocumented status for
    /// [`UNDOCUMENTED_FOLLOW_MS`] by `now_ms`.
    fn expire(&mut self, now_ms: i64) {
        if self
            .undocumented_since_ms
            .is_some_and(|since| now_ms.saturating_sub(since) >= UNDOCUMENTED_FOLLOW_MS)
        {
            self.unfollowed = true;
        }
    }

    /// When it last changed, for "12 s ago" and for ordering.
    pub(crate) fn last_change_ms(&self) -> Option<i64> {
        self.updated_at
            .as_deref()
            .and_then(parse_iso_ms)
            .or(self.started_ms)
    }

    /// Takes in what an answer that arrived at `now_ms` says about this job, unless
    /// the answer is older than what is held (see [`supersedes`]). A new undocumented
    /// status starts the clock that ends following it.
    fn absorb(&mut self, job: &Job, now_ms: i64) {
        let held = (self.status.as_ref(), self.updated_at.as_deref());
        if !supersedes(held, (&job.status, job.updated_at.as_deref())) {
            return;
        }
        let changed = self.status.as_ref() != Some(&job.status);
        match (&job.status, changed) {
            (JobStatus::Other(_), true) => {
                self.undocumented_since_ms = Some(now_ms);
                self.unfollowed = false;
            }
            (JobStatus::Other(_), false) => {
                self.undocumented_since_ms.get_or_insert(now_ms);
            }
            _ => {
                self.undocumented_since_ms = None;
                self.unfollowed = false;
            }
        }
        self.status = Some(job.status.clone());
        self.updated_at = job.updated_at.clone().or(self.updated_at.take());
        self.test_run_id = job.test_run_id.clone().or(self.test_run_id.take());
        if job.agent_name.is_some() {
            self.agent = job.agent_name.clone();
        }
        self.missing = false;
    }
}

/// Where a documented status sits in a job's life; an undocumented one has no place.
fn lifecycle_rank(status: &JobStatus) -> Option<u8> {
    match status {
        JobStatus::Pending => Some(0),
        JobStatus::PendingAgentConnection => Some(1),
        JobStatus::InProgress => Some(2),
        JobStatus::Success | JobStatus::Failed => Some(3),
        JobStatus::Other(_) => None,
    }
}

/// Whether an answer about a job (its status and `updatedAt`) may replace the state
/// held, so a job never moves backwards when answers arrive out of order: an answer
/// older than the one held is ignored, and when the times tie or either is missing,
/// so is a documented status earlier in the lifecycle than the held one (a finished
/// job stays finished). Undocumented statuses have no place in the lifecycle, so only
/// their time can rule them out.
pub(crate) fn supersedes(
    held: (Option<&JobStatus>, Option<&str>),
    incoming: (&JobStatus, Option<&str>),
) -> bool {
    let (Some(held_status), held_time) = held else {
        return true;
    };
    let (status, time) = incoming;
    let parsed = |t: Option<&str>| t.and_then(parse_iso_ms);
    match (parsed(held_time), parsed(time)) {
        (Some(held_ms), Some(ms)) if ms < held_ms => false,
        (Some(held_ms), Some(ms)) if ms > held_ms => true,
        _ => match (lifecycle_rank(held_status), lifecycle_rank(status)) {
            (Some(held_rank), Some(rank)) => rank >= held_rank,
            _ => true,
        },
    }
}

/// The jobs of one project, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct JobBook {
    jobs: Vec<TrackedJob>,
}

impl JobBook {
    /// Reads this browser's remembered jobs; unreadable storage means none.
    pub(crate) fn from_storage(text: Option<&str>) -> Self {
        let jobs = text.and_then(stored::jobs).unwrap_or_default();
        let mut book = Self {
            jobs: jobs
                .into_iter()
                .filter(|j| j.is_kept() && JobId::parse(j.job_id.as_str()).is_ok())
                .collect(),
        };
        book.order();
        book
    }

    /// The jobs this browser started, and those whose undocumented-status clock runs
    /// (so a reload does not restart it), as stored.
    pub(crate) fn to_storage(&self) -> String {
        let mine: Vec<&TrackedJob> = self
            .jobs
            .iter()
            .filter(|j| j.is_kept())
            .take(MAX_REMEMBERED)
            .collect();
        stored::write(&mine)
    }

    /// All jobs, newest first.
    pub(crate) fn jobs(&self) -> &[TrackedJob] {
        &self.jobs
    }

    /// The job with `job_id`.
    pub(crate) fn get(&self, job_id: &str) -> Option<&TrackedJob> {
        self.jobs.iter().find(|j| j.job_id == job_id)
    }

    /// Remembers a job started here (again, for `AlreadyExists`), moving it to the top.
    pub(crate) fn remember(&mut self, job: TrackedJob) {
        let previous = self
            .jobs
            .iter()
            .position(|j| j.job_id == job.job_id)
            .map(|i| self.jobs.remove(i));
        let mut job = job;
        if let Some(previous) = previous {
            job.status = previous.status;
            job.updated_at = previous.updated_at;
            job.test_run_id = previous.test_run_id;
            job.undocumented_since_ms = previous.undocumented_since_ms;
            job.unfollowed = previous.unfollowed;
            job.outcome = previous.outcome;
        }
        self.jobs.insert(0, job);
        self.order();
    }

    /// Stops following `job_id` when its report is final and its status is one the
    /// guide does not document (which will never say "finished"); says whether the
    /// job changed.
    pub(crate) fn report_final(&mut self, job_id: &str) -> bool {
        let Some(job) = self.jobs.iter_mut().find(|j| j.job_id == job_id) else {
            return false;
        };
        let undocumented = matches!(job.status, Some(JobStatus::Other(_)));
        let changed = undocumented && !job.unfollowed;
        job.unfollowed |= undocumented;
        changed
    }

    /// Notes how `job_id`'s run ended; says whether that changed anything.
    pub(crate) fn note_outcome(&mut self, job_id: &str, outcome: Outcome) -> bool {
        match self.jobs.iter_mut().find(|j| j.job_id == job_id) {
            Some(job) if job.outcome != Some(outcome) => {
                job.outcome = Some(outcome);
                true
            }
            _ => false,
        }
    }

    /// Stops following jobs whose undocumented status has lasted too long by `now_ms`.
    pub(crate) fn expire(&mut self, now_ms: i64) {
        self.jobs.iter_mut().for_each(|j| j.expire(now_ms));
    }

    /// The request for tick number `tick`: known open jobs in one batch, and every
    /// [`DISCOVERY_EVERY`] ticks (or when nothing is open) the project's active jobs.
    pub(crate) fn request(&self, tick: u64) -> JobsRequest {
        let open: Vec<JobId> = self
            .jobs
            .iter()
            .filter(|j| j.is_open())
            .filter_map(|j| JobId::parse(j.job_id.as_str()).ok())
            .collect();
        if open.is_empty() || tick.is_multiple_of(DISCOVERY_EVERY) {
            JobsRequest { job_ids: None }
        } else {
            JobsRequest {
                job_ids: Some(open),
            }
        }
    }

    /// Merges an answer that arrived at `now_ms`: known jobs update, unknown active
    /// ones join, and ids the upstream reports missing stop being polled.
    pub(crate) fn apply(&mut self, answer: &JobsResponse, now_ms: i64) {
        for job in &answer.jobs {
            match self.jobs.iter_mut().find(|j| j.job_id == job.job_id) {
                Some(known) => known.absorb(job, now_ms),
                None => {
                    let mut fresh = TrackedJob::met(&job.job_id);
                    fresh.absorb(job, now_ms);
                    self.jobs.push(fresh);
                }
            }
        }
        for id in &answer.missing_job_ids {
            if let Some(known) = self.jobs.iter_mut().find(|j| &j.job_id == id) {
                known.missing = true;
            }
        }
        self.order();
    }

    fn order(&mut self) {
        self.jobs
            .sort_by_key(|j| std::cmp::Reverse(j.last_change_ms().unwrap_or(i64::MIN)));
    }
}

mod stored;
#[cfg(test)]
mod tests;
