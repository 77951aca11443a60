//! Accessibility and narrow frames, in headless Chromium: axe-core finds no serious or
//! critical violation on the start, jobs, history, run report, rules and status board
//! views (and the board's wall-screen mode, and a report's triage dialog) in light and
//! dark (each page first shown to really be in that theme), and at 360, 700 and 1280 px
//! nothing scrolls sideways and no test title is cut short; the triage menu and dialog
//! work from the keyboard.

use anyhow::{Result, bail, ensure};
use fantoccini::key::Key;
use runboard_e2e::{
    Browser, Stack, StackOptions,
    axe::{axe_catches_a_planted_violation, layout_problems, serious_violations},
    browser::PAGE_TIMEOUT,
    scenario::{click_preset, open_start, scenario, visible_rows, wait_for_finished_report},
    stack::{PROJECT, presets},
    wait_for,
};
use runboard_shared::{ProjectId, Target, TestStatus};
use serde_json::json;

/// The views, with a failed test's row open on the report, the history filtered to the
/// run's preset, and the rules with the expired ones.
fn pages(run_id: &str, failed: Option<&str>) -> Vec<(String, String)> {
    let test = failed.map(|t| format!("&test={t}")).unwrap_or_default();
    vec![
        ("start".into(), format!("/p/{PROJECT}/start?")),
        ("jobs".into(), format!("/p/{PROJECT}/jobs?")),
        (
            "history".into(),
            format!("/p/{PROJECT}/history?preset=Full%20regression&"),
        ),
        (
            "report".into(),
            format!("/p/{PROJECT}/runs/{run_id}?{test}"),
        ),
        (
            "rules".into(),
            format!("/p/{PROJECT}/rules?include=expired&"),
        ),
        (
            "notifications".into(),
            format!("/p/{PROJECT}/notifications?"),
        ),
        ("board".into(), "/?".into()),
        ("board-tv".into(), "/board?tv=1&".into()),
    ]
}

/// The ledger follows runs to their end, so the board shows the run's verdict.
fn recorded() -> StackOptions {
    StackOptions {
        ledger_follow: true,
        ..StackOptions::default()
    }
}

/// Makes one rule, so the rules page has a row to check: a known issue no error
/// matches, which changes no verdict.
async fn a_rule(s: &Stack) -> Result<()> {
    let path = Target::RuleCreate(ProjectId::parse(PROJECT)?).path();
    let body = json!({"kind": "known", "match": "no error says this", "regex": false,
        "note": "checked by axe", "link": "https://tickets.example/1", "blocks": true});
    reqwest::Client::builder()
        .no_proxy()
        .build()?
        .post(s.url(&path))
        .json(&body)
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

async fn finished_run(b: &Browser, s: &Stack) -> Result<(String, Option<String>)> {
    open_start(b, s).await?;
    click_preset(b, presets::FULL).await?;
    let run_id = wait_for_finished_report(b).await?;
    let report = s.sim_report(&run_id).await?;
    let failed = report
        .tests
        .iter()
        .find(|t| t.status == TestStatus::Failed)
        .map(|t| t.id.clone());
    a_rule(s).await?;
    Ok((run_id, failed))
}

/// Opens `path` and waits for its main content.
async fn show(b: &Browser, s: &Stack, name: &str, path: &str) -> Result<()> {
    b.open(&s.url(path)).await?;
    let css = match name {
        "start" => "[data-testid=preset]",
        "jobs" => "[data-testid=job-row]",
        "history" => "[data-testid=history-row]",
        "rules" => "[data-testid=rule-row]",
        // The demo stack configures no channel: the page says so.
        "notifications" => "[data-testid=notifications-none]",
        "board" | "board-tv" => "[data-testid=board-tile][data-run]:not([data-run=''])",
        _ => "[data-testid=test-row]",
    };
    b.wait_css(css).await?;
    Ok(())
}

/// The theme a page shows: `data-theme` on `<html>`, its computed `color-scheme`, and
/// the relative luminance of the body's background (0 black, 1 white).
async fn theme_shown(b: &Browser) -> Result<(Option<String>, String, f64)> {
    let v = b
        .js(
            "const root = document.documentElement;
             const bg = getComputedStyle(document.body).backgroundColor;
             const [r, g, b] = (bg.match(/[0-9.]+/g) || [0, 0, 0]).map(Number);
             const lin = c => (c /= 255) <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
             return [root.getAttribute('data-theme'), getComputedStyle(root).colorScheme,
                     0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)];",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// Fails unless the page really shows `theme`, so that a `?theme=dark` the widget ignored
/// cannot have axe-core check the light theme twice: the attribute the stylesheet
/// reads, the colour scheme it sets, and a background on the theme's side of grey.
async fn themed(b: &Browser, page: &str, theme: &str) -> Result<()> {
    let shown = wait_for(
        &format!("{page} in the {theme} theme"),
        PAGE_TIMEOUT,
        || async {
            let (attribute, scheme, luminance) = theme_shown(b).await?;
            let dark = luminance < 0.5;
            let right =
                attribute.as_deref() == Some(theme) && scheme == theme && dark == (theme == "dark");
            Ok(right.then_some(()))
        },
    )
    .await;
    if shown.is_err() {
        let seen = theme_shown(b).await?;
        bail!(
            "{page} asked for ?theme={theme} shows (data-theme, color-scheme, background \
             luminance) = {seen:?}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_view_passes_axe_in_light_and_dark() {
    scenario("axe", recorded(), async |b, s| {
        let (run_id, failed) = finished_run(b, s).await?;
        ensure!(
            axe_catches_a_planted_violation(b).await?,
            "axe-core did not report a planted low-contrast text"
        );
        let mut problems = Vec::new();
        for theme in ["light", "dark"] {
            for (name, path) in pages(&run_id, failed.as_deref()) {
                show(b, s, &name, &format!("{path}&theme={theme}")).await?;
                themed(b, &name, theme).await?;
                for v in serious_violations(b).await? {
                    problems.push(format!("{name} ({theme}): {v}"));
                }
            }
            // The triage dialog, open over a failed row's report.
            if let Some(test) = failed.as_deref() {
                show(
                    b,
                    s,
                    "report",
                    &format!("/p/{PROJECT}/runs/{run_id}?theme={theme}"),
                )
                .await?;
                open_triage_dialog(b, test).await?;
                for v in serious_violations(b).await? {
                    problems.push(format!("triage dialog ({theme}): {v}"));
                }
            }
        }
        ensure!(
            problems.is_empty(),
            "axe-core found:\n{}",
            problems.join("\n")
        );
        keyboard(b, s, &run_id).await?;
        match failed.as_deref() {
            Some(test) => triage_keyboard(b, s, &run_id, test).await,
            None => Ok(()),
        }
    })
    .await;
}

/// Opens the quarantine dialog of `test`'s row with the mouse, once the verdict gave the
/// row its menu.
async fn open_triage_dialog(b: &Browser, test: &str) -> Result<()> {
    b.wait_css(&format!("[data-testid=row-menu][data-for='{test}']"))
        .await?
        .click()
        .await?;
    b.wait_css("[data-testid=menu-quarantine]")
        .await?
        .click()
        .await?;
    b.wait_css("dialog[open] [data-testid=field-reason]")
        .await?;
    Ok(())
}

/// The triage menu and dialog from the keyboard: Enter on a failed row's "⋯" opens the
/// menu with the focus on its first item, ↓ and ↑ move, Esc closes it and the focus
/// returns to "⋯"; Enter on an item opens the dialog with the focus inside, Tab moves
/// among its fields, Esc closes it and the focus returns to "⋯".
async fn triage_keyboard(b: &Browser, s: &Stack, run_id: &str, test: &str) -> Result<()> {
    b.open(&s.url(&format!("/p/{PROJECT}/runs/{run_id}")))
        .await?;
    let menu = format!("[data-testid=row-menu][data-for='{test}']");
    b.wait_css(&menu).await?;
    let at = || async {
        let v = b
            .js(
                "const a = document.activeElement;
                 return [a ? (a.getAttribute('data-testid') || a.tagName) : '', !!(a && a.closest('dialog[open]'))];",
                vec![],
            )
            .await?;
        Ok::<(String, bool), anyhow::Error>(serde_json::from_value(v)?)
    };
    b.js(
        "document.querySelector(arguments[0]).focus(); return 1;",
        vec![json!(menu)],
    )
    .await?;
    press(b, Key::Enter).await?;
    wait_for("the menu's first item focused", PAGE_TIMEOUT, || async {
        Ok((at().await?.0 == "menu-quarantine").then_some(()))
    })
    .await?;
    press(b, Key::Down).await?;
    ensure!(at().await?.0 == "menu-known", "↓ in the menu");
    press(b, Key::Up).await?;
    ensure!(at().await?.0 == "menu-quarantine", "↑ in the menu");
    press(b, Key::Escape).await?;
    wait_for("Esc to close the menu", PAGE_TIMEOUT, || async {
        Ok(
            (b.all("[data-testid=triage-menu]").await?.is_empty() && at().await?.0 == "row-menu")
                .then_some(()),
        )
    })
    .await?;
    press(b, Key::Enter).await?;
    wait_for("the menu again", PAGE_TIMEOUT, || async {
        Ok((at().await?.0 == "menu-quarantine").then_some(()))
    })
    .await?;
    press(b, Key::Enter).await?;
    wait_for("the focus in the dialog", PAGE_TIMEOUT, || async {
        Ok(at().await?.1.then_some(()))
    })
    .await?;
    for _ in 0..3 {
        press(b, Key::Tab).await?;
        ensure!(at().await?.1, "Tab left the dialog for {:?}", at().await?.0);
    }
    press(b, Key::Escape).await?;
    wait_for(
        "Esc to close the dialog, the focus back on ⋯",
        PAGE_TIMEOUT,
        || async {
            Ok(
                (b.all("dialog[open]").await?.is_empty() && at().await?.0 == "row-menu")
                    .then_some(()),
            )
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn narrow_frames_neither_scroll_sideways_nor_cut_titles() {
    scenario("narrow", recorded(), async |b, s| {
        let (run_id, failed) = finished_run(b, s).await?;
        let mut problems = Vec::new();
        for width in [360, 700, 1280] {
            b.client.set_window_size(width, 900).await?;
            for (name, path) in pages(&run_id, failed.as_deref()) {
                show(b, s, &name, &path).await?;
                for p in layout_problems(b).await? {
                    problems.push(format!("{name} at {width} px: {p}"));
                }
            }
        }
        ensure!(problems.is_empty(), "{}", problems.join("\n"));
        Ok(())
    })
    .await;
}

/// What has the keyboard focus: its test id (or tag), its row's test id, `aria-expanded`.
async fn focused(b: &Browser) -> Result<(Option<String>, Option<String>, Option<String>)> {
    let v = b
        .js(
            "const a = document.activeElement;
             const row = a && a.closest('[data-testid=test-row]');
             return [a ? (a.getAttribute('data-testid') || a.tagName) : null,
                     row ? row.getAttribute('data-test-id') : null,
                     a ? a.getAttribute('aria-expanded') : null];",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

async fn press(b: &Browser, key: Key) -> Result<()> {
    b.client
        .active_element()
        .await?
        .send_keys(&key.to_string())
        .await?;
    Ok(())
}

/// On the report: ↑/↓ move between rows, Enter opens a row, Esc closes it, and `/`
/// focuses the search.
async fn keyboard(b: &Browser, s: &Stack, run_id: &str) -> Result<()> {
    b.open(&s.url(&format!("/p/{PROJECT}/runs/{run_id}")))
        .await?;
    b.wait_css("[data-testid=test-toggle]").await?;
    let rows = visible_rows(b).await?;
    ensure!(rows.len() >= 2, "two rows at least");
    b.js(
        "document.querySelector('[data-testid=test-toggle]').focus(); return 1;",
        vec![],
    )
    .await?;
    press(b, Key::Down).await?;
    let (what, row, _) = focused(b).await?;
    ensure!(
        what.as_deref() == Some("test-toggle") && row.as_deref() == Some(rows[1].0.as_str()),
        "↓ moved to {what:?} {row:?}"
    );
    press(b, Key::Enter).await?;
    wait_for("Enter to open the row", PAGE_TIMEOUT, || async {
        Ok((focused(b).await?.2.as_deref() == Some("true")).then_some(()))
    })
    .await?;
    press(b, Key::Escape).await?;
    wait_for("Esc to close the row", PAGE_TIMEOUT, || async {
        Ok((focused(b).await?.2.as_deref() == Some("false")).then_some(()))
    })
    .await?;
    press(b, Key::Up).await?;
    let (_, row, _) = focused(b).await?;
    ensure!(
        row.as_deref() == Some(rows[0].0.as_str()),
        "↑ moved to {row:?}"
    );
    b.js("document.activeElement.blur(); return 1;", vec![])
        .await?;
    b.client.active_element().await?.send_keys("/").await?;
    let (what, _, _) = focused(b).await?;
    ensure!(what.as_deref() == Some("search"), "/ focused {what:?}");
    Ok(())
}
