//! Fault injection for `/api/` routes: latency, 5xx answers, truncated JSON, requests
//! that never answer and connections closed without a response.

use std::time::Duration;

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use rand::{Rng, rngs::StdRng};
use tokio::sync::watch;

use crate::{Simulator, config::Faults, error::SimError};

/// Marks a response that must never reach the client. The simulator's server closes the
/// connection instead of sending it; when the router is driven directly (no socket) it
/// shows as an empty `502` carrying this extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupted {
    /// The drop fault: the connection is closed without a response.
    Dropped,
    /// The hang fault, released because the server is shutting down.
    Hung,
}

/// The server's stop flag, attached to each request by the accept loop so that hung
/// requests end when the server stops.
#[derive(Debug, Clone)]
pub(crate) struct ShutdownSignal(pub(crate) watch::Receiver<bool>);

/// What the faults decided for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct FaultRoll {
    pub(crate) delay: Duration,
    pub(crate) action: Option<FaultAction>,
}

/// The one fault (besides latency) applied to a request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum FaultAction {
    Drop,
    Hang,
    Error(StatusCode),
    Malformed,
}

/// Draws the faults for one request. Rates must already be within 0..1.
pub(crate) fn roll(faults: &Faults, rng: &mut StdRng) -> FaultRoll {
    let jitter = if faults.jitter_ms > 0 {
        rng.gen_range(0..=faults.jitter_ms)
    } else {
        0
    };
    let delay = Duration::from_millis(faults.latency_ms + jitter);
    let action = if rng.gen_bool(faults.drop_rate) {
        Some(FaultAction::Drop)
    } else if rng.gen_bool(faults.hang_rate) {
        Some(FaultAction::Hang)
    } else if rng.gen_bool(faults.error5xx_rate) {
        let statuses = [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::SERVICE_UNAVAILABLE,
        ];
        Some(FaultAction::Error(
            statuses[rng.gen_range(0..statuses.len())],
        ))
    } else if rng.gen_bool(faults.malformed_json_rate) {
        Some(FaultAction::Malformed)
    } else {
        None
    };
    FaultRoll { delay, action }
}

/// The fault layer.
pub(super) async fn inject(State(sim): State<Simulator>, req: Request, next: Next) -> Response {
    let FaultRoll { delay, action } = sim.roll_faults();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match action {
        None => next.run(req).await,
        Some(FaultAction::Drop) => interrupted(Interrupted::Dropped),
        Some(FaultAction::Hang) => {
            sim.stats_counter().answered("hung");
            hang(req.extensions().get::<ShutdownSignal>().cloned()).await;
            interrupted(Interrupted::Hung)
        }
        Some(FaultAction::Error(status)) => SimError::Injected(status).into_response(),
        Some(FaultAction::Malformed) => truncate(next.run(req).await).await,
    }
}

/// Waits until the server stops; forever when there is no server (the client gives up).
async fn hang(signal: Option<ShutdownSignal>) {
    match signal {
        Some(ShutdownSignal(mut stop)) => {
            // An error means the server is gone, which also ends the hang.
            let _ = stop.wait_for(|stopping| *stopping).await.map(|_| ());
        }
        None => std::future::pending::<()>().await,
    }
}

fn interrupted(kind: Interrupted) -> Response {
    let mut response = StatusCode::BAD_GATEWAY.into_response();
    response.extensions_mut().insert(kind);
    response
}

/// Keeps the status but cuts the JSON body in half: a prefix of a JSON object never
/// parses, like an answer cut off by a failing proxy.
async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let cut = if bytes.len() >= 4 {
        bytes.slice(..bytes.len() / 2)
    } else {
        Bytes::from_static(b"{\"success\":tr")
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(cut))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::rng_for;

    #[test]
    fn certain_faults_always_fire_and_none_never_does() {
        let mut rng = rng_for(1, &[]);
        assert_eq!(roll(&Faults::default(), &mut rng), FaultRoll::default());
        let check = |faults: Faults, expected: fn(Option<FaultAction>) -> bool| {
            let mut rng = rng_for(1, &[]);
            for _ in 0..50 {
                assert!(expected(roll(&faults, &mut rng).action), "{faults:?}");
            }
        };
        check(
            Faults {
                drop_rate: 1.0,
                ..Faults::default()
            },
            |a| a == Some(FaultAction::Drop),
        );
        check(
            Faults {
                hang_rate: 1.0,
                ..Faults::default()
            },
            |a| a == Some(FaultAction::Hang),
        );
        check(
            Faults {
                error5xx_rate: 1.0,
                ..Faults::default()
            },
            |a| matches!(a, Some(FaultAction::Error(s)) if s.is_server_error()),
        );
        check(
            Faults {
                malformed_json_rate: 1.0,
                ..Faults::default()
            },
            |a| a == Some(FaultAction::Malformed),
        );
        let slow = Faults {
            latency_ms: 20,
            jitter_ms: 5,
            ..Faults::default()
        };
        let delay = roll(&slow, &mut rng).delay;
        assert!((20..=25).contains(&(delay.as_millis() as u64)));
    }
}
