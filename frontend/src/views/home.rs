//! `/`: the status board of every project the user may see (issue 21); a project's own
//! start page stays at `/p/:proj/start`.

use leptos::prelude::*;

use crate::views::board::BoardView;

/// The board, at the address people open first.
#[component]
pub(crate) fn Home() -> impl IntoView {
    view! { <BoardView /> }
}
