//! The verdict line written into a run report's page (`static_files/first_paint.rs`),
//! over a real socket against the simulator: the page of a finished run carries the
//! verdict the verdict route answers, in the widget's header markup; a page of a run the
//! platform does not know, a hostile address, a HEAD and a request without the identity
//! header mode needs get the plain page, and the last makes no upstream call at all.

use runboard_proxy::config::AuthMode;
use runboard_shared::{ProjectId, RunId, RunPage, Target, Verdict};

use crate::common::{self, Harness, PROJECT};

/// The id the widget removes once its own header shows (`components/summary.rs`).
const LINE_ID: &str = "id=\"rb-first-paint\"";

/// A run id of the right shape that the simulator never issued.
const UNKNOWN_RUN: &str = "67f8cb3fe236b8d41b7700ad";

/// A harness whose Runboard serves a minimal widget page from a folder.
async fn start(adjust: impl FnOnce(&mut runboard_proxy::Config)) -> (Harness, tempfile::TempDir) {
    let widget = tempfile::tempdir().unwrap();
    let page = "<!doctype html><html><head><title>Runboard</title></head><body>\
                <noscript>Runboard needs JavaScript.</noscript></body></html>";
    std::fs::write(widget.path().join("index.html"), page).unwrap();
    let dir = widget.path().to_owned();
    let h = common::start(|config| {
        config.widget_dir = Some(dir);
        adjust(config);
    })
    .await;
    (h, widget)
}

/// The address of `run`'s report page.
fn page_of(run: &str) -> String {
    RunPage {
        project: ProjectId::parse(PROJECT).unwrap(),
        run: RunId::parse(run).unwrap(),
    }
    .path()
}

/// `GET path` as a browser asks for a page: status and HTML.
async fn page(h: &Harness, path: &str) -> (u16, String) {
    let response = h.client.get(h.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_finished_runs_page_carries_the_verdict_the_route_answers() {
    let (h, _widget) = start(|_| {}).await;
    let run = h.finished_run().await;
    let target = Target::Verdict(common::project_id(), RunId::parse(&run).unwrap());
    let (status, verdict) = h.get(&target.path()).await;
    assert_eq!(status, 200, "{verdict}");
    let verdict: Verdict = serde_json::from_value(verdict).unwrap();
    let headline = verdict.headline();

    let (status, html) = page(&h, &page_of(&run)).await;
    assert_eq!(status, 200);
    assert_eq!(html.matches(LINE_ID).count(), 1, "{html}");
    let outcome = if verdict.blocking > 0 {
        "failed"
    } else {
        "passed"
    };
    for expected in [
        "data-testid=\"run-status\"".to_owned(),
        format!("data-outcome=\"{outcome}\""),
        format!("data-blocking=\"{}\"", verdict.blocking),
        format!("<span data-testid=\"verdict\">{}</span>", headline.text),
    ] {
        assert!(html.contains(&expected), "{expected} in {html}");
    }
    // The line comes first in the body, before anything the widget adds.
    assert!(html.find("<body>").unwrap() < html.find(LINE_ID).unwrap());
    assert!(!html.contains(common::KEY));

    // A HEAD, and any other page, is the plain page.
    let head = h.client.head(h.url(&page_of(&run))).send().await.unwrap();
    assert_eq!(head.status(), 200);
    let (_, start_page) = page(&h, "/").await;
    assert!(!start_page.contains(LINE_ID));
    h.stop().await;
}

#[tokio::test]
async fn a_run_the_platform_does_not_know_or_a_hostile_address_gets_the_plain_page() {
    let (h, _widget) = start(|_| {}).await;
    let (status, html) = page(&h, &page_of(UNKNOWN_RUN)).await;
    assert_eq!(status, 200);
    assert!(!html.contains(LINE_ID), "{html}");
    for hostile in [
        format!("/p/{PROJECT}/runs/%3Cscript%3E"),
        format!("/p/{PROJECT}/runs/{UNKNOWN_RUN}%22%3E%3Cb%3E"),
        format!("/p/other-project/runs/{UNKNOWN_RUN}"),
    ] {
        let (status, html) = page(&h, &hostile).await;
        assert_eq!(status, 200, "{hostile}");
        assert!(
            !html.contains(LINE_ID) && !html.contains("<b>"),
            "{hostile}: {html}"
        );
    }
    h.stop().await;
}

#[tokio::test]
async fn without_the_identity_header_mode_needs_no_upstream_call_is_made() {
    let (h, _widget) = start(|config| {
        config.auth.mode = AuthMode::Header;
        config.auth.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let before = h.stats().total;
    let (status, html) = page(&h, &page_of(UNKNOWN_RUN)).await;
    assert_eq!(status, 200);
    assert!(!html.contains(LINE_ID));
    assert_eq!(h.stats().total, before, "the page read the report");
    h.stop().await;
}
