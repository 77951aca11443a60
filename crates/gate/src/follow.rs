//! Following a started job to its final report: the job's state until it has a run
//! record, then the run over the live stream, falling back to polling the report when
//! the stream cannot be opened, fails or falls silent; then the verdict once it is final.

use std::{
    io::Write,
    time::{Duration, Instant},
};

use runboard_shared::{
    ApiError, Job, JobId, JobStatus, JobsRequest, JobsResponse, LiveEventName, PollIntervals,
    ProjectId, RunId, RunStatus, Target, TestRun, Verdict, VerdictStatus, live,
};
use tokio::time::{sleep, timeout};

use crate::{GateError, client::Client, progress::Progress, sse};

/// How long a job may stay in a status the guide does not name (the platform's
/// `Cancelled`, say) without a run record before the gate calls it a run without a
/// report (exit 3). Shorter than the widget's ten minutes: a pipeline is waiting.
const UNDOCUMENTED_WAIT: Duration = Duration::from_secs(120);

/// The clock of a job in a status the guide does not name.
#[derive(Debug, Default)]
struct Undocumented(Option<Instant>);

impl Undocumented {
    /// Whether the job has been in such a status, without a break, for
    /// [`UNDOCUMENTED_WAIT`]; a documented status stops the clock.
    fn expired(&mut self, status: &JobStatus) -> bool {
        if matches!(status, JobStatus::Other(s) if !s.is_empty()) {
            self.0.get_or_insert_with(Instant::now).elapsed() >= UNDOCUMENTED_WAIT
        } else {
            self.0 = None;
            false
        }
    }
}

/// What is known of the run so far; read after following stopped (a timeout or Ctrl-C)
/// to say where the run can still be watched.
#[derive(Debug, Default)]
pub(crate) struct Tracking {
    pub(crate) job: Option<String>,
    pub(crate) run: Option<RunId>,
}

/// Everything following needs, borrowed for its length.
pub(crate) struct Follow<'a> {
    pub(crate) client: &'a Client,
    pub(crate) project: &'a ProjectId,
    pub(crate) poll: PollIntervals,
    /// How long the live stream may stay silent before it is given up for polling.
    pub(crate) silence: Duration,
    pub(crate) progress: &'a mut Progress,
    pub(crate) ui: &'a mut dyn Write,
    pub(crate) tracking: &'a mut Tracking,
}

/// The verdict as the server sent it: typed, and its JSON text for `--json`.
pub(crate) struct VerdictAnswer {
    pub(crate) verdict: Verdict,
    pub(crate) json: String,
}

impl Follow<'_> {
    /// Waits until `job` has a run record; a job that ends without one has no report.
    pub(crate) async fn run_of(&mut self, job: &str) -> Result<RunId, GateError> {
        let id = JobId::parse(job).map_err(|e| GateError::BadAnswer {
            what: "the start's job id".to_owned(),
            reason: e.to_string(),
        })?;
        let request = JobsRequest {
            job_ids: Some(vec![id]),
        };
        let mut undocumented = Undocumented::default();
        let mut retries = Retries::default();
        loop {
            let job = match self.job(&request, job).await {
                Ok(found) => {
                    retries = Retries::default();
                    found
                }
                Err(error) => {
                    self.pause(&mut retries, error, self.poll.jobs_ms).await?;
                    continue;
                }
            };
            if let Some(run) = &job.test_run_id {
                return RunId::parse(run.as_str()).map_err(|e| GateError::BadAnswer {
                    what: format!("job {}'s run id", job.job_id),
                    reason: e.to_string(),
                });
            }
            if job.status.is_terminal() {
                return Err(GateError::NoReport(format!(
                    "job {} {}",
                    job.job_id,
                    job.describe()
                )));
            }
            if undocumented.expired(&job.status) {
                return Err(GateError::NoReport(format!(
                    "job {} has been {} for {}s without a run record",
                    job.job_id,
                    job.describe(),
                    UNDOCUMENTED_WAIT.as_secs()
                )));
            }
            sleep(Duration::from_millis(self.poll.jobs_ms)).await;
        }
    }

    /// The job's state now (`Pending` while the platform does not list it yet).
    async fn job(&mut self, request: &JobsRequest, job: &str) -> Result<Job, GateError> {
        let target = Target::Jobs(self.project.clone());
        let answer: JobsResponse = self.client.post(&target, request).await?;
        let found = answer.jobs.into_iter().find(|j| j.job_id == job);
        let job = found.unwrap_or_else(|| Job {
            job_id: job.to_owned(),
            status: JobStatus::Pending,
            updated_at: None,
            test_run_id: None,
            agent_name: None,
        });
        let text = format!("job {}: {}", job.job_id, job.describe());
        self.progress.note(self.ui, &text);
        Ok(job)
    }

    /// The run's final report: live when the stream works, polled otherwise.
    pub(crate) async fn report(&mut self, run: &RunId) -> Result<TestRun, GateError> {
        match self.live(run).await {
            Ok(Some(report)) => return Ok(report),
            Ok(None) => self
                .progress
                .note(self.ui, "the live stream ended early; polling"),
            Err(error) => {
                let text = format!("no live stream ({error}); polling");
                self.progress.note(self.ui, &text);
            }
        }
        self.poll(run).await
    }

    /// Follows the live stream to its final report; `None` when it ends or falls silent
    /// first (polling takes over).
    async fn live(&mut self, run: &RunId) -> Result<Option<TestRun>, GateError> {
        let target = Target::Live(self.project.clone(), run.clone(), None);
        let mut response = self.client.stream(&target).await?;
        let mut parser = sse::Parser::default();
        let mut report: Option<TestRun> = None;
        loop {
            let chunk = match timeout(self.silence, response.chunk()).await {
                Err(_) | Ok(Ok(None)) => return Ok(None),
                Ok(Err(error)) => {
                    return Err(GateError::Network {
                        what: target.path(),
                        reason: error.to_string(),
                    });
                }
                Ok(Ok(Some(chunk))) => chunk,
            };
            for event in parser.push(&chunk) {
                let Some(name) = LiveEventName::parse(&event.name) else {
                    continue;
                };
                if let Some(done) = self.event(&target, name, &event.data, &mut report)? {
                    return Ok(Some(done));
                }
            }
        }
    }

    /// Takes one live event into `report`; the final report once the stream says so.
    fn event(
        &mut self,
        target: &Target,
        name: LiveEventName,
        data: &str,
        report: &mut Option<TestRun>,
    ) -> Result<Option<TestRun>, GateError> {
        let read = |data: &str| {
            serde_json::from_str::<TestRun>(data).map_err(|e| GateError::BadAnswer {
                what: target.path(),
                reason: e.to_string(),
            })
        };
        match name {
            LiveEventName::Report | LiveEventName::Final => *report = Some(read(data)?),
            LiveEventName::Change => match report {
                Some(report) => live::apply_change(report, read(data)?),
                None => *report = Some(read(data)?),
            },
            LiveEventName::End => {}
            LiveEventName::Failure => {
                let error: ApiError =
                    serde_json::from_str(data).map_err(|e| GateError::BadAnswer {
                        what: target.path(),
                        reason: e.to_string(),
                    })?;
                return Err(GateError::Refused {
                    what: target.path(),
                    status: 200,
                    code: Some(error.error.code.as_str().to_owned()),
                    message: error.error.message,
                });
            }
            LiveEventName::Ping => return Ok(None),
        }
        if let Some(current) = report {
            self.progress.report(self.ui, current);
        }
        let over = matches!(name, LiveEventName::Final | LiveEventName::End);
        Ok(if over { report.take() } else { None })
    }

    /// Polls the report every `run_ms` until it is final.
    async fn poll(&mut self, run: &RunId) -> Result<TestRun, GateError> {
        let target = Target::TestRun(self.project.clone(), run.clone());
        let mut retries = Retries::default();
        loop {
            let report: TestRun = match self.client.get(&target).await {
                Ok(report) => {
                    retries = Retries::default();
                    report
                }
                Err(error) => {
                    self.pause(&mut retries, error, self.poll.run_ms).await?;
                    continue;
                }
            };
            self.progress.report(self.ui, &report);
            if self.is_final(&report).await? {
                return Ok(report);
            }
            sleep(Duration::from_millis(self.poll.run_ms)).await;
        }
    }

    /// Whether `report` will not change: completed or aborted, or in a status the guide
    /// does not name while its job is finished (as the widget decides).
    async fn is_final(&mut self, report: &TestRun) -> Result<bool, GateError> {
        match &report.status {
            RunStatus::Completed | RunStatus::Aborted => Ok(true),
            RunStatus::Scheduled | RunStatus::Running => Ok(false),
            RunStatus::Other(_) => {
                let Some(job) = self.tracking.job.clone() else {
                    return Ok(false);
                };
                let Ok(id) = JobId::parse(job.as_str()) else {
                    return Ok(false);
                };
                let request = JobsRequest {
                    job_ids: Some(vec![id]),
                };
                Ok(self.job(&request, &job).await?.status.is_terminal())
            }
        }
    }

    /// The run's verdict once the server calls it final (it may lag the report by a
    /// poll of the job).
    pub(crate) async fn verdict(&mut self, run: &RunId) -> Result<VerdictAnswer, GateError> {
        let target = Target::Verdict(self.project.clone(), run.clone());
        let mut retries = Retries::default();
        loop {
            let bytes = match self.client.bytes(&target).await {
                Ok(bytes) => {
                    retries = Retries::default();
                    bytes
                }
                Err(error) => {
                    self.pause(&mut retries, error, self.poll.run_ms).await?;
                    continue;
                }
            };
            let json = String::from_utf8_lossy(&bytes).into_owned();
            let verdict: Verdict =
                serde_json::from_str(&json).map_err(|e| GateError::BadAnswer {
                    what: target.path(),
                    reason: e.to_string(),
                })?;
            if verdict.status != VerdictStatus::Running {
                return Ok(VerdictAnswer { verdict, json });
            }
            self.progress
                .note(self.ui, "waiting for the server's final verdict");
            sleep(Duration::from_millis(self.poll.run_ms)).await;
        }
    }
}

impl Follow<'_> {
    /// Absorbs a passing failure of a read while following (`error` when it is not one,
    /// or after [`MAX_RETRIES`] in a row): says so and waits `ms` before the next try.
    async fn pause(
        &mut self,
        retries: &mut Retries,
        error: GateError,
        ms: u64,
    ) -> Result<(), GateError> {
        if !error.is_transient() || retries.used >= MAX_RETRIES {
            return Err(error);
        }
        retries.used += 1;
        let text = format!("{error}; trying again ({}/{MAX_RETRIES})", retries.used);
        self.progress.note(self.ui, &text);
        sleep(Duration::from_millis(ms.max(RETRY_FLOOR_MS))).await;
        Ok(())
    }
}

/// Passing failures (a dropped connection, `429`, `502`–`504`) tolerated in a row while
/// following: a pipeline should not fail on one blip of a network or a restart.
const MAX_RETRIES: u32 = 5;
/// The least pause before such a retry.
const RETRY_FLOOR_MS: u64 = 500;

/// Passing failures of one read so far.
#[derive(Debug, Default)]
struct Retries {
    used: u32,
}
