//! What the real platform may send, end to end through the widget: a report in the
//! shapes the guide allows but never shows (nulls, fractions, an undocumented `Blocked`
//! label), jobs in an undocumented status or finished without a report, and a refused
//! start. Each scenario ends with the suite's canary and credential checks.

use std::collections::BTreeMap;

use anyhow::{Context, Result, ensure};
use runboard_e2e::{
    Browser, Stack, StackOptions,
    browser::PAGE_TIMEOUT,
    scenario::{
        attr, click_preset, erase, open_start, scenario, visible_rows, wait_for_finished_report,
        wait_match_count,
    },
    stack::{PROJECT, presets},
    wait_for,
};
use runboard_shared::{ProjectId, Target};
use serde_json::json;

/// Where the widget keeps this browser's jobs of the project.
fn jobs_storage_key() -> String {
    format!("runboard.jobs.{PROJECT}")
}

/// Opens a deep link that fills the start form with the first suite on `agent`, and
/// clicks Start.
async fn start_on_agent(b: &Browser, s: &Stack, agent: &str) -> Result<()> {
    let (_, suite) = s.catalog.suites().next().context("a suite")?;
    b.open(&s.url(&format!(
        "/p/{PROJECT}/start?suite={}&agent={agent}",
        suite.id
    )))
    .await?;
    let input = b.wait_css("[data-testid=agent-input]").await?;
    ensure!(
        input.prop("value").await?.as_deref() == Some(agent),
        "the link filled in agent {agent}"
    );
    b.wait_css("[data-testid=start-button]")
        .await?
        .click()
        .await?;
    Ok(())
}

/// Waits for the one job row and answers its id once its description contains `want`.
async fn wait_job_saying(b: &Browser, want: &str) -> Result<String> {
    wait_for(
        &format!("a job row saying {want:?}"),
        PAGE_TIMEOUT,
        || async {
            let rows = b
                .js(
                    "return Array.from(document.querySelectorAll('[data-testid=job-row]')).map(r =>
                        [r.getAttribute('data-job-id'),
                         r.querySelector('[data-testid=job-description]').textContent]);",
                    vec![],
                )
                .await?;
            let rows: Vec<(String, String)> = serde_json::from_value(rows)?;
            Ok(rows
                .into_iter()
                .find(|(_, text)| text.contains(want))
                .map(|(id, _)| id))
        },
    )
    .await
}

/// The jobs requests the browser sent that name `job_id`, and all jobs requests.
fn jobs_requests(s: &Stack, job_id: &str) -> (usize, usize) {
    let jobs = Target::Jobs(ProjectId::parse(PROJECT).expect("a valid project id"));
    let jobs: Vec<_> = s
        .front
        .sent()
        .into_iter()
        .filter(|r| Target::parse(&r.path).is_ok_and(|target| target == jobs))
        .collect();
    let naming = jobs.iter().filter(|r| r.body.contains(job_id)).count();
    (naming, jobs.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_odd_report_renders_whole_and_counts_blocked() {
    let options = StackOptions {
        odd_shapes: true,
        ..StackOptions::default()
    };
    scenario("odd_report", options, async |b, s| {
        open_start(b, s).await?;
        click_preset(b, presets::FULL).await?;
        let run_id = wait_for_finished_report(b).await?;
        let report = s.sim_report(&run_id).await?;
        let mut counts = BTreeMap::<String, u64>::new();
        for test in &report.tests {
            *counts.entry(test.status.as_str().to_owned()).or_default() += 1;
        }
        ensure!(
            counts.get("Blocked") == Some(&1),
            "the simulator blocked one test: {counts:?}"
        );
        let untitled = report
            .tests
            .iter()
            .find(|t| t.title.is_empty())
            .context("the simulator sent an untitled test")?;

        // Every test is there, every label (Blocked included) is counted in the legend.
        wait_match_count(b, report.tests.len()).await?;
        for (label, want) in &counts {
            let css = format!("[data-testid=summary-count][data-status={label}]");
            let shown: u64 = attr(b, &css, "data-count").await?.parse()?;
            ensure!(
                shown == *want,
                "{label}: the legend shows {shown}, the report has {want}"
            );
        }
        let in_project = b
            .wait_css("[data-testid=tests-in-project]")
            .await?
            .text()
            .await?;
        ensure!(
            in_project == "36",
            "a float testsInProjectCount (36.0) reads {in_project:?}"
        );

        // The test sent with `"title": null` has a row that says so (found by its id).
        b.wait_css("input[data-testid=search]")
            .await?
            .send_keys(&untitled.id)
            .await?;
        wait_match_count(b, 1).await?;
        let row = b
            .wait_css(&format!(
                "[data-testid=test-row][data-test-id='{}']",
                untitled.id
            ))
            .await?;
        let text = row.text().await?;
        ensure!(
            text.contains("untitled test"),
            "the untitled test's row reads {text:?}"
        );
        erase(b, &untitled.id).await?;
        wait_match_count(b, report.tests.len()).await?;

        // The bar has one segment per label present, and they fill it exactly.
        let widths = b
            .js(
                "return Array.from(document.querySelectorAll('.rb-bar > *'))
                    .map(s => parseFloat(s.style.width));",
                vec![],
            )
            .await?;
        let widths: Vec<f64> = serde_json::from_value(widths)?;
        ensure!(
            widths.len() == counts.len(),
            "{} bar segments for {} labels",
            widths.len(),
            counts.len()
        );
        let total: f64 = widths.iter().sum();
        ensure!(
            (total - 100.0).abs() < 0.01,
            "the bar's segments add up to {total}%"
        );

        // The Blocked chip filters to the Blocked test.
        b.wait_css("[data-testid=filter-chip][data-status=Blocked]")
            .await?
            .click()
            .await?;
        wait_match_count(b, 1).await?;
        let rows = visible_rows(b).await?;
        ensure!(
            rows.len() == 1 && rows.iter().all(|(_, status)| status == "Blocked"),
            "the Blocked filter shows the Blocked test: {rows:?}"
        );
        ensure!(
            b.all("[data-testid=error-banner]").await?.is_empty(),
            "no error banner for an odd but valid report"
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undocumented_job_status_is_shown_then_no_longer_followed() {
    scenario("cancelled_job", StackOptions::default(), async |b, s| {
        start_on_agent(b, s, "cancel-agent").await?;
        let job_id = wait_job_saying(b, "Cancelled").await?;
        let status = attr(
            b,
            &format!("[data-testid=job-row][data-job-id='{job_id}']"),
            "data-status",
        )
        .await?;
        ensure!(status == "Cancelled", "the row's status is {status:?}");

        // Ten minutes pass: the job's first-seen time moves 11 minutes back while no
        // widget runs (a plain JSON page of the same origin), then the jobs page reloads.
        wait_for("the first-seen time to be stored", PAGE_TIMEOUT, || async {
            let stored = b
                .js(
                    "return localStorage.getItem(arguments[0]);",
                    vec![json!(jobs_storage_key())],
                )
                .await?;
            Ok(stored
                .as_str()
                .is_some_and(|s| s.contains("undocumentedSinceMs"))
                .then_some(()))
        })
        .await?;
        b.client.goto(&s.url("/healthz")).await?;
        let moved = b
            .js(
                "const [key, id] = arguments;
                 const jobs = JSON.parse(localStorage.getItem(key) || '[]');
                 const job = jobs.find(j => j.jobId === id);
                 if (!job || typeof job.undocumentedSinceMs !== 'number') return false;
                 job.undocumentedSinceMs -= 11 * 60 * 1000;
                 localStorage.setItem(key, JSON.stringify(jobs));
                 return true;",
                vec![json!(jobs_storage_key()), json!(job_id)],
            )
            .await?;
        ensure!(moved == json!(true), "moved the job's first-seen time back");
        b.open(&s.url(&format!("/p/{PROJECT}/jobs"))).await?;
        wait_job_saying(
            b,
            "Runboard stopped following this job: its status \"Cancelled\" is not documented",
        )
        .await?;

        // From now on the page keeps polling the project, but never for this job.
        let (naming, before) = jobs_requests(s, &job_id);
        wait_for("three more jobs requests", PAGE_TIMEOUT, || async {
            Ok((jobs_requests(s, &job_id).1 >= before + 3).then_some(()))
        })
        .await?;
        let (naming_after, _) = jobs_requests(s, &job_id);
        ensure!(
            naming_after == naming,
            "the page asked for the job again after it stopped following it"
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_without_a_report_says_so() {
    scenario("reportless_job", StackOptions::default(), async |b, s| {
        start_on_agent(b, s, "broken-agent").await?;
        let job_id = wait_job_saying(b, "finished without a report").await?;
        let row = format!("[data-testid=job-row][data-job-id='{job_id}']");
        ensure!(
            attr(b, &row, "data-status").await? == "Failed",
            "the job failed"
        );
        ensure!(
            b.all(&format!("{row} [data-testid=job-run-link]"))
                .await?
                .is_empty(),
            "no link to a report that does not exist"
        );
        ensure!(
            b.path().await?.ends_with("/jobs"),
            "the page stays on the jobs"
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_start_shows_the_platforms_reason_once() {
    scenario("refused_start", StackOptions::default(), async |b, s| {
        start_on_agent(b, s, "refusing-agent").await?;
        let notice = b
            .wait_css("[data-testid=start-notice][data-kind=error]")
            .await?;
        let text = notice.text().await?;
        ensure!(
            text.contains("agent refusing-agent is disabled for this project"),
            "the platform's own reason is shown: {text:?}"
        );
        ensure!(
            notice.attr("data-failure").await?.as_deref() == Some("refused"),
            "shown as a refusal"
        );
        ensure!(
            !text.to_lowercase().contains("try again") && !text.to_lowercase().contains("retry"),
            "a refusal does not invite a retry: {text:?}"
        );
        // Nothing retries it later: the jobs page, opened afterwards, has no job and the
        // platform saw exactly one start.
        b.open(&s.url(&format!("/p/{PROJECT}/jobs"))).await?;
        wait_for("the jobs page to say it has none", PAGE_TIMEOUT, || async {
            let empty = b.all("[data-testid=jobs-empty]").await?;
            let Some(empty) = empty.first() else {
                return Ok(None);
            };
            Ok(empty.text().await?.contains("No jobs yet.").then_some(()))
        })
        .await?;
        let starts = s.sim.sim.stats().by_endpoint.test_execution;
        ensure!(starts == 1, "the platform saw {starts} starts");
        Ok(())
    })
    .await;
}
