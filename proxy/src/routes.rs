//! The route table, and only that: which path and method go to which handler.

use axum::{
    Router,
    http::{Method, Uri},
    routing::{get, post},
};

use crate::{AppError, AppState, api, middleware, own, static_files};

/// The whole application: the guide's endpoints, Runboard's own, the widget.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/api/testExecution/{projId}",
            post(api::execute).fallback(method_not_allowed),
        )
        .route(
            "/api/jobs/{projId}",
            post(api::jobs).fallback(method_not_allowed),
        )
        .route(
            "/api/testRun/{projId}/{runId}",
            get(api::test_run).fallback(method_not_allowed),
        );
    let own = Router::new()
        .route(
            "/runboard/bootstrap",
            get(own::bootstrap).fallback(method_not_allowed),
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

async fn method_not_allowed(method: Method, uri: Uri) -> AppError {
    AppError::MethodNotAllowed(format!("{method} {}", uri.path()))
}
