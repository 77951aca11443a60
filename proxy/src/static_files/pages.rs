//! The widget's two pages (issue 20: the first load on a slow link). `index.html` is the
//! full widget; `report.html` is the same widget built without its `full` feature: the run
//! report alone, without the triage tools, about three quarters of the bytes. A run
//! report's address is what stakeholders open from links, chat messages and pipelines,
//! often from home, and mostly only to read it; so it gets the report page, unless the
//! request may triage the run's project, whose person needs the row menus and dialogs
//! only the full widget has. Every other address gets the full widget, and every link out
//! of the report page loads it (`frontend/src/router.rs`, `Route::drawn_here`).
//!
//! The choice is the server's because it knows who is asking before any byte of the
//! widget is sent, by the same identity and triage rule as the bootstrap's `mayTriage`.
//! Both pages are sent `no-store`, so no cache hands one person's page to another.

use axum::{extract::FromRequestParts, http::request::Parts};
use runboard_shared::RunPage;

use crate::{AppState, auth::Identity};

/// One of the widget's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    /// `index.html`: every view.
    Full,
    /// `report.html`: the run report for readers.
    Report,
}

impl Page {
    /// The page's file in the widget's folder, as a URL path.
    pub(crate) fn path(self) -> &'static str {
        match self {
            Self::Full => "/index.html",
            Self::Report => "/report.html",
        }
    }

    /// Whether `path` names one of the pages themselves: they are only ever sent as the
    /// answer to an address, with their CSP, never as plain files.
    pub(crate) fn is_page(path: &str) -> bool {
        [Self::Full, Self::Report]
            .iter()
            .any(|page| page.path() == path)
    }
}

/// The page for the address in `parts`: the report page for a run report of a configured
/// project that this request may read but not triage, else the full widget (which also
/// says what is wrong with an unknown project or a missing sign-in).
pub(super) async fn of(state: &AppState, parts: &mut Parts) -> Page {
    let Some(page) = RunPage::parse(parts.uri.path()) else {
        return Page::Full;
    };
    let Ok(project) = state.project(&page.project) else {
        return Page::Full;
    };
    match Identity::from_request_parts(parts, state).await {
        Ok(identity) if !identity.may_triage(&state.config().auth, project) => Page::Report,
        _ => Page::Full,
    }
}
