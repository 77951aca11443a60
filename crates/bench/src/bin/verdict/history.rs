//! The verdict bench's history-page case: how long `GET /runboard/history/{projId}` takes
//! for a page of finished runs with failures, without and then with a known issue that
//! does not block (`blocks = false`), the one rule that makes the page's blocking counts
//! read each failed run's report for its failures' headlines. The widget's History page
//! reads its page again every 5 s, so the repeated read is the one timed.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use runboard_bench::percentile;
use runboard_proxy::{demo::StackBuilder, demo::project_id};
use runboard_shared::{HistoryPage, HistoryQuery, Target, TestStatus};
use serde_json::json;

use super::{following, ms, report, run_everything};

/// What the history-page case runs and reads.
#[derive(Debug, Clone, Copy)]
pub(super) struct HistoryCase {
    /// Finished runs in the ledger (the page holds up to 50 of them).
    pub(super) runs: usize,
    /// Tests in each run.
    pub(super) tests: usize,
    /// Timed reads of the page, each way.
    pub(super) reads: usize,
}

/// The page's read times without and with the non-blocking known issue, as one
/// Markdown list item.
pub(super) async fn history_page(case: HistoryCase) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("history.db").display());
    let stack = StackBuilder::new()
        .sim_speed(1_000_000.0)
        .sim_tests(case.tests)
        .start_with(|config| following(config, &url))
        .await?;
    let everything = stack
        .catalog
        .all_feature()
        .context("the catalog has no feature running everything")?
        .id
        .clone();
    let client = reqwest::Client::new();
    let base = stack.server.url();
    let mut last = String::new();
    for _ in 0..case.runs {
        last = run_everything(&client, &base, &everything).await?;
    }
    let page_url = format!(
        "{base}{}",
        Target::History(project_id(), HistoryQuery::default()).path()
    );
    let (rows, failures) = page_failures(&client, &page_url).await?;
    let plain = timed_pages(&client, &page_url, case.reads).await?;

    let tests = report(&client, &stack.sim.url(), &stack.key, &last).await?;
    let (test, headline, _) = tests
        .iter()
        .find(|(_, headline, status)| status == TestStatus::Failed.as_str() && !headline.is_empty())
        .context("the last run has no failure with a headline")?;
    let rule = json!({"kind": "known", "match": headline, "testId": test, "note": "bench",
        "blocks": false});
    let rules_url = format!("{base}{}", Target::RuleCreate(project_id()).path());
    let response = client.post(&rules_url).json(&rule).send().await?;
    if response.status() != 201 {
        bail!("the known issue was refused: {}", response.text().await?);
    }
    let first = Instant::now();
    let (_, judged) = page_failures(&client, &page_url).await?;
    let first = first.elapsed();
    if judged != failures {
        bail!("with the known issue, {judged} of {failures} failed rows have a blocking count");
    }
    let known = timed_pages(&client, &page_url, case.reads).await?;
    stack.shutdown().await;

    let median = |times: &[Duration]| percentile(times, 50.0);
    let ratio = median(&known).as_secs_f64() / median(&plain).as_secs_f64().max(1e-9);
    Ok(format!(
        "- History page (`GET {}`, default page) of {rows} finished \
         runs of {} tests, {failures} of them with failures, read {} times each way after one \
         untimed read, measured by the client on loopback: without a non-blocking known \
         issue median {}, p95 {}; with one (`blocks = false`, so each failed run's report is \
         read for its failures' headlines) median {}, p95 {}; ratio of the medians \
         {ratio:.1}×; the first read after the rule was made (untimed above: it fetches each \
         report from the simulator and parses it) {}",
        runboard_shared::Route::History.template(),
        case.tests,
        case.reads,
        ms(median(&plain)),
        ms(percentile(&plain, 95.0)),
        ms(median(&known)),
        ms(percentile(&known, 95.0)),
        ms(first),
    ))
}

/// Reads the page once: its rows, and how many of them failed tests and have a blocking
/// count (all of them, when the counts could be judged).
async fn page_failures(client: &reqwest::Client, url: &str) -> anyhow::Result<(usize, usize)> {
    let page: HistoryPage = client
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let failed = page
        .executions
        .iter()
        .filter(|e| e.counts.is_some_and(|c| c.failed > 0) && e.blocking.is_some())
        .count();
    Ok((page.executions.len(), failed))
}

/// `reads` timed reads of the page, each to its last byte, sorted.
async fn timed_pages(
    client: &reqwest::Client,
    url: &str,
    reads: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(reads);
    for _ in 0..reads {
        let started = Instant::now();
        client
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        times.push(started.elapsed());
    }
    times.sort_unstable();
    Ok(times)
}
