//! The servers under test: an in-process simulator and an in-process `runboard` in front
//! of it (configured from TOML, key read from a temporary `api_key_file`), and the
//! finished jobs and runs the measured requests read.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use reqwest::Client;
use runboard_proxy::{Config, Server};
use runboard_shared::{
    ExecuteResponse, Id, JobsResponse, ProjectId, RunId, Selector, TestRun, execute_path,
    jobs_path, test_run_path,
};
use runboard_sim::{Catalog, RunningSim, SimConfig, SimProject, Simulator};
use serde::de::DeserializeOwned;
use tempfile::TempDir;

use crate::{
    BenchError,
    load::Target,
    scenario::{execute_body, jobs_body},
};

/// Tests in the project: the "Full regression" feature runs them all.
pub(crate) const LARGE_RUN_TESTS: usize = 2_000;
/// Tests in the small run, the size of a typical feature.
pub(crate) const SMALL_RUN_TESTS: usize = 36;
/// Jobs the widget polls in one `jobs` request.
pub(crate) const POLLED_JOBS: usize = 10;
/// A fixed project id, so the catalog (seeded by it) and every answer's size are the
/// same from run to run.
const PROJECT_ID: &str = "62be7c3f1d2e4a5b6c7d8e9f";
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

/// The simulator and `runboard`, both on `127.0.0.1:0`.
pub(crate) struct Stack {
    sim: RunningSim,
    server: Server,
    project: SimProject,
    /// Holds the key file and the (empty) widget folder until shutdown.
    _dir: TempDir,
}

impl Stack {
    /// Starts the simulator at `speed`, then `runboard` configured to forward to it.
    pub(crate) async fn start(speed: f64) -> Result<Self, BenchError> {
        Self::start_with(speed, LARGE_RUN_TESTS, Auth::None).await
    }

    /// Like [`Stack::start`], with `tests` tests in the project and the given sign-in.
    pub(crate) async fn start_with(
        speed: f64,
        tests: usize,
        auth: Auth,
    ) -> Result<Self, BenchError> {
        let (sim, project) = start_sim(speed, tests).await?;
        let dir = tempfile::tempdir()?;
        let server = match start_proxy(&dir, &sim, &project, auth).await {
            Ok(server) => server,
            Err(err) => {
                sim.shutdown().await;
                return Err(err);
            }
        };
        Ok(Self {
            sim,
            server,
            project,
            _dir: dir,
        })
    }

    /// The simulator, called with the key.
    pub(crate) fn direct(&self) -> Target {
        Target {
            base: self.sim.url(),
            key: Some(self.project.key.clone()),
        }
    }

    /// `runboard`, called as the widget calls it: no key.
    pub(crate) fn proxy(&self) -> Target {
        Target {
            base: self.server.url(),
            key: None,
        }
    }

    /// Every `/api/` request the simulator has received so far.
    pub(crate) fn upstream_requests(&self) -> u64 {
        self.sim.sim.stats().total
    }

    /// `testExecution` calls the simulator has received so far.
    pub(crate) fn upstream_starts(&self) -> u64 {
        self.sim.sim.stats().by_endpoint.test_execution
    }

    /// The port `runboard` listens on.
    pub(crate) fn proxy_port(&self) -> u16 {
        self.server.addr().port()
    }

    /// The project's id, the same on both paths.
    pub(crate) fn project_id(&self) -> &str {
        &self.project.id
    }

    /// Every test id of the project's catalog.
    pub(crate) fn test_ids(&self) -> Result<std::sync::Arc<[String]>, BenchError> {
        let catalog = self
            .sim
            .sim
            .catalog(&self.project.id)
            .ok_or_else(|| BenchError::Fixture("the simulator has no catalog".to_owned()))?;
        Ok(catalog.tests().map(|t| t.id.clone()).collect())
    }

    /// Of `job_ids`, those the simulator does not know (asked straight, with the key).
    pub(crate) async fn missing_upstream(
        &self,
        job_ids: &[String],
    ) -> Result<Vec<String>, BenchError> {
        let client = Client::new();
        let caller = Caller {
            client: &client,
            target: self.direct(),
            project: &self.project.id,
        };
        let path = jobs_path(&ProjectId::parse(self.project.id.as_str())?);
        let answer: JobsResponse = caller.post(&path, jobs_body(job_ids)?).await?;
        Ok(answer.missing_job_ids)
    }

    /// Stops `runboard`, then the simulator.
    pub(crate) async fn shutdown(self) {
        self.server.shutdown().await;
        self.sim.shutdown().await;
    }

    /// Queues the polled jobs and both runs straight at the simulator and waits until
    /// all are finished.
    pub(crate) async fn prepare(&self, client: &Client) -> Result<Fixture, BenchError> {
        let catalog = self
            .sim
            .sim
            .catalog(&self.project.id)
            .ok_or_else(|| BenchError::Fixture("the simulator has no catalog".to_owned()))?;
        let test_ids: Vec<String> = catalog.tests().map(|t| t.id.clone()).collect();
        let caller = Caller {
            client,
            target: self.direct(),
            project: &self.project.id,
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
        let large = caller.execute(everything(&catalog)?).await?;
        let small_run = caller.finished_run(&small).await?;
        let large_run = caller.finished_run(&large).await?;
        caller.wait_finished(&job_ids).await?;
        Ok(Fixture {
            project: self.project.id.clone(),
            job_ids,
            small_run,
            large_run,
            test_ids,
        })
    }
}

/// The simulator at `speed` with one project of `tests` tests, on `127.0.0.1:0`.
pub(crate) async fn start_sim(
    speed: f64,
    tests: usize,
) -> Result<(RunningSim, SimProject), BenchError> {
    let project = SimProject::new(PROJECT_ID, SimProject::random().key);
    let config = SimConfig {
        speed,
        tests_per_project: tests,
        projects: vec![project.clone()],
        ..SimConfig::default()
    };
    config
        .validate()
        .map_err(|e| start_error("the simulator", e))?;
    let sim = runboard_sim::spawn(Simulator::new(config), localhost())
        .await
        .map_err(|e| start_error("the simulator", e))?;
    Ok((sim, project))
}

fn localhost() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

pub(crate) fn start_error(what: &'static str, err: impl std::fmt::Display) -> BenchError {
    BenchError::Start {
        what,
        message: err.to_string(),
    }
}

/// How `runboard` knows who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// `auth.mode = "none"`: everyone is anonymous (the proxy-overhead benchmark).
    None,
    /// Behind SSO: the user comes in `X-Forwarded-Email` from a trusted loopback peer, so
    /// each simulated person has their own identity and their own rate limits.
    Header,
}

impl Auth {
    fn toml(self) -> &'static str {
        match self {
            // The overhead benchmark sends thousands of requests a second as one user:
            // it measures forwarding, not the per-user limits, so they are off.
            Self::None => {
                "[auth]\nmode = \"none\"\n[limits]\nstarts_per_minute = 0\nreads_per_minute = 0\n"
            }
            // Every simulated person may start runs, as in a team that lets everyone.
            Self::Header => {
                "[auth]\nmode = \"header\"\ntrusted_proxies = [\"127.0.0.1/32\"]\nrun_everyone = true\n"
            }
        }
    }
}

/// `runboard` from a TOML text, as an operator would configure it.
async fn start_proxy(
    dir: &TempDir,
    sim: &RunningSim,
    project: &SimProject,
    auth: Auth,
) -> Result<Server, BenchError> {
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, &project.key)?;
    let text = format!(
        "listen = \"127.0.0.1:0\"\nwidget_dir = {widget:?}\n\
         [upstream]\nurl = {upstream:?}\n{auth}\
         [ledger]\nurl = {ledger:?}\nfollow_ms = 0\n\
         [[projects]]\nid = {id:?}\nname = \"Bench\"\napi_key_file = {key:?}\n",
        ledger = format!("sqlite://{}", dir.path().join("ledger.db").display()),
        widget = dir.path().join("widget").display().to_string(),
        upstream = sim.url(),
        id = project.id,
        key = key_file.display().to_string(),
        auth = auth.toml(),
    );
    let config = Config::from_toml_str(&text, |_| None).map_err(|e| start_error("runboard", e))?;
    Server::start(config)
        .await
        .map_err(|e| start_error("runboard", format!("{e:#}")))
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
    pub(crate) target: Target,
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
