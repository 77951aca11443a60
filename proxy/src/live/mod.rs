//! Live run reports pushed as Server-Sent Events (`GET /runboard/live/{projId}/{runId}`):
//! the handler, the stream limit, and the registry of followed runs. [`follow`] polls a
//! run once for all its viewers; [`viewer`] turns what it publishes into one viewer's
//! events.

mod follow;
mod snapshot;
mod viewer;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
};

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use runboard_shared::{ProjectId, RunId};
use tokio::sync::watch;

use crate::{AppError, AppState, auth::Identity, extract::RunPath};

use snapshot::Snapshot;

/// The run a follower polls: never shared across projects.
type RunKey = (ProjectId, RunId);

/// The followed runs and the open streams of one process.
pub(crate) struct Live {
    followers: Mutex<HashMap<RunKey, watch::Sender<Arc<Snapshot>>>>,
    streams: AtomicUsize,
    /// Numbers each follower, so an event id from an earlier follower of the same run
    /// is never mistaken for one of the current follower's.
    epochs: AtomicU64,
    /// Set when the server stops: every stream ends (browsers reconnect elsewhere)
    /// instead of holding the shutdown for its whole drain period.
    closing: watch::Sender<bool>,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            followers: Mutex::default(),
            streams: AtomicUsize::new(0),
            // Epochs start at a random point, so an event id from another process (a
            // restarted runboard, another replica behind the load balancer) never passes
            // as one of this process's followers and resumes a viewer at the wrong place.
            epochs: AtomicU64::new(rand::random::<u64>() >> 16),
            closing: watch::Sender::new(false),
        }
    }
}

/// `GET /runboard/live/{projId}/{runId}`: the run report as an event stream, with the
/// same identity and project checks as `GET /api/testRun/…`.
pub(crate) async fn stream(
    State(state): State<AppState>,
    _identity: Identity,
    RunPath(proj, run): RunPath,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    state.project(&proj)?;
    let seat = Seat::take(&state)?;
    let updates = state.live().subscribe(&state, (proj, run));
    let resume = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(viewer::EventId::parse);
    let closing = state.live().closing.subscribe();
    let events = viewer::events(updates, closing, resume, seat);
    // A comment keeps proxies from closing a quiet stream; the `ping` event beside it
    // lets the widget tell a quiet stream from a stuck one (comments never reach it).
    let heartbeat = Event::default()
        .comment("keep-alive")
        .event("ping")
        .data("{}");
    let keep_alive = KeepAlive::new()
        .interval(state.config().live.heartbeat)
        .event(heartbeat);
    let mut response = Sse::new(events).keep_alive(keep_alive).into_response();
    // nginx and similar proxies pass the stream on as it comes instead of buffering it.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

impl Live {
    /// Ends every open stream (the server is stopping).
    pub(crate) fn close(&self) {
        self.closing.send_replace(true);
    }

    /// The updates of `key`'s follower, starting one if the run has none.
    fn subscribe(&self, state: &AppState, key: RunKey) -> watch::Receiver<Arc<Snapshot>> {
        let mut followers = self.lock();
        if let Some(sender) = followers.get(&key) {
            return sender.subscribe();
        }
        let epoch = self.epochs.fetch_add(1, Ordering::Relaxed) + 1;
        let (sender, receiver) = watch::channel(Arc::new(Snapshot::new(epoch)));
        followers.insert(key.clone(), sender.clone());
        state.metrics().runs_followed(followers.len());
        tokio::spawn(follow::run(state.clone(), key, sender));
        receiver
    }

    /// Forgets `key`'s follower if nobody watches it any more (or it is done), under the
    /// same lock [`Self::subscribe`] takes, so no viewer joins a follower that is leaving.
    fn leave(&self, state: &AppState, key: &RunKey, done: bool) -> bool {
        let mut followers = self.lock();
        let leaving = followers
            .get(key)
            .is_some_and(|sender| done || sender.receiver_count() == 0);
        if leaving {
            followers.remove(key);
            state.metrics().runs_followed(followers.len());
        }
        leaving
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RunKey, watch::Sender<Arc<Snapshot>>>> {
        self.followers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// One open stream, counted against `[live] max_streams` until it is dropped.
pub(super) struct Seat(AppState);

impl Seat {
    fn take(state: &AppState) -> Result<Self, AppError> {
        let live = state.live();
        let config = state.config();
        // Each stream holds a connection for as long as it is open: at most half of them
        // may be streams, so pages, polls and starts always find one.
        let max = config
            .live
            .max_streams
            .min(config.server.max_connections / 2);
        let taken = live
            .streams
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < max).then_some(open + 1)
            });
        match taken {
            Ok(open) => {
                state.metrics().live_streams(open + 1);
                Ok(Self(state.clone()))
            }
            Err(_) => Err(AppError::TooManyStreams(max)),
        }
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        let open = self.0.live().streams.fetch_sub(1, Ordering::AcqRel) - 1;
        self.0.metrics().live_streams(open);
    }
}
