//! The part with a slow simulator, so runs stay live: wrk on live reports, then the
//! fan-in curve (viewers, upstream rate, freshness, `runboard`'s memory meanwhile).

use std::time::{Duration, Instant};

use reqwest::Client;
use runboard_shared::{ProjectId, Route, execute_path, jobs_path};

use super::{
    CompareOptions, CostRow, FanInMeasure, FanInMode, FanInRow, Servers, fanin, get, live_path,
    procs::RunboardProcess,
    run_path, test_ids, test_selector,
    viewers::{self, Follow, parse_tests},
};
use crate::{
    BenchError,
    body::{execute_body, jobs_body},
    fixture::{Caller, SMALL_RUN_TESTS, everything},
    stack::LARGE_RUN_TESTS,
};

/// What the slow-simulator part measured.
pub(super) struct LiveParts {
    pub(super) cost: Vec<CostRow>,
    pub(super) fan_in: Vec<FanInRow>,
    pub(super) idle_rss_kib: Option<u64>,
}

/// With runs that stay live: wrk on live reports, then the fan-in curve.
pub(super) async fn live_parts(options: &CompareOptions) -> Result<LiveParts, BenchError> {
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
            let catalog = servers.catalog()?;
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
