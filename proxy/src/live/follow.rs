//! The follower: one task per followed run that polls the report at `poll.run_ms` while
//! anyone watches, and publishes each new state to every viewer at once.

use std::{sync::Arc, time::Duration};

use tokio::{
    sync::{Notify, watch},
    time::Instant,
};

use super::{RunKey, digest::Digest, snapshot::Snapshot};
use crate::{
    AppError, AppState,
    reads::{self, Answer},
};

/// Follows `key` until the run is final, the first poll fails, or nobody watches. Polls
/// every `poll.run_ms`, and at once when a viewer rings `nudge` (it holds a report read
/// after the last poll, see `viewer.rs`), at most once per `poll.run_ms`: whatever
/// viewers send, the run costs the platform at most two reads per `poll.run_ms` (and
/// the one it asks for is usually the viewer's own `GET`, reused by `reads.rs`).
pub(super) async fn run(
    state: AppState,
    key: RunKey,
    sender: watch::Sender<Arc<Snapshot>>,
    nudge: Arc<Notify>,
) {
    let every = Duration::from_millis(state.config().poll.run_ms);
    let mut snapshot = (**sender.borrow()).clone();
    let mut digest: Option<Digest> = None;
    // When the follower last polled because a viewer rang.
    let mut nudged: Option<Instant> = None;
    loop {
        let done = match fetch(&state, &key).await {
            Ok(report) => {
                take(&state, &mut snapshot, &mut digest, &report);
                report.is_finished()
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
        snapshot.polls += 1;
        sender.send_replace(Arc::new(snapshot.clone()));
        if done {
            state.live().leave(&state, &key, true);
            return;
        }
        if !wait(&state, &key, &sender, &nudge, &mut nudged, every).await {
            return;
        }
    }
}

/// Takes a new read of the report into `snapshot`: nothing when it is the report
/// published (the same tag: not even a digest), else the report with the change that
/// led to it, when one can be told.
fn take(state: &AppState, snapshot: &mut Snapshot, digest: &mut Option<Digest>, report: &Answer) {
    let (bytes, tag) = (report.bytes(), report.etag());
    if snapshot.is_at(tag) {
        return;
    }
    let is_final = report.is_finished();
    let (next, change) = Digest::of(bytes, digest.as_ref());
    *digest = Some(next);
    // The report was scanned for keys on arrival; a change is Runboard's own text built
    // from it, scanned once here for every viewer. One that held a key (only fields
    // joined together could) is not sent: viewers get the whole, scanned report instead.
    match change {
        Ok(None) if !is_final => {}
        Ok(Some(c)) if state.key_scan().found_in(&c) => {
            snapshot.advance(bytes, tag, None, is_final);
        }
        Ok(change) => snapshot.advance(bytes, tag, change.as_deref(), is_final),
        Err(()) => snapshot.advance(bytes, tag, None, is_final),
    }
}

/// Sleeps `every` (or less, when a viewer rings `nudge` and no poll was rung for in the
/// last `every`: `nudged` is when the last was), or returns `false` (and forgets the
/// run) once the last viewer left.
async fn wait(
    state: &AppState,
    key: &RunKey,
    sender: &watch::Sender<Arc<Snapshot>>,
    nudge: &Notify,
    nudged: &mut Option<Instant>,
    every: Duration,
) -> bool {
    let wake = Instant::now() + every;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(wake) => return true,
            () = nudge.notified() => {
                if nudged.is_none_or(|at| at.elapsed() >= every) {
                    *nudged = Some(Instant::now());
                    return true;
                }
                // Rung again too soon: the regular poll comes at `wake`.
            }
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
