//! What an unknown address or project shows.

use leptos::prelude::*;

use crate::logic::links::Prefs;

/// A page that does not exist.
#[component]
pub(crate) fn NotFound() -> impl IntoView {
    let prefs = expect_context::<Prefs>();
    view! {
        <section class="rb-empty">
            <h1>"Nothing here"</h1>
            <p>"This address is not a Runboard page. "<a href=prefs.href("/", &[])>"Go to the start page"</a>"."</p>
        </section>
    }
}

/// A project id in the address that this user cannot see.
#[component]
pub(crate) fn UnknownProject(
    /// The id from the address.
    id: String,
) -> impl IntoView {
    let prefs = expect_context::<Prefs>();
    view! {
        <section class="rb-empty" data-testid="unknown-project">
            <h1>"Unknown project"</h1>
            <p>"There is no project “"{id}"” that you may see. Check the link, or "
               <a href=prefs.href("/", &[])>"go to your projects"</a>"."</p>
        </section>
    }
}
