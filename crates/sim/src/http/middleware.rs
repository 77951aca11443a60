//! The `/api/` layers that are not faults: request counting and recording, and the key
//! check.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use runboard_shared::Endpoint;

use super::faults::Interrupted;
use crate::{Simulator, error::SimError};

/// Counts and records every `/api/` request as it arrives, and counts it again by how
/// it was answered.
pub(super) async fn count(State(sim): State<Simulator>, req: Request, next: Next) -> Response {
    sim.request_log()
        .record(req.method(), req.uri(), req.headers());
    let counter = sim.stats_counter();
    counter.arrived(Endpoint::of_path(req.uri().path()));
    let response = next.run(req).await;
    match response.extensions().get::<Interrupted>() {
        Some(Interrupted::Dropped) => counter.answered("dropped"),
        // Counted as "hung" when the hang began, since the client usually gives up first.
        Some(Interrupted::Hung) => {}
        None => counter.answered(response.status().as_str()),
    }
    response
}

/// Rejects a missing, repeated or wrong `x-api-key` before anything else looks at the
/// request (its body is not even read). On the documented endpoints the key must be the
/// one of the project in the path; elsewhere under `/api/` any project's key lets the
/// request through to its 404.
pub(super) async fn authorize(State(sim): State<Simulator>, req: Request, next: Next) -> Response {
    let project = project_segment(req.uri().path());
    // A key that is not valid text can match no project: treat it as wrong, not missing.
    let keys: Vec<&str> = req
        .headers()
        .get_all("x-api-key")
        .iter()
        .map(|value| value.to_str().unwrap_or(""))
        .collect();
    // Two keys are ambiguous; a real platform is entitled to refuse them.
    if keys.len() > 1 {
        return SimError::Unauthorized(format!(
            "{} x-api-key headers; send exactly one",
            keys.len()
        ))
        .into_response();
    }
    let verdict = sim.store().authorize(project, keys.first().copied());
    match verdict {
        Ok(()) => next.run(req).await,
        Err(error) => error.into_response(),
    }
}

/// The `{projId}` of `/api/{endpoint}/{projId}/…` for the documented endpoints.
fn project_segment(path: &str) -> Option<&str> {
    Endpoint::of_path(path)?;
    path.split('/').nth(3).filter(|segment| !segment.is_empty())
}

#[cfg(test)]
mod tests {
    use runboard_shared::{API_PREFIX, Route};

    use super::*;

    #[test]
    fn project_is_the_third_segment() {
        let path = |endpoint, values: &[&str]| Route::Guide(endpoint).fill(values);
        let check = |path: &str, expected| assert_eq!(project_segment(path), expected, "{path}");
        check(&path(Endpoint::Jobs, &["abc"]), Some("abc"));
        check(&path(Endpoint::TestRun, &["abc", "run"]), Some("abc"));
        check(&path(Endpoint::Jobs, &[""]), None);
        check(&format!("{API_PREFIX}nope"), None);
        check(&format!("{API_PREFIX}nothing/here"), None);
    }
}
