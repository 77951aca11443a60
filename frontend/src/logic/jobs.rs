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
        let jobs: Vec<TrackedJob> = text
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();
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
            job.undocumented_since_ms = previous.undocumented_since_ms;
            job.unfollowed = previous.unfollowed;
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
}
