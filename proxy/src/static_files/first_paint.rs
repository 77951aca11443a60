//! The verdict written into a run report's page before the widget has loaded (issue 20:
//! the verdict in 1.5 s on a slow link). On a slow link the widget's own bytes take most
//! of the time to the verdict, while the server already holds, or reads within moments,
//! everything the verdict needs. So the page of `/p/{projId}/runs/{runId}` is sent with
//! the verdict line already in it, worded by `shared`'s one [`Verdict::headline`], with
//! the same element and attributes as the widget's own header (`components/summary.rs`),
//! which removes it when it shows its own.
//!
//! It is a read like any other: only a configured project, the identity the report
//! needs (the same extractor), the read allowance spent, and only when the verdict is
//! ready within [`BUDGET`] (a slow platform never delays the page; the widget then reads
//! it itself). A request with `Authorization` (a machine token) gets the plain page:
//! pipelines read JSON, not pages. Nothing of the address is written back, only numbers
//! and fixed words of the verdict.

use std::time::Duration;

use axum::{extract::FromRequestParts, http::request::Parts};
use runboard_shared::{FIRST_PAINT_ID, RunPage, Verdict, VerdictStatus};

use crate::{
    AppState,
    auth::Identity,
    limits::{Kind, Who},
    reads, triage,
};

/// The longest the page waits for its verdict: about one round trip of a slow link, so
/// the line never costs a visitor more than it saves.
pub(super) const BUDGET: Duration = Duration::from_millis(300);

/// The verdict line for the page at `path`, if it names a run of a configured project
/// that this request may read and its verdict is ready within [`BUDGET`].
pub(super) async fn verdict_line(state: &AppState, parts: &mut Parts) -> Option<String> {
    let page = RunPage::parse(parts.uri.path())?;
    let project = state.project(&page.project).ok()?;
    if parts
        .headers
        .contains_key(axum::http::header::AUTHORIZATION)
    {
        return None;
    }
    Identity::from_request_parts(parts, state).await.ok()?;
    let who = Who::from_request_parts(parts, state)
        .await
        .unwrap_or_else(|n| match n {});
    state.limits().check(Kind::Read, &who).ok()?;
    let judged = async {
        let answer = reads::test_run(state, project, &page.run).await.ok()?;
        let report = state
            .triage()
            .report(&project.id, &page.run, &answer)
            .ok()?;
        let finished = answer.is_finished();
        triage::compute(state, project, &page.run, &report, finished)
            .await
            .ok()
    };
    let verdict = tokio::time::timeout(BUDGET, judged).await.ok()??;
    Some(markup(&verdict))
}

/// The widget's header markup (`rb-run-head`, `run-status`, `verdict`) for `verdict`.
fn markup(verdict: &Verdict) -> String {
    let headline = verdict.headline();
    let (outcome, tone) = match headline.outcome {
        VerdictStatus::Passed => ("passed", "rb-tone-passed"),
        VerdictStatus::Failed => ("failed", "rb-tone-failed"),
        VerdictStatus::Running => ("running", "rb-tone-running"),
    };
    format!(
        "<header class=\"rb-run-head rb-first-paint\" id=\"{FIRST_PAINT_ID}\">\
         <div class=\"rb-verdict-row\">\
         <h1 class=\"rb-verdict {tone}\" data-testid=\"run-status\" data-outcome=\"{outcome}\" \
         data-blocking=\"{blocking}\">\
         <span class=\"rb-verdict-icon\" aria-hidden=\"true\">{icon}</span>\
         <span data-testid=\"verdict\">{text}</span></h1></div>\
         <p class=\"rb-run-meta\">Loading the report…</p></header>",
        blocking = verdict.blocking,
        icon = text(headline.icon),
        text = text(&headline.text),
    )
}

/// `text` safe as HTML element content.
fn text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `html` with `line` as the first thing in its body; unchanged without a `<body>`.
pub(super) fn insert(html: &str, line: &str) -> String {
    match html.find("<body>") {
        Some(at) => {
            let at = at + "<body>".len();
            format!("{}{line}{}", &html[..at], &html[at..])
        }
        None => html.to_owned(),
    }
}
