//! The follower: one task per followed run that polls the report at `poll.run_ms` while
//! anyone watches, and publishes each new state to every viewer at once.

use std::{sync::Arc, time::Duration};

use tokio::sync::watch;

use super::{
    RunKey,
    snapshot::{Digest, Snapshot},
};
use crate::{
    AppError, AppState,
    reads::{self, Answer},
};

/// Follows `key` until the run is final, the first poll fails, or nobody watches.
pub(super) async fn run(state: AppState, key: RunKey, sender: watch::Sender<Arc<Snapshot>>) {
    let every = Duration::from_millis(state.config().poll.run_ms);
    let mut snapshot = (**sender.borrow()).clone();
    let mut digest: Option<Digest> = None;
    loop {
        let done = match fetch(&state, &key).await {
            Ok(report) => {
                let is_final = report.is_finished();
                let bytes = report.bytes();
                let (next, change) = Digest::of(bytes, digest.as_ref());
                digest = Some(next);
                // The report was scanned for keys on arrival; a change is Runboard's own
                // text built from it, scanned once here for every viewer. One that held
                // a key (only fields joined together could) is not sent: viewers get the
                // whole, scanned report instead.
                let change = match change {
                    Ok(Some(c)) if state.key_scan().found_in(&c) => Err(()),
                    other => other,
                };
                match change {
                    Ok(None) if !is_final => {}
                    Ok(change) => snapshot.advance(bytes, change.as_deref(), is_final),
                    Err(()) => snapshot.advance(bytes, None, is_final),
                }
                is_final
            }
            Err(error) if snapshot.report.is_none() => {
                snapshot.fail(&failure_body(&error));
                true
            }
            Err(error) => {
                // Viewers keep the last report; the next poll may succeed.
                tracing::warn!(%error, "a followed run could not be refreshed");
                false
            }
        };
        sender.send_replace(Arc::new(snapshot.clone()));
        if done {
            state.live().leave(&state, &key, true);
            return;
        }
        if !wait(&state, &key, &sender, every).await {
            return;
        }
    }
}

/// Sleeps `every`, or returns `false` (and forgets the run) once the last viewer left.
async fn wait(
    state: &AppState,
    key: &RunKey,
    sender: &watch::Sender<Arc<Snapshot>>,
    every: Duration,
) -> bool {
    let wake = tokio::time::Instant::now() + every;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(wake) => return true,
            () = sender.closed() => {
                if state.live().leave(state, key, false) {
                    return false;
                }
                // Someone joined meanwhile: keep waiting for the poll or their leaving.
            }
        }
    }
}

/// One read of the report, shared with every other reader of it (`reads.rs`).
async fn fetch(state: &AppState, (proj, run): &RunKey) -> Result<Arc<Answer>, AppError> {
    reads::test_run(state, state.project(proj)?, run).await
}

/// The JSON error body a viewer gets as the `failure` event.
fn failure_body(error: &AppError) -> Vec<u8> {
    serde_json::to_vec(&error.api_error()).unwrap_or_default()
}
