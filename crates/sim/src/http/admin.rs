//! The simulator-only `/__sim/` endpoints (no key): catalog, request counters, the
//! request log, faults and agent connections.

use axum::{Json, extract::State};
use serde::{Deserialize, Serialize};

use super::body::RawBody;
use crate::{
    Simulator,
    catalog::{Agent, CatalogList},
    config::Faults,
    error::{SimError, parse_json},
    recorder::RecordedRequests,
    stats::Stats,
};

/// `GET /__sim/catalog`.
pub(super) async fn catalog(State(sim): State<Simulator>) -> Json<CatalogList> {
    Json(sim.catalogs())
}

/// `GET /__sim/stats`.
pub(super) async fn stats(State(sim): State<Simulator>) -> Json<Stats> {
    Json(sim.stats())
}

/// `POST /__sim/stats/reset`: answers the zeroed counters.
pub(super) async fn reset_stats(State(sim): State<Simulator>) -> Json<Stats> {
    sim.reset_stats();
    Json(sim.stats())
}

/// `GET /__sim/requests`.
pub(super) async fn requests(State(sim): State<Simulator>) -> Json<RecordedRequests> {
    Json(sim.requests())
}

/// `DELETE /__sim/requests`: answers the emptied log.
pub(super) async fn clear_requests(State(sim): State<Simulator>) -> Json<RecordedRequests> {
    sim.clear_requests();
    Json(sim.requests())
}

/// `GET /__sim/faults`.
pub(super) async fn faults(State(sim): State<Simulator>) -> Json<Faults> {
    Json(sim.faults())
}

/// `POST /__sim/faults`: replaces every knob (missing ones become 0) and answers the
/// faults now in force.
pub(super) async fn set_faults(
    State(sim): State<Simulator>,
    RawBody(body): RawBody,
) -> Result<Json<Faults>, SimError> {
    let faults: Faults = parse_json(&body)?;
    faults
        .validate()
        .map_err(|e| SimError::InvalidRequest(e.to_string()))?;
    sim.set_faults(faults);
    Ok(Json(sim.faults()))
}

/// The body of `POST /__sim/agents`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AgentChange {
    project_id: String,
    name: String,
    connected: bool,
}

/// The answer of `POST /__sim/agents`: the agent as it is now.
#[derive(Serialize)]
struct AgentChanged {
    success: bool,
    agent: Agent,
}

/// `POST /__sim/agents`: connects or disconnects an agent.
pub(super) async fn set_agent(
    State(sim): State<Simulator>,
    RawBody(body): RawBody,
) -> Result<Json<impl Serialize>, SimError> {
    let change: AgentChange = parse_json(&body)?;
    let not_found = || {
        SimError::NotFound(format!(
            "project {:?} has no agent {:?}",
            change.project_id, change.name
        ))
    };
    if !sim.set_agent_connected(&change.project_id, &change.name, change.connected) {
        return Err(not_found());
    }
    let agent = sim
        .catalog(&change.project_id)
        .and_then(|catalog| catalog.agents.into_iter().find(|a| a.name == change.name))
        .ok_or_else(not_found)?;
    Ok(Json(AgentChanged {
        success: true,
        agent,
    }))
}
