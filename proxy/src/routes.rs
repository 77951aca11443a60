//! The route table, and only that: which handler answers each route of the contract's
//! table (`runboard_shared::Route`). The match is exhaustive, so a route added to the
//! table has a handler here or the build fails.

use axum::{
    Router,
    handler::Handler,
    http::{Method, Uri},
    routing::{MethodFilter, MethodRouter, on},
};
use runboard_shared::{Endpoint, Route};

use crate::{
    AppError, AppState, api, export, ledger, live, middleware, openapi, own, static_files,
};

/// The whole application: every route of the table, the widget for everything else.
pub fn app(state: AppState) -> Router {
    let routes = Route::ALL
        .into_iter()
        .fold(Router::new(), |router, route| {
            router.route(route.template(), handler(route))
        })
        .fallback(static_files::serve)
        .with_state(state.clone());
    middleware::stack(routes, state)
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
        Route::OpenApi => only(route, openapi::serve),
        Route::Health => only(route, own::healthz),
        Route::Ready => only(route, own::readyz),
        Route::Metrics => only(route, own::metrics),
    }
}

/// `handler` under the one method the table gives `route` (the contract uses only `GET`
/// and `POST`); any other method is a 405.
fn only<H, T>(route: Route, handler: H) -> MethodRouter<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = if route.method() == Method::GET {
        MethodFilter::GET
    } else {
        MethodFilter::POST
    };
    on(filter, handler).fallback(method_not_allowed)
}

async fn method_not_allowed(method: Method, uri: Uri) -> AppError {
    AppError::MethodNotAllowed(format!("{method} {}", uri.path()))
}
