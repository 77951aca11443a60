//! The last look before an answer leaves: every answer under `/api/` and `/runboard/`
//! that Runboard built itself (exports, history, bootstrap, errors, a normalised start)
//! is scanned for every key, so a value derived from an answer, or stored in the ledger
//! before a scan existed, cannot carry one out. Two kinds pass without a second scan:
//! an upstream answer passed on byte for byte (marked [`Scanned`] where it was scanned
//! on arrival), and event streams, whose events are scanned once as they are encoded.

use axum::{
    body::Body,
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use runboard_shared::is_reserved;

use crate::{AppError, AppState};

/// Marks an answer whose body is an upstream answer as it passed the key scan on
/// arrival, unchanged since: scanning a multi-megabyte report again on every serve would
/// double the proxy's cost for nothing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scanned;

/// The middleware: a `502 upstream_withheld` instead of any answer that holds a key.
pub(crate) async fn withhold_keys(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let ours = is_reserved(request.uri().path());
    // The route template for the log line: never the raw path a client wrote.
    let route = ours.then(|| {
        request
            .extensions()
            .get::<MatchedPath>()
            .map_or("other", MatchedPath::as_str)
            .to_owned()
    });
    let response = next.run(request).await;
    let Some(route) = route else {
        return response;
    };
    if response.extensions().get::<Scanned>().is_some() || is_event_stream(&response) {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Runboard's own answers are built in memory; collecting them copies nothing.
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return AppError::UpstreamInvalid.into_response();
    };
    if state.key_scan().found_in(&bytes) {
        tracing::error!(
            route,
            status = parts.status.as_u16(),
            "an answer Runboard built held a project's key; withheld"
        );
        return AppError::UpstreamWithheld.into_response();
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn is_event_stream(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v: &HeaderValue| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"))
}
