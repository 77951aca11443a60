//! The steps browser scenarios share: the scenario frame (stack, browser, the canary and
//! credential checks after every scenario, a screenshot on failure) and the waits and
//! reads on the widget's pages that several scenarios use.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use fantoccini::{Locator, key::Key};
use runboard_shared::{ProjectId, RunId, Target, TestRun, TestStatus, Verdict, VerdictStatus};

use crate::{
    Browser, Stack, StackOptions,
    browser::{PAGE_TIMEOUT, artifacts_dir},
    stack::{PROJECT, RUN_TIMEOUT, presets, require_widget},
    wait_for,
};

/// Starts a stack and a browser, runs `body`, checks for the canary and that every
/// forwarded call carried only the configured key, and always cleans up; a failure leaves
/// a screenshot in `e2e-artifacts/NAME.png`.
pub async fn scenario(
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
    if outcome.is_ok() {
        outcome = stack.check_forwarded_credentials().await.map(|_| ());
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
pub async fn no_canary_anywhere(browser: &Browser, stack: &Stack) -> Result<()> {
    let recorded = String::from_utf8_lossy(&stack.front.recorded()).into_owned();
    ensure!(
        !recorded.is_empty(),
        "the front door recorded the browser's traffic"
    );
    ensure!(
        !recorded.to_ascii_lowercase().contains("content-encoding:"),
        "responses must be recorded uncompressed for the search to mean anything"
    );
    ensure!(
        !recorded.contains(&stack.key),
        "the key appeared in a response to the browser"
    );
    no_canary_in_document(browser, &stack.key).await
}

/// The key is not in the current document (page or frame), its storage or its cookies.
pub async fn no_canary_in_document(browser: &Browser, key: &str) -> Result<()> {
    let page = browser.client.source().await?;
    ensure!(!page.contains(key), "the key appeared in the page");
    let storage = browser
        .js(
            "return JSON.stringify([Object.assign({}, window.localStorage),
                Object.assign({}, window.sessionStorage), document.cookie]);",
            vec![],
        )
        .await?;
    let storage = storage.as_str().context("storage as text")?;
    ensure!(
        !storage.contains(key),
        "the key appeared in browser storage"
    );
    let cookies = format!("{:?}", browser.client.get_all_cookies().await?);
    ensure!(!cookies.contains(key), "the key appeared in a cookie");
    Ok(())
}

/// Opens the project's start page.
pub async fn open_start(browser: &Browser, stack: &Stack) -> Result<()> {
    browser
        .open(&stack.url(&format!("/p/{PROJECT}/start")))
        .await
}

/// Clicks the preset named `name` once it is enabled.
pub async fn click_preset(browser: &Browser, name: &str) -> Result<()> {
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
pub async fn wait_for_report(browser: &Browser) -> Result<String> {
    let path = wait_for("the run report to open", RUN_TIMEOUT, || async {
        let path = browser.path().await?;
        Ok(path.contains("/runs/").then_some(path))
    })
    .await?;
    let run = path.split("/runs/").nth(1).unwrap_or_default();
    Ok(run.split(['?', '/']).next().unwrap_or_default().to_owned())
}

/// Waits until the run report shows a finished run.
pub async fn wait_run_completed(browser: &Browser) -> Result<()> {
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
pub async fn wait_for_finished_report(browser: &Browser) -> Result<String> {
    let run_id = wait_for_report(browser).await?;
    wait_run_completed(browser).await?;
    Ok(run_id)
}

/// Attribute `name` of the first element matching `css`, once there is one.
pub async fn attr(browser: &Browser, css: &str, name: &str) -> Result<String> {
    browser
        .wait_css(css)
        .await?
        .attr(name)
        .await?
        .with_context(|| format!("{css} has {name}"))
}

/// Waits until the first element matching `css` has `name` = `want`.
pub async fn wait_attr(
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

/// Erases `typed` from the search box as a person would: WebDriver's clear() fires no
/// input event.
pub async fn erase(b: &Browser, typed: &str) -> Result<()> {
    let erase = Key::Backspace.to_string().repeat(typed.chars().count());
    b.wait_css("input[data-testid=search]")
        .await?
        .send_keys(&erase)
        .await?;
    Ok(())
}

/// How many tests the run report says match the filter and search.
pub async fn match_count(browser: &Browser) -> Result<usize> {
    Ok(attr(browser, "[data-testid=match-count]", "data-count")
        .await?
        .parse()?)
}

/// Waits until the run report says `want` tests match.
pub async fn wait_match_count(browser: &Browser, want: usize) -> Result<()> {
    wait_for(&format!("{want} matching tests"), PAGE_TIMEOUT, || async {
        Ok((match_count(browser).await? == want).then_some(()))
    })
    .await
}

/// The visible test rows as (test id, status).
pub async fn visible_rows(browser: &Browser) -> Result<Vec<(String, String)>> {
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

/// Starts the full regression until a run with failures comes out (the simulator's
/// failures are random); returns its run id and report, with its report open.
pub async fn a_failed_run(b: &Browser, s: &Stack) -> Result<(String, TestRun)> {
    for _ in 0..4 {
        open_start(b, s).await?;
        click_preset(b, presets::FULL).await?;
        let run_id = wait_for_finished_report(b).await?;
        let report = s.sim_report(&run_id).await?;
        if report.count(&TestStatus::Failed) > 0 {
            return Ok((run_id, report));
        }
    }
    anyhow::bail!("four full regressions in a row passed")
}

/// The server's verdict of `run_id` (`GET /runboard/verdict/…` through the front door),
/// once it is final.
pub async fn final_verdict(s: &Stack, run_id: &str) -> Result<Verdict> {
    let path = Target::Verdict(ProjectId::parse(PROJECT)?, RunId::parse(run_id)?).path();
    let http = reqwest::Client::builder().no_proxy().build()?;
    wait_for("the run's final verdict", RUN_TIMEOUT, || async {
        let response = http.get(s.url(&path)).send().await?;
        ensure!(
            response.status().is_success(),
            "the verdict answered {}",
            response.status()
        );
        let verdict: Verdict = response.json().await?;
        Ok((verdict.status != VerdictStatus::Running).then_some(verdict))
    })
    .await
}
