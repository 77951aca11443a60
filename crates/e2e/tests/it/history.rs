//! The team's memory in the browser: runs started from the widget are recorded by the
//! ledger's follower to their end with no report open, the start page lists them as
//! recent runs, and the history view shows each
//! with the simulator's own counts, filters by preset into that preset's trend chart,
//! downloads the same choice as CSV, and a report is compared with the previous run of
//! its preset.

use anyhow::{Context, Result, ensure};
use fantoccini::Locator;
use runboard_e2e::{
    Browser, Stack, StackOptions,
    scenario::{attr, click_preset, open_start, scenario, wait_attr, wait_for_report},
    stack::{PROJECT, RUN_TIMEOUT, presets},
    wait_for,
};
use runboard_shared::{HistoryQuery, ProjectId, Target, TestStatus};
use serde_json::json;

/// Starts `preset` from the start page and leaves as soon as its report opens (the
/// ledger, not the page, follows it to its end); returns the run id.
async fn start(b: &Browser, s: &Stack, preset: &str) -> Result<String> {
    open_start(b, s).await?;
    click_preset(b, preset).await?;
    wait_for_report(b).await
}

/// The history rows' run ids and recorded counts (`passed/failed/skipped/total`), once
/// `want` rows are there and all of them are finished.
async fn finished_rows(b: &Browser, want: usize) -> Result<Vec<(String, String)>> {
    wait_for("every run finished in the history", RUN_TIMEOUT, || async {
        let rows = b
            .js(
                "return Array.from(document.querySelectorAll('[data-testid=history-row]')).map(r => {
                   const link = r.querySelector('[data-testid=history-report]');
                   const run = link ? link.getAttribute('href').split('/runs/')[1].split('?')[0] : '';
                   return [run, r.getAttribute('data-counts')];
                 });",
                vec![],
            )
            .await?;
        let rows: Vec<(String, String)> = serde_json::from_value(rows)?;
        let done = rows.len() == want && rows.iter().all(|(run, c)| !run.is_empty() && !c.is_empty());
        Ok(done.then_some(rows))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_shows_recorded_runs_with_their_counts_and_a_presets_trend() {
    let options = StackOptions {
        ledger_follow: true,
        ..StackOptions::default()
    };
    scenario("history", options, async |b, s| {
        let mut runs = Vec::new();
        for preset in [presets::FULL, presets::SMOKE, presets::FULL] {
            runs.push(start(b, s, preset).await?);
            // The same preset again only once the first has ended, or it is the same job.
            let run = runs.last().context("a run")?.clone();
            wait_for("the run to end on the platform", RUN_TIMEOUT, || async {
                Ok((s.sim_report(&run).await?.status.as_str() == "Completed").then_some(()))
            })
            .await?;
        }
        b.open(&s.url(&format!("/p/{PROJECT}/history"))).await?;
        let rows = finished_rows(b, 3).await?;
        let mut shown: Vec<&str> = rows.iter().map(|(run, _)| run.as_str()).collect();
        shown.reverse();
        ensure!(shown == runs.iter().map(String::as_str).collect::<Vec<_>>(), "newest first: {rows:?} vs {runs:?}");
        for (run, counts) in &rows {
            let report = s.sim_report(run).await?;
            let want = format!(
                "{}/{}/{}/{}",
                report.count(&TestStatus::Passed),
                report.count(&TestStatus::Failed),
                report.count(&TestStatus::Skipped),
                report.tests.len()
            );
            ensure!(*counts == want, "run {run}: history {counts}, simulator {want}");
        }

        // The start page's recent runs are the ledger's, with who started them.
        open_start(b, s).await?;
        let recent = wait_for("the recent runs on the start page", RUN_TIMEOUT, || async {
            let texts = b
                .js(
                    "return Array.from(document.querySelectorAll('[data-testid=recent-run]')).map(r => r.textContent);",
                    vec![],
                )
                .await?;
            let texts: Vec<String> = serde_json::from_value(texts)?;
            Ok((texts.len() == 3 && texts.iter().all(|t| t.contains("by anonymous"))).then_some(texts))
        })
        .await?;
        ensure!(recent[0].contains(presets::FULL), "newest first: {recent:?}");
        b.open(&s.url(&format!("/p/{PROJECT}/history"))).await?;
        finished_rows(b, 3).await?;

        // One preset: its two runs, and its trend.
        b.client
            .find(Locator::Css("[data-testid=history-preset]"))
            .await?
            .select_by_value(presets::FULL)
            .await?;
        finished_rows(b, 2).await?;
        wait_attr(b, "[data-testid=trend]", "data-points", "2", RUN_TIMEOUT).await?;
        let path = attr(b, "[data-testid=trend-pass]", "d").await?;
        ensure!(path.starts_with("M0,") && path.contains(" L600,"), "{path}");
        let text = b.wait_css("[data-testid=trend-text]").await?.text().await?;
        ensure!(text.starts_with("Last 2 runs: pass rate from"), "{text}");
        ensure!(
            b.path().await?.contains("preset="),
            "the filter is in the address"
        );

        // The CSV of the same choice: a header and the preset's two runs.
        let csv = b
            .js(
                "const href = document.querySelector('[data-testid=history-csv]').getAttribute('href');
                 return fetch(href).then(r => r.text());",
                vec![],
            )
            .await?;
        let csv = csv.as_str().context("CSV text")?;
        ensure!(csv.lines().count() == 3, "{csv}");
        ensure!(
            csv.lines().skip(1).all(|l| l.contains(presets::FULL)),
            "{csv}"
        );
        Ok(())
    })
    .await;
}

/// The ids the compare panel lists under `group` (`newly-failing`, …), empty without it.
async fn compare_group(b: &Browser, group: &str) -> Result<Vec<String>> {
    let ids = b
        .js(
            "return Array.from(document.querySelectorAll(
                 `[data-testid=compare-${arguments[0]}] li`)).map(li => li.getAttribute('data-test-id')).sort();",
            vec![serde_json::json!(group)],
        )
        .await?;
    Ok(serde_json::from_value(ids)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_is_compared_with_the_previous_run_of_its_preset() {
    let options = StackOptions {
        ledger_follow: true,
        ..StackOptions::default()
    };
    scenario("history_compare", options, async |b, s| {
        let first = start(b, s, presets::FULL).await?;
        let history = Target::History(ProjectId::parse(PROJECT)?, HistoryQuery::default());
        wait_for("the first run recorded to its end", RUN_TIMEOUT, || async {
            let page = b
                .js(
                    "return fetch(arguments[0]).then(r => r.json());",
                    vec![json!(history.path())],
                )
                .await?;
            let done = page["executions"][0]["finished"] == true
                && page["executions"][0]["testRunId"] == first.as_str();
            Ok(done.then_some(()))
        })
        .await?;
        let second = start(b, s, presets::FULL).await?;
        ensure!(second != first, "a second run");
        wait_attr(
            b,
            "[data-testid=run-status]",
            "data-status",
            "Completed",
            RUN_TIMEOUT,
        )
        .await?;
        b.wait_css("[data-testid=compare]").await?;
        let (before, now) = (s.sim_report(&first).await?, s.sim_report(&second).await?);
        let status_of = |report: &runboard_shared::TestRun, id: &str| {
            report
                .tests
                .iter()
                .find(|t| t.id == id)
                .map(|t| t.status.clone())
        };
        let pick = |was: TestStatus, is: TestStatus| {
            let mut ids: Vec<String> = now
                .tests
                .iter()
                .filter(|t| t.status == is && status_of(&before, &t.id) == Some(was.clone()))
                .map(|t| t.id.clone())
                .collect();
            ids.sort();
            ids
        };
        let mut listed = 0;
        for (group, was, is) in [
            ("newly-failing", TestStatus::Passed, TestStatus::Failed),
            ("newly-passing", TestStatus::Failed, TestStatus::Passed),
            ("still-failing", TestStatus::Failed, TestStatus::Failed),
        ] {
            let want = pick(was, is);
            let shown = wait_for(&format!("the {group} group"), RUN_TIMEOUT, || async {
                let shown = compare_group(b, group).await?;
                Ok((shown == want).then_some(shown))
            })
            .await?;
            ensure!(shown == want, "{group}: page {shown:?}, simulator {want:?}");
            listed += shown.len();
        }
        ensure!(
            listed > 0,
            "two runs with failures have something to compare"
        );

        // The table's rows carry the same newly failing tests as "new failure" marks.
        let marked = b
            .js(
                "return Array.from(document.querySelectorAll('[data-testid=test-row]'))
                   .filter(r => r.querySelector('[data-testid=new-failure]'))
                   .map(r => r.getAttribute('data-test-id')).sort();",
                vec![],
            )
            .await?;
        let marked: Vec<String> = serde_json::from_value(marked)?;
        let want = pick(TestStatus::Passed, TestStatus::Failed);
        ensure!(
            marked == want,
            "rows marked {marked:?}, newly failing {want:?}"
        );

        // An opened test shows its results in both runs, newest first, and is marked
        // flaky exactly when the ledger counts two flips or more.
        let test = now.tests.first().context("a test")?;
        b.client
            .find(Locator::Css(&format!(
                "[data-testid=test-row][data-test-id='{}'] [data-testid=test-toggle]",
                test.id
            )))
            .await?
            .click()
            .await?;
        b.wait_css("[data-testid=recent-results]").await?;
        let shown = b
            .js(
                "return Array.from(document.querySelectorAll('[data-testid=recent-result]'))
                   .map(r => r.getAttribute('data-status'));",
                vec![],
            )
            .await?;
        let shown: Vec<String> = serde_json::from_value(shown)?;
        let want: Vec<String> = [&now, &before]
            .iter()
            .map(|r| {
                status_of(r, &test.id)
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default()
            })
            .collect();
        ensure!(
            shown == want,
            "recent results {shown:?}, simulator {want:?}"
        );
        let flips: u32 = attr(b, "[data-testid=recent-results]", "data-flips")
            .await?
            .parse()?;
        let marked = !b.all("[data-testid=flaky]").await?.is_empty();
        ensure!(
            marked == (flips >= 2),
            "{flips} flips, flaky mark shown: {marked}"
        );
        Ok(())
    })
    .await;
}
