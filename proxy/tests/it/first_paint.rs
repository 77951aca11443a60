//! A run report's page, over a real socket against the simulator. Which page: a reader
//! gets the report page and whoever may triage the full widget (`static_files/pages.rs`).
//! The verdict line written into it (`static_files/first_paint.rs`): the page of a finished run carries the
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

/// The full widget's page in the folder [`start`] serves.
const FULL: &str = "<!doctype html><html><head><title>Runboard</title></head><body>\
                    <noscript>Runboard needs JavaScript.</noscript></body></html>";

/// The report page in that folder.
const REPORT: &str = "<!doctype html><html><head><title>Runboard report</title></head>\
                      <body><noscript>Runboard needs JavaScript.</noscript></body></html>";

/// A harness whose Runboard serves a minimal widget (both pages) from a folder.
async fn start(adjust: impl FnOnce(&mut runboard_proxy::Config)) -> (Harness, tempfile::TempDir) {
    let widget = tempfile::tempdir().unwrap();
    std::fs::write(widget.path().join("index.html"), FULL).unwrap();
    std::fs::write(widget.path().join("report.html"), REPORT).unwrap();
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
    page_as(h, path, &[]).await
}

/// `page`, with the front door's identity `headers`.
async fn page_as(h: &Harness, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let request = common::with_headers(h.client.get(h.url(path)), headers);
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Which of the two pages `html` is.
fn which(html: &str) -> &'static str {
    if html.contains("<title>Runboard report</title>") {
        "report"
    } else {
        assert!(html.contains("<title>Runboard</title>"), "{html}");
        "full"
    }
}

/// In header mode a reader (neither runner nor triager) gets the report page at a run's
/// address, with the verdict line, and the full widget everywhere else; whoever may
/// triage gets the full widget there too, as does anyone in mode none (by default whoever
/// may start runs may triage, and in mode none that is everyone). Neither page is ever
/// sent as a plain file.
#[tokio::test]
async fn readers_get_the_report_page_triagers_the_full_widget() {
    let (h, widget) = start(|config| {
        config.auth.mode = AuthMode::Header;
        config.auth.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        config.auth.run_users = vec!["runner@example.com".to_owned()];
        config.auth.triage_users = Some(vec!["lead@example.com".to_owned()]);
    })
    .await;
    let reader = [("x-forwarded-email", "reader@example.com")];
    let runner = [("x-forwarded-email", "runner@example.com")];
    let lead = [("x-forwarded-email", "lead@example.com")];
    let run = h.finished_run_as(&runner).await;
    let report = page_of(&run);
    let (status, html) = page_as(&h, &report, &reader).await;
    assert_eq!((status, which(&html)), (200, "report"));
    assert_eq!(html.matches(LINE_ID).count(), 1, "{html}");
    // Triage is its own permission: the runner reads too, the lead triages.
    assert_eq!(which(&page_as(&h, &report, &runner).await.1), "report");
    assert_eq!(which(&page_as(&h, &report, &lead).await.1), "full");
    for other in [
        "/".to_owned(),
        format!("/p/{PROJECT}/start"),
        format!("/p/{PROJECT}/history"),
        format!("/p/other-project/runs/{run}"),
        "/report.html".to_owned(),
        "/index.html".to_owned(),
    ] {
        let (status, html) = page_as(&h, &other, &reader).await;
        assert_eq!((status, which(&html)), (200, "full"), "{other}");
    }
    // Without an identity the full widget says what is wrong (here: sign in).
    assert_eq!(which(&page(&h, &report).await.1), "full");
    // A widget built before the report page: the full one answers.
    std::fs::remove_file(widget.path().join("report.html")).unwrap();
    let (status, html) = page_as(&h, &report, &reader).await;
    assert_eq!((status, which(&html)), (200, "full"));
    h.stop().await;

    let (h, _widget) = start(|_| {}).await;
    assert_eq!(which(&page(&h, &page_of(UNKNOWN_RUN)).await.1), "full");
    h.stop().await;
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
