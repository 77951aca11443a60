//! Triage in headless Chromium against a real `runboard` and simulator (issue 21): a
//! failure quarantined from its row's menu leaves the headline with one blocking failure
//! fewer (the dialog used from the keyboard, its refusal shown next to the field); the
//! status board shows each preset's last verdict; and its wall-screen mode refreshes by
//! itself when a new run starts.

use anyhow::{Context, Result, ensure};
use fantoccini::key::Key;
use runboard_e2e::{
    Browser, Stack, StackOptions,
    axe::serious_violations,
    browser::{PAGE_TIMEOUT, artifacts_dir},
    scenario::{
        a_failed_run, attr, click_preset, final_verdict, open_start, scenario, wait_attr,
        wait_for_report,
    },
    stack::{PROJECT, RUN_TIMEOUT, presets},
    wait_for,
};
use runboard_shared::{
    AgentName, Day, ExecuteRequest, Id, ProjectId, Selector, Target, TestStatus, ToJson,
};
use serde_json::{Value, json};

/// What has the focus: its `data-testid` (or tag) and whether it is inside the dialog.
async fn focus(b: &Browser) -> Result<(String, bool)> {
    let v = b
        .js(
            "const a = document.activeElement;
             return [a ? (a.getAttribute('data-testid') || a.tagName) : '',
                     !!(a && a.closest('dialog[open]'))];",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

async fn press(b: &Browser, key: &str) -> Result<()> {
    b.client.active_element().await?.send_keys(key).await?;
    Ok(())
}

/// The current value of the form control matching `css` (a property, not an attribute).
async fn value(b: &Browser, css: &str) -> Result<String> {
    b.wait_css(css).await?;
    let v = b
        .js(
            "return document.querySelector(arguments[0]).value;",
            vec![json!(css)],
        )
        .await?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

async fn text(b: &Browser, css: &str) -> Result<String> {
    Ok(b.wait_css(css).await?.text().await?)
}

/// Opens the menu of `test`'s row with the keyboard and picks its item `item`
/// (`menu-quarantine`, `menu-known`): the menu takes the focus, ↓ moves, Enter picks,
/// and the dialog then holds the focus.
async fn open_dialog(b: &Browser, test: &str, item: &str) -> Result<()> {
    b.js(
        "const m = Array.from(document.querySelectorAll('[data-testid=row-menu]'))
            .find(m => m.getAttribute('data-for') === arguments[0]);
         m.scrollIntoView({block: 'center'}); m.focus(); return 1;",
        vec![json!(test)],
    )
    .await?;
    press(b, &Key::Enter.to_string()).await?;
    b.wait_css("[data-testid=triage-menu]").await?;
    wait_for("the menu to take the focus", PAGE_TIMEOUT, || async {
        Ok((focus(b).await?.0 == "menu-quarantine").then_some(()))
    })
    .await?;
    if item == "menu-known" {
        press(b, &Key::Down.to_string()).await?;
        ensure!(
            focus(b).await?.0 == "menu-known",
            "↓ moved to {:?}",
            focus(b).await?
        );
    }
    press(b, &Key::Enter.to_string()).await?;
    b.wait_css("dialog[open][data-testid=triage-dialog]")
        .await?;
    wait_for("the dialog to take the focus", PAGE_TIMEOUT, || async {
        Ok(focus(b).await?.1.then_some(()))
    })
    .await
}

/// The blocking count the report's header shows, once it shows one.
async fn blocking_shown(b: &Browser) -> Result<u64> {
    Ok(attr(
        b,
        "[data-testid=run-status][data-blocking]",
        "data-blocking",
    )
    .await?
    .parse()?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_quarantined_from_its_row_menu_leaves_one_blocking_failure_fewer() {
    scenario("triage_quarantine", StackOptions::default(), async |b, s| {
        let (run_id, report) = a_failed_run(b, s).await?;
        let (failed, total) = (report.count(&TestStatus::Failed), report.tests.len());
        let before = final_verdict(s, &run_id).await?;
        ensure!(before.blocking == failed, "without rules every failure blocks: {before:?}");
        wait_for("the verdict in the header", PAGE_TIMEOUT, || async {
            Ok((blocking_shown(b).await? == before.blocking).then_some(()))
        })
        .await?;
        let victim = &before.failures.first().context("a failure")?.test_id;

        // Esc closes a dialog without doing anything, and the focus returns to the menu.
        open_dialog(b, victim, "menu-known").await?;
        let pattern = value(b, "[data-testid=field-match]").await?;
        ensure!(!pattern.is_empty(), "the known issue's text starts from the error");
        press(b, &Key::Escape.to_string()).await?;
        wait_for("Esc to close the dialog", PAGE_TIMEOUT, || async {
            Ok(b.all("dialog[open]").await?.is_empty().then_some(()))
        })
        .await?;
        wait_for("the focus back on the row's menu", PAGE_TIMEOUT, || async {
            Ok((focus(b).await?.0 == "row-menu").then_some(()))
        })
        .await?;

        // A quarantine without a reason is refused next to the reason.
        open_dialog(b, victim, "menu-quarantine").await?;
        let until = value(b, "[data-testid=field-until]").await?;
        ensure!(until.len() == 10, "until starts as a day: {until:?}");
        b.wait_css("[data-testid=dialog-submit]").await?.click().await?;
        let said = wait_for("the reason's message", PAGE_TIMEOUT, || async {
            let said = b
                .js(
                    "const e = document.querySelector('[data-testid=field-error][data-for=rb-q-reason]');
                     return e ? e.textContent : '';",
                    vec![],
                )
                .await?;
            let said = said.as_str().unwrap_or_default().to_owned();
            Ok((!said.is_empty()).then_some(said))
        })
        .await?;
        ensure!(said.contains("why"), "the reason's message {said:?}");
        let invalid = attr(b, "[data-testid=field-reason]", "aria-invalid").await?;
        ensure!(invalid == "true", "the reason is marked invalid: {invalid}");

        // With a reason it is made: the dialog closes, and the headline counts one
        // blocking failure fewer.
        b.wait_css("[data-testid=field-reason]")
            .await?
            .send_keys("flaky payment sandbox")
            .await?;
        b.wait_css("[data-testid=dialog-submit]").await?.click().await?;
        wait_for("the dialog to close", PAGE_TIMEOUT, || async {
            Ok(b.all("dialog[open]").await?.is_empty().then_some(()))
        })
        .await?;
        let fewer = before.blocking - 1;
        wait_for("one blocking failure fewer", PAGE_TIMEOUT, || async {
            Ok((blocking_shown(b).await? == fewer).then_some(()))
        })
        .await?;
        let after = final_verdict(s, &run_id).await?;
        ensure!(after.blocking == fewer, "the server counts {} blocking", after.blocking);
        let headline = text(b, "[data-testid=verdict]").await?;
        let want = if fewer == 0 {
            "No blocking failures · 1 quarantined".to_owned()
        } else {
            format!("{fewer} blocking · {failed} of {total} failed")
        };
        ensure!(headline == want, "headline {headline:?}, want {want:?}");
        ensure!(headline == after.headline().text, "the server's headline {:?}", after.headline().text);
        let class = attr(
            b,
            &format!("[data-testid=test-row][data-test-id='{victim}']"),
            "data-class",
        )
        .await?;
        ensure!(class == "quarantined", "the row's class {class:?}");

        // "Re-run blocking failures" starts the others only; the rule is on the Rules page.
        if fewer > 0 {
            let count = attr(b, "[data-testid=rerun-blocking]", "data-count").await?;
            ensure!(count == fewer.to_string(), "re-run blocking counts {count}");
        }
        b.open(&s.url(&format!("/p/{PROJECT}/rules"))).await?;
        let scope = text(b, "[data-testid=rule-row] [data-testid=rule-scope]").await?;
        ensure!(scope == format!("test {victim}"), "the rule covers {scope:?}");

        // Its end moved from the Rules page: "Extend…" from the keyboard, another day,
        // Save; the row shows the new day and the rule's history says who edited it.
        b.js(
            "document.querySelector('[data-testid=rule-row] [data-testid=rule-edit]').focus();",
            vec![],
        )
        .await?;
        press(b, &Key::Enter.to_string()).await?;
        b.wait_css("dialog[open][data-testid=rule-edit-dialog]")
            .await?;
        let violations = serious_violations(b).await?;
        ensure!(violations.is_empty(), "the edit dialog: {violations:?}");
        let was = value(b, "[data-testid=field-until]").await?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
        let today = Day::from_epoch_ms(i64::try_from(now.as_millis())?);
        let moved = [2, 3]
            .map(|days| today.plus_days(days).to_string())
            .into_iter()
            .find(|day| *day != was)
            .context("a day other than the current end")?;
        b.js(
            "const field = document.querySelector('[data-testid=field-until]');
             field.value = arguments[0];
             field.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![json!(moved)],
        )
        .await?;
        b.wait_css("[data-testid=rule-edit-dialog] [data-testid=dialog-submit]")
            .await?
            .click()
            .await?;
        wait_for("the row to show the new end", PAGE_TIMEOUT, || async {
            let until = text(b, "[data-testid=rule-row] [data-testid=rule-until]").await?;
            Ok(until.ends_with(&moved).then_some(()))
        })
        .await?;
        let rules = Target::Rules(ProjectId::parse(PROJECT)?, Default::default()).path();
        let http = reqwest::Client::builder().no_proxy().build()?;
        let edited = http.get(s.url(&rules)).send().await?.text().await?;
        ensure!(
            edited.contains("\"edited\"") && edited.contains(&moved),
            "the rule's history: {edited}"
        );
        b.screenshot(&artifacts_dir().join("screens/rules.png"))
            .await?;
        Ok(())
    })
    .await;
}

/// Starts `preset` from the start page and leaves once its report opens (the ledger
/// follows it to its end); waits for the platform to finish it; returns the run id.
async fn run_preset(b: &Browser, s: &Stack, preset: &str) -> Result<String> {
    open_start(b, s).await?;
    click_preset(b, preset).await?;
    let run = wait_for_report(b).await?;
    wait_for("the run to end on the platform", RUN_TIMEOUT, || async {
        Ok((s.sim_report(&run).await?.status.as_str() == "Completed").then_some(()))
    })
    .await?;
    Ok(run)
}

/// The board's tiles as (preset, last run, outcome, blocking).
async fn tiles(b: &Browser) -> Result<Vec<(String, String, String, Option<String>)>> {
    let v = b
        .js(
            "return Array.from(document.querySelectorAll('[data-testid=board-tile]')).map(t =>
               [t.getAttribute('data-preset'), t.getAttribute('data-run'),
                t.getAttribute('data-outcome'), t.getAttribute('data-blocking')]);",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_board_shows_each_presets_last_verdict() {
    let options = StackOptions {
        ledger_follow: true,
        ..StackOptions::default()
    };
    scenario("board", options, async |b, s| {
        let mut want = Vec::new();
        for preset in [presets::FULL, presets::SMOKE] {
            let run = run_preset(b, s, preset).await?;
            let report = s.sim_report(&run).await?;
            let failed = report.count(&TestStatus::Failed);
            let outcome = if failed > 0 { "failed" } else { "passed" };
            want.push((
                preset.to_owned(),
                run,
                outcome.to_owned(),
                Some(failed.to_string()),
            ));
        }
        b.open(&s.url("/")).await?;
        let shown = wait_for("each preset's last verdict", RUN_TIMEOUT, || async {
            let shown = tiles(b).await?;
            let mine: Vec<_> = shown
                .iter()
                .filter(|t| t.0 != presets::OFFLINE)
                .cloned()
                .collect();
            Ok((mine == want).then_some(shown))
        })
        .await?;
        // The preset never run says so.
        let offline = shown
            .iter()
            .find(|t| t.0 == presets::OFFLINE)
            .context("the offline preset's tile")?;
        ensure!(
            offline.1.is_empty() && offline.2 == "other",
            "offline tile {offline:?}"
        );
        for (preset, _, outcome, blocking) in &want {
            let words = text(
                b,
                &format!(
                    "[data-testid=board-tile][data-preset='{preset}'] [data-testid=tile-verdict]"
                ),
            )
            .await?;
            let expected = if outcome == "failed" {
                format!("{} blocking", blocking.as_deref().unwrap_or_default())
            } else {
                "passed".to_owned()
            };
            ensure!(
                words.contains(&expected),
                "{preset}: {words:?}, want {expected:?}"
            );
        }
        // The chrome links the board; the page's own start view stays where it was.
        ensure!(
            !b.all("[data-testid=nav-board]").await?.is_empty(),
            "the brand links the board"
        );
        b.screenshot(&artifacts_dir().join("screens/board.png"))
            .await?;
        Ok(())
    })
    .await;
}

/// Starts the full regression as a script would, through the front door, with the
/// preset's own selector and agent (so the ledger files it under the preset).
async fn start_full_regression(s: &Stack) -> Result<String> {
    let feature = s
        .catalog
        .all_feature()
        .context("the catalog's all-tests feature")?;
    let request = ExecuteRequest::new(
        Selector::Feature(Id::parse("featureId", feature.id.as_str())?),
        Some(AgentName::parse("staging-agent")?),
    );
    let path = Target::Execute(ProjectId::parse(PROJECT)?).path();
    let http = reqwest::Client::builder().no_proxy().build()?;
    let answer: Value = http
        .post(s.url(&path))
        .header("Content-Type", "application/json")
        .body(request.to_json())
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(answer["jobId"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_boards_tv_mode_refreshes_by_itself() {
    let options = StackOptions {
        ledger_follow: true,
        ..StackOptions::default()
    };
    scenario("board_tv", options, async |b, s| {
        b.open(&s.url("/board?tv=1")).await?;
        b.wait_css("[data-testid=board-tile]").await?;
        ensure!(
            b.all(".rb-header, .rb-nav").await?.is_empty(),
            "the wall screen shows no chrome"
        );
        ensure!(
            attr(b, "[data-testid=board]", "data-tv").await? == "1",
            "tv mode"
        );
        let said = text(b, "[data-testid=board-updated]").await?;
        ensure!(
            said.contains("Refreshes by itself"),
            "the board says it refreshes: {said:?}"
        );
        let full = format!("[data-testid=board-tile][data-preset='{}']", presets::FULL);
        ensure!(
            attr(b, &full, "data-run").await?.is_empty(),
            "nothing ran yet"
        );
        // Marks this document: a reload would lose it.
        b.js("window.rbSameDocument = true; return 1;", vec![])
            .await?;

        let job = start_full_regression(s).await?;
        ensure!(!job.is_empty(), "the start answered a job");
        // The board sees the run going on, then its verdict, by itself.
        wait_for("the run going on, on the board", RUN_TIMEOUT, || async {
            Ok((!b
                .all(&format!("{full} [data-testid=tile-live]"))
                .await?
                .is_empty()
                || !attr(b, &full, "data-run").await?.is_empty())
            .then_some(()))
        })
        .await?;
        let run = wait_for("the run's verdict, on the board", RUN_TIMEOUT, || async {
            let run = attr(b, &full, "data-run").await?;
            Ok((!run.is_empty()
                && b.all(&format!("{full} [data-testid=tile-live]"))
                    .await?
                    .is_empty())
            .then_some(run))
        })
        .await?;
        let verdict = final_verdict(s, &run).await?;
        wait_attr(
            b,
            &full,
            "data-outcome",
            verdict.status.as_str(),
            RUN_TIMEOUT,
        )
        .await?;
        let same = b
            .js("return window.rbSameDocument === true;", vec![])
            .await?;
        ensure!(
            same == json!(true),
            "the board reloaded instead of refreshing"
        );
        Ok(())
    })
    .await;
}
