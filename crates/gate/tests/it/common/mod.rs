//! The harness: a demo stack with fast polls and a preset covering the whole catalog,
//! and `runboard run` called as a library with captured output.

#![allow(unreachable_pub)] // `pub` for the test modules of this one binary.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use clap::Parser;
use runboard_gate::{Console, Exit, RunArgs, Token};
use runboard_proxy::{
    Config,
    demo::{Stack, StackBuilder},
};
use runboard_shared::{HistoryPage, HistoryQuery, Id, JobId, Preset, Selector, Target};
use serde::de::DeserializeOwned;

/// The preset every stack offers: every test of the catalog.
pub const EVERYTHING: &str = "Everything";

/// A stack whose simulator runs `speed` times real time, with `tests` tests and the
/// [`EVERYTHING`] preset; Runboard polls every 50 ms.
pub async fn stack(speed: f64, tests: usize) -> Stack {
    stack_with(speed, tests, |_| {}).await
}

/// [`stack`] with Runboard's configuration changed by `adjust` too.
pub async fn stack_with(speed: f64, tests: usize, adjust: impl FnOnce(&mut Config)) -> Stack {
    start(StackBuilder::new(), speed, tests, adjust).await
}

/// [`stack`] on a simulator seeded with `seed` (which fixes the catalog and every run's
/// outcomes, job by job), whose ledger follower polls every `follow`. A run's verdict
/// compares it with the previous run the ledger has *finished*, which the follower
/// records on its rounds; a test that needs that comparison uses a short `follow` and
/// waits for the end ([`recorded`]).
pub async fn seeded_stack(seed: u64, speed: f64, tests: usize, follow: Duration) -> Stack {
    start(StackBuilder::new().seed(seed), speed, tests, |config| {
        config.ledger.follow = Some(follow);
    })
    .await
}

async fn start(
    builder: StackBuilder,
    speed: f64,
    tests: usize,
    adjust: impl FnOnce(&mut Config),
) -> Stack {
    builder
        .sim_speed(speed)
        .sim_tests(tests)
        .presets(|catalog| {
            let all = catalog
                .all_feature()
                .map(|f| f.id.clone())
                .unwrap_or_default();
            Ok(vec![Preset {
                name: EVERYTHING.to_owned(),
                description: String::new(),
                selector: Selector::Feature(Id::parse("featureId", all)?),
                agent_name: None,
            }])
        })
        .start_with(|config| {
            config.poll.jobs_ms = 50;
            config.poll.run_ms = 50;
            config.widget_dir = Some("/nonexistent-widget-dir".into());
            adjust(config);
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// What one `runboard run` did: its exit, its standard output (`--json`) and what it
/// told people.
#[derive(Debug)]
pub struct Ran {
    pub exit: Exit,
    pub out: String,
    pub ui: String,
}

/// `runboard run` with `args` (after `run --server URL --project ID`) against `stack`,
/// not on a terminal, stopped when `stop` resolves.
pub async fn run_with(
    stack: &Stack,
    args: &[&str],
    token: Option<&str>,
    stop: impl Future<Output = ()>,
) -> Ran {
    let server = stack.server.url();
    let project = stack.config.projects[0].id.to_string();
    let mut all = vec![
        "run",
        "--server",
        server.as_str(),
        "--project",
        project.as_str(),
    ];
    all.extend_from_slice(args);
    let args = RunArgs::try_parse_from(all).unwrap_or_else(|e| panic!("{e}"));
    capture(args, token, stop).await
}

/// Runs the gate on `args` with captured output.
async fn capture(args: RunArgs, token: Option<&str>, stop: impl Future<Output = ()>) -> Ran {
    let (mut out, mut ui) = (Vec::new(), Vec::new());
    let console = Console {
        out: &mut out,
        ui: &mut ui,
        terminal: false,
    };
    let token = token.and_then(Token::new);
    let exit = tokio::time::timeout(
        Duration::from_secs(60),
        runboard_gate::run(args, token, console, stop),
    )
    .await
    .expect("runboard run ends within a minute");
    Ran {
        exit,
        out: String::from_utf8(out).unwrap(),
        ui: String::from_utf8(ui).unwrap(),
    }
}

/// [`run_with`] without a token, never interrupted.
pub async fn run(stack: &Stack, args: &[&str]) -> Ran {
    run_with(stack, args, None, std::future::pending()).await
}

/// `runboard run` with the whole command line `args` (from `run`), no token.
pub async fn run_args(args: &[&str]) -> Ran {
    let args = RunArgs::try_parse_from(args).unwrap_or_else(|e| panic!("{e}"));
    capture(args, None, std::future::pending()).await
}

/// Polls `check` until it yields a value; fails the test after `within`.
pub async fn wait_for<T, F, Fut>(within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "condition not met within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `GET`s `target` from `stack`'s Runboard and reads its JSON answer.
pub async fn get_json<T: DeserializeOwned>(stack: &Stack, target: &Target) -> T {
    let response = reqwest::get(stack.url(&target.path())).await.unwrap();
    assert!(response.status().is_success(), "{}", target.path());
    response.json().await.unwrap()
}

/// Waits until the ledger has the end of run `run` (what the next run of the same
/// selection is compared with).
pub async fn recorded(stack: &Stack, run: &str) {
    let target = Target::History(stack.config.projects[0].id.clone(), HistoryQuery::default());
    wait_for(Duration::from_secs(20), || async {
        let page: HistoryPage = get_json(stack, &target).await;
        page.executions
            .into_iter()
            .any(|e| e.finished && e.test_run_id.as_deref() == Some(run))
            .then_some(())
    })
    .await
}

/// The job `runboard run` started, from its first line ("started … — job ID").
pub fn job_of(ui: &str) -> JobId {
    let id = ui
        .lines()
        .find_map(|l| l.strip_prefix("started ")?.split(" — job ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no job in {ui}"));
    JobId::parse(id).unwrap()
}
