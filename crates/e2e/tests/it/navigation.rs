//! Moving around the widget as people do, in headless Chromium against a real `runboard`
//! and simulator: the browser's Back and Forward between views (the widget's own router,
//! without reloading the page, and a followed job is not followed again), and a row's copy-link, which copies a `?test=` link
//! that opens that test, and falls back to a prompt when the clipboard refuses.

use anyhow::{Context, Result, ensure};
use fantoccini::Locator;
use runboard_e2e::{
    Browser,
    browser::PAGE_TIMEOUT,
    scenario::{click_preset, open_start, scenario, wait_for_finished_report},
    stack::{PROJECT, presets},
    wait_for,
};
use serde_json::{Value, json};

/// Waits until the page's address is `path` (and query) and it shows an element
/// matching `css`.
async fn wait_view(b: &Browser, path: &str, css: &str) -> Result<()> {
    let waited = wait_for(&format!("{path} showing {css}"), PAGE_TIMEOUT, || async {
        let here = b.path().await?;
        let shown = !b.all(css).await?.is_empty();
        Ok((here == path && shown).then_some(()))
    })
    .await;
    match waited {
        Ok(()) => Ok(()),
        Err(e) => Err(e.context(format!("the page is at {}", b.path().await?))),
    }
}

/// A mark set on `window`: it survives only as long as the page is not reloaded.
async fn page_mark(b: &Browser) -> Result<Value> {
    b.js("return window.__rbMark ?? null;", vec![]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_and_forward_move_between_views_without_a_reload() {
    scenario("back_forward", Default::default(), async |b, s| {
        open_start(b, s).await?;
        b.js("window.__rbMark = 'same page';", vec![]).await?;
        click_preset(b, presets::FULL).await?;
        wait_for_finished_report(b).await?;
        let start = format!("/p/{PROJECT}/start");
        let run = b.path().await?;
        let jobs = format!("/p/{PROJECT}/jobs");
        b.client
            .find(Locator::Css(&format!("nav a[href='{jobs}']")))
            .await?
            .click()
            .await?;
        wait_view(b, &jobs, "[data-testid=job-row]").await?;

        // The way here: start, the jobs list the start led to (which followed the job
        // into its report), the report, the jobs list again by its link.
        b.client.back().await?;
        wait_view(b, &run, "[data-testid=run-status][data-status=Completed]").await?;
        // Back on the jobs list the start led to: it does not follow the job again.
        b.client.back().await?;
        wait_view(b, &jobs, "[data-testid=job-row]").await?;
        b.client.back().await?;
        wait_view(b, &start, "[data-testid=preset]").await?;
        b.client.forward().await?;
        wait_view(b, &jobs, "[data-testid=job-row]").await?;
        b.client.forward().await?;
        wait_view(b, &run, "[data-testid=test-row]").await?;
        b.client.forward().await?;
        wait_view(b, &jobs, "[data-testid=job-row]").await?;
        ensure!(
            page_mark(b).await? == json!("same page"),
            "Back and Forward reloaded the page"
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_copies_a_link_that_opens_its_test() {
    scenario("row_copy_link", Default::default(), async |b, s| {
        open_start(b, s).await?;
        click_preset(b, presets::FULL).await?;
        let run_id = wait_for_finished_report(b).await?;
        // Record what is written to the clipboard (headless Chromium has none to read).
        b.js(
            "window.__rbCopied = [];
             navigator.clipboard.writeText = text => {
               window.__rbCopied.push(text);
               return Promise.resolve();
             };",
            vec![],
        )
        .await?;
        let row = b.wait_css("[data-testid=test-row]").await?;
        let test_id = row.attr("data-test-id").await?.context("a row's test id")?;
        row.find(Locator::Css("[data-testid=row-copy-link]"))
            .await?
            .click()
            .await?;
        wait_for("the row to say Copied", PAGE_TIMEOUT, || async {
            let said = row
                .find(Locator::Css("[data-testid=row-link-copied]"))
                .await?
                .text()
                .await?;
            Ok((said == "Copied").then_some(()))
        })
        .await?;
        let copied = b
            .js(
                "return window.__rbCopied.map(link => {
                   const url = new URL(link);
                   return [url.origin === location.origin, url.pathname, url.searchParams.get('test')];
                 });",
                vec![],
            )
            .await?;
        let path = format!("/p/{PROJECT}/runs/{run_id}");
        ensure!(
            copied == json!([[true, path, test_id]]),
            "copied {copied}, wanted a link to {path}?test={test_id}"
        );
        let link = b.js("return window.__rbCopied[0];", vec![]).await?;
        let link = link.as_str().context("the copied link")?;
        let expanded = row
            .find(Locator::Css("[data-testid=test-toggle]"))
            .await?
            .attr("aria-expanded")
            .await?;
        ensure!(
            expanded.as_deref() == Some("false"),
            "copying the link opened the row"
        );

        // The copied link opens the report with that test open.
        b.open(link).await?;
        let css = format!("[data-testid=test-row][data-test-id='{test_id}'] [data-testid=test-toggle][aria-expanded=true]");
        b.wait_css(&css).await?;
        // The server wrote the verdict line into this page (a finished run); the widget's
        // own header replaced it: one verdict on screen, not two.
        let headers = b
            .js(
                "return [document.getElementById(arguments[0]) === null,
                         document.querySelectorAll('[data-testid=run-status]').length];",
                vec![json!(runboard_shared::FIRST_PAINT_ID)],
            )
            .await?;
        ensure!(
            headers == json!([true, 1]),
            "after the widget's header: {headers} (first paint removed, run-status count)"
        );
        let served = b
            .client
            .execute_async(
                "const [id, done] = arguments;
                 fetch(location.pathname).then(r => r.text()).then(t => done(t.includes(id)));",
                vec![json!(runboard_shared::FIRST_PAINT_ID)],
            )
            .await?;
        ensure!(served == json!(true), "the page was sent without its verdict line");

        // A clipboard that refuses: the link is offered in the browser's prompt instead.
        b.js(
            "navigator.clipboard.writeText = () => Promise.reject(new Error('denied'));",
            vec![],
        )
        .await?;
        b.wait_css("[data-testid=row-copy-link]")
            .await?
            .click()
            .await?;
        let asked = wait_for("the prompt with the link", PAGE_TIMEOUT, || async {
            Ok(b.client.get_alert_text().await.ok())
        })
        .await?;
        ensure!(asked == "Copy this link:", "the prompt said {asked:?}");
        b.client.dismiss_alert().await?;
        Ok(())
    })
    .await;
}
