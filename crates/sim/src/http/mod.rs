//! The HTTP face of the simulator: the route table, and the layer order that makes the
//! API behave like the platform (count and record everything, then faults, then the key
//! check, then the key echo fault, then the logic).

mod admin;
mod api;
mod body;
mod echo;
pub(crate) mod faults;
mod middleware;
mod odd;

use axum::{
    Router,
    middleware::from_fn_with_state,
    routing::{any, get, post},
};
use runboard_shared::{API_PREFIX, Endpoint};

use crate::Simulator;

/// The whole HTTP API of `sim`.
pub(crate) fn router(sim: Simulator) -> Router {
    // `.layer` wraps outward, so the last one added runs first: every /api/ request is
    // counted and recorded (even rejected or faulted ones), then faults are injected
    // (they stand for trouble on the way to the platform), then the key is checked
    // before any logic, and only then may an answer echo it.
    // The 405 fallback is set before the layers so that it is wrapped by them too.
    let api = Router::new()
        .route(Endpoint::Execute.template(), post(api::execute))
        .route(Endpoint::Jobs.template(), post(api::jobs))
        .route(Endpoint::TestRun.template(), get(api::test_run))
        .route(&format!("{API_PREFIX}{{*rest}}"), any(api::unknown_route))
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(from_fn_with_state(sim.clone(), echo::echo))
        .layer(from_fn_with_state(sim.clone(), middleware::authorize))
        .layer(from_fn_with_state(sim.clone(), faults::inject))
        .layer(from_fn_with_state(sim.clone(), middleware::count));

    let admin = Router::new()
        .route("/__sim/catalog", get(admin::catalog))
        .route("/__sim/stats", get(admin::stats))
        .route("/__sim/stats/reset", post(admin::reset_stats))
        .route("/__sim/faults", get(admin::faults).post(admin::set_faults))
        .route("/__sim/agents", post(admin::set_agent))
        .route(
            "/__sim/requests",
            get(admin::requests).delete(admin::clear_requests),
        )
        .method_not_allowed_fallback(api::method_not_allowed);

    api.merge(admin)
        .fallback(api::unknown_route)
        .with_state(sim)
}
