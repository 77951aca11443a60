//! The `runboard-ledger-bench` binary: what the execution ledger costs. The start path
//! through an in-process `runboard` with its ledger on a SQLite file against the same
//! with the ledger in memory (and the ledger's two writes alone), and history queries
//! over 100,000 recorded executions on SQLite and on a throwaway PostgreSQL.

use std::{
    path::PathBuf,
    process::ExitCode,
    time::{Duration, Instant},
};

use clap::Parser;
use runboard_bench::{cli, percentile};
use runboard_ledger::{HistoryQuery, Intent, Ledger};
use runboard_proxy::{
    config::LedgerConfig,
    demo::{PROJECT, StackBuilder, project_id},
};
use runboard_testdb::PgServer;
use serde_json::json;

/// Measures the ledger's cost on the start path and its history query times.
#[derive(Debug, Parser)]
#[command(name = "runboard-ledger-bench", version)]
struct Args {
    /// Starts per variant of the start path.
    #[arg(long, default_value_t = 400)]
    starts: usize,
    /// Executions recorded before the history queries are timed.
    #[arg(long, default_value_t = 100_000)]
    executions: usize,
    /// Repetitions of each history query.
    #[arg(long, default_value_t = 30)]
    repeat: usize,
    /// Append the results as a dated Markdown section to this file.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    cli::main_of("runboard-ledger-bench", || {
        cli::runtime()?.block_on(run(&args))?;
        Ok(ExitCode::SUCCESS)
    })
}

async fn run(args: &Args) -> anyhow::Result<()> {
    cli::warn_if_debug("runboard-ledger-bench");
    let dir = tempfile::tempdir()?;
    let mut lines = Vec::new();

    // Twice each, alternating, the second of each counted: the first warms the process.
    let file = |n: u8| {
        format!(
            "sqlite://{}",
            dir.path().join(format!("start-{n}.db")).display()
        )
    };
    start_path(args.starts, "sqlite::memory:").await?;
    start_path(args.starts, &file(1)).await?;
    let memory = start_path(args.starts, "sqlite::memory:").await?;
    let on_file = start_path(args.starts, &file(2)).await?;
    let writes = ledger_writes(
        args.starts,
        &format!("sqlite://{}", dir.path().join("writes.db").display()),
    )
    .await?;
    lines.push(format!(
        "- Start path ({} sequential starts, median): ledger in memory {}, ledger on a SQLite \
         file {} (ratio {:.2}); the ledger's two writes alone (intent + confirmation, SQLite \
         file) {} per start",
        args.starts,
        ms(memory),
        ms(on_file),
        on_file.as_secs_f64() / memory.as_secs_f64().max(1e-9),
        ms(writes),
    ));

    let sqlite = Ledger::open(&format!(
        "sqlite://{}",
        dir.path().join("history.db").display()
    ))
    .await?;
    lines.push(history("SQLite file", &sqlite, args).await?);
    let pg = PgServer::start();
    let postgres = Ledger::open(&pg.fresh_database()).await?;
    lines.push(history("PostgreSQL (throwaway, fsync off)", &postgres, args).await?);

    let text = lines.join("\n");
    println!("{text}");
    if let Some(path) = &args.record {
        cli::append(path, &cli::dated_section("Ledger", &text))?;
        println!("\nrecorded in {}", path.display());
    }
    Ok(())
}

/// The median time of `starts` sequential starts through a `runboard` whose ledger is at
/// `url` (no follower), against a fast simulator.
async fn start_path(starts: usize, url: &str) -> anyhow::Result<Duration> {
    let mut ledger = LedgerConfig::at(url);
    ledger.follow = None;
    let stack = StackBuilder::new()
        .sim_speed(1000.0)
        .sim_tests(500)
        .start_with(|config| {
            config.limits.starts_per_minute = 0;
            config.ledger = ledger;
        })
        .await?;
    let tests: Vec<String> = stack.catalog.tests().map(|t| t.id.clone()).collect();
    let client = reqwest::Client::new();
    let start_url = stack.url(&runboard_shared::execute_path(&project_id()));
    let mut times = Vec::with_capacity(starts);
    for i in 0..starts + 20 {
        let body = json!({"action": "executeTests", "testId": tests[i % tests.len()]});
        let at = Instant::now();
        let response = client.post(&start_url).json(&body).send().await?;
        anyhow::ensure!(
            response.status().is_success(),
            "a start answered {}",
            response.status()
        );
        response.bytes().await?;
        if i >= 20 {
            times.push(at.elapsed());
        }
    }
    stack.shutdown().await;
    times.sort();
    Ok(percentile(&times, 50.0))
}

/// The median time of one intent and its confirmation on the ledger at `url`.
async fn ledger_writes(starts: usize, url: &str) -> anyhow::Result<Duration> {
    let ledger = Ledger::open(url).await?;
    let mut times = Vec::with_capacity(starts);
    for i in 0..starts {
        let at = Instant::now();
        let id = ledger
            .record_intent(&intent(i, runboard_ledger::now_ms()))
            .await?;
        ledger.confirm_start(id, &format!("job-{i}")).await?;
        times.push(at.elapsed());
    }
    times.sort();
    Ok(percentile(&times, 50.0))
}

fn intent(i: usize, at: i64) -> Intent {
    Intent {
        project: project_id(),
        user: format!("user{}@example.com", i % 20),
        selector_kind: "testId".to_owned(),
        selector_value: format!("test-{}", i % 300),
        agent: None,
        preset: i.is_multiple_of(7).then(|| "Smoke".to_owned()),
        started_at: at,
    }
}

/// Records `args.executions` executions (a minute apart, 20 users, a third finished)
/// and times the history queries a view makes.
async fn history(name: &str, ledger: &Ledger, args: &Args) -> anyhow::Result<String> {
    let filled = Instant::now();
    let base = runboard_ledger::now_ms() - i64::try_from(args.executions)? * 60_000;
    let mut tasks = tokio::task::JoinSet::new();
    let workers = 8;
    for worker in 0..workers {
        let ledger = ledger.clone();
        let total = args.executions;
        tasks.spawn(async move {
            for i in (worker..total).step_by(workers) {
                let id = ledger
                    .record_intent(&intent(i, base + i as i64 * 60_000))
                    .await?;
                ledger.confirm_start(id, &format!("job-{i}")).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let fill = filled.elapsed();
    // What the follower's hourly purge does too.
    ledger.analyze().await?;
    let queries: Vec<(&str, HistoryQuery)> = vec![
        (
            "first page (50)",
            HistoryQuery {
                limit: 50,
                ..Default::default()
            },
        ),
        (
            "one user (50)",
            HistoryQuery {
                user: Some("user7@example.com".into()),
                limit: 50,
                ..Default::default()
            },
        ),
        (
            "one preset (50)",
            HistoryQuery {
                preset: Some("Smoke".into()),
                limit: 50,
                ..Default::default()
            },
        ),
        (
            "one status (50)",
            HistoryQuery {
                status: Some("Pending".into()),
                limit: 50,
                ..Default::default()
            },
        ),
        (
            "a week, one user (500)",
            HistoryQuery {
                user: Some("user3@example.com".into()),
                from: Some(base + 30 * 86_400_000),
                to: Some(base + 37 * 86_400_000),
                limit: 500,
                ..Default::default()
            },
        ),
    ];
    let mut cells = Vec::new();
    for (label, query) in &queries {
        let mut times = Vec::with_capacity(args.repeat);
        for _ in 0..args.repeat {
            let at = Instant::now();
            let page = ledger.history(PROJECT, query).await?;
            times.push(at.elapsed());
            anyhow::ensure!(!page.executions.is_empty(), "{label} found nothing");
        }
        times.sort();
        cells.push(format!("{label} {}", ms(percentile(&times, 50.0))));
    }
    // The 100th page of 50 by cursor: the cost of walking deep.
    let mut query = HistoryQuery {
        limit: 50,
        ..Default::default()
    };
    for _ in 0..99 {
        query.cursor = ledger.history(PROJECT, &query).await?.next;
    }
    let mut times = Vec::with_capacity(args.repeat);
    for _ in 0..args.repeat {
        let at = Instant::now();
        ledger.history(PROJECT, &query).await?;
        times.push(at.elapsed());
    }
    times.sort();
    cells.push(format!(
        "page 100 by cursor {}",
        ms(percentile(&times, 50.0))
    ));
    Ok(format!(
        "- History over {} executions, {name} (recorded in {:.1} s), median of {}: {}",
        args.executions,
        fill.as_secs_f64(),
        args.repeat,
        cells.join("; ")
    ))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
