//! The `runboard-verdict-bench` binary: how long `GET /runboard/verdict/{projId}/{runId}`
//! takes for a 10,000-test run against 1,000 rules (issue 21's budget: 20 ms), through an
//! in-process `runboard` whose ledger (a SQLite file) holds nine earlier runs of the same
//! selection, so every fact is read: the previous run, each failure's last results, the
//! members of the suites rules name. The report itself is in the finished-report cache
//! after the first request, as it is for every viewer after the first. The server's time
//! is read from the answer's `Server-Timing` header (its steps: the report parsed, the
//! rules, the ledger's history and members, classing, JSON), beside the client's.
//! `--case history` times the history page instead (`verdict/history.rs`).

#[path = "verdict/history.rs"]
mod history;

use std::{
    path::PathBuf,
    process::ExitCode,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use rand::{Rng, SeedableRng, rngs::StdRng};
use runboard_bench::{cli, percentile};
use runboard_ledger::{Counts, Finish, Intent, Ledger, TestOutcome};
use runboard_proxy::{
    config::LedgerConfig,
    demo::{PROJECT, StackBuilder, project_id},
};
use runboard_shared::{
    ExecutionDetail, JobId, RunId, Target, TestStatus, Verdict, execute_path, test_run_path,
};
use serde_json::{Value, json};

/// The budget issue 21 sets for one verdict.
const BUDGET: Duration = Duration::from_millis(20);

/// Times the verdict of a big run against many rules.
#[derive(Debug, Parser)]
#[command(name = "runboard-verdict-bench", version)]
struct Args {
    /// Tests in the run.
    #[arg(long, default_value_t = 10_000)]
    tests: usize,
    /// Rules of the project (quarantines and known issues, plain and regex).
    #[arg(long, default_value_t = 1_000)]
    rules: usize,
    /// Earlier runs of the same selection in the ledger.
    #[arg(long, default_value_t = 9)]
    history: usize,
    /// Timed verdicts.
    #[arg(long, default_value_t = 50)]
    repeat: usize,
    /// What to time: the verdict, the history page, or both.
    #[arg(long, value_enum, default_value_t = Case::All)]
    case: Case,
    /// History page: finished runs started through Runboard before the page is read.
    #[arg(long, default_value_t = 50)]
    history_runs: usize,
    /// History page: tests in each of those runs.
    #[arg(long, default_value_t = 1_000)]
    history_tests: usize,
    /// History page: timed reads of the page, without and then with the known issue.
    #[arg(long, default_value_t = 200)]
    page_reads: usize,
    /// Append the results as a dated Markdown section to this file.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
}

/// Which cases a run times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Case {
    /// The verdict, then the history page.
    All,
    /// `GET /runboard/verdict/{projId}/{runId}` of the big run.
    Verdict,
    /// `GET /runboard/history/{projId}`, without and with a non-blocking known issue.
    History,
}

fn main() -> ExitCode {
    let args = Args::parse();
    cli::main_of("runboard-verdict-bench", || {
        cli::runtime()?.block_on(run(&args))?;
        Ok(ExitCode::SUCCESS)
    })
}

async fn run(args: &Args) -> anyhow::Result<()> {
    cli::warn_if_debug("runboard-verdict-bench");
    let mut items = Vec::new();
    if args.case != Case::History {
        items.push(verdict_case(args).await?);
    }
    if args.case != Case::Verdict {
        let case = history::HistoryCase {
            runs: args.history_runs,
            tests: args.history_tests,
            reads: args.page_reads,
        };
        items.push(history::history_page(case).await?);
    }
    let text = items.join("\n");
    println!("{text}");
    if let Some(path) = &args.record {
        cli::append(path, &cli::dated_section("Verdict", &text))?;
        println!("\nrecorded in {}", path.display());
    }
    Ok(())
}

/// The verdict of the big run against many rules, as one Markdown list item.
async fn verdict_case(args: &Args) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("verdict.db").display());
    let builder = StackBuilder::new()
        .sim_speed(1_000_000.0)
        .sim_tests(args.tests);
    // The history is written before Runboard starts, so its follower never sees those
    // runs unfinished; the catalog is the seeded one the stack's simulator will serve.
    let (sim, catalog) = builder.start_sim().await?;
    sim.shutdown().await;
    let everything = catalog
        .all_feature()
        .context("the catalog has no feature running everything")?
        .id
        .clone();
    let tests: Vec<String> = catalog.tests().map(|t| t.id.clone()).collect();
    let ledger = Ledger::open(&url).await?;
    write_history(&ledger, &everything, &tests, args.history).await?;
    ledger.close().await;
    let stack = builder.start_with(|config| following(config, &url)).await?;
    let client = reqwest::Client::new();
    let run = run_everything(&client, &stack.server.url(), &everything).await?;
    let report = report(&client, &stack.sim.url(), &stack.key, &run).await?;
    let failures: Vec<(String, String)> = report
        .iter()
        .filter(|(_, _, status)| status == TestStatus::Failed.as_str())
        .map(|(id, headline, _)| (id.clone(), headline.clone()))
        .collect();
    let created = Instant::now();
    write_rules(&client, &stack.server.url(), args.rules, &tests, &failures).await?;
    let creating = created.elapsed();

    let target = Target::Verdict(project_id(), RunId::parse(&run)?);
    let verdict_url = format!("{}{}", stack.server.url(), target.path());
    let first = timed_verdict(&client, &verdict_url).await?;
    let mut runs = Vec::with_capacity(args.repeat);
    for _ in 0..args.repeat {
        runs.push(timed_verdict(&client, &verdict_url).await?);
    }
    let sorted = |of: &dyn Fn(&Timed) -> Duration| {
        let mut times: Vec<Duration> = runs.iter().map(of).collect();
        times.sort_unstable();
        times
    };
    let server = sorted(&|t| t.server());
    let median = percentile(&server, 50.0);
    let steps: Vec<String> = first
        .steps
        .iter()
        .filter(|(name, _)| name != "total")
        .map(|(name, _)| {
            let times = sorted(&|t| t.step(name));
            format!("{name} {}", ms(percentile(&times, 50.0)))
        })
        .collect();
    let verdict = &first.verdict;
    let counts = verdict.counts;
    let text = format!(
        "- Verdict of a {}-test run with {} failures ({} new, {} known, {} flaky, {} \
         quarantined, {} failing; {} blocking) against {} rules, {} earlier runs in the \
         ledger (SQLite file): server-side median {}, p95 {}, max {} over {} requests \
         (budget {}: {}; steps, median: {}); measured by the client on loopback, answer \
         received, median {}; the first after the rules changed (reads and compiles them) \
         {} server-side; creating the {} rules through POST {} each",
        counts.total,
        counts.failed,
        counts.new,
        counts.known,
        counts.flaky,
        counts.quarantined,
        counts.failing,
        verdict.blocking,
        args.rules,
        args.history,
        ms(median),
        ms(percentile(&server, 95.0)),
        ms(percentile(&server, 100.0)),
        args.repeat,
        ms(BUDGET),
        if median <= BUDGET { "met" } else { "NOT met" },
        steps.join(", "),
        ms(percentile(&sorted(&|t| t.client), 50.0)),
        ms(first.server()),
        args.rules,
        ms(creating / u32::try_from(args.rules.max(1)).unwrap_or(1)),
    );
    stack.shutdown().await;
    Ok(text)
}

/// Nine (or `runs`) finished runs of `feature` before now, each test passing or failing
/// at random (seeded), written straight into the ledger.
async fn write_history(
    ledger: &Ledger,
    feature: &str,
    tests: &[String],
    runs: usize,
) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(21);
    let now = runboard_ledger::now_ms();
    for n in 0..runs {
        let at = now - i64::try_from((runs - n) * 3_600_000)?;
        let intent = Intent {
            project: project_id(),
            user: "bench".to_owned(),
            selector_kind: "featureId".to_owned(),
            selector_value: feature.to_owned(),
            agent: None,
            preset: None,
            started_at: at,
        };
        let id = ledger.record_intent(&intent).await?;
        ledger.confirm_start(id, &format!("history-{n}")).await?;
        let owner = "verdict-bench";
        let held = ledger.claim(owner, &[PROJECT], at, 60_000, 1_000).await?;
        if !held.iter().any(|h| h.id == id) {
            bail!("the bench's history run {n} could not be claimed");
        }
        let results: Vec<TestOutcome> = tests
            .iter()
            .map(|test| TestOutcome {
                test_id: test.clone(),
                title: test.clone(),
                status: if rng.gen_bool(0.1) {
                    "Failed"
                } else {
                    "Passed"
                }
                .to_owned(),
                duration_ms: Some(1_000),
            })
            .collect();
        let failed = results.iter().filter(|r| r.status == "Failed").count() as i64;
        let total = results.len() as i64;
        let end = Finish {
            status: "Failed".to_owned(),
            test_run_id: Some(format!("history-run-{n}")),
            counts: Some(Counts {
                passed: total - failed,
                failed,
                skipped: 0,
                total,
            }),
            duration_ms: Some(60_000),
            results,
            finished_at: at + 60_000,
        };
        ledger.finish(id, owner, &end).await?;
    }
    Ok(())
}

/// Starts `feature` through Runboard and waits until the ledger has the run's end; its
/// run id.
/// A Runboard whose ledger at `url` records runs as soon as they end (the follower every
/// 20 ms, the active-jobs sweep every 50 ms), with no allowance in the way of the bench.
fn following(config: &mut runboard_proxy::Config, url: &str) {
    let mut ledger = LedgerConfig::at(url);
    ledger.follow = Some(Duration::from_millis(20));
    config.ledger = ledger;
    config.poll.jobs_ms = 50;
    config.limits.starts_per_minute = 0;
    config.limits.reads_per_minute = 0;
}

async fn run_everything(
    client: &reqwest::Client,
    base: &str,
    feature: &str,
) -> anyhow::Result<String> {
    let body = json!({"action": "executeTests", "featureId": feature});
    let answer: Value = client
        .post(format!("{base}{}", execute_path(&project_id())))
        .json(&body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let job = JobId::parse(answer["jobId"].as_str().unwrap_or_default())?;
    let target = Target::HistoryJob(project_id(), job);
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let response = client
            .get(format!("{base}{}", target.path()))
            .send()
            .await?;
        if response.status().is_success() {
            let detail: ExecutionDetail = response.json().await?;
            if let (true, Some(run)) = (detail.execution.finished, detail.execution.test_run_id) {
                return Ok(run);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the run did not finish in the ledger within 120 s")
}

/// Each test of run `run` as the simulator reports it: id, error headline, status.
async fn report(
    client: &reqwest::Client,
    sim: &str,
    key: &str,
    run: &str,
) -> anyhow::Result<Vec<(String, String, String)>> {
    let path = test_run_path(&project_id(), &RunId::parse(run)?);
    let report: runboard_shared::TestRun = client
        .get(format!("{sim}{path}"))
        .header("x-api-key", key)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(report
        .tests
        .into_iter()
        .map(|t| {
            let headline = t
                .error
                .as_ref()
                .map(|e| runboard_shared::error_text(e).0)
                .unwrap_or_default();
            (t.id, headline, t.status.to_string())
        })
        .collect())
}

/// `count` rules through `POST /runboard/rules/…`: two in five quarantine a test (one in
/// four of those a failing one), one in twenty a suite no run has used, the rest known
/// issues (one in five a regex), of which one in ten names a real failure's headline.
async fn write_rules(
    client: &reqwest::Client,
    base: &str,
    count: usize,
    tests: &[String],
    failures: &[(String, String)],
) -> anyhow::Result<()> {
    if failures.is_empty() {
        bail!("the run has no failure to write rules about");
    }
    let mut rng = StdRng::seed_from_u64(1_000);
    let until = runboard_shared::Day::from_epoch_ms(runboard_ledger::now_ms())
        .plus_days(14)
        .to_string();
    let url = format!("{base}{}", Target::RuleCreate(project_id()).path());
    for n in 0..count {
        let failure = &failures[rng.gen_range(0..failures.len())];
        let rule = match n % 20 {
            0..=7 => {
                let test = if n % 4 == 0 {
                    failure.0.clone()
                } else {
                    tests[rng.gen_range(0..tests.len())].clone()
                };
                json!({"kind": "quarantine", "testId": test, "until": until, "reason": format!("bench {n}")})
            }
            8 => json!({"kind": "quarantine", "testSuiteId": format!("suite{n}"), "until": until,
                "reason": "bench"}),
            9..=11 => json!({"kind": "known", "match": format!(r"step \d+ \(bench-{n}[a-z]*\)"),
                "regex": true, "note": "bench"}),
            12 => json!({"kind": "known", "match": failure.1, "testId": failure.0,
                "note": "bench", "blocks": false}),
            _ => json!({"kind": "known", "match": format!("bench marker {n}: no such error"),
                "note": "bench"}),
        };
        let response = client.post(&url).json(&rule).send().await?;
        if response.status() != 201 {
            bail!("rule {n} was refused: {}", response.text().await?);
        }
    }
    Ok(())
}

/// One verdict: its time from the request to the last byte of its answer, the server's
/// own steps (`Server-Timing`: name and duration, `total` last) and the verdict.
async fn timed_verdict(client: &reqwest::Client, url: &str) -> anyhow::Result<Timed> {
    let started = Instant::now();
    let response = client.get(url).send().await?.error_for_status()?;
    let steps = response
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .map(server_timing)
        .unwrap_or_default();
    let bytes = response.bytes().await?;
    Ok(Timed {
        client: started.elapsed(),
        steps,
        verdict: serde_json::from_slice(&bytes)?,
    })
}

/// One timed verdict.
struct Timed {
    client: Duration,
    steps: Vec<(String, Duration)>,
    verdict: Verdict,
}

impl Timed {
    /// The server's whole time.
    fn server(&self) -> Duration {
        self.step("total")
    }

    fn step(&self, name: &str) -> Duration {
        self.steps
            .iter()
            .find(|(n, _)| n == name)
            .map_or(Duration::ZERO, |(_, d)| *d)
    }
}

/// `name;dur=ms, …` as names and durations.
fn server_timing(text: &str) -> Vec<(String, Duration)> {
    text.split(',')
        .filter_map(|part| {
            let (name, dur) = part.trim().split_once(";dur=")?;
            let ms: f64 = dur.parse().ok()?;
            Some((name.to_owned(), Duration::from_secs_f64(ms / 1000.0)))
        })
        .collect()
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}
