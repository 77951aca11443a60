//! The part with a slow simulator, so runs stay live: wrk on live reports, the fan-in
//! curve (viewers, upstream rate, freshness, `runboard`'s memory meanwhile), then the
//! crowds of stream viewers, each on a run from its start to its final report.

use std::time::{Duration, Instant};

use reqwest::Client;
use runboard_shared::Route;

use super::{
    CompareOptions, CostRow, FanInMeasure, FanInMode, FanInRow, Servers,
    crowd::{self, Arena, CrowdRow},
    fanin, get, live_path,
    procs::RunboardProcess,
    run_path, test_ids, test_selector,
    viewers::{self, Follow},
};
use crate::{
    BenchError,
    fixture::{SMALL_RUN_TESTS, everything},
    stack::LARGE_RUN_TESTS,
};

/// What the slow-simulator part measured.
pub(super) struct LiveParts {
    pub(super) cost: Vec<CostRow>,
    pub(super) fan_in: Vec<FanInRow>,
    pub(super) crowds: Vec<CrowdRow>,
    pub(super) idle_rss_kib: Option<u64>,
}

/// With runs that stay live: wrk on live reports, the fan-in curve, the crowds.
pub(super) async fn live_parts(options: &CompareOptions) -> Result<LiveParts, BenchError> {
    let servers = Servers::start(options, options.live_speed).await?;
    let idle_rss_kib = servers.runboard.rss_kib();
    let result = async {
        let client = viewer_client()?;
        let tests = test_ids(&servers)?;
        let mut slices = tests.chunks(SMALL_RUN_TESTS);
        let (cost, fan_in) = if options.crowds_only {
            (Vec::new(), Vec::new())
        } else {
            cost_and_fan_in(&servers, &client, options, &mut slices).await?
        };
        let rss = || servers.runboard.rss_kib();
        let arena = Arena {
            runboard: servers.runboard.url(),
            sim: &servers.sim,
            direct: servers.direct(),
            project: &servers.project.id,
            client: &client,
            run_ms: options.run_ms,
            rss: &rss,
        };
        let mut crowds = Vec::new();
        for &viewers in &options.crowds {
            let tests = next_slice(&mut slices)?;
            crowds.push(crowd::point(&arena, viewers, tests).await);
        }
        Ok::<_, BenchError>((cost, fan_in, crowds))
    }
    .await;
    servers.stop().await;
    let (cost, fan_in, crowds) = result?;
    Ok(LiveParts {
        cost,
        fan_in,
        crowds,
        idle_rss_kib,
    })
}

/// wrk on a live 36-test and a live 2,000-test report, then the fan-in curve: each
/// point on a fresh run of the next tests of `slices`.
async fn cost_and_fan_in(
    servers: &Servers,
    client: &Client,
    options: &CompareOptions,
    slices: &mut std::slice::Chunks<'_, String>,
) -> Result<(Vec<CostRow>, Vec<FanInRow>), BenchError> {
    let small = live_run(servers, client, next_slice(slices)?).await?;
    let large = {
        let caller = servers.caller(client);
        let catalog = servers.catalog()?;
        let job = caller.execute(everything(&catalog)?).await?;
        caller.run_of(&job).await?
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
            let run = live_run(servers, client, next_slice(slices)?).await?;
            fan_in.push(fan_in_point(servers, client, options, mode, viewers, &run).await?);
        }
    }
    Ok((cost, fan_in))
}

/// The tests of the next fresh live run.
fn next_slice<'a>(slices: &mut std::slice::Chunks<'a, String>) -> Result<&'a [String], BenchError> {
    slices
        .next()
        .ok_or_else(|| BenchError::Fixture("out of tests for live runs".to_owned()))
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
    let job = caller.execute(test_selector(tests)?).await?;
    caller.run_of(&job).await
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
            format!("{}{}", servers.runboard.url(), live_path(project, run)?),
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
            note: Some(format!(
                "not available: runboard does not serve {}",
                Route::Live.template()
            )),
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
    crowd::platform_report(client, &servers.direct(), &servers.project.id, run).await
}
