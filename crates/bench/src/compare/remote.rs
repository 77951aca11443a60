//! The remote viewer (issue 20, `runboard-remote`): the widget in headless Chromium on an
//! emulated slow link (1.6 Mbps down, 750 kbps up, 150 ms), cold cache, against the
//! release `runboard` as its own process. Four pages: the start view, a finished 36-test
//! report, a finished 10,000-test report and a live 2,000-test report until final; for
//! each, when the verdict showed, when the widget was ready and the bytes on the wire,
//! over several visits. `runboard` signs people in from a header, as behind an SSO
//! proxy: the reports are opened by a reader, as stakeholders open them, who gets the
//! report page; the start page by a runner, with the full widget.

mod builds;
mod meter;
mod page;
mod render;

use std::{path::PathBuf, time::Duration};

use chrono::DateTime;
use reqwest::Client;
use runboard_shared::{ProjectId, RunId, RunPage, Selector, TestRun, test_run_path};
use runboard_sim::{RunningSim, SimProject};

pub use page::Link;

use crate::{
    BenchError, DEFAULT_SIM_SPEED,
    compare::procs::{RunboardProcess, RunboardSetup, SignIn},
    fixture::{Caller, SMALL_RUN_TESTS, everything},
    stack::{Destination, LARGE_RUN_TESTS, start_sim},
};
use builds::Builds;
use meter::Meter;
use page::{Fetch, Page, Stages, Target, Visit};

/// Tests in the large finished report.
const REMOTE_LARGE_TESTS: usize = 10_000;
/// Tests in the live report.
const REMOTE_LIVE_TESTS: usize = LARGE_RUN_TESTS;
/// The goal for the 36-test report's verdict.
const SMALL_GOAL: Duration = Duration::from_millis(1_500);
/// The goal for the 10,000-test report's verdict.
const LARGE_GOAL: Duration = Duration::from_secs(5);
/// How long one visit may take (the 10,000-test report took 34 s before issue 20; a
/// live run lasts as long as the simulator's speed makes it).
const VISIT_TIMEOUT: Duration = Duration::from_secs(300);

/// Who opens a page: the user the browser names to `runboard`, as an SSO proxy would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Visitor {
    /// May start runs in the project, and so triage it: the full widget everywhere.
    Runner,
    /// Signed in but neither runner nor triager: a run report comes as the report page.
    Reader,
}

impl Visitor {
    /// Who may start runs in the benchmark's project.
    const RUNNERS: &[&str] = &["runner@bench.example"];

    fn user(self) -> &'static str {
        match self {
            Self::Runner => Self::RUNNERS[0],
            Self::Reader => "reader@bench.example",
        }
    }

    /// What the record calls them.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Runner => "runner",
            Self::Reader => "reader",
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RemoteOptions {
    /// The `runboard` binary (a release build).
    pub runboard: PathBuf,
    /// The built widget `runboard` serves.
    pub widget_dir: PathBuf,
    /// Visits of each page; the figure is their median.
    pub visits: usize,
    /// The simulator's speed for the live run (100: 2,000 tests last about 40 s).
    pub live_speed: f64,
    /// The emulated link.
    pub link: Link,
}

/// Everything measured, one row per page in the order measured.
#[derive(Debug, Clone)]
pub struct RemoteReport {
    pub options: RemoteOptions,
    pub rows: Vec<PageRow>,
    /// The widget's two pages as measured.
    pub(crate) builds: Builds,
    /// The machine's 1-minute load average before and after (`/proc/loadavg`): the
    /// machine is shared, and the widget's work in the page is CPU time.
    pub load: (Option<f64>, Option<f64>),
}

/// One page over its visits.
#[derive(Debug, Clone)]
pub struct PageRow {
    /// What the table calls it.
    pub page: String,
    /// The goal for its verdict, if it has one.
    pub goal: Option<Duration>,
    /// Whether the run was still going when the page opened.
    pub live: bool,
    /// Who opened it.
    pub(crate) visitor: Visitor,
    pub visits: Vec<VisitFigures>,
}

/// What one visit of a page measured.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitFigures {
    /// Navigation start to the verdict on screen (the start view: its form; a live
    /// run: its first, running verdict).
    pub verdict: Duration,
    /// A live run only: from the platform's last test ending to the final verdict on
    /// screen.
    pub final_lag: Option<Duration>,
    /// Bytes from `runboard` to the browser, until the verdict (a live run: the final one).
    pub down: u64,
    /// Bytes from the browser to `runboard`, as long.
    pub up: u64,
    /// The requests the page started before its verdict (the live report: before its
    /// first verdict), as its own timing saw them.
    pub(crate) requests: Vec<Fetch>,
    /// When the widget had mounted and read its bootstrap.
    pub(crate) stages: Stages,
    /// Which of the widget's pages `runboard` sent (`None`: told apart as neither).
    pub(crate) served: Option<&'static str>,
    /// The widget's own bytes on the wire: its page, CSS, JS and wasm, headers included.
    pub(crate) widget_bytes: Option<u64>,
}

/// Starts Chromium once, measures the finished pages, then the live one; stops all.
pub async fn remote(options: &RemoteOptions) -> Result<RemoteReport, BenchError> {
    let builds = Builds::read(&options.widget_dir)?;
    if options.visits == 0 {
        return Err(BenchError::Options("at least one visit".to_owned()));
    }
    let load_before = load_average();
    let browser = runboard_e2e::Browser::start()
        .await
        .map_err(|e| BenchError::Widget(format!("{e:#}")))?;
    let result = async {
        page::install(&browser).await?;
        let mut rows = finished_pages(&browser, options, &builds).await?;
        rows.push(live_page(&browser, options, &builds).await?);
        Ok::<_, BenchError>(rows)
    }
    .await;
    browser.close().await;
    Ok(RemoteReport {
        options: options.clone(),
        rows: result?,
        builds,
        load: (load_before, load_average()),
    })
}

/// The first field of `/proc/loadavg`.
fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// `10000` as `10,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A simulator, `runboard` in front of it and the wire meter in front of that.
struct Servers {
    sim: RunningSim,
    project: SimProject,
    runboard: RunboardProcess,
    meter: Meter,
}

impl Servers {
    async fn start(options: &RemoteOptions, speed: f64, tests: usize) -> Result<Self, BenchError> {
        let (sim, project) = start_sim(speed, tests).await?;
        let runboard = RunboardProcess::start(&RunboardSetup {
            binary: &options.runboard,
            upstream: &sim.url(),
            project: &project,
            widget_dir: &options.widget_dir,
            run_ms: 1_000,
            // One page at a time: the browser's one stream at most.
            streams: 1,
            sign_in: SignIn::Header {
                runners: Visitor::RUNNERS,
            },
        })
        .await;
        let runboard = match runboard {
            Ok(r) => r,
            Err(e) => {
                sim.shutdown().await;
                return Err(e);
            }
        };
        match Meter::start(runboard.url()).await {
            Ok(meter) => Ok(Self {
                sim,
                project,
                runboard,
                meter,
            }),
            Err(e) => {
                runboard.stop().await;
                sim.shutdown().await;
                Err(e)
            }
        }
    }

    fn caller<'a>(&'a self, client: &'a Client) -> Caller<'a> {
        Caller {
            client,
            target: Destination {
                base: self.sim.url(),
                key: Some(self.project.key.clone()),
            },
            project: &self.project.id,
        }
    }

    fn catalog(&self) -> Result<runboard_sim::Catalog, BenchError> {
        self.sim
            .sim
            .catalog(&self.project.id)
            .ok_or_else(|| BenchError::Fixture("the simulator has no catalog".to_owned()))
    }

    /// The widget's address of a page, through the meter.
    fn page_url(&self, path: &str) -> String {
        format!("{}{path}", self.meter.url())
    }

    /// The widget's address of a run's report, the one `runboard` sends with preload
    /// hints (`shared`'s `RunPage`).
    fn run_url(&self, run: &str) -> Result<String, BenchError> {
        let page = RunPage {
            project: ProjectId::parse(self.project.id.as_str())?,
            run: RunId::parse(run)?,
        };
        Ok(self.page_url(&page.path()))
    }

    /// The project's start view. (`/` was the first project's start view until the
    /// status board took its place, issue 21.)
    fn start_url(&self) -> String {
        self.page_url(&format!("/p/{}/start", self.project.id))
    }

    async fn stop(self) {
        drop(self.meter);
        self.runboard.stop().await;
        self.sim.shutdown().await;
    }
}

/// One page to visit.
struct Spec {
    row: PageRow,
    url: String,
    page: Page,
}

impl Spec {
    fn new(label: String, goal: Option<Duration>, url: String, page: Page) -> Self {
        // The start page is a runner's; a report is a reader's, as stakeholders open it.
        let visitor = match page {
            Page::Start => Visitor::Runner,
            Page::Finished | Page::Live => Visitor::Reader,
        };
        Self {
            row: PageRow {
                page: label,
                goal,
                live: page == Page::Live,
                visitor,
                visits: Vec::new(),
            },
            url,
            page,
        }
    }

    fn target(&self) -> Target<'_> {
        Target {
            url: &self.url,
            page: self.page,
            user: self.row.visitor.user(),
        }
    }
}

/// The start view and the two finished reports, visited in turn `visits` times.
async fn finished_pages(
    browser: &runboard_e2e::Browser,
    options: &RemoteOptions,
    builds: &Builds,
) -> Result<Vec<PageRow>, BenchError> {
    let servers = Servers::start(options, DEFAULT_SIM_SPEED, REMOTE_LARGE_TESTS).await?;
    let result = async {
        let client = Client::new();
        let caller = servers.caller(&client);
        let catalog = servers.catalog()?;
        let first: Vec<String> = catalog
            .tests()
            .take(SMALL_RUN_TESTS)
            .map(|t| t.id.clone())
            .collect();
        let small = caller.execute(Selector::tests(&first)?).await?;
        let small = caller.finished_run(&small).await?;
        let large = caller.execute(everything(&catalog)?).await?;
        let large = caller.finished_run(&large).await?;
        let mut specs = [
            Spec::new(
                "start page".to_owned(),
                None,
                servers.start_url(),
                Page::Start,
            ),
            Spec::new(
                format!("finished {}-test report", thousands(small.tests)),
                Some(SMALL_GOAL),
                servers.run_url(&small.id)?,
                Page::Finished,
            ),
            Spec::new(
                format!("finished {}-test report", thousands(large.tests)),
                Some(LARGE_GOAL),
                servers.run_url(&large.id)?,
                Page::Finished,
            ),
        ];
        // Round after round rather than page after page, so a slow moment of the shared
        // machine spreads over the pages instead of landing on one.
        for _ in 0..options.visits {
            for spec in &mut specs {
                let visit = page::visit(
                    browser,
                    &servers.meter,
                    options.link,
                    spec.target(),
                    VISIT_TIMEOUT,
                )
                .await?;
                spec.row.visits.push(figures(visit, None, builds));
            }
        }
        Ok(specs.into_iter().map(|spec| spec.row).collect())
    }
    .await;
    servers.stop().await;
    result
}

/// A live run of every test, opened as soon as it has a run id and followed until its
/// final verdict; a fresh run for each visit.
async fn live_page(
    browser: &runboard_e2e::Browser,
    options: &RemoteOptions,
    builds: &Builds,
) -> Result<PageRow, BenchError> {
    let servers = Servers::start(options, options.live_speed, REMOTE_LIVE_TESTS).await?;
    let result = async {
        let client = Client::new();
        let caller = servers.caller(&client);
        let catalog = servers.catalog()?;
        let label = format!(
            "live {}-test report, until final",
            thousands(REMOTE_LIVE_TESTS)
        );
        // The address is each visit's fresh run.
        let mut spec = Spec::new(label, None, String::new(), Page::Live);
        for _ in 0..options.visits {
            let job = caller.execute(everything(&catalog)?).await?;
            let run = caller.run_of(&job).await?;
            spec.url = servers.run_url(&run)?;
            let visit = page::visit(
                browser,
                &servers.meter,
                options.link,
                spec.target(),
                VISIT_TIMEOUT,
            )
            .await?;
            let ended = platform_end_ms(&caller, &run).await?;
            let lag = visit.final_at_ms.map(|shown| millis(shown - ended));
            spec.row.visits.push(figures(visit, lag, builds));
        }
        Ok(spec.row)
    }
    .await;
    servers.stop().await;
    result
}

fn figures(visit: Visit, final_lag: Option<Duration>, builds: &Builds) -> VisitFigures {
    let served = builds.served(&visit.requests);
    VisitFigures {
        verdict: visit.verdict,
        final_lag,
        down: visit.wire.down,
        up: visit.wire.up,
        requests: visit.waterfall(),
        stages: visit.stages,
        served: served.map(|build| build.name),
        widget_bytes: served.map(|build| build.bytes_in(&visit.requests)),
    }
}

/// When the platform's run became final (ms since the epoch): its last test's end,
/// which is the moment the simulator's run turns `Completed`.
async fn platform_end_ms(caller: &Caller<'_>, run: &str) -> Result<f64, BenchError> {
    let path = test_run_path(&ProjectId::parse(caller.project)?, &RunId::parse(run)?);
    let url = format!("{}{path}", caller.target.base);
    let report: TestRun = caller.send(caller.client.get(url)).await?;
    if report.status.is_live() {
        return Err(BenchError::Fixture(format!(
            "the page showed a final verdict while run {run} is live"
        )));
    }
    report
        .tests
        .iter()
        .filter_map(|t| {
            let start = DateTime::parse_from_rfc3339(t.start_time.as_deref()?).ok()?;
            Some(start.timestamp_millis() as f64 + t.duration? as f64)
        })
        .reduce(f64::max)
        .ok_or_else(|| BenchError::Fixture(format!("run {run} has no finished test")))
}

/// A signed span in ms as a duration, negative spans as zero (the page cannot see a
/// final verdict before the platform has one; clocks are the same machine's).
fn millis(ms: f64) -> Duration {
    Duration::from_secs_f64(ms.max(0.0) / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_with_thousands_separators() {
        for (n, want) in [
            (0, "0"),
            (36, "36"),
            (2_000, "2,000"),
            (10_000, "10,000"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(thousands(n), want);
        }
    }
}
