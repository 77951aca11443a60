//! `runboard-bench`: what the `runboard` proxy adds to each upstream call. The same
//! request mix goes straight to an in-process simulator (with the key) and through an
//! in-process `runboard` in front of that simulator; the ratio proxy ÷ direct, measured in
//! the same run, is the result (absolute numbers depend on the machine and its load).
//!
//! Entry points: [`run`] with [`Options`] gives a [`Report`]; [`Report::table`] and
//! [`Report::markdown`] render it; [`Machine::detect`] describes where it ran. [`soak`]
//! with [`SoakOptions`] is the soak: sustained mixed load, then an account of every start.

mod body;
pub mod cli;
mod compare;
mod error;
mod fixture;
mod load;
mod machine;
mod report;
mod scenario;
mod soak;
mod stack;
mod stats;

use std::time::Duration;

use runboard_shared::Endpoint;

pub use compare::{
    CROWD_RUN_TESTS, CompareOptions, Comparison, CostFigures, CostRow, CrowdMeasure, CrowdOptions,
    CrowdRow, FanInMeasure, FanInMode, FanInRow, STARVED_AFTER, TARGETS, WIDGET_TESTS, WidgetTimes,
    compare, crowds_in_process, svg_chart,
};
pub use compare::{Link, PageRow, RemoteOptions, RemoteReport, VisitFigures, remote};
pub use error::BenchError;
pub use machine::Machine;
pub use report::{Report, Row};
pub use soak::{SoakOptions, SoakReport, soak};
pub use stats::{Summary, percentile, ratio};

use crate::{
    load::Plan,
    scenario::Scenario,
    stack::{Destination, Stack},
};

/// The simulator's pace: fast enough that the fixture runs finish within moments, so the
/// reports measured are complete and do not change between requests.
pub const DEFAULT_SIM_SPEED: f64 = 100_000.0;

/// How much to measure. [`Options::default`] is the recorded configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Requests per request kind and path.
    pub requests: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Unmeasured requests per request kind and path first (connections, caches).
    pub warmup: usize,
    /// Direct and proxy take turns this many times, so a burst of load from elsewhere on
    /// the machine hits both paths rather than one.
    pub rounds: usize,
    /// The longest one request kind on one path may take; it then stops early and
    /// reports what it sent.
    pub time_limit: Duration,
    /// The simulator's speed (simulated time per real time).
    pub sim_speed: f64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            requests: 2_000,
            concurrency: 16,
            warmup: 50,
            rounds: 2,
            time_limit: Duration::from_secs(12),
            sim_speed: DEFAULT_SIM_SPEED,
        }
    }
}

impl Options {
    fn validate(&self) -> Result<(), BenchError> {
        let invalid = |message: &str| Err(BenchError::Options(message.to_owned()));
        if self.requests == 0 || self.concurrency == 0 || self.rounds == 0 {
            return invalid("requests, concurrency and rounds must be at least 1");
        }
        if self.rounds > self.requests {
            return invalid("rounds may not exceed requests");
        }
        if self.time_limit.is_zero() {
            return invalid("the time limit must be positive");
        }
        if !(runboard_sim::MIN_SPEED..=runboard_sim::MAX_SPEED).contains(&self.sim_speed) {
            return invalid("the simulator speed is out of range");
        }
        Ok(())
    }
}

/// Starts the simulator and `runboard`, measures every request kind on both paths, stops
/// both and returns the figures. Failed requests are counted, not fatal.
pub async fn run(options: &Options) -> Result<Report, BenchError> {
    options.validate()?;
    let stack = Stack::start(options.sim_speed).await?;
    let result = measure_all(&stack, options).await;
    stack.shutdown().await;
    Ok(Report {
        options: *options,
        profile: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        rows: result?,
    })
}

async fn measure_all(stack: &Stack, options: &Options) -> Result<Vec<Row>, BenchError> {
    let client = load::client(options.concurrency)?;
    let fixture = stack.prepare(&client).await?;
    let direct = stack.direct();
    let proxy = stack.proxy();
    let mut rows = Vec::new();
    for scenario in Scenario::all(&fixture)? {
        rows.push(measure(stack, &client, &scenario, [&direct, &proxy], options).await);
    }
    Ok(rows)
}

/// One request kind: a warm-up on each path, then `rounds` turns of direct and proxy.
async fn measure(
    stack: &Stack,
    client: &reqwest::Client,
    scenario: &Scenario,
    [direct, proxy]: [&Destination; 2],
    options: &Options,
) -> Row {
    let warmup = Plan {
        requests: options.warmup,
        concurrency: options.concurrency,
        time_limit: options.time_limit,
    };
    for target in [direct, proxy] {
        load::drive(client, target, scenario, warmup).await;
    }
    let mut outcomes = [load::Outcome::default(), load::Outcome::default()];
    let mut forwarded = 0;
    for round in 0..options.rounds {
        let plan = Plan {
            requests: share(options.requests, options.rounds, round),
            concurrency: options.concurrency,
            time_limit: options.time_limit / options.rounds as u32,
        };
        outcomes[0].merge(load::drive(client, direct, scenario, plan).await);
        let before = stack.upstream_requests();
        outcomes[1].merge(load::drive(client, proxy, scenario, plan).await);
        forwarded += stack.upstream_requests() - before;
    }
    let [direct, proxy] = outcomes;
    Row {
        is_start: Endpoint::of_path(&scenario.path) == Some(Endpoint::Execute),
        label: scenario.label.clone(),
        answer_bytes: [direct.body_bytes, proxy.body_bytes],
        first_error: direct.first_error.clone().or(proxy.first_error.clone()),
        direct: direct.summary(),
        proxy: proxy.summary(),
        forwarded,
    }
}

/// Round `round`'s part of `total` requests split into `rounds` turns.
fn share(total: usize, rounds: usize, round: usize) -> usize {
    total / rounds + usize::from(round < total % rounds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_share_every_request() {
        for (total, rounds) in [(2_000, 2), (7, 3), (5, 5), (1, 1)] {
            let shares: Vec<usize> = (0..rounds).map(|r| share(total, rounds, r)).collect();
            assert_eq!(shares.iter().sum::<usize>(), total, "{total} in {rounds}");
            assert!(shares.iter().all(|&s| s >= 1));
        }
    }

    #[test]
    fn options_are_checked() {
        assert!(Options::default().validate().is_ok());
        let bad = [
            Options {
                requests: 0,
                ..Options::default()
            },
            Options {
                rounds: 3,
                requests: 2,
                ..Options::default()
            },
            Options {
                sim_speed: f64::NAN,
                ..Options::default()
            },
        ];
        for options in bad {
            assert!(options.validate().is_err(), "{options:?}");
        }
    }
}
