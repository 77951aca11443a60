//! The route table, and only that: which handler answers each route of the contract's
//! table (`runboard_shared::Route`). The match is exhaustive, so a route added to the
//! table has a handler here or the build fails. Routes sharing a template (the rules'
//! `GET` and `POST`) are served by one method router.

use axum::{
    Router,
    handler::Handler,
    http::{Method, Uri},
    routing::{MethodFilter, MethodRouter, on},
};
use runboard_shared::{Endpoint, Route};

use crate::{
    AppError, AppState, api, export, ledger, live, middleware, notify, openapi, own, static_files,
    tokens, triage,
};

/// The whole application: every route of the table, the widget for everything else.
pub fn app(state: AppState) -> Router {
    let routes = Route::ALL
        .into_iter()
        // Each template once, with the handlers of every route that has it.
        .filter(|route| Route::of_template(route.template()) == Some(*route))
        .fold(Router::new(), |router, route| {
            router.route(route.template(), handlers(route.template()))
        })
        .fallback(static_files::serve)
        .with_state(state.clone());
    middleware::stack(routes, state)
}

/// The handlers of every route at `template`, each under its method; any other method
/// is a 405.
fn handlers(template: &str) -> MethodRouter<AppState> {
    Route::ALL
        .into_iter()
        .filter(|route| route.template() == template)
        .fold(MethodRouter::new(), |methods, route| {
            methods.merge(handler(route))
        })
        .fallback(method_not_allowed)
}

/// The handler of `route`.
fn handler(route: Route) -> MethodRouter<AppState> {
    match route {
        Route::Guide(Endpoint::Execute) => only(route, api::execute),
        Route::Guide(Endpoint::Jobs) => only(route, api::jobs),
        Route::Guide(Endpoint::TestRun) => only(route, api::test_run),
        Route::Bootstrap => only(route, own::bootstrap),
        Route::Live => only(route, live::stream),
        Route::Export => only(route, export::report),
        Route::History => only(route, ledger::history),
        Route::HistoryJob => only(route, ledger::execution),
        Route::HistoryTest => only(route, ledger::test_history),
        Route::Verdict => only(route, triage::verdict),
        Route::Rules => only(route, triage::list),
        Route::RuleCreate => only(route, triage::create),
        Route::RuleDelete => only(route, triage::delete),
        Route::RuleEdit => only(route, triage::edit),
        Route::OpenApi => only(route, openapi::serve),
        Route::Health => only(route, own::healthz),
        Route::Ready => only(route, own::readyz),
        Route::Metrics => only(route, own::metrics),
        Route::Notifications => only(route, notify::page),
        Route::Tokens => only(route, tokens::admin::list),
        Route::TokenCreate => only(route, tokens::admin::create),
        Route::TokenRevoke => only(route, tokens::admin::revoke),
    }
}

/// `handler` under the one method the table gives `route` (`GET`, `POST`, `DELETE` or
/// `PATCH`).
fn only<H, T>(route: Route, handler: H) -> MethodRouter<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = match route.method() {
        "POST" => MethodFilter::POST,
        "DELETE" => MethodFilter::DELETE,
        "PATCH" => MethodFilter::PATCH,
        _ => MethodFilter::GET,
    };
    on(filter, handler)
}

async fn method_not_allowed(method: Method, uri: Uri) -> AppError {
    AppError::MethodNotAllowed(format!("{method} {}", uri.path()))
}
