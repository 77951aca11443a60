//! The side-by-side comparison (`runboard-compare`, run by `./x bench`): `runboard` as its
//! own process against the simulator, nginx (plain and micro-caching) and the simulator
//! itself, under Debian's `wrk`; then many viewers on one live run (the fan-in curve, and
//! crowds of up to 10,000 stream viewers); `runboard`'s memory; the widget in headless
//! Chromium. Everything listens on loopback and stops by itself.

mod chart;
pub(crate) mod crowd;
mod fanin;
mod live;
mod nginx;
mod procs;
mod remote;
mod render;
mod viewers;
mod widget;
mod wrk;

use std::{path::PathBuf, time::Duration};

use reqwest::Client;
use runboard_shared::{ProjectId, RunId, Target, jobs_path, test_run_path};
use runboard_sim::{RunningSim, SimProject};

pub use chart::svg_chart;
pub use crowd::{
    CROWD_RUN_TESTS, CrowdMeasure, CrowdOptions, CrowdRow, STARVED_AFTER, crowds_in_process,
};
pub use fanin::{FanInMeasure, FanInMode, FanInRow};
pub use remote::{Link, PageRow, RemoteOptions, RemoteReport, VisitFigures, remote};
pub use widget::{WIDGET_TESTS, WidgetTimes};

use crate::{
    BenchError,
    body::jobs_body,
    compare::{
        nginx::Nginx,
        procs::{RunboardProcess, RunboardSetup, SignIn},
        wrk::{WrkLoad, WrkRequest, WrkResult},
    },
    fixture::{Caller, POLLED_JOBS, SMALL_RUN_TESTS, everything},
    stack::{Destination, LARGE_RUN_TESTS, start_sim},
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
    /// Crowd sizes: stream viewers of one run from its start to its final report.
    pub crowds: Vec<usize>,
    /// `[poll] run_ms` of `runboard`; viewers poll at the same period.
    pub run_ms: u64,
    /// The simulator's speed while runs must stay live.
    pub live_speed: f64,
    /// Skip the browser part.
    pub skip_widget: bool,
    /// Measure the crowds alone (no wrk, fan-in or browser): the 10,000-viewer figure
    /// in a few minutes.
    pub crowds_only: bool,
}

impl CompareOptions {
    /// The most streams open at once: the largest crowd or fan-in point.
    pub fn most_streams(&self) -> usize {
        self.viewers
            .iter()
            .chain(&self.crowds)
            .copied()
            .max()
            .unwrap_or(0)
    }
}

/// Everything the comparison measured.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub options: CompareOptions,
    /// Proxy cost: one row per request kind and target.
    pub cost: Vec<CostRow>,
    pub fan_in: Vec<FanInRow>,
    pub crowds: Vec<CrowdRow>,
    /// The open-file limit of the client and of `runboard` (`None`: unlimited).
    pub open_files: Option<u64>,
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
    // The crowd's sockets here, and `runboard`'s (it inherits the limit) for each of them.
    let connections = procs::max_connections(options.most_streams()) as u64;
    let open_files = procs::raise_open_files(connections + 512);
    let mut cost = if options.crowds_only {
        Vec::new()
    } else {
        finished_cost(options).await?
    };
    let live = live::live_parts(options).await?;
    cost.extend(live.cost);
    let widget = if options.skip_widget || options.crowds_only {
        Err("skipped".to_owned())
    } else {
        widget::measure(&options.runboard, &options.widget_dir)
            .await
            .map_err(|e| e.to_string())
    };
    Ok(Comparison {
        options: options.clone(),
        cost,
        fan_in: live.fan_in,
        crowds: live.crowds,
        open_files,
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
            streams: options.most_streams(),
            sign_in: SignIn::Nobody,
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

    fn direct(&self) -> Destination {
        Destination {
            base: self.sim.url(),
            key: Some(self.project.key.clone()),
        }
    }

    fn catalog(&self) -> Result<runboard_sim::Catalog, BenchError> {
        self.sim
            .sim
            .catalog(&self.project.id)
            .ok_or_else(|| BenchError::Fixture("the simulator has no catalog".to_owned()))
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

/// `runboard`'s live stream of `run`.
fn live_path(project: &str, run: &str) -> Result<String, BenchError> {
    Ok(Target::Live(ProjectId::parse(project)?, RunId::parse(run)?, None).path())
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
    let catalog = servers.catalog()?;
    let large = caller.execute(everything(&catalog)?).await?;
    let large = caller.finished_run(&large).await?.id;
    Ok((jobs, small, large))
}

fn test_ids(servers: &Servers) -> Result<Vec<String>, BenchError> {
    let catalog = servers.catalog()?;
    Ok(catalog.tests().map(|t| t.id.clone()).collect())
}

fn test_selector(ids: &[String]) -> Result<runboard_shared::Selector, BenchError> {
    Ok(runboard_shared::Selector::tests(ids)?)
}
