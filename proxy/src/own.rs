//! Runboard's own endpoints: the widget's bootstrap, health, readiness and metrics.

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use runboard_shared::{ApiError, Bootstrap, ErrorCode, ProjectInfo};
use serde_json::{Value, json};

use crate::{AppState, VERSION, auth::Identity};

/// `GET /runboard/bootstrap`: the projects this user sees, whether they may run, presets,
/// poll intervals, version. Never a key.
pub(crate) async fn bootstrap(
    State(state): State<AppState>,
    identity: Identity,
) -> Json<Bootstrap> {
    let config = state.config();
    let projects = config
        .projects
        .iter()
        .filter(|p| identity.may_view(&p.id))
        .map(|p| ProjectInfo {
            id: p.id.clone(),
            name: p.name.clone(),
            can_run: identity.can_run(&config.auth, p),
            may_triage: identity.may_triage(&config.auth, p),
            teams: identity.teams(p),
            presets: p.presets.clone(),
        })
        .collect();
    Json(Bootstrap {
        version: VERSION.to_owned(),
        user: identity.user.clone(),
        projects,
        poll: config.poll,
        live_heartbeat_ms: u64::try_from(config.live.heartbeat.as_millis()).unwrap_or(u64::MAX),
        open_access: config.open_access(),
        may_admin: identity.is_admin(&config.auth),
    })
}

/// `GET /healthz`: the process answers.
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the upstream answers HTTP (any status) and the circuit breaker is
/// closed; 503 `not_ready` with the reason otherwise.
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    let ready = match state.upstream().circuit_open() {
        Some(open) => Err(open),
        None => state.upstream().probe().await,
    };
    match ready {
        Ok(()) => Json(json!({ "status": "ready" })).into_response(),
        Err(err) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(ApiError::new(ErrorCode::NotReady, err.to_string())),
        )
            .into_response(),
    }
}

/// `GET /metrics`: Prometheus (OpenMetrics) text.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics().render(),
    )
        .into_response()
}
