//! The route table, and only that: which path and method go to which handler.

use axum::{
    Router,
    handler::Handler,
    http::{Method, Uri},
    routing::{MethodFilter, MethodRouter, get, on},
};
use runboard_shared::Endpoint;

use crate::{AppError, AppState, api, export, ledger, live, middleware, own, static_files};

/// The whole application: the guide's endpoints, Runboard's own, the widget.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route(
            Endpoint::Execute.template(),
            guide(Endpoint::Execute, api::execute),
        )
        .route(Endpoint::Jobs.template(), guide(Endpoint::Jobs, api::jobs))
        .route(
            Endpoint::TestRun.template(),
            guide(Endpoint::TestRun, api::test_run),
        );
    let own = Router::new()
        .route(
            "/runboard/bootstrap",
            get(own::bootstrap).fallback(method_not_allowed),
        )
        .route(
            "/runboard/live/{projId}/{runId}",
            get(live::stream).fallback(method_not_allowed),
        )
        .route(
            "/runboard/export/{projId}/{runId}",
            get(export::report).fallback(method_not_allowed),
        )
        .route(
            "/runboard/history/{projId}",
            get(ledger::history).fallback(method_not_allowed),
        )
        .route(
            "/runboard/history/{projId}/jobs/{jobId}",
            get(ledger::execution).fallback(method_not_allowed),
        )
        .route(
            "/runboard/history/{projId}/tests/{testId}",
            get(ledger::test_history).fallback(method_not_allowed),
        )
        .route("/healthz", get(own::healthz).fallback(method_not_allowed))
        .route("/readyz", get(own::readyz).fallback(method_not_allowed))
        .route("/metrics", get(own::metrics).fallback(method_not_allowed));
    let routes = api
        .merge(own)
        .fallback(static_files::serve)
        .with_state(state.clone());
    middleware::stack(routes, state)
}

/// `handler` under the method the guide documents for `endpoint` (the guide uses only
/// `GET` and `POST`); any other method is a 405.
fn guide<H, T>(endpoint: Endpoint, handler: H) -> MethodRouter<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = if endpoint.method() == Method::GET {
        MethodFilter::GET
    } else {
        MethodFilter::POST
    };
    on(filter, handler).fallback(method_not_allowed)
}

async fn method_not_allowed(method: Method, uri: Uri) -> AppError {
    AppError::MethodNotAllowed(format!("{method} {}", uri.path()))
}
