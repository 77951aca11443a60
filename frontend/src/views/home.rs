//! `/`: sends the user to their first project's start view.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::{
    context,
    logic::links::{Prefs, start_path},
};

/// Redirects to the first project, or explains that there is none.
#[component]
pub(crate) fn Home() -> impl IntoView {
    let prefs = expect_context::<Prefs>();
    match context::boot().0.projects.first() {
        Some(project) => view! { <Redirect path=prefs.href(&start_path(project.id.as_str()), &[]) /> }.into_any(),
        None => view! {
            <section class="rb-empty">
                <h1>"No projects yet"</h1>
                <p>"You cannot see any project. Ask the Runboard administrator to add one, or to give you access."</p>
            </section>
        }
        .into_any(),
    }
}
