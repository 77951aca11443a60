//! The report as a verdict, in headless Chromium against a real `runboard` and
//! simulator: the outcome line (the server's verdict, issue 21), failures grouped by
//! cause, re-running exactly what failed, links to one test, the tab title, the portal's
//! "finished" message and the notification of a hidden tab; the report page a reader
//! gets, and its links to the full widget.

use std::collections::BTreeMap;

use anyhow::{Context, Result, ensure};
use runboard_e2e::{
    Browser, StackOptions,
    axe::serious_violations,
    browser::PAGE_TIMEOUT,
    front_door::Identity,
    portal::Portal,
    scenario::{
        a_failed_run, attr, click_preset, final_verdict, open_start, scenario,
        wait_for_finished_report, wait_match_count,
    },
    stack::{PROJECT, RUN_TIMEOUT, presets, widget_dir},
    wait_for,
};
use runboard_shared::{ProjectId, TestRun, TestStatus, execute_path};
use serde_json::{Value, json};

/// The headline the report groups a failure under: a text's first line, an object's
/// `message` (the simulator's two shapes).
fn headline(error: &Value) -> String {
    let text = match error {
        Value::String(s) => s.clone(),
        other => other["message"].as_str().unwrap_or_default().to_owned(),
    };
    text.lines().next().unwrap_or_default().trim().to_owned()
}

/// Distinct headlines of the report's failed tests, with how many tests each broke.
fn causes(report: &TestRun) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for test in report
        .tests
        .iter()
        .filter(|t| t.status == TestStatus::Failed)
    {
        let error = test
            .error
            .as_ref()
            .map(|e| e.value())
            .unwrap_or(Value::Null);
        *out.entry(headline(&error)).or_default() += 1;
    }
    out
}

fn failed_ids(report: &TestRun) -> Vec<String> {
    let mut ids: Vec<String> = report
        .tests
        .iter()
        .filter(|t| t.status == TestStatus::Failed)
        .map(|t| t.id.clone())
        .collect();
    ids.sort();
    ids
}

async fn text(b: &Browser, css: &str) -> Result<String> {
    Ok(b.wait_css(css).await?.text().await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_reads_as_a_verdict_and_reruns_exactly_its_failures() {
    scenario("verdict_rerun", StackOptions::default(), async |b, s| {
        let (run_id, report) = a_failed_run(b, s).await?;
        let failed = report.count(&TestStatus::Failed);
        let total = report.tests.len();

        // The verdict, the server's (no rules here: every failure blocks); the tab's
        // title says it too; the start notice is gone.
        let judged = final_verdict(s, &run_id).await?;
        ensure!(judged.blocking == failed, "{} of {failed} failures block", judged.blocking);
        let want = format!("{failed} blocking · {failed} of {total} failed");
        ensure!(judged.headline().text == want, "the server's headline {:?}", judged.headline().text);
        wait_for("the verdict's headline", PAGE_TIMEOUT, || async {
            Ok((text(b, "[data-testid=verdict]").await? == want).then_some(()))
        })
        .await?;
        let verdict = want;
        ensure!(attr(b, "[data-testid=run-status]", "data-outcome").await? == "failed", "outcome");
        let title = b.js("return document.title;", vec![]).await?;
        ensure!(
            title.as_str().unwrap_or_default().starts_with(&format!("✕ {verdict}")),
            "tab title {title}"
        );
        ensure!(b.all("[data-testid=start-notice]").await?.is_empty(), "the start notice stayed");
        let progress = b.js(
            "return document.querySelector('[data-testid=updated-ago]').closest('[hidden]') !== null;",
            vec![],
        ).await?;
        ensure!(progress == json!(true), "a final report still shows its progress line");

        // Failures grouped by cause: the distinct headlines, each with its count.
        let want = causes(&report);
        let shown = b.js(
            "return Array.from(document.querySelectorAll('[data-testid=cause]'))
                .map(c => [c.querySelector('[data-testid=cause-headline]').textContent,
                           Number(c.getAttribute('data-count'))]);",
            vec![],
        ).await?;
        let shown: BTreeMap<String, usize> = serde_json::from_value::<Vec<(String, usize)>>(shown)?
            .into_iter()
            .collect();
        ensure!(shown == want, "causes on the page {shown:?}, in the report {want:?}");

        // Picking a cause shows only its tests.
        let (first, n) = want.iter().next().context("a cause")?;
        let button = b.all("[data-testid=cause]").await?;
        let mut picked = None;
        for c in button {
            if c.text().await?.contains(first.as_str()) {
                picked = Some(c);
            }
        }
        picked.context("the cause's button")?.click().await?;
        wait_match_count(b, *n).await?;

        // Re-run: one click starts exactly the failed tests, followed to its report.
        let before = s.front.sent().len();
        b.wait_css("[data-testid=rerun-failed]").await?.click().await?;
        let path = execute_path(&ProjectId::parse(PROJECT)?);
        let start = wait_for("the re-run's start request", PAGE_TIMEOUT, || async {
            Ok(s.front.sent()[before..]
                .iter()
                .find(|r| r.method == "POST" && r.path.starts_with(&path))
                .cloned())
        })
        .await?;
        let body: Value = serde_json::from_str(&start.body)?;
        let mut sent: Vec<String> = serde_json::from_value(body["tests"].clone())
            .with_context(|| format!("a tests list in {body}"))?;
        sent.sort();
        ensure!(sent == failed_ids(&report), "re-run sent {sent:?}");
        let rerun = wait_for("the re-run's report", RUN_TIMEOUT, || async {
            let path = b.path().await?;
            let run = path.split("/runs/").nth(1).unwrap_or_default();
            let run = run.split(['?', '/']).next().unwrap_or_default().to_owned();
            Ok((!run.is_empty() && run != run_id).then_some(run))
        })
        .await?;
        let again = s.sim_report(&rerun).await?;
        ensure!(again.tests.len() == failed as usize, "the re-run holds {} tests", again.tests.len());

        // A link to one test opens the report with that row open and in view.
        let last = report.tests.iter().rev().find(|t| t.status == TestStatus::Passed).context("a passed test")?;
        b.open(&s.url(&format!("/p/{PROJECT}/runs/{run_id}?test={}", last.id))).await?;
        let css = format!("[data-testid=test-row][data-test-id='{}']", last.id);
        wait_for("the linked test open and in view", PAGE_TIMEOUT, || async {
            let state = b.js(
                "const row = document.querySelector(arguments[0]);
                 if (!row) return null;
                 const r = row.getBoundingClientRect();
                 return [row.querySelector('[data-testid=test-toggle]').getAttribute('aria-expanded'),
                         r.top >= 0 && r.top < window.innerHeight];",
                vec![json!(css)],
            ).await?;
            Ok((state == json!(["true", true])).then_some(()))
        })
        .await?;

        // The job's row says how its run ended without opening it, and the start page
        // lists the run among the recent ones.
        b.open(&s.url(&format!("/p/{PROJECT}/jobs"))).await?;
        let outcomes = b.all("[data-testid=job-outcome]").await?;
        let mut texts = Vec::new();
        for o in outcomes {
            texts.push(o.text().await?);
        }
        ensure!(
            texts.iter().any(|t| t.starts_with(&format!("{failed} of {total} failed"))),
            "job rows say {texts:?}"
        );
        open_start(b, s).await?;
        let recent = b.all("[data-testid=recent-run] a").await?;
        let mut links = Vec::new();
        for a in recent {
            links.push(a.attr("href").await?.unwrap_or_default());
        }
        ensure!(links.iter().any(|l| l.contains(&run_id)), "recent runs {links:?}");
        Ok(())
    })
    .await;
}

/// A portal embedding a final report hears `{"runboard":{"type":"finished",…}}` with the
/// outcome and the counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_hears_when_a_run_is_final() {
    let portal = Portal::start().await.expect("portal");
    let options = StackOptions {
        frame_ancestors: vec![portal.origin()],
        ..StackOptions::default()
    };
    scenario("finished_message", options, async |b, s| {
        open_start(b, s).await?;
        click_preset(b, presets::FULL).await?;
        let run_id = wait_for_finished_report(b).await?;
        let report = s.sim_report(&run_id).await?;
        let widget = s.url(&format!("/p/{PROJECT}/runs/{run_id}?embed=1"));
        b.client.goto(&portal.page_url(&widget)).await?;
        let got = wait_for("the finished message", PAGE_TIMEOUT, || async {
            let m = b.js("return window.rbFinished || null;", vec![]).await?;
            Ok((!m.is_null()).then_some(m))
        })
        .await?;
        let failed = report.count(&TestStatus::Failed);
        let want = json!({
            "type": "finished",
            "project": PROJECT,
            "runId": run_id,
            "status": "Completed",
            "outcome": if failed > 0 { "failed" } else { "passed" },
            "total": report.tests.len(),
            "passed": report.count(&TestStatus::Passed),
            "failed": failed,
            "skipped": report.count(&TestStatus::Skipped),
        });
        ensure!(got == want, "portal got {got}, want {want}");
        Ok(())
    })
    .await;
}

/// A reader (who may neither start runs nor triage) opening a run's link gets the report
/// page (`report.html`, the widget without its `full` feature): the verdict, "Re-run
/// failed" disabled with the reason, no serious axe violation; a link to another page
/// loads the full widget, and Back the report page again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_get_the_report_page_and_its_links_load_the_full_widget() {
    let options = StackOptions {
        run_users: Some(vec!["runner@corp.example".into()]),
        identity: Some(Identity {
            email: "runner@corp.example".into(),
            groups: vec![],
        }),
        ..StackOptions::default()
    };
    scenario("rerun_viewer", options, async |b, s| {
        let (run_id, _) = a_failed_run(b, s).await?;
        s.front.set_identity(Some(Identity {
            email: "viewer@corp.example".into(),
            groups: vec![],
        }));
        b.open(&s.url(&format!("/p/{PROJECT}/runs/{run_id}")))
            .await?;
        let button = b.wait_css("[data-testid=rerun-failed]").await?;
        ensure!(
            !button.is_enabled().await?,
            "a viewer's re-run button is enabled"
        );
        let reason = text(b, "[data-testid=rerun-disabled-reason]").await?;
        ensure!(
            reason.contains("may view runs but not start them"),
            "reason {reason:?}"
        );
        let verdict = text(b, "[data-testid=verdict]").await?;
        ensure!(verdict.contains("blocking"), "the verdict {verdict:?}");
        ensure!(
            loaded_wasm(b).await? == page_wasm("report.html")?,
            "the report page's widget"
        );
        let problems = serious_violations(b).await?;
        ensure!(problems.is_empty(), "axe on the report page: {problems:#?}");

        b.wait_css("a[href$='/history']").await?.click().await?;
        b.wait_css("[data-testid=history-preset]").await?;
        ensure!(
            loaded_wasm(b).await? == page_wasm("index.html")?,
            "the full widget's"
        );
        b.js("history.back();", vec![]).await?;
        b.wait_css("[data-testid=rerun-failed]").await?;
        ensure!(
            loaded_wasm(b).await? == page_wasm("report.html")?,
            "the report page again"
        );
        Ok(())
    })
    .await;
}

/// The wasm the document in the browser loaded (its file name).
async fn loaded_wasm(b: &Browser) -> Result<String> {
    let names = b
        .js(
            "return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)
               .filter(p => p.endsWith('.wasm'));",
            vec![],
        )
        .await?;
    let names: Vec<String> = serde_json::from_value(names)?;
    ensure!(names.len() == 1, "one wasm per page, loaded {names:?}");
    Ok(names[0].trim_start_matches('/').to_owned())
}

/// The wasm the built widget's page `file` loads.
fn page_wasm(file: &str) -> Result<String> {
    let html = std::fs::read_to_string(widget_dir().join(file)).context(file.to_owned())?;
    let at = html.find("_bg.wasm").context("no wasm in the page")?;
    let start = html[..at].rfind('/').context("a path")? + 1;
    Ok(html[start..at + "_bg.wasm".len()].to_owned())
}

/// Stands in for the browser's notifications (headless Chromium shows none): records
/// each one in `window.rbNotes`, answers the permission request with
/// `window.rbPermission`, and makes the tab read as hidden.
const FAKE_NOTIFICATIONS: &str = "
    window.rbNotes = [];
    window.rbPermission = 'denied';
    window.Notification = class {
      constructor(title, options) { window.rbNotes.push([title, options.tag]); }
      static get permission() { return window.rbGranted ? 'granted' : 'default'; }
      static requestPermission() {
        window.rbGranted = window.rbPermission === 'granted';
        return Promise.resolve(window.rbPermission);
      }
    };
    Object.defineProperty(document, 'hidden', { get: () => true, configurable: true });";

/// "Notify me when it finishes" on a live report: a refusal is said beside the button,
/// and a grant presses it.
async fn ask_to_be_notified(b: &Browser) -> Result<()> {
    b.js(FAKE_NOTIFICATIONS, vec![]).await?;
    let button = b.wait_css("[data-testid=notify-when-done]").await?;
    button.click().await?;
    let refused = text(b, "[data-testid=notify-refused]").await?;
    ensure!(
        refused.contains("does not allow"),
        "refusal says {refused:?}"
    );
    b.js("window.rbPermission = 'granted';", vec![]).await?;
    button.click().await?;
    wait_for("the button pressed", PAGE_TIMEOUT, || async {
        let pressed = button.attr("aria-pressed").await?;
        Ok((pressed.as_deref() == Some("true")).then_some(()))
    })
    .await?;
    ensure!(
        b.all("[data-testid=notify-refused]").await?.is_empty(),
        "the refusal stays after a grant"
    );
    Ok(())
}

/// While the run is live the verdict counts what is done (and the tab says "Running");
/// once final it says the outcome, and the live-only line is gone. A hidden tab that
/// asked to be told gets one notification with the outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verdict_follows_a_live_run_to_its_outcome() {
    let options = StackOptions {
        sim_speed: 5.0,
        ..StackOptions::default()
    };
    scenario("verdict_live", options, async |b, s| {
        open_start(b, s).await?;
        click_preset(b, presets::FULL).await?;
        let live = wait_for("a live verdict", RUN_TIMEOUT, || async {
            let Some(v) = b.all("[data-testid=verdict]").await?.pop() else {
                return Ok(None);
            };
            let text = v.text().await?;
            Ok(text.starts_with("Running · ").then_some(text))
        })
        .await?;
        // Progress, then what blocks so far once something does.
        let progress = live.split(" · ").take(2).collect::<Vec<_>>().join(" · ");
        ensure!(
            progress.ends_with(" done")
                && progress.contains(" of ")
                && (live == progress || live.ends_with(" blocking so far")),
            "live verdict {live:?}"
        );
        ask_to_be_notified(b).await?;
        let title = b.js("return document.title;", vec![]).await?;
        ensure!(
            title
                .as_str()
                .unwrap_or_default()
                .starts_with("● Running · "),
            "live tab title {title}"
        );
        let run_id = wait_for_finished_report(b).await?;
        let report = s.sim_report(&run_id).await?;
        let (failed, total) = (report.count(&TestStatus::Failed), report.tests.len());
        // The notification goes the moment the report turns final, with the report's
        // own words; the header and the title then say the server's verdict.
        let told = if failed > 0 {
            format!("{failed} of {total} failed")
        } else if report.count(&TestStatus::Passed) as usize == total {
            format!("All {total} passed")
        } else {
            format!(
                "{} of {total} passed · {} skipped",
                report.count(&TestStatus::Passed),
                report.count(&TestStatus::Skipped)
            )
        };
        let want = final_verdict(s, &run_id).await?.headline().text;
        wait_for("the final verdict", PAGE_TIMEOUT, || async {
            Ok((text(b, "[data-testid=verdict]").await? == want).then_some(()))
        })
        .await?;
        let title = b.js("return document.title;", vec![]).await?;
        ensure!(
            title.as_str().unwrap_or_default().contains(&want),
            "final tab title {title}, want {want:?}"
        );
        let notes = b.js("return window.rbNotes;", vec![]).await?;
        let icon = if failed > 0 { "✕" } else { "✓" };
        ensure!(
            notes == json!([[format!("{icon} {told}"), run_id]]),
            "notifications {notes}, want one saying {told:?} for {run_id}"
        );
        Ok(())
    })
    .await;
}
