//! `/`: sends the user to their first project's start view.

use leptos::prelude::*;

use crate::{
    context,
    logic::links::Prefs,
    router::{Route, router},
};

/// Redirects to the first project, or explains that there is none.
#[component]
pub(crate) fn Home() -> impl IntoView {
    let prefs = expect_context::<Prefs>();
    match context::boot().0.projects.first() {
        Some(project) => {
            // Replaced, not pushed, so Back does not return to `/` and bounce again; after
            // this render, so the route does not change while it is being drawn.
            let start = Route::Start {
                project: project.id.to_string(),
            };
            let (router, href) = (router(), prefs.href(&start.href(), &[]));
            queue_microtask(move || router.navigate(&href, true));
            ().into_any()
        }
        None => view! {
            <section class="rb-empty">
                <h1>"No projects yet"</h1>
                <p>"You cannot see any project. Ask the Runboard administrator to add one, or to give you access."</p>
            </section>
        }
        .into_any(),
    }
}
