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
        }
    }

    /// Whether the job still needs polling.
    pub(crate) fn is_open(&self) -> bool {
        !self.missing && !self.status.as_ref().is_some_and(JobStatus::is_terminal)
    }

    /// When it last changed, for "12 s ago" and for ordering.
    pub(crate) fn last_change_ms(&self) -> Option<i64> {
        self.updated_at
            .as_deref()
            .and_then(parse_iso_ms)
            .or(self.started_ms)
    }

    /// Takes in what an answer says about this job, unless the answer is older than
    /// what is held (see [`supersedes`]).
    fn absorb(&mut self, job: &Job) {
        let held = (self.status.as_ref(), self.updated_at.as_deref());
        if !supersedes(held, (&job.status, job.updated_at.as_deref())) {
            return;
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
        let jobs: Vec<TrackedJob> = text
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();
        let mut book = Self {
            jobs: jobs
                .into_iter()
                .filter(|j| j.mine && JobId::parse(j.job_id.as_str()).is_ok())
                .collect(),
        };
        book.order();
        book
    }

    /// The jobs this browser started, as stored.
    pub(crate) fn to_storage(&self) -> String {
        let mine: Vec<&TrackedJob> = self
            .jobs
            .iter()
            .filter(|j| j.mine)
            .take(MAX_REMEMBERED)
            .collect();
        serde_json::to_string(&mine).unwrap_or_else(|_| "[]".into())
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
        }
        self.jobs.insert(0, job);
        self.order();
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

    /// Merges an answer: known jobs update, unknown active ones join, and ids the
    /// upstream reports missing stop being polled.
    pub(crate) fn apply(&mut self, answer: &JobsResponse) {
        for job in &answer.jobs {
            match self.jobs.iter_mut().find(|j| j.job_id == job.job_id) {
                Some(known) => known.absorb(job),
                None => {
                    let mut fresh = TrackedJob {
                        job_id: job.job_id.clone(),
                        what: None,
                        agent: None,
                        started_ms: None,
                        status: None,
                        updated_at: None,
                        test_run_id: None,
                        mine: false,
                        missing: false,
                    };
                    fresh.absorb(job);
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

#[cfg(test)]
mod tests {
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
        book.apply(&JobsResponse {
            success: true,
            jobs: vec![job("j1", "Success", "2026-04-20T10:15:30Z", Some("r1"))],
            missing_job_ids: vec!["j2".into()],
        });
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
        book.apply(&JobsResponse {
            success: true,
            jobs: vec![job(
                "other",
                "PendingAgentConnection",
                "2026-04-20T10:15:30Z",
                None,
            )],
            missing_job_ids: vec![],
        });
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

    fn status_of(book: &JobBook, id: &str) -> String {
        book.get(id)
            .and_then(|j| j.status.as_ref())
            .map_or_else(String::new, |s| s.as_str().to_owned())
    }

    #[test]
    fn an_older_answer_never_moves_a_job_backwards() {
        let mut book = JobBook::default();
        book.remember(TrackedJob::started("j1", "Smoke".into(), None, 0));
        book.apply(&answer(vec![job(
            "j1",
            "InProgress",
            "2026-04-20T10:15:40Z",
            Some("r1"),
        )]));
        // A slower request that left earlier comes back last.
        book.apply(&answer(vec![job(
            "j1",
            "PendingAgentConnection",
            "2026-04-20T10:15:30.500Z",
            None,
        )]));
        assert_eq!(status_of(&book, "j1"), "InProgress");
        assert_eq!(
            book.get("j1").and_then(|j| j.updated_at.as_deref()),
            Some("2026-04-20T10:15:40Z")
        );
        // A newer answer moves it on, even with a time written without a fraction.
        book.apply(&answer(vec![job(
            "j1",
            "Failed",
            "2026-04-20T10:16:00Z",
            Some("r1"),
        )]));
        assert_eq!(status_of(&book, "j1"), "Failed");
    }

    #[test]
    fn a_finished_job_stays_finished_when_times_tie_or_are_missing() {
        let mut book = JobBook::default();
        book.remember(TrackedJob::started("j1", "Smoke".into(), None, 0));
        book.apply(&answer(vec![job(
            "j1",
            "Success",
            "2026-04-20T10:16:00Z",
            Some("r1"),
        )]));
        book.apply(&answer(vec![job(
            "j1",
            "InProgress",
            "2026-04-20T10:16:00Z",
            Some("r1"),
        )]));
        assert_eq!(status_of(&book, "j1"), "Success", "same updatedAt");
        let mut timeless = job("j1", "Pending", "", None);
        timeless.updated_at = None;
        book.apply(&answer(vec![timeless]));
        assert_eq!(status_of(&book, "j1"), "Success", "no updatedAt");
        assert!(!book.get("j1").is_some_and(TrackedJob::is_open));
    }

    #[test]
    fn already_existing_jobs_keep_what_was_learnt() {
        let mut book = JobBook::default();
        book.remember(TrackedJob::started("j1", "Smoke".into(), None, 0));
        book.apply(&JobsResponse {
            success: true,
            jobs: vec![job("j1", "InProgress", "2026-04-20T10:15:30Z", Some("r1"))],
            missing_job_ids: vec![],
        });
        book.remember(TrackedJob::started("j1", "Smoke".into(), None, 5));
        assert_eq!(book.jobs().len(), 1);
        assert_eq!(book.jobs()[0].test_run_id.as_deref(), Some("r1"));
    }
}
