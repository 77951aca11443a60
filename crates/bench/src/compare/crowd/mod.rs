//! A crowd on one live run: N viewers hold `runboard`'s event stream of the same fresh run
//! until its `final` event (issue 20: 10,000 on 2 cores). Per point: `runboard`'s highest
//! memory, the simulator's report reads per second, how late viewers saw tests finish
//! (freshness) and the final report (behind the platform), and the starved viewers: those
//! without the final report within `run_ms` + 1 s of the platform.
//!
//! The viewers are cheap on purpose ([`viewer`]: a socket and a small parser each, the
//! data of each event read once for all in [`book`]), so one process holds ten thousand
//! and the machine's cores go to `runboard`.

mod book;
pub(super) mod render;
mod scan;
mod viewer;

use std::{sync::Arc, time::Duration};

use reqwest::Client;
use runboard_shared::{ProjectId, RunId};
use runboard_sim::RunningSim;
use tokio::{task::JoinSet, time::Instant};

pub(crate) use viewer::{Arrival, Crowd, StreamRequest, watch};

use crate::{
    BenchError,
    compare::{
        fanin,
        viewers::{Seen, Sightings, TestState, now_ms, parse_tests},
    },
    fixture::{Caller, SMALL_RUN_TESTS},
    percentile,
    stack::{Auth, Destination, Stack},
};

/// A point ends when every viewer has its final report, or after this long.
const POINT_LIMIT: Duration = Duration::from_secs(300);
/// How often `runboard`'s memory is sampled.
const RSS_EVERY: Duration = Duration::from_millis(200);
/// The starvation margin: the final report within `run_ms` + this.
pub const STARVED_AFTER: Duration = Duration::from_secs(1);

/// One crowd size.
#[derive(Debug, Clone, PartialEq)]
pub struct CrowdRow {
    pub viewers: usize,
    /// What it measured, or why it could not.
    pub measured: Result<CrowdMeasure, String>,
}

/// What one crowd saw.
#[derive(Debug, Clone, PartialEq)]
pub struct CrowdMeasure {
    /// From the first connection to the last viewer's first event.
    pub connected_in: Duration,
    /// From the first connection to the last viewer's end.
    pub seconds: f64,
    /// `GET /api/testRun` calls the simulator received meanwhile.
    pub upstream_calls: u64,
    /// A finished test to a viewer seeing it: p50, p99, and how many.
    pub fresh_p50: Duration,
    pub fresh_p99: Duration,
    pub fresh_samples: usize,
    /// The platform's final report to a viewer's `final` event: p50 and the worst viewer.
    pub final_p50: Duration,
    pub final_worst: Duration,
    /// Viewers without the final report within `run_ms` + [`STARVED_AFTER`] (failed ones
    /// included).
    pub starved: usize,
    /// Viewers whose stream failed, and the first reason.
    pub failed: usize,
    pub first_error: Option<String>,
    /// `runboard`'s highest resident memory meanwhile, KiB (`None` in process).
    pub rss_max_kib: Option<u64>,
}

impl CrowdMeasure {
    pub fn upstream_per_second(&self) -> f64 {
        self.upstream_calls as f64 / self.seconds.max(f64::EPSILON)
    }
}

/// A crowd measured in this process: the simulator and `runboard` in process (the
/// shared stack builder), for the smoke test. `runboard`'s memory cannot be told apart
/// from the viewers' here, so none is given.
#[derive(Debug, Clone, PartialEq)]
pub struct CrowdOptions {
    /// Crowd sizes, one fresh run each.
    pub crowds: Vec<usize>,
    /// `runboard`'s `[poll] run_ms`.
    pub run_ms: u64,
    /// The simulator's speed: how long a run of [`CROWD_RUN_TESTS`] tests stays live.
    pub sim_speed: f64,
}

/// Tests in each crowd's run (the typical feature, as in the fan-in).
pub const CROWD_RUN_TESTS: usize = SMALL_RUN_TESTS;

/// Starts the stack with room for the largest crowd, measures each crowd in turn, stops.
pub async fn crowds_in_process(options: &CrowdOptions) -> Result<Vec<CrowdRow>, BenchError> {
    let streams = options.crowds.iter().copied().max().unwrap_or(1);
    let tests = CROWD_RUN_TESTS * options.crowds.len().max(1);
    let stack = Stack::start_tuned(options.sim_speed, tests, Auth::None, |config| {
        config.poll.run_ms = options.run_ms;
        // Every read of the follower reaches the simulator, so its count is the
        // follower's (a reuse window longer than `run_ms` would hide extra polls).
        config.cache.live_reuse = Duration::ZERO;
        config.live.max_streams = streams;
        // Every viewer is the same anonymous user on one address.
        config.live.max_streams_per_user = 0;
        config.server.max_connections = super::procs::max_connections(streams);
    })
    .await?;
    let result = async {
        let client = Client::new();
        let ids = stack.test_ids()?;
        let runboard = stack.proxy().base;
        let arena = Arena {
            runboard: &runboard,
            sim: stack.sim(),
            direct: stack.direct(),
            project: stack.project_id(),
            client: &client,
            run_ms: options.run_ms,
            rss: &|| None,
        };
        let mut rows = Vec::new();
        for (&viewers, tests) in options.crowds.iter().zip(ids.chunks(CROWD_RUN_TESTS)) {
            rows.push(point(&arena, viewers, tests).await);
        }
        Ok::<_, BenchError>(rows)
    }
    .await;
    stack.shutdown().await;
    result
}

/// Where a crowd goes: `runboard`, and the simulator behind it (asked straight for runs
/// and for the report the viewers are measured against).
pub(crate) struct Arena<'a> {
    /// `runboard`'s `http://IP:PORT`.
    pub(crate) runboard: &'a str,
    pub(crate) sim: &'a RunningSim,
    pub(crate) direct: Destination,
    pub(crate) project: &'a str,
    pub(crate) client: &'a Client,
    /// `runboard`'s `[poll] run_ms`.
    pub(crate) run_ms: u64,
    /// `runboard`'s resident memory now, KiB, when it is a process of its own.
    pub(crate) rss: &'a (dyn Fn() -> Option<u64> + Sync),
}

impl Arena<'_> {
    fn caller(&self) -> Caller<'_> {
        Caller {
            client: self.client,
            target: self.direct.clone(),
            project: self.project,
        }
    }

    fn reads(&self) -> u64 {
        self.sim.sim.stats().by_endpoint.test_run
    }
}

/// `viewers` on a fresh run of `tests`, from its start to its final report.
pub(crate) async fn point(arena: &Arena<'_>, viewers: usize, tests: &[String]) -> CrowdRow {
    CrowdRow {
        viewers,
        measured: measure(arena, viewers, tests)
            .await
            .map_err(|e| e.to_string()),
    }
}

async fn measure(
    arena: &Arena<'_>,
    viewers: usize,
    tests: &[String],
) -> Result<CrowdMeasure, BenchError> {
    let caller = arena.caller();
    let job = caller
        .execute(runboard_shared::Selector::tests(tests)?)
        .await?;
    let run = caller.run_of(&job).await?;
    let path = super::live_path(arena.project, &run)?;
    let crowd = Crowd::new(StreamRequest::new(&format!("{}{path}", arena.runboard))?);
    let before = arena.reads();
    let (started, started_ms) = (Instant::now(), now_ms());
    let deadline = started + POINT_LIMIT;
    let (outcomes, rss_max_kib) = follow(&crowd, viewers, deadline, arena.rss).await;
    let seconds = started.elapsed().as_secs_f64();
    let upstream_calls = arena.reads() - before;
    let report = platform_report(arena.client, &arena.direct, arena.project, &run).await?;
    let finishes = fanin::finish_times(&report);
    let platform_final = finishes.last().copied().unwrap_or(started_ms);
    let finished = crowd.book.finished();
    let mut seen: Vec<Vec<Seen>> = Vec::new();
    let mut finals: Vec<Duration> = Vec::new();
    let (mut failed, mut first_error) = (0, None);
    for outcome in outcomes {
        match outcome {
            Ok(arrivals) => {
                seen.push(sightings(&arrivals, &finished));
                if let Some(last) = arrivals.last().filter(|a| a.is_final) {
                    finals.push(since(platform_final, last.at_ms));
                }
            }
            Err(error) => {
                failed += 1;
                first_error.get_or_insert(error);
            }
        }
    }
    let connected_in = seen
        .iter()
        .filter_map(|s| s.first())
        .map(|s| since(started_ms, s.at_ms))
        .max()
        .unwrap_or_default();
    let delays = fanin::delays(&seen, &finishes);
    let (fresh_p50, fresh_p99) = fanin::freshness(&delays);
    finals.sort_unstable();
    let limit = Duration::from_millis(arena.run_ms) + STARVED_AFTER;
    let on_time = finals.iter().filter(|lag| **lag <= limit).count();
    Ok(CrowdMeasure {
        connected_in,
        seconds,
        upstream_calls,
        fresh_p50,
        fresh_p99,
        fresh_samples: delays.len(),
        final_p50: percentile(&finals, 50.0),
        final_worst: finals.last().copied().unwrap_or_default(),
        starved: viewers - on_time,
        failed,
        first_error,
        rss_max_kib,
    })
}

/// Runs `viewers` viewers of `crowd` until each has ended (its `final` event, the end of
/// its stream, or `deadline`), sampling `rss` meanwhile: each viewer's arrivals (or why
/// it failed) and the highest `rss`.
pub(crate) async fn follow(
    crowd: &Arc<Crowd>,
    viewers: usize,
    deadline: Instant,
    rss: &(dyn Fn() -> Option<u64> + Sync),
) -> (Vec<Result<Vec<Arrival>, String>>, Option<u64>) {
    let mut tasks = JoinSet::new();
    for _ in 0..viewers {
        let crowd = Arc::clone(crowd);
        tasks.spawn(async move { watch(&crowd, deadline).await });
    }
    let mut rss_max = rss();
    let mut sample = tokio::time::interval(RSS_EVERY);
    let mut outcomes = Vec::with_capacity(viewers);
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                None => break,
                Some(joined) => outcomes.push(joined.map_err(|e| e.to_string()).and_then(|r| r)),
            },
            _ = sample.tick() => rss_max = rss_max.max(rss()),
        }
    }
    (outcomes, rss_max)
}

/// A viewer's arrivals as sightings of the finished count (events the book cannot tell
/// are left out).
pub(crate) fn sightings(arrivals: &[Arrival], finished: &[Option<usize>]) -> Vec<Seen> {
    let mut seen = Sightings::default();
    for arrival in arrivals {
        if let Some(Some(count)) = finished.get(arrival.entry as usize) {
            seen.note_at(arrival.at_ms, *count);
        }
    }
    seen.into_inner()
}

/// From `from_ms` to `to_ms` (ms since the epoch), zero if `to_ms` is earlier.
fn since(from_ms: f64, to_ms: f64) -> Duration {
    Duration::from_secs_f64((to_ms - from_ms).max(0.0) / 1000.0)
}

/// The run's report straight from the simulator: when each test finished, by the
/// platform's own account.
pub(crate) async fn platform_report(
    client: &Client,
    direct: &Destination,
    project: &str,
    run: &str,
) -> Result<Vec<TestState>, BenchError> {
    let path = runboard_shared::test_run_path(&ProjectId::parse(project)?, &RunId::parse(run)?);
    let body = client
        .get(format!("{}{path}", direct.base))
        .header("x-api-key", direct.key.as_deref().unwrap_or_default())
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    parse_tests(&body).map_err(BenchError::Fixture)
}
