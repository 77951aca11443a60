//! The side-by-side comparison (`runboard-compare`, run by `./x bench`): `runboard` as its
//! own process against the simulator, nginx (plain and micro-caching) and the simulator
//! itself, under Debian's `wrk`; then many viewers on one live run; `runboard`'s memory;
//! the widget in headless Chromium. Everything listens on loopback and stops by itself.

mod fanin;
mod nginx;
mod procs;
mod render;
mod viewers;
mod widget;
mod wrk;

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use reqwest::Client;
use runboard_shared::{ProjectId, RunId, execute_path, jobs_path, test_run_path};
use runboard_sim::{RunningSim, SimProject};

pub use fanin::{FanInMeasure, FanInMode, FanInRow};
pub use render::svg_chart;
pub use widget::{WIDGET_TESTS, WidgetTimes};

use crate::{
    BenchError,
    compare::{
        nginx::Nginx,
        procs::{RunboardProcess, RunboardSetup},
        viewers::{Follow, parse_tests},
        wrk::{WrkLoad, WrkRequest, WrkResult},
    },
    load::Target,
    scenario::{execute_body, jobs_body},
    stack::{Caller, LARGE_RUN_TESTS, POLLED_JOBS, SMALL_RUN_TESTS, everything, start_sim},
};

/// What to run and how long.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// The `runboard` binary (release build).
    pub runboard: PathBuf,
    pub wrk: PathBuf,
    pub nginx: PathBuf,
    /// The built widget; the widget benchmark is skipped when it holds no `index.html`.
    pub widget_dir: PathBuf,
    /// wrk's run per request kind and target (after a 1 s warm-up).
    pub wrk_duration: Duration,
    pub wrk_connections: u32,
    /// How long each fan-in point runs.
    pub fan_in_window: Duration,
    /// Viewer counts of the fan-in curve.
    pub viewers: Vec<usize>,
    /// `[poll] run_ms` of `runboard`; viewers poll at the same period.
    pub run_ms: u64,
    /// The simulator's speed while runs must stay live.
    pub live_speed: f64,
    /// Skip the browser part.
    pub skip_widget: bool,
}

/// Everything the comparison measured.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub options: CompareOptions,
    /// Proxy cost: one row per request kind and target.
    pub cost: Vec<CostRow>,
    pub fan_in: Vec<FanInRow>,
    /// `runboard`'s resident memory just after it started, KiB.
    pub idle_rss_kib: Option<u64>,
    pub widget: Result<WidgetTimes, String>,
}

/// One request kind through one target.
#[derive(Debug, Clone)]
pub struct CostRow {
    pub request: String,
    pub target: &'static str,
    pub result: Result<CostFigures, String>,
}

/// wrk's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct CostFigures {
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub requests: u64,
    pub errors: u64,
}

/// The four ways to reach the platform, as table labels.
pub const TARGETS: [&str; 4] = ["direct", "runboard", "nginx", "nginx micro-cache"];

/// Runs every part in turn.
pub async fn compare(options: &CompareOptions) -> Result<Comparison, BenchError> {
    let mut cost = finished_cost(options).await?;
    let live = live_parts(options).await?;
    cost.extend(live.cost);
    let widget = if options.skip_widget {
        Err("skipped (--skip-widget)".to_owned())
    } else {
        widget::measure(&options.runboard, &options.widget_dir)
            .await
            .map_err(|e| e.to_string())
    };
    Ok(Comparison {
        options: options.clone(),
        cost,
        fan_in: live.fan_in,
        idle_rss_kib: live.idle_rss_kib,
        widget,
    })
}

/// The simulator in process, `runboard` and nginx as processes in front of it.
struct Servers {
    sim: RunningSim,
    project: SimProject,
    runboard: RunboardProcess,
    nginx: Nginx,
}

impl Servers {
    async fn start(options: &CompareOptions, speed: f64) -> Result<Self, BenchError> {
        let (sim, project) = start_sim(speed, LARGE_RUN_TESTS).await?;
        let runboard = RunboardProcess::start(&RunboardSetup {
            binary: &options.runboard,
            upstream: &sim.url(),
            project: &project,
            widget_dir: &options.widget_dir,
            run_ms: options.run_ms,
        })
        .await;
        let runboard = match runboard {
            Ok(r) => r,
            Err(e) => {
                sim.shutdown().await;
                return Err(e);
            }
        };
        let upstream = sim.url().trim_start_matches("http://").to_owned();
        let nginx = match Nginx::start(&options.nginx, &upstream, &project.key).await {
            Ok(n) => n,
            Err(e) => {
                runboard.stop().await;
                sim.shutdown().await;
                return Err(e);
            }
        };
        Ok(Self {
            sim,
            project,
            runboard,
            nginx,
        })
    }

    fn direct(&self) -> Target {
        Target {
            base: self.sim.url(),
            key: Some(self.project.key.clone()),
        }
    }

    fn caller<'a>(&'a self, client: &'a Client) -> Caller<'a> {
        Caller {
            client,
            target: self.direct(),
            project: &self.project.id,
        }
    }

    /// `(label, base URL, key)` of each target, in [`TARGETS`] order.
    fn targets(&self) -> [(&'static str, String, Option<String>); 4] {
        [
            (TARGETS[0], self.sim.url(), Some(self.project.key.clone())),
            (TARGETS[1], self.runboard.url().to_owned(), None),
            (TARGETS[2], self.nginx.plain.clone(), None),
            (TARGETS[3], self.nginx.cached.clone(), None),
        ]
    }

    async fn stop(self) {
        self.nginx.stop().await;
        self.runboard.stop().await;
        self.sim.shutdown().await;
    }

    /// Every request kind through every target, one after another.
    async fn cost(&self, options: &CompareOptions, kinds: &[(String, WrkRequest)]) -> Vec<CostRow> {
        let load = WrkLoad {
            threads: 2,
            connections: options.wrk_connections,
            duration: options.wrk_duration,
        };
        let warm_up = WrkLoad {
            duration: Duration::from_secs(1),
            ..load
        };
        let mut rows = Vec::new();
        for (label, request) in kinds {
            for (target, base, key) in self.targets() {
                let _ = wrk::run(&options.wrk, &base, key.as_deref(), request, warm_up).await;
                let result = wrk::run(&options.wrk, &base, key.as_deref(), request, load)
                    .await
                    .map(figures)
                    .map_err(|e| e.to_string());
                rows.push(CostRow {
                    request: label.clone(),
                    target,
                    result,
                });
            }
        }
        rows
    }
}

fn figures(r: WrkResult) -> CostFigures {
    CostFigures {
        per_second: r.per_second,
        p50: r.p50,
        p99: r.p99,
        requests: r.requests,
        errors: r.errors,
    }
}

fn run_path(project: &str, run: &str) -> Result<String, BenchError> {
    Ok(test_run_path(
        &ProjectId::parse(project)?,
        &RunId::parse(run)?,
    ))
}

fn get(path: String) -> WrkRequest {
    WrkRequest { path, body: None }
}

/// Finished reports and the jobs poll, at a speed where everything is done at once.
async fn finished_cost(options: &CompareOptions) -> Result<Vec<CostRow>, BenchError> {
    let servers = Servers::start(options, crate::DEFAULT_SIM_SPEED).await?;
    let result = async {
        let client = Client::new();
        let stack_fixture = fixture(&servers, &client).await?;
        let (jobs, small, large) = stack_fixture;
        let project = &servers.project.id;
        let kinds = vec![
            (
                format!("jobs, {POLLED_JOBS} ids"),
                WrkRequest {
                    path: jobs_path(&ProjectId::parse(project.as_str())?),
                    body: Some(jobs_body(&jobs)?),
                },
            ),
            (
                format!("finished report, {SMALL_RUN_TESTS} tests"),
                get(run_path(project, &small)?),
            ),
            (
                format!("finished report, {LARGE_RUN_TESTS} tests"),
                get(run_path(project, &large)?),
            ),
        ];
        Ok::<_, BenchError>(servers.cost(options, &kinds).await)
    }
    .await;
    servers.stop().await;
    result
}

/// The polled jobs and the two finished runs' ids.
async fn fixture(
    servers: &Servers,
    client: &Client,
) -> Result<(Vec<String>, String, String), BenchError> {
    let caller = servers.caller(client);
    let tests = test_ids(servers)?;
    let mut jobs = Vec::new();
    for id in tests.iter().take(POLLED_JOBS) {
        jobs.push(
            caller
                .execute(test_selector(std::slice::from_ref(id))?)
                .await?,
        );
    }
    caller.wait_finished(&jobs).await?;
    let small = caller
        .execute(test_selector(&tests[..SMALL_RUN_TESTS])?)
        .await?;
    let small = caller.finished_run(&small).await?.id;
    let catalog = servers
        .sim
        .sim
        .catalog(&servers.project.id)
        .ok_or_else(|| BenchError::Fixture("no catalog".to_owned()))?;
    let large = caller.execute(everything(&catalog)?).await?;
    let large = caller.finished_run(&large).await?.id;
    Ok((jobs, small, large))
}

fn test_ids(servers: &Servers) -> Result<Vec<String>, BenchError> {
    let catalog = servers
        .sim
        .sim
        .catalog(&servers.project.id)
        .ok_or_else(|| BenchError::Fixture("no catalog".to_owned()))?;
    Ok(catalog.tests().map(|t| t.id.clone()).collect())
}

fn test_selector(ids: &[String]) -> Result<runboard_shared::Selector, BenchError> {
    Ok(runboard_shared::Selector::tests(ids)?)
}

/// What the slow-simulator part measured.
struct LiveParts {
    cost: Vec<CostRow>,
    fan_in: Vec<FanInRow>,
    idle_rss_kib: Option<u64>,
}

/// With runs that stay live: wrk on live reports, then the fan-in curve.
async fn live_parts(options: &CompareOptions) -> Result<LiveParts, BenchError> {
    let servers = Servers::start(options, options.live_speed).await?;
    let idle_rss_kib = servers.runboard.rss_kib();
    let result = async {
        let client = viewer_client()?;
        let tests = test_ids(&servers)?;
        let mut slices = tests.chunks(SMALL_RUN_TESTS);
        let mut next_run = async || {
            let slice = slices
                .next()
                .ok_or_else(|| BenchError::Fixture("out of tests for live runs".to_owned()))?;
            live_run(&servers, &client, slice).await
        };
        let small = next_run().await?;
        let large = {
            let caller = servers.caller(&client);
            let catalog = servers
                .sim
                .sim
                .catalog(&servers.project.id)
                .ok_or_else(|| BenchError::Fixture("no catalog".to_owned()))?;
            let job = caller.execute(everything(&catalog)?).await?;
            wait_run(&caller, &job).await?
        };
        let project = servers.project.id.clone();
        let kinds = vec![
            (
                format!("live report, {SMALL_RUN_TESTS} tests"),
                get(run_path(&project, &small)?),
            ),
            (
                format!("live report, {LARGE_RUN_TESTS} tests"),
                get(run_path(&project, &large)?),
            ),
        ];
        let cost = servers.cost(options, &kinds).await;
        let mut fan_in = Vec::new();
        for mode in FanInMode::ALL {
            for &viewers in &options.viewers {
                let run = next_run().await?;
                fan_in.push(fan_in_point(&servers, &client, options, mode, viewers, &run).await?);
            }
        }
        Ok::<_, BenchError>((cost, fan_in))
    }
    .await;
    servers.stop().await;
    let (cost, fan_in) = result?;
    Ok(LiveParts {
        cost,
        fan_in,
        idle_rss_kib,
    })
}

/// One client for every viewer: as many connections as viewers, no overall timeout
/// (streams stay open), a connect timeout so a refused connection fails fast.
fn viewer_client() -> Result<Client, BenchError> {
    Ok(Client::builder()
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(10))
        .build()?)
}

/// Starts `tests` and returns the run id once the run exists.
async fn live_run(
    servers: &Servers,
    client: &Client,
    tests: &[String],
) -> Result<String, BenchError> {
    let caller = servers.caller(client);
    let body = execute_body(test_selector(tests)?)?;
    let answer: runboard_shared::ExecuteResponse = caller
        .post(
            &execute_path(&ProjectId::parse(servers.project.id.as_str())?),
            body,
        )
        .await?;
    wait_run(&caller, &answer.job_id).await
}

/// Polls the job until it names its run.
async fn wait_run(caller: &Caller<'_>, job: &str) -> Result<String, BenchError> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let body = jobs_body(&[job.to_owned()])?;
    loop {
        let answer: runboard_shared::JobsResponse = caller
            .post(&jobs_path(&ProjectId::parse(caller.project)?), body.clone())
            .await?;
        if let Some(run) = answer.jobs.first().and_then(|j| j.test_run_id.clone()) {
            return Ok(run);
        }
        if Instant::now() >= deadline {
            return Err(BenchError::Fixture(format!("job {job} never got a run")));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `viewers` viewers of `run` in `mode` for the window; upstream rate, freshness, memory.
async fn fan_in_point(
    servers: &Servers,
    client: &Client,
    options: &CompareOptions,
    mode: FanInMode,
    viewers: usize,
    run: &str,
) -> Result<FanInRow, BenchError> {
    let project = &servers.project.id;
    let (url, follow) = match mode {
        FanInMode::RunboardPolling => (
            format!("{}{}", servers.runboard.url(), run_path(project, run)?),
            Follow::Poll,
        ),
        FanInMode::RunboardStream => (
            format!("{}/runboard/live/{project}/{run}", servers.runboard.url()),
            Follow::Stream,
        ),
        FanInMode::NginxCache => (
            format!("{}{}", servers.nginx.cached, run_path(project, run)?),
            Follow::Poll,
        ),
    };
    if follow == Follow::Stream && !stream_available(client, &url).await {
        return Ok(FanInRow {
            mode,
            viewers,
            measured: None,
            note: Some("not available: runboard has no /runboard/live endpoint".to_owned()),
        });
    }
    first_finish(servers, client, run).await?;
    let upstream_before = servers.sim.sim.stats().by_endpoint.test_run;
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + options.fan_in_window;
    // A client of their own, dropped after the point, so no idle connection of one point
    // counts against `runboard`'s connection limit in the next.
    let viewer_client = viewer_client()?;
    let (watched, rss_max_kib) = tokio::join!(
        viewers::watch(
            &viewer_client,
            &url,
            follow,
            viewers,
            options.run_ms,
            deadline
        ),
        sample_rss(&servers.runboard, deadline),
    );
    let upstream = servers.sim.sim.stats().by_endpoint.test_run - upstream_before;
    let seconds = started.elapsed().as_secs_f64();
    let report = direct_report(servers, client, run).await?;
    let finishes = fanin::finish_times(&report);
    let delays = fanin::delays(&watched.viewers, &finishes);
    let (fresh_p50, fresh_p99) = fanin::freshness(&delays);
    Ok(FanInRow {
        mode,
        viewers,
        measured: Some(FanInMeasure {
            upstream_per_second: upstream as f64 / seconds,
            fresh_p50,
            fresh_p99,
            fresh_samples: delays.len(),
            failed_viewers: watched.failed,
            rss_max_kib,
        }),
        note: watched.first_error,
    })
}

/// Waits (asking the simulator straight) until a test of `run` has finished, so the
/// window is spent while tests keep finishing rather than on the run's set-up.
async fn first_finish(servers: &Servers, client: &Client, run: &str) -> Result<(), BenchError> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !direct_report(servers, client, run)
        .await?
        .iter()
        .any(|t| t.ran())
    {
        if Instant::now() >= deadline {
            return Err(BenchError::Fixture(format!(
                "no test of run {run} finished"
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Whether `runboard` answers the stream URL with a stream (it may not have the endpoint).
async fn stream_available(client: &Client, url: &str) -> bool {
    let answer = tokio::time::timeout(Duration::from_secs(10), client.get(url).send()).await;
    matches!(answer, Ok(Ok(response)) if response.status().is_success())
}

/// The highest `VmRSS` of `runboard` until `deadline`, sampled every 200 ms.
async fn sample_rss(runboard: &RunboardProcess, deadline: tokio::time::Instant) -> Option<u64> {
    let mut max = runboard.rss_kib();
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        max = max.max(runboard.rss_kib());
    }
    max
}

/// The run's report straight from the simulator, for the moments tests finished.
async fn direct_report(
    servers: &Servers,
    client: &Client,
    run: &str,
) -> Result<Vec<viewers::TestState>, BenchError> {
    let url = format!(
        "{}{}",
        servers.sim.url(),
        run_path(&servers.project.id, run)?
    );
    let body = client
        .get(url)
        .header("x-api-key", &servers.project.key)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    parse_tests(&body).map_err(BenchError::Fixture)
}
