//! Export and share: the report as CSV or JUnit XML (made in the browser) and a
//! copy-link button.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    browser,
    live::shown,
    logic::{
        csv::run_csv,
        junit::run_junit,
        links::{parse_query, with_query},
    },
    state::Report,
};

/// The export and share buttons.
#[component]
pub(crate) fn ExportBar(
    /// The report exported.
    report: Report,
) -> impl IntoView {
    let message = RwSignal::new(String::new());
    let export = move |kind: &'static str| {
        let Some(run) = report.get_untracked() else {
            return;
        };
        let (name, mime, text) = match kind {
            "csv" => (
                format!("run-{}.csv", run.run_id),
                "text/csv;charset=utf-8",
                run_csv(&run),
            ),
            _ => (
                format!("run-{}.junit.xml", run.run_id),
                "application/xml;charset=utf-8",
                run_junit(&run),
            ),
        };
        message.set(match browser::download(&name, mime, &text) {
            Ok(()) => format!("Saved {name}."),
            Err(e) => format!("Could not export: {e}."),
        });
    };
    let copy = move |_| copy_link(None, message);
    view! {
        <div class="rb-export">
            <button type="button" class="rb-btn" data-testid="export-csv" on:click=move |_| export("csv")>"Export CSV"</button>
            <button type="button" class="rb-btn" data-testid="export-junit" on:click=move |_| export("junit")>"Export JUnit XML"</button>
            <button type="button" class="rb-btn" data-testid="copy-link" on:click=copy>"Copy link"</button>
            <span class="rb-muted" role="status" data-testid="export-message">{shown(move || message.get())}</span>
        </div>
    }
}

/// Copies the current address (with `test` as `?test=`, when given) and says so in
/// `message`, or shows the link to copy by hand when the clipboard refuses.
pub(crate) fn copy_link(test: Option<String>, message: RwSignal<String>) {
    spawn_local(async move {
        let link = shareable(&browser::location_href(), test.as_deref());
        let copied = browser::copy_text(&link).await;
        message.set(if copied {
            "Link copied.".into()
        } else {
            format!("Copy this link: {link}")
        });
    });
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
