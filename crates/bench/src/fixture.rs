//! The finished jobs and runs the measured requests read, and the set-up calls that make
//! them, straight to the stack's simulator (with the key).

use std::time::{Duration, Instant};

use reqwest::Client;
use runboard_shared::{
    ExecuteResponse, Id, JobsResponse, ProjectId, RunId, Selector, TestRun, execute_path,
    jobs_path, test_run_path,
};
use runboard_sim::Catalog;
use serde::de::DeserializeOwned;

use crate::{
    BenchError,
    body::{execute_body, jobs_body},
    stack::{Destination, Stack},
};

/// Tests in the small run, the size of a typical feature.
pub(crate) const SMALL_RUN_TESTS: usize = 36;
/// Jobs the widget polls in one `jobs` request.
pub(crate) const POLLED_JOBS: usize = 10;
/// How long the fixture's jobs may take to finish at the benchmark's speed.
const FIXTURE_DEADLINE: Duration = Duration::from_secs(60);
/// The pause between two looks at the fixture's jobs.
const FIXTURE_POLL: Duration = Duration::from_millis(20);

/// A finished run and its size.
#[derive(Debug, Clone)]
pub(crate) struct RunInfo {
    pub(crate) id: String,
    pub(crate) tests: usize,
}

/// The ids the measured requests use; every job and run is finished, so every answer
/// is the same bytes on both paths.
#[derive(Debug, Clone)]
pub(crate) struct Fixture {
    pub(crate) project: String,
    pub(crate) job_ids: Vec<String>,
    pub(crate) small_run: RunInfo,
    pub(crate) large_run: RunInfo,
    /// Every test of the project, for `testExecution` bodies.
    pub(crate) test_ids: Vec<String>,
}

/// Set-up calls through a [`Stack`]'s simulator (its servers are in `stack.rs`, which
/// knows nothing of fixtures).
impl Stack {
    /// Of `job_ids`, those the simulator does not know (asked straight, with the key).
    pub(crate) async fn missing_upstream(
        &self,
        job_ids: &[String],
    ) -> Result<Vec<String>, BenchError> {
        let client = Client::new();
        let caller = Caller {
            client: &client,
            target: self.direct(),
            project: self.project_id(),
        };
        let path = jobs_path(&ProjectId::parse(self.project_id())?);
        let answer: JobsResponse = caller.post(&path, jobs_body(job_ids)?).await?;
        Ok(answer.missing_job_ids)
    }

    /// Queues the polled jobs and both runs straight at the simulator and waits until
    /// all are finished.
    pub(crate) async fn prepare(&self, client: &Client) -> Result<Fixture, BenchError> {
        let catalog = self.catalog();
        let test_ids: Vec<String> = catalog.tests().map(|t| t.id.clone()).collect();
        let caller = Caller {
            client,
            target: self.direct(),
            project: self.project_id(),
        };
        let mut job_ids = Vec::new();
        for id in test_ids.iter().take(POLLED_JOBS) {
            job_ids.push(
                caller
                    .execute(Selector::Test(Id::parse("testId", id)?))
                    .await?,
            );
        }
        let small = caller
            .execute(Selector::tests(
                &test_ids[..SMALL_RUN_TESTS.min(test_ids.len())],
            )?)
            .await?;
        let large = caller.execute(everything(catalog)?).await?;
        let small_run = caller.finished_run(&small).await?;
        let large_run = caller.finished_run(&large).await?;
        caller.wait_finished(&job_ids).await?;
        Ok(Fixture {
            project: self.project_id().to_owned(),
            job_ids,
            small_run,
            large_run,
            test_ids,
        })
    }
}

/// The catalog's "Full regression" feature: every test of the project.
pub(crate) fn everything(catalog: &Catalog) -> Result<Selector, BenchError> {
    let all = catalog
        .all_feature()
        .ok_or_else(|| BenchError::Fixture("the catalog has no all-tests feature".to_owned()))?;
    Ok(Selector::Feature(Id::parse("featureId", all.id.as_str())?))
}

/// Set-up calls straight to the simulator.
pub(crate) struct Caller<'a> {
    pub(crate) client: &'a Client,
    pub(crate) target: Destination,
    pub(crate) project: &'a str,
}

impl Caller<'_> {
    /// Queues `selector` on the staging agent and returns the job id.
    pub(crate) async fn execute(&self, selector: Selector) -> Result<String, BenchError> {
        let path = execute_path(&ProjectId::parse(self.project)?);
        let answer: ExecuteResponse = self.post(&path, execute_body(selector)?).await?;
        Ok(answer.job_id)
    }

    /// Waits for `job_id` to finish and returns its run, checked to be complete.
    pub(crate) async fn finished_run(&self, job_id: &str) -> Result<RunInfo, BenchError> {
        let jobs = self.wait_finished(&[job_id.to_owned()]).await?;
        let run_id = jobs
            .jobs
            .first()
            .and_then(|job| job.test_run_id.clone())
            .ok_or_else(|| BenchError::Fixture(format!("job {job_id} has no run")))?;
        let path = test_run_path(
            &ProjectId::parse(self.project)?,
            &RunId::parse(run_id.as_str())?,
        );
        let url = format!("{}{path}", self.target.base);
        let run: TestRun = self.send(self.client.get(url)).await?;
        if run.status.is_live() {
            return Err(BenchError::Fixture(format!("run {run_id} is still live")));
        }
        Ok(RunInfo {
            id: run_id,
            tests: run.tests.len(),
        })
    }

    /// Polls `job_id` until it names its run (the run exists, and may well be live).
    pub(crate) async fn run_of(&self, job_id: &str) -> Result<String, BenchError> {
        let path = jobs_path(&ProjectId::parse(self.project)?);
        let body = jobs_body(&[job_id.to_owned()])?;
        let deadline = Instant::now() + FIXTURE_DEADLINE;
        loop {
            let answer: JobsResponse = self.post(&path, body.clone()).await?;
            if let Some(run) = answer.jobs.first().and_then(|j| j.test_run_id.clone()) {
                return Ok(run);
            }
            if Instant::now() >= deadline {
                return Err(BenchError::Fixture(format!("job {job_id} never got a run")));
            }
            tokio::time::sleep(FIXTURE_POLL).await;
        }
    }

    /// Polls `ids` until every job is terminal, within [`FIXTURE_DEADLINE`].
    pub(crate) async fn wait_finished(&self, ids: &[String]) -> Result<JobsResponse, BenchError> {
        let path = jobs_path(&ProjectId::parse(self.project)?);
        let body = jobs_body(ids)?;
        let deadline = Instant::now() + FIXTURE_DEADLINE;
        loop {
            let answer: JobsResponse = self.post(&path, body.clone()).await?;
            let done = answer.jobs.len() == ids.len()
                && answer.jobs.iter().all(|job| job.status.is_terminal());
            if done {
                return Ok(answer);
            }
            if Instant::now() >= deadline {
                return Err(BenchError::Fixture(format!(
                    "jobs not finished after {FIXTURE_DEADLINE:?}: {:?}",
                    answer.jobs.iter().map(|j| &j.status).collect::<Vec<_>>()
                )));
            }
            tokio::time::sleep(FIXTURE_POLL).await;
        }
    }

    pub(crate) async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: String,
    ) -> Result<T, BenchError> {
        let request = self
            .client
            .post(format!("{}{path}", self.target.base))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        self.send(request).await
    }

    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, BenchError> {
        let key = self.target.key.as_deref().unwrap_or_default();
        let response = request.header("x-api-key", key).send().await?;
        let response = response.error_for_status()?;
        Ok(response.json().await?)
    }
}
