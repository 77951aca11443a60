//! Export and share: links to the report as CSV or JUnit XML (made by the proxy,
//! `GET /runboard/export/…`) and copying links to the report and to one test.

use gloo_timers::callback::Timeout;
use leptos::{prelude::*, task::spawn_local};
use runboard_shared::{ExportFormat, ProjectId, RunId};

use crate::{
    api, browser,
    live::shown,
    logic::links::{parse_query, with_query},
    state::Report,
};

/// The export and share buttons.
#[component]
pub(crate) fn ExportBar(
    /// The report exported.
    report: Report,
) -> impl IntoView {
    let message = RwSignal::new(String::new());
    // A report whose ids the server would refuse has nothing to export.
    let href = move |format: ExportFormat| {
        report
            .with(|run| {
                let run = run.as_ref()?;
                let project = ProjectId::parse(run.project_id.as_str()).ok()?;
                let id = RunId::parse(run.run_id.as_str()).ok()?;
                Some(api::export_url(&project, &id, format))
            })
            .unwrap_or_default()
    };
    let copy = move |_| copy_link(None, message);
    view! {
        <div class="rb-export">
            <a class="rb-btn" data-testid="export-csv" href=move || href(ExportFormat::Csv) download="">"Export CSV"</a>
            <a class="rb-btn" data-testid="export-junit" href=move || href(ExportFormat::Junit) download="">"Export JUnit XML"</a>
            <button type="button" class="rb-btn" data-testid="copy-link" on:click=copy>"Copy link"</button>
            <span class="rb-muted" role="status" data-testid="export-message">{shown(move || message.get())}</span>
        </div>
    }
}

/// Copies the current address (with `test` as `?test=`, when given) and says so in
/// `message`, or shows the link to copy by hand when the clipboard refuses.
pub(crate) fn copy_link(test: Option<String>, message: RwSignal<String>) {
    spawn_local(async move {
        message.set(match copy_shareable(test.as_deref()).await {
            Ok(()) => "Link copied.".into(),
            Err(link) => format!("Copy this link: {link}"),
        });
    });
}

/// How long a row shows "Copied" after its link was copied.
const ROW_COPIED_MS: u32 = 3_000;

/// Copies the link to one test (`?test=`) from its row and sets `copied` for a few
/// seconds. A row has no room for a whole link, so when the clipboard refuses, the
/// browser's own prompt shows it, selected, to copy by hand.
pub(crate) fn copy_row_link(test: String, copied: RwSignal<bool>) {
    spawn_local(async move {
        match copy_shareable(Some(&test)).await {
            Ok(()) => {
                copied.set(true);
                // The row may have scrolled out of the window (and its signal gone) by then.
                Timeout::new(ROW_COPIED_MS, move || {
                    copied.try_set(false);
                })
                .forget();
            }
            Err(link) => browser::prompt_text("Copy this link:", &link),
        }
    });
}

/// Copies the shareable address (see [`shareable`]); the link back when the clipboard
/// refuses.
async fn copy_shareable(test: Option<&str>) -> Result<(), String> {
    let link = shareable(&browser::location_href(), test);
    if browser::copy_text(&link).await {
        Ok(())
    } else {
        Err(link)
    }
}

/// The current address without `embed=1`, so a link copied inside a portal frame opens
/// the full page; with `test`, a link to that test's row (`?test=`).
fn shareable(href: &str, test: Option<&str>) -> String {
    let origin = browser::location_origin();
    let rest = href.strip_prefix(&origin).unwrap_or(href);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let pairs: Vec<(String, String)> = parse_query(query)
        .into_iter()
        .filter(|(k, _)| k != "embed" && k != "test")
        .chain(test.map(|t| ("test".to_owned(), t.to_owned())))
        .collect();
    let borrowed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    format!("{origin}{}", with_query(path, &borrowed))
}
