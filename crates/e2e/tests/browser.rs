//! The browser suite: what stakeholders do, in headless Chromium, against a real
//! `runboard` and simulator. Every scenario ends by proving that no byte the browser
//! received, stored or showed contains the project's key.

use std::{cell::RefCell, collections::HashMap, time::Duration};

use anyhow::{Context, Result, ensure};
use fantoccini::{Locator, key::Key};
use runboard_e2e::{
    Browser, Stack, StackOptions,
    browser::{PAGE_TIMEOUT, artifacts_dir},
    front_door::Identity,
    portal::Portal,
    stack::{PROJECT, RUN_TIMEOUT, presets, require_widget},
    wait_for,
};
use runboard_shared::{JobStatus, TestRun};
use serde_json::{Value, json};

/// Starts a stack and a browser, runs `body`, checks for the canary, and always cleans up;
/// a failure leaves a screenshot in `e2e-artifacts/NAME.png`.
async fn scenario(
    name: &str,
    options: StackOptions,
    body: impl AsyncFnOnce(&Browser, &mut Stack) -> Result<()>,
) {
    require_widget().expect("widget built");
    let mut stack = Stack::start(options).await.expect("the stack starts");
    let browser = Browser::start().await.expect("chromium starts");
    let mut outcome = body(&browser, &mut stack).await;
    if outcome.is_ok() {
        outcome = no_canary_anywhere(&browser, &stack).await;
    }
    if outcome.is_err() {
        let _ = browser
            .screenshot(&artifacts_dir().join(format!("{name}.png")))
            .await;
    }
    browser.close().await;
    stack.shutdown().await;
    if let Err(e) = outcome {
        panic!("scenario {name} failed: {e:#}");
    }
}

/// Test 7 of the suite, run after every scenario: the key is in no response the browser
/// received (all of them pass the recording front door), nor in the page, its storage or
/// its cookies.
async fn no_canary_anywhere(browser: &Browser, stack: &Stack) -> Result<()> {
    let recorded = String::from_utf8_lossy(&stack.front.recorded()).into_owned();
    ensure!(
        !recorded.is_empty(),
        "the front door recorded the browser's traffic"
    );
    ensure!(
        !recorded
            .to_ascii_lowercase()
            .contains("content-encoding: gzip"),
        "responses must be recorded uncompressed for the search to mean anything"
    );
    ensure!(
        !recorded.contains(&stack.key),
        "the key appeared in a response to the browser"
    );
    let page = browser.client.source().await?;
    ensure!(!page.contains(&stack.key), "the key appeared in the page");
    let storage = browser
        .js(
            "return JSON.stringify(Object.assign({}, window.localStorage, window.sessionStorage));",
            vec![],
        )
        .await?;
    ensure!(
        !storage.to_string().contains(&stack.key),
        "the key appeared in browser storage"
    );
    let cookies = format!("{:?}", browser.client.get_all_cookies().await?);
    ensure!(
        !cookies.contains(&stack.key),
        "the key appeared in a cookie"
    );
    Ok(())
}

async fn open_start(browser: &Browser, stack: &Stack) -> Result<()> {
    browser
        .open(&stack.url(&format!("/p/{PROJECT}/start")))
        .await
}

async fn click_preset(browser: &Browser, name: &str) -> Result<()> {
    let client = &browser.client;
    let button = wait_for(
        &format!("the preset {name:?}"),
        PAGE_TIMEOUT,
        || async move {
            for button in client
                .find_all(Locator::Css("[data-testid=preset]"))
                .await?
            {
                if button.text().await?.contains(name) && button.is_enabled().await? {
                    return Ok(Some(button));
                }
            }
            Ok(None)
        },
    )
    .await?;
    button.click().await?;
    Ok(())
}

/// Waits for the run report to open and returns its run id.
async fn wait_for_report(browser: &Browser) -> Result<String> {
    let path = wait_for("the run report to open", RUN_TIMEOUT, || async {
        let path = browser.path().await?;
        Ok(path.contains("/runs/").then_some(path))
    })
    .await?;
    let run = path.split("/runs/").nth(1).unwrap_or_default();
    Ok(run.split(['?', '/']).next().unwrap_or_default().to_owned())
}

/// Waits until the run report shows a finished run.
async fn wait_run_completed(browser: &Browser) -> Result<()> {
    wait_attr(
        browser,
        "[data-testid=run-status]",
        "data-status",
        "Completed",
        RUN_TIMEOUT,
    )
    .await
}

/// Waits for the run report to open and its run to finish; returns the run id.
async fn wait_for_finished_report(browser: &Browser) -> Result<String> {
    let run_id = wait_for_report(browser).await?;
    wait_run_completed(browser).await?;
    Ok(run_id)
}

async fn attr(browser: &Browser, css: &str, name: &str) -> Result<String> {
    browser
        .wait_css(css)
        .await?
        .attr(name)
        .await?
        .with_context(|| format!("{css} has {name}"))
}

async fn wait_attr(
    browser: &Browser,
    css: &str,
    name: &str,
    want: &str,
    timeout: Duration,
) -> Result<()> {
    wait_for(
        &format!("{css} to have {name}={want:?}"),
        timeout,
        || async {
            let elements = browser.all(css).await?;
            let Some(element) = elements.first() else {
                return Ok(None);
            };
            Ok((element.attr(name).await?.as_deref() == Some(want)).then_some(()))
        },
    )
    .await
}

async fn match_count(browser: &Browser) -> Result<usize> {
    Ok(attr(browser, "[data-testid=match-count]", "data-count")
        .await?
        .parse()?)
}

async fn wait_match_count(browser: &Browser, want: usize) -> Result<()> {
    wait_for(&format!("{want} matching tests"), PAGE_TIMEOUT, || async {
        Ok((match_count(browser).await? == want).then_some(()))
    })
    .await
}

/// The visible test rows as (test id, status).
async fn visible_rows(browser: &Browser) -> Result<Vec<(String, String)>> {
    let rows = browser
        .js(
            "return Array.from(document.querySelectorAll('[data-testid=test-row]'))
                .map(r => [r.getAttribute('data-test-id'), r.getAttribute('data-status')]);",
            vec![],
        )
        .await?;
    let rows: Vec<(String, String)> = serde_json::from_value(rows)?;
    Ok(rows)
}

/// The lifecycle position of a job status, for "states only move forward".
fn lifecycle_rank(status: &str) -> u8 {
    match JobStatus::parse(status) {
        JobStatus::Pending => 0,
        JobStatus::PendingAgentConnection => 1,
        JobStatus::InProgress => 2,
        _ => 3,
    }
}

fn error_text(error: &Value) -> String {
    match error {
        Value::String(s) => s.clone(),
        other => other["message"]
            .as_str()
            .map_or_else(|| other.to_string(), str::to_owned),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preset_run_from_start_to_report() {
    scenario("preset_run", StackOptions::default(), async |b, s| {
        open_start(b, s).await?;
        b.screenshot(&artifacts_dir().join("screens/start.png"))
            .await?;
        click_preset(b, presets::FULL).await?;
        // Watch the job on its way: whatever states are shown must only move forward.
        let seen = RefCell::new(Vec::<String>::new());
        wait_for("the job to open its run", RUN_TIMEOUT, || async {
            for row in b.all("[data-testid=job-row]").await? {
                if let Some(status) = row.attr("data-status").await? {
                    let mut seen = seen.borrow_mut();
                    if seen.last() != Some(&status) {
                        seen.push(status);
                    }
                }
            }
            let path = b.path().await?;
            Ok(path.contains("/runs/").then_some(()))
        })
        .await?;
        let seen = seen.into_inner();
        ensure!(
            seen.windows(2)
                .all(|w| lifecycle_rank(&w[0]) <= lifecycle_rank(&w[1])),
            "job states went backwards: {seen:?}"
        );
        let run_id = wait_for_finished_report(b).await?;

        // The page agrees with the simulator's own report.
        let report: TestRun = s.sim_report(&run_id).await?;
        check_summary(b, &report).await?;
        wait_match_count(b, report.tests.len()).await?;
        let by_id: HashMap<&str, _> = report.tests.iter().map(|t| (t.id.as_str(), t)).collect();
        let rows = visible_rows(b).await?;
        ensure!(!rows.is_empty(), "the table shows tests");
        for (id, status) in &rows {
            let test = by_id
                .get(id.as_str())
                .with_context(|| format!("row {id} is in the report"))?;
            ensure!(
                test.status.as_str() == status,
                "row {id}: page {status}, simulator {}",
                test.status
            );
        }
        ensure!(
            rows[0].1 == "Failed",
            "failed tests come first, got {:?}",
            rows[0]
        );

        // Open a failed test: its error, its timeline and its video.
        b.wait_css("[data-testid=filter-chip][data-status=Failed]")
            .await?
            .click()
            .await?;
        wait_match_count(
            b,
            report.count(&runboard_shared::TestStatus::Failed) as usize,
        )
        .await?;
        let first = b.wait_css("[data-testid=test-row]").await?;
        let id = first.attr("data-test-id").await?.context("row id")?;
        first
            .find(Locator::Css("[data-testid=test-toggle]"))
            .await?
            .click()
            .await?;
        let expected = by_id[id.as_str()];
        let error = b.wait_css("[data-testid=test-error]").await?.text().await?;
        let want = error_text(
            expected
                .error
                .as_ref()
                .context("failed tests carry an error")?,
        );
        ensure!(
            error.contains(&want),
            "error shown {error:?} lacks {want:?}"
        );
        let steps = b.all("[data-testid=timeline-step]").await?;
        ensure!(
            steps.len() == expected.timeline.len(),
            "{} steps shown, {} in the report",
            steps.len(),
            expected.timeline.len()
        );
        if expected.has_video {
            let link = b.wait_css("a[data-testid=video-link]").await?;
            ensure!(
                link.attr("href").await? == expected.video_link,
                "video link"
            );
            ensure!(
                link.attr("target").await?.as_deref() == Some("_blank"),
                "opens in a new tab"
            );
            ensure!(
                link.attr("rel")
                    .await?
                    .unwrap_or_default()
                    .contains("noopener"),
                "rel=noopener"
            );
        }
        b.screenshot(&artifacts_dir().join("screens/run-report.png"))
            .await?;

        // The jobs view remembers the job and links to its run.
        b.open(&s.url(&format!("/p/{PROJECT}/jobs"))).await?;
        let link = b
            .wait_css("[data-testid=job-row] a[data-testid=job-run-link]")
            .await?;
        ensure!(
            link.attr("href")
                .await?
                .unwrap_or_default()
                .contains(&run_id),
            "job links to its run"
        );
        let status = attr(b, "[data-testid=job-row]", "data-status").await?;
        ensure!(
            JobStatus::parse(&status).is_terminal(),
            "finished job shows {status}"
        );
        b.screenshot(&artifacts_dir().join("screens/jobs.png"))
            .await?;
        Ok(())
    })
    .await;
}

async fn check_summary(b: &Browser, report: &TestRun) -> Result<()> {
    for label in ["Passed", "Failed", "Skipped", "Running", "Scheduled"] {
        let css = format!("[data-testid=summary-count][data-status={label}]");
        let shown: u64 = attr(b, &css, "data-count").await?.parse()?;
        let want = report.count(&runboard_shared::TestStatus::parse(label));
        ensure!(
            shown == want,
            "{label}: page shows {shown}, simulator {want}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_run_twice_follows_the_queued_job() {
    scenario("already_queued", StackOptions::default(), async |b, s| {
        open_start(b, s).await?;
        click_preset(b, presets::OFFLINE).await?;
        wait_attr(
            b,
            "[data-testid=job-row]",
            "data-status",
            "PendingAgentConnection",
            PAGE_TIMEOUT,
        )
        .await?;
        open_start(b, s).await?;
        click_preset(b, presets::OFFLINE).await?;
        wait_for("the already-queued notice", PAGE_TIMEOUT, || async {
            for notice in b.all("[data-testid=start-notice]").await? {
                if notice
                    .text()
                    .await?
                    .contains("already queued — following the existing job")
                {
                    return Ok(Some(()));
                }
            }
            Ok(None)
        })
        .await?;
        let active = s.sim_active_jobs().await?;
        ensure!(
            active.len() == 1,
            "one job upstream, found {}",
            active.len()
        );
        b.open(&s.url(&format!("/p/{PROJECT}/jobs"))).await?;
        let job_id = active[0]["jobId"].as_str().unwrap_or_default().to_owned();
        wait_for("exactly one row for the job", PAGE_TIMEOUT, || async {
            let rows = b.all("[data-testid=job-row]").await?;
            let mut ids = Vec::new();
            for row in &rows {
                ids.push(row.attr("data-job-id").await?.unwrap_or_default());
            }
            Ok((ids == [job_id.clone()]).then_some(()))
        })
        .await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_waits_for_its_agent_then_runs() {
    scenario("agent_waiting", StackOptions::default(), async |b, s| {
        open_start(b, s).await?;
        click_preset(b, presets::OFFLINE).await?;
        wait_for(
            "the job to say it waits for its agent",
            PAGE_TIMEOUT,
            || async {
                let Some(row) = b
                    .all("[data-testid=job-row][data-status=PendingAgentConnection]")
                    .await?
                    .pop()
                else {
                    return Ok(None);
                };
                let text = row
                    .find(Locator::Css("[data-testid=job-description]"))
                    .await?
                    .text()
                    .await?;
                Ok(text
                    .contains("waiting for agent offline-agent to connect")
                    .then_some(()))
            },
        )
        .await?;
        s.connect_agent("offline-agent")?;
        let run_id = wait_for_finished_report(b).await?;
        let report = s.sim_report(&run_id).await?;
        check_summary(b, &report).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_tests_filter_search_and_sort() {
    let options = StackOptions {
        sim_tests: 3000,
        sim_speed: 5000.0,
        ..StackOptions::default()
    };
    scenario("large_run", options, async |b, s| {
        open_start(b, s).await?;
        click_preset(b, presets::FULL).await?;
        let run_id = wait_for_finished_report(b).await?;
        let report = s.sim_report(&run_id).await?;
        ensure!(report.tests.len() == 3000, "the run holds every test");
        wait_match_count(b, 3000).await?;
        let rendered = visible_rows(b).await?.len();
        ensure!(
            rendered < 400,
            "{rendered} rows in the DOM: the table must window or paginate"
        );

        // Search by title.
        let want = report
            .tests
            .iter()
            .filter(|t| t.title.to_lowercase().contains("checkout"))
            .count();
        ensure!(want > 0, "the catalog has checkout tests");
        b.wait_css("input[data-testid=search]")
            .await?
            .send_keys("checkout")
            .await?;
        wait_match_count(b, want).await?;
        let titles: HashMap<&str, &str> = report
            .tests
            .iter()
            .map(|t| (t.id.as_str(), t.title.as_str()))
            .collect();
        for (id, _) in visible_rows(b).await? {
            ensure!(
                titles[id.as_str()].to_lowercase().contains("checkout"),
                "{id} does not match the search"
            );
        }
        // Erase as a person would: WebDriver's clear() fires no input event.
        let erase = Key::Backspace.to_string().repeat("checkout".len());
        b.wait_css("input[data-testid=search]")
            .await?
            .send_keys(&erase)
            .await?;
        wait_match_count(b, 3000).await?;

        // Filter by status, then sort by title.
        let failed = report.count(&runboard_shared::TestStatus::Failed) as usize;
        b.wait_css("[data-testid=filter-chip][data-status=Failed]")
            .await?
            .click()
            .await?;
        wait_match_count(b, failed).await?;
        let sort = b.wait_css("select[data-testid=sort]").await?;
        sort.select_by_value("title").await?;
        wait_for("failed rows sorted by title", PAGE_TIMEOUT, || async {
            let rows = visible_rows(b).await?;
            let shown: Vec<String> = rows
                .iter()
                .map(|(id, _)| titles[id.as_str()].to_lowercase())
                .collect();
            let mut sorted = shown.clone();
            sorted.sort();
            let all_failed = rows.iter().all(|(_, st)| st == "Failed");
            Ok((!rows.is_empty() && all_failed && shown == sorted).then_some(()))
        })
        .await?;
        // Still responsive: the page answers a script at once.
        ensure!(
            b.js("return 1 + 1;", vec![]).await? == json!(2),
            "page answers"
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedding_is_allowed_only_for_listed_portals() {
    let allowed = Portal::start().await.expect("portal");
    let other = Portal::start().await.expect("portal");
    let options = StackOptions {
        frame_ancestors: vec![allowed.origin()],
        ..StackOptions::default()
    };
    scenario("embedding", options, async |b, s| {
        let widget = s.url(&format!("/p/{PROJECT}/start?embed=1"));
        b.client.goto(&allowed.page_url(&widget)).await?;
        b.client.clone().enter_frame(0).await?;
        b.wait_css("[data-ready='1']").await?;
        b.client.clone().enter_parent_frame().await?;
        wait_for("the widget to post its height", PAGE_TIMEOUT, || async {
            let h = b.js("return window.rbHeight || 0;", vec![]).await?;
            Ok((h.as_f64().unwrap_or(0.0) > 0.0).then_some(()))
        })
        .await?;

        b.client.goto(&other.page_url(&widget)).await?;
        b.client.clone().enter_frame(0).await?;
        let state = wait_for("the frame to load or be refused", PAGE_TIMEOUT, || async {
            let url = b.js("return document.URL;", vec![]).await?;
            if url
                .as_str()
                .unwrap_or_default()
                .starts_with("chrome-error:")
            {
                return Ok(Some("refused"));
            }
            Ok((!b.all("[data-ready='1']").await?.is_empty()).then_some("loaded"))
        })
        .await?;
        b.client.clone().enter_parent_frame().await?;
        ensure!(
            state == "refused",
            "a portal not in frame_ancestors could embed the widget"
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_cannot_start_runners_can() {
    let viewer = Identity {
        email: "viewer@corp.example".into(),
        groups: vec!["staff".into()],
    };
    let options = StackOptions {
        run_users: Some(vec!["runner@corp.example".into()]),
        identity: Some(viewer),
        ..StackOptions::default()
    };
    scenario("header_auth", options, async |b, s| {
        open_start(b, s).await?;
        b.wait_css("[data-testid=start-disabled-reason]").await?;
        for button in b.all("[data-testid=preset], [data-testid=start-button]").await? {
            ensure!(!button.is_enabled().await?, "a viewer sees an enabled start control");
        }
        let suite = s.catalog.suites().next().map(|(_, suite)| suite.id.clone()).unwrap_or_default();
        let status = b
            .js(
                "return fetch(arguments[0], {method: 'POST', headers: {'content-type': 'application/json'},
                   body: JSON.stringify({action: 'executeTests', testSuiteId: arguments[1]})}).then(r => r.status);",
                vec![json!(format!("/api/testExecution/{PROJECT}")), json!(suite)],
            )
            .await?;
        ensure!(status == json!(403), "a viewer's direct POST got {status}");
        ensure!(s.sim.sim.stats().by_endpoint.test_execution == 0, "the upstream saw an execution");

        s.front.set_identity(Some(Identity { email: "runner@corp.example".into(), groups: vec![] }));
        open_start(b, s).await?;
        click_preset(b, presets::SMOKE).await?;
        wait_for_report(b).await?;
        ensure!(s.sim.sim.stats().by_endpoint.test_execution == 1, "the runner's run reached the upstream");
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_recovers_when_the_proxy_comes_back() {
    let options = StackOptions {
        sim_speed: 2.0,
        ..StackOptions::default()
    };
    scenario("proxy_restart", options, async |b, s| {
        open_start(b, s).await?;
        click_preset(b, presets::FULL).await?;
        wait_for_report(b).await?;
        b.wait_css("[data-testid=run-status]").await?;
        s.stop_proxy().await;
        let banner = b
            .wait_css("[data-testid=error-banner]")
            .await?
            .text()
            .await?;
        ensure!(
            banner.to_lowercase().contains("retry"),
            "the banner says it retries: {banner:?}"
        );
        s.start_proxy().await?;
        wait_for("the error banner to go away", PAGE_TIMEOUT, || async {
            Ok(b.all("[data-testid=error-banner]")
                .await?
                .is_empty()
                .then_some(()))
        })
        .await?;
        wait_run_completed(b).await?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deep_link_fills_the_form_but_only_a_click_starts() {
    scenario("deep_link", StackOptions::default(), async |b, s| {
        let suite = s
            .catalog
            .suites()
            .nth(1)
            .map(|(_, suite)| suite.id.clone())
            .context("a second suite")?;
        b.open(&s.url(&format!(
            "/p/{PROJECT}/start?suite={suite}&agent=staging-agent"
        )))
        .await?;
        let scope = b.wait_css("[data-testid=scope]").await?;
        ensure!(
            scope.prop("value").await?.as_deref() == Some("suite"),
            "scope pre-filled"
        );
        let input = b.wait_css("[data-testid=selector-input]").await?;
        ensure!(
            input.prop("value").await?.as_deref() == Some(suite.as_str()),
            "id pre-filled"
        );
        let agent = b.wait_css("[data-testid=agent-input]").await?;
        ensure!(
            agent.prop("value").await?.as_deref() == Some("staging-agent"),
            "agent pre-filled"
        );
        ensure!(
            s.sim.sim.stats().by_endpoint.test_execution == 0,
            "opening a link started a run"
        );
        b.wait_css("[data-testid=start-button]")
            .await?
            .click()
            .await?;
        wait_for_report(b).await?;
        ensure!(
            s.sim.sim.stats().by_endpoint.test_execution == 1,
            "the click started exactly one run"
        );
        Ok(())
    })
    .await;
}
