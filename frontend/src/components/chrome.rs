//! The page chrome: brand (a link to the status board), project picker, Start / Jobs /
//! History / Rules navigation and the user. In embed mode only a compact navigation row
//! remains; on the board's wall-screen mode (`/board?tv=1`) nothing does.

use leptos::prelude::*;

use crate::{
    context,
    live::live,
    logic::links::{Prefs, project_in_path},
    router::{Route, router},
};

/// The header (or, embedded, the compact navigation).
#[component]
pub(crate) fn Chrome() -> impl IntoView {
    let boot = context::boot();
    let prefs = expect_context::<Prefs>();
    let router = router();
    let first = boot
        .0
        .projects
        .first()
        .map(|p| p.id.to_string())
        .unwrap_or_default();
    let project =
        Memo::new(move |_| project_in_path(&router.path()).unwrap_or_else(|| first.clone()));
    let here = move |suffix: &'static str| {
        live(move || (router.path().ends_with(suffix)).then(|| "page".to_owned()))
    };
    let may_admin = boot.0.may_admin;
    let nav = live(move || {
        let project = project.get();
        let link = |route: Route| prefs.href(&route.href(), &[]);
        let start = link(Route::Start {
            project: project.clone(),
        });
        let jobs = link(Route::Jobs {
            project: project.clone(),
        });
        let history = link(Route::History {
            project: project.clone(),
        });
        let rules = link(Route::Rules {
            project: project.clone(),
        });
        let notifications = link(Route::Notifications {
            project: project.clone(),
        });
        // Only administrators manage tokens; the server refuses everyone else anyway.
        let tokens = may_admin.then(|| {
            let href = link(Route::Tokens { project });
            view! { <a href=href aria-current=here("/tokens") data-testid="nav-tokens">"Tokens"</a> }
        });
        view! {
            <nav class="rb-nav" aria-label="Views">
                <a href=start aria-current=here("/start")>"Start"</a>
                <a href=jobs aria-current=here("/jobs")>"Jobs"</a>
                <a href=history aria-current=here("/history")>"History"</a>
                <a href=rules aria-current=here("/rules") data-testid="nav-rules">"Rules"</a>
                <a href=notifications aria-current=here("/notifications") data-testid="nav-notifications">"Notifications"</a>
                {tokens}
            </nav>
        }
        .into_any()
    });
    // The wall screen shows the board alone.
    let tv = router.route().get_untracked() == Route::Board
        && router.query_untracked("tv").as_deref() == Some("1");
    if tv {
        return ().into_any();
    }
    if prefs.embed {
        return view! { <div class="rb-embed-nav">{nav}</div> }.into_any();
    }
    let user = boot.0.user.clone();
    let board = prefs.href(&Route::Home.href(), &[]);
    view! {
        <header class="rb-header">
            <a class="rb-brand" href=board data-testid="nav-board" title="Status board of every project">"Runboard"</a>
            <span class="rb-sep" aria-hidden="true">"·"</span>
            <ProjectPicker project=project />
            <span class="rb-spacer"></span>
            {nav}
            {user.map(|u| view! { <span class="rb-user" title="Signed in">{u}</span> })}
        </header>
    }
    .into_any()
}

/// The project's name, or a picker when the user sees more than one project.
#[component]
fn ProjectPicker(
    /// The project shown now.
    project: Memo<String>,
) -> impl IntoView {
    let boot = context::boot();
    let prefs = expect_context::<Prefs>();
    let projects = boot.0.projects.clone();
    if projects.len() <= 1 {
        let name = projects.first().map(|p| p.name.clone()).unwrap_or_default();
        return view! { <span class="rb-project">{name}</span> }.into_any();
    }
    let router = router();
    let change = move |ev: leptos::ev::Event| {
        let start = Route::Start {
            project: event_target_value(&ev),
        };
        router.navigate(&prefs.href(&start.href(), &[]), false);
    };
    view! {
        <label class="rb-visually-hidden" for="rb-project">"Project"</label>
        <select id="rb-project" class="rb-project-picker" data-testid="project-picker" on:change=change
            prop:value=live(move || project.get())>
            {projects.into_iter().map(|p| {
                let id = p.id.to_string();
                view! { <option value=id.clone() selected=live(move || project.get() == id)>{p.name}</option> }
            }).collect_view()}
        </select>
    }
    .into_any()
}
