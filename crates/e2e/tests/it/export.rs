//! Export from a finished report, in headless Chromium against a real `runboard` and
//! simulator: "Export CSV" and "Export JUnit XML" are links to the proxy's
//! `/runboard/export/…`, and following them (a `fetch` in the page, through the front
//! door) gives the report's tests as CSV and as JUnit XML.

use anyhow::{Context, Result, ensure};
use runboard_e2e::{
    Browser, Stack, StackOptions,
    scenario::{attr, click_preset, open_start, scenario, wait_for_finished_report},
    stack::{PROJECT, presets},
};
use runboard_shared::{ExportFormat, ProjectId, RunId, Target, TestStatus};
use serde_json::json;

/// `href` fetched from the page: status, content type, disposition and body.
async fn fetched(b: &Browser, href: &str) -> Result<(u64, String, String, String)> {
    let got = b
        .js(
            "return fetch(arguments[0]).then(r => r.text().then(t =>
                [r.status, r.headers.get('content-type'), r.headers.get('content-disposition'), t]));",
            vec![json!(href)],
        )
        .await?;
    let text = |i: usize| got[i].as_str().unwrap_or_default().to_owned();
    Ok((
        got[0].as_u64().context("a status")?,
        text(1),
        text(2),
        text(3),
    ))
}

async fn finished_run(b: &Browser, s: &Stack) -> Result<String> {
    open_start(b, s).await?;
    click_preset(b, presets::FULL).await?;
    wait_for_finished_report(b).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_links_download_the_report_from_the_proxy() {
    scenario("export_links", StackOptions::default(), async |b, s| {
        let run_id = finished_run(b, s).await?;
        let report = s.sim_report(&run_id).await?;
        let export = |format| {
            let (project, run) = (ProjectId::parse(PROJECT)?, RunId::parse(&run_id)?);
            anyhow::Ok(Target::Export(project, run, format).path())
        };

        let csv_href = attr(b, "[data-testid=export-csv]", "href").await?;
        let junit_href = attr(b, "[data-testid=export-junit]", "href").await?;
        ensure!(
            csv_href.ends_with(&export(ExportFormat::Csv)?),
            "csv href {csv_href}"
        );
        ensure!(
            junit_href.ends_with(&export(ExportFormat::Junit)?),
            "junit href {junit_href}"
        );
        for id in ["export-csv", "export-junit"] {
            let tag = b
                .js(
                    "const a = document.querySelector(`[data-testid=${arguments[0]}]`);
                     return [a.tagName, a.hasAttribute('download')];",
                    vec![json!(id)],
                )
                .await?;
            ensure!(tag == json!(["A", true]), "{id} is a download link: {tag}");
        }

        let (status, kind, disposition, csv) = fetched(b, &csv_href).await?;
        ensure!(status == 200, "csv status {status}: {csv}");
        ensure!(kind == "text/csv; charset=utf-8", "csv type {kind}");
        ensure!(
            disposition == format!("attachment; filename=\"run-{run_id}.csv\""),
            "csv disposition {disposition}"
        );
        for test in &report.tests {
            ensure!(
                csv.split("\r\n")
                    .any(|l| l.starts_with(&format!("{},", test.id))
                        && l.contains(&format!(",{},", test.status))),
                "{} ({}) missing from the CSV",
                test.id,
                test.status
            );
        }

        let (status, kind, disposition, xml) = fetched(b, &junit_href).await?;
        ensure!(status == 200, "junit status {status}: {xml}");
        ensure!(
            kind == "application/xml; charset=utf-8",
            "junit type {kind}"
        );
        ensure!(
            disposition == format!("attachment; filename=\"run-{run_id}.junit.xml\""),
            "junit disposition {disposition}"
        );
        ensure!(
            xml.matches("<testcase ").count() == report.tests.len(),
            "testcases in {xml}"
        );
        let failed = report.count(&TestStatus::Failed);
        ensure!(
            failed > 0,
            "the seeded run must have failures, or the failure checks prove nothing"
        );
        ensure!(
            xml.contains(&format!("failures=\"{failed}\""))
                && xml.matches("<failure ").count() == failed as usize,
            "{failed} failures in {xml}"
        );
        s.check_forwarded_credentials().await?;
        Ok(())
    })
    .await;
}
