//! The Runboard widget: a Leptos client-side app that starts test runs on the hosted
//! platform through `runboard` and follows their jobs and reports. `App` is the root;
//! views live in `views/`, pieces in `components/`, HTTP in `api`, and everything that
//! can be decided without a browser in `logic` (unit-tested natively).

mod api;
mod browser;
// `#[component]` generates a `pub` props struct beside each component, which the
// workspace's `unreachable_pub` lint flags even though the component is `pub(crate)`.
#[allow(unreachable_pub)]
mod components;
mod context;
mod launch;
mod live;
pub(crate) mod logic;
mod poller;
mod router;
mod state;
mod store;
#[allow(unreachable_pub)]
mod views;

use leptos::prelude::*;
use runboard_shared::Bootstrap;

use crate::{
    components::{
        banner::{ErrorBanner, OpenAccessBanner},
        chrome::Chrome,
        embed::EmbedResize,
    },
    context::{Clock, Flash},
    live::{live, shown},
    logic::links::{Prefs, parse_query},
    router::{Route, Router},
    views::{
        board::BoardView, history::HistoryView, home::Home, jobs::JobsView, not_found::NotFound,
        notifications::NotificationsView, rules::RulesView, run::RunView, start::StartView,
        tokens::TokensView,
    },
};

/// The whole widget: loads the bootstrap (retrying with a visible banner while
/// `runboard` cannot be reached), then shows the routed views.
#[component]
pub fn App() -> impl IntoView {
    let prefs = Prefs::from_query(&parse_query(&browser::location_search()));
    browser::apply_prefs(prefs);
    provide_context(prefs);
    provide_context(Clock::start());
    provide_context(Flash::default());

    let boot: RwSignal<Option<Bootstrap>> = RwSignal::new(None);
    let status = poller::start(1000, move |_| async move {
        let loaded = api::bootstrap().await?;
        boot.set(Some(loaded));
        Ok(true)
    });
    let root = NodeRef::<leptos::html::Div>::new();
    view! {
        <div class="rb-app" class:rb-embed=prefs.embed node_ref=root
            data-ready=live(move || boot.with(|b| if b.is_some() { "1" } else { "0" }).to_owned())>
            <EmbedResize root=root />
            {shown(move || match boot.get() {
                Some(bootstrap) => view! { <Shell bootstrap=bootstrap /> }.into_any(),
                None => view! {
                    <ErrorBanner status=status />
                    <p class="rb-loading" role="status">"Loading Runboard…"</p>
                }.into_any(),
            })}
        </div>
    }
}

/// The routed part, once the bootstrap is known: the view is chosen by the route, and
/// drawn again only when the route changes (not when only the query does).
#[component]
fn Shell(
    /// What the server said about this user, the projects and polling.
    bootstrap: Bootstrap,
) -> impl IntoView {
    let open_access = bootstrap.open_access;
    provide_context(context::Boot(bootstrap));
    let route = Router::start().route();
    view! {
        <Chrome />
        <main class="rb-main">
            {open_access.then(|| view! { <OpenAccessBanner /> })}
            {shown(move || routed(route.get()))}
        </main>
    }
}

/// The view of a route. The report page's build draws only run reports; the server never
/// sends it another address, so any other is simply not found there.
fn routed(route: Route) -> AnyView {
    if !route.drawn_here() {
        return view! { <NotFound /> }.into_any();
    }
    match route {
        Route::Home => view! { <Home /> }.into_any(),
        Route::Board => view! { <BoardView /> }.into_any(),
        Route::Start { project } => view! { <StartView project=project /> }.into_any(),
        Route::Jobs { project } => view! { <JobsView project=project /> }.into_any(),
        Route::Run { project, run } => view! { <RunView project=project run=run /> }.into_any(),
        Route::History { project } => view! { <HistoryView project=project /> }.into_any(),
        Route::Rules { project } => view! { <RulesView project=project /> }.into_any(),
        Route::Notifications { project } => {
            view! { <NotificationsView project=project /> }.into_any()
        }
        Route::Tokens { project } => view! { <TokensView project=project /> }.into_any(),
        Route::NotFound => view! { <NotFound /> }.into_any(),
    }
}
