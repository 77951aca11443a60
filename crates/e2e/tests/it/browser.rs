//! The browser suite: what stakeholders do, in headless Chromium, against a real
//! `runboard` and simulator. Every scenario ends by proving that no byte the browser
//! received, stored or showed contains the project's key.

use std::{cell::RefCell, collections::HashMap};

use anyhow::{Context, Result, ensure};
use fantoccini::Locator;
use runboard_e2e::{
    Browser, Stack, StackOptions,
    browser::{PAGE_TIMEOUT, artifacts_dir},
    front_door::Identity,
    portal::Portal,
    scenario::{
        attr, click_preset, erase, no_canary_in_document, open_start, scenario, visible_rows,
        wait_attr, wait_for_finished_report, wait_for_report, wait_match_count, wait_run_completed,
    },
    stack::{PROJECT, RUN_TIMEOUT, presets},
    wait_for,
};
use runboard_shared::{JobStatus, ProjectId, TestRun, TestStatus, execute_path};
use serde_json::{Value, json};

/// The lifecycle position of a job status as the widget shows it, for "states only move
/// forward": the widget's own "Starting" (started, no answer from the platform yet), then
/// the guide's states in order. `None` for anything else.
fn lifecycle_rank(status: &str) -> Option<u8> {
    if status == "Starting" {
        return Some(0);
    }
    match JobStatus::parse(status) {
        JobStatus::Pending => Some(1),
        JobStatus::PendingAgentConnection => Some(2),
        JobStatus::InProgress => Some(3),
        JobStatus::Success | JobStatus::Failed => Some(4),
        JobStatus::Other(_) => None,
    }
}

/// Fails unless every state seen is known and each ranks above the one before it (so
/// Success then Failed fails too: a job finishes once).
fn moves_forward(seen: &[String]) -> Result<()> {
    let ranks = seen
        .iter()
        .map(|s| lifecycle_rank(s).with_context(|| format!("unknown job state {s:?} in {seen:?}")))
        .collect::<Result<Vec<u8>>>()?;
    ensure!(
        ranks.windows(2).all(|w| w[0] < w[1]),
        "job states went backwards: {seen:?}"
    );
    Ok(())
}

/// The distinct states the job rows have shown, per job, in the order they were seen.
#[derive(Default)]
struct JobStates(RefCell<HashMap<String, Vec<String>>>);

impl JobStates {
    /// Records what every job row shows now.
    async fn look(&self, browser: &Browser) -> Result<()> {
        let rows = browser
            .js(
                "return Array.from(document.querySelectorAll('[data-testid=job-row]'))
                    .map(r => [r.getAttribute('data-job-id'), r.getAttribute('data-status')]);",
                vec![],
            )
            .await?;
        let rows: Vec<(String, String)> = serde_json::from_value(rows)?;
        let mut seen = self.0.borrow_mut();
        for (job, status) in rows {
            let states = seen.entry(job).or_default();
            if states.last() != Some(&status) {
                states.push(status);
            }
        }
        Ok(())
    }

    /// The states seen for `job`.
    fn of(&self, job: &str) -> Vec<String> {
        self.0.borrow().get(job).cloned().unwrap_or_default()
    }

    /// Checks every job's states with [`moves_forward`].
    fn all_move_forward(&self) -> Result<()> {
        self.0.borrow().values().try_for_each(|s| moves_forward(s))
    }
}

#[test]
fn the_lifecycle_check_catches_every_wrong_order() {
    let states = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let ok = [
        &[
            "Starting",
            "Pending",
            "PendingAgentConnection",
            "InProgress",
            "Success",
        ][..],
        &["Pending", "InProgress", "Failed"],
        &["Starting", "InProgress"],
        &[],
    ];
    for seen in ok {
        assert!(moves_forward(&states(seen)).is_ok(), "{seen:?}");
    }
    let wrong = [
        &["InProgress", "Starting"][..],
        &["InProgress", "PendingAgentConnection"],
        &["Success", "Failed"],
        &["Failed", "InProgress"],
        &["Pending", "Cancelled"],
        &[""],
    ];
    for seen in wrong {
        assert!(moves_forward(&states(seen)).is_err(), "{seen:?}");
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
        // Watch the job on its way: whatever states are shown must only move forward
        // (the whole sequence is required in `a_job_waits_for_its_agent_then_runs`).
        let seen = JobStates::default();
        wait_for("the job to open its run", RUN_TIMEOUT, || async {
            seen.look(b).await?;
            let path = b.path().await?;
            Ok(path.contains("/runs/").then_some(()))
        })
        .await?;
        seen.all_move_forward()?;
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
        let (first_id, first_status) = rows.first().context("the table shows tests")?;
        ensure!(
            first_status == "Failed",
            "failed tests come first, got {first_id} {first_status}"
        );

        // Open a failed test that has a video: its error, its timeline and its video.
        let expected = report
            .tests
            .iter()
            .find(|t| t.status == TestStatus::Failed && t.has_video && t.video_link.is_some())
            .context("the seed gives a failed test with a video")?;
        b.wait_css("[data-testid=filter-chip][data-status=Failed]")
            .await?
            .click()
            .await?;
        wait_match_count(b, report.count(&TestStatus::Failed) as usize).await?;
        let row = b
            .wait_css(&format!(
                "[data-testid=test-row][data-test-id='{}']",
                expected.id
            ))
            .await?;
        row.find(Locator::Css("[data-testid=test-toggle]"))
            .await?
            .click()
            .await?;
        let error = b.wait_css("[data-testid=test-error]").await?.text().await?;
        let want = error_text(
            &expected
                .error
                .as_ref()
                .context("failed tests carry an error")?
                .value(),
        );
        ensure!(
            error.contains(&want),
            "error shown {error:?} lacks {want:?}"
        );
        let steps = b.all("[data-testid=timeline-step]").await?;
        ensure!(
            !steps.is_empty() && steps.len() == expected.timeline.len(),
            "{} steps shown, {} in the report",
            steps.len(),
            expected.timeline.len()
        );
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
        // The legend lists only the statuses some test has.
        let css = format!("[data-testid=summary-count][data-status={label}]");
        let shown: u64 = match b.all(&css).await?.first() {
            Some(item) => item.attr("data-count").await?.unwrap_or_default().parse()?,
            None => 0,
        };
        let want = report.count(&TestStatus::parse(label));
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
        start_twice_follows_one_job(b, s).await
    })
    .await;
}

/// The platform may answer a duplicate start with HTTP 409 and the job to follow: the
/// widget still follows the one job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_start_answered_409_follows_the_queued_job() {
    let options = StackOptions {
        odd_shapes: true,
        ..StackOptions::default()
    };
    scenario("already_queued_409", options, async |b, s| {
        start_twice_follows_one_job(b, s).await?;
        let conflicts = s.sim.sim.stats().status(409);
        ensure!(
            conflicts == 1,
            "the platform answered {conflicts} starts with 409"
        );
        Ok(())
    })
    .await;
}

/// Starts the offline preset twice: the second start says the run is already queued and
/// follows the existing job, and there is one job upstream and one row on the page.
async fn start_twice_follows_one_job(b: &Browser, s: &Stack) -> Result<()> {
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
    let job_id = active
        .first()
        .and_then(|job| job["jobId"].as_str())
        .context("the upstream job has an id")?
        .to_owned();
    wait_for("exactly one row for the job", PAGE_TIMEOUT, || async {
        let rows = b.all("[data-testid=job-row]").await?;
        let mut ids = Vec::new();
        for row in &rows {
            ids.push(row.attr("data-job-id").await?.unwrap_or_default());
        }
        Ok((ids == [job_id.clone()]).then_some(()))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_waits_for_its_agent_then_runs() {
    // At an eighth of the usual pace the run stays in progress for seconds, so the page
    // (polling every 300 ms, through the proxy's shared reads that may reuse an answer for
    // up to `cache.live_reuse_ms`) sees it running even on a busy machine.
    let options = StackOptions {
        sim_speed: 5.0,
        ..StackOptions::default()
    };
    scenario("agent_waiting", options, async |b, s| {
        open_start(b, s).await?;
        click_preset(b, presets::OFFLINE).await?;
        let seen = JobStates::default();
        let job_id = wait_for(
            "the job to say it waits for its agent",
            PAGE_TIMEOUT,
            || async {
                seen.look(b).await?;
                let css = "[data-testid=job-row][data-status=PendingAgentConnection]";
                let Some(row) = b.all(css).await?.pop() else {
                    return Ok(None);
                };
                let text = row
                    .find(Locator::Css("[data-testid=job-description]"))
                    .await?
                    .text()
                    .await?;
                if !text.contains("waiting for agent offline-agent to connect") {
                    return Ok(None);
                }
                Ok(row.attr("data-job-id").await?)
            },
        )
        .await?;
        // A freshly opened jobs page follows the job without leaving for its report, so
        // every state it goes through can be watched.
        b.open(&s.url(&format!("/p/{PROJECT}/jobs"))).await?;
        s.connect_agent("offline-agent")?;
        let link = wait_for("the job to finish", RUN_TIMEOUT, || async {
            seen.look(b).await?;
            let states = seen.of(&job_id);
            if !states
                .last()
                .is_some_and(|s| JobStatus::parse(s).is_terminal())
            {
                return Ok(None);
            }
            let css = format!(
                "[data-testid=job-row][data-job-id='{job_id}'] a[data-testid=job-run-link]"
            );
            Ok(b.all(&css).await?.pop())
        })
        .await?;
        let states = seen.of(&job_id);
        moves_forward(&states)?;
        ensure!(
            ["PendingAgentConnection", "InProgress"]
                .iter()
                .all(|want| states.iter().any(|s| s == want)),
            "the job was seen waiting, running and finished: {states:?}"
        );
        seen.all_move_forward()?;
        link.click().await?;
        let run_id = wait_for_finished_report(b).await?;
        let report = s.sim_report(&run_id).await?;
        check_summary(b, &report).await
    })
    .await;
}

/// Rows a windowed table may hold in the DOM: a viewport of rows plus overscan, far
/// below the thousands a report has.
const WINDOW_ROWS: std::ops::RangeInclusive<usize> = 1..=100;

/// The table holds a few rows, not all of them; scrolled to the end it shows the last
/// test (in the default order: problems first, ties in report order) and still holds
/// only a few rows.
async fn windowed_to_the_end(b: &Browser, report: &TestRun) -> Result<()> {
    let order = |(i, t): (usize, &runboard_shared::TestResult)| (t.status.rank(), i);
    let first = report.tests.iter().enumerate().min_by_key(|&e| order(e));
    let last = report.tests.iter().enumerate().max_by_key(|&e| order(e));
    let (Some((_, first)), Some((_, last))) = (first, last) else {
        anyhow::bail!("the report has tests");
    };
    let rows = visible_rows(b).await?;
    ensure!(
        WINDOW_ROWS.contains(&rows.len()),
        "{} rows in the DOM at the top: the table must window",
        rows.len()
    );
    ensure!(
        rows.iter().any(|(id, _)| *id == first.id),
        "the first test's row is shown at the top"
    );
    // The page is the one scroll container.
    b.js(
        "window.scrollTo(0, document.documentElement.scrollHeight);",
        vec![],
    )
    .await?;
    let rows = wait_for(
        "the last test's row after scrolling",
        PAGE_TIMEOUT,
        || async {
            let rows = visible_rows(b).await?;
            Ok(rows.iter().any(|(id, _)| *id == last.id).then_some(rows))
        },
    )
    .await?;
    ensure!(
        WINDOW_ROWS.contains(&rows.len()),
        "{} rows in the DOM at the end: the table must window",
        rows.len()
    );
    ensure!(
        !rows.iter().any(|(id, _)| *id == first.id),
        "the first test's row is still in the DOM at the end"
    );
    Ok(())
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
        windowed_to_the_end(b, &report).await?;

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
        let title = |id: &str| titles.get(id).copied().unwrap_or_default().to_lowercase();
        let rows = visible_rows(b).await?;
        ensure!(
            !rows.is_empty() && rows.len() <= want,
            "the search shows {} rows for {want} matches",
            rows.len()
        );
        for (id, _) in rows {
            ensure!(
                title(&id).contains("checkout"),
                "{id} does not match the search"
            );
        }
        erase(b, "checkout").await?;
        wait_match_count(b, 3000).await?;

        // A query beyond ASCII goes through the browser's own case mapping: the Kelvin
        // sign (U+212A) lower-cases to "k", so this finds exactly the checkout tests.
        let kelvin = "CHEC\u{212A}OUT";
        b.wait_css("input[data-testid=search]")
            .await?
            .send_keys(kelvin)
            .await?;
        wait_match_count(b, want).await?;
        erase(b, kelvin).await?;
        wait_match_count(b, 3000).await?;

        // Filter by status, then sort by title.
        let failed = report.count(&TestStatus::Failed) as usize;
        b.wait_css("[data-testid=filter-chip][data-status=Failed]")
            .await?
            .click()
            .await?;
        wait_match_count(b, failed).await?;
        let sort = b.wait_css("select[data-testid=sort]").await?;
        sort.select_by_value("title").await?;
        wait_for("failed rows sorted by title", PAGE_TIMEOUT, || async {
            let rows = visible_rows(b).await?;
            let shown: Vec<String> = rows.iter().map(|(id, _)| title(id)).collect();
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
        // The widget's own document, storage and cookies, not only the portal's.
        no_canary_in_document(b, &s.key).await?;
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
        let controls = b.all("[data-testid=preset], [data-testid=start-button]").await?;
        ensure!(controls.len() >= 3, "the viewer sees the three presets, found {}", controls.len());
        for button in controls {
            ensure!(!button.is_enabled().await?, "a viewer sees an enabled start control");
        }
        let suite = s.catalog.suites().next().map(|(_, suite)| suite.id.clone()).unwrap_or_default();
        let status = b
            .js(
                "return fetch(arguments[0], {method: 'POST', headers: {'content-type': 'application/json'},
                   body: JSON.stringify({action: 'executeTests', testSuiteId: arguments[1]})}).then(r => r.status);",
                vec![json!(execute_path(&ProjectId::parse(PROJECT)?)), json!(suite)],
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
        sim_speed: 10.0,
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
