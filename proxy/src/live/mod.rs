//! Live run reports pushed as Server-Sent Events (`GET /runboard/live/{projId}/{runId}`):
//! the handler, the stream limits (all streams, and each user's), and the registry of
//! followed runs. [`follow`] polls a run once for all its viewers; [`viewer`] turns what
//! it publishes into one viewer's events, which [`sse`] encodes once for all of them.

mod follow;
mod snapshot;
mod sse;
mod viewer;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
};

use axum::{extract::State, http::HeaderMap, response::Response};
use runboard_shared::{ProjectId, RunId};
use tokio::sync::watch;

use crate::{AppError, AppState, auth::Identity, extract::RunPath, limits::Who};

use snapshot::Snapshot;

/// The run a follower polls: never shared across projects.
type RunKey = (ProjectId, RunId);

/// The `Retry-After` of a user refused one more stream. A seat frees only when one of
/// their tabs closes, which no clock predicts; the widget polls meanwhile.
const USER_STREAMS_RETRY_SECS: u64 = 30;

/// The followed runs and the open streams of one process.
pub(crate) struct Live {
    followers: Mutex<HashMap<RunKey, watch::Sender<Arc<Snapshot>>>>,
    streams: AtomicUsize,
    /// Open streams by user; a user with none has no entry, so it stays small.
    users: Mutex<HashMap<Who, usize>>,
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
            users: Mutex::default(),
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
    who: Who,
    RunPath(proj, run): RunPath,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    state.project(&proj)?;
    let seat = Seat::take(&state, who)?;
    let updates = state.live().subscribe(&state, (proj, run));
    let resume = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(viewer::EventId::parse);
    let closing = state.live().closing.subscribe();
    let heartbeat = state.config().live.heartbeat;
    let frames = viewer::events(updates, closing, resume, heartbeat, seat);
    Ok(sse::response(frames))
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

    fn lock_users(&self) -> std::sync::MutexGuard<'_, HashMap<Who, usize>> {
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One open stream, counted against `[live] max_streams` and its user's
/// `max_streams_per_user` until it is dropped.
pub(super) struct Seat {
    state: AppState,
    _user: UserSeat,
}

/// One of a user's open streams, counted until it is dropped.
struct UserSeat {
    state: AppState,
    who: Who,
}

impl UserSeat {
    fn take(state: &AppState, who: Who) -> Result<Self, AppError> {
        let max = state.config().live.max_streams_per_user;
        let mut users = state.live().lock_users();
        let held = users.get(&who).copied().unwrap_or(0);
        if max > 0 && held >= max {
            return Err(AppError::TooManyUserStreams(max, USER_STREAMS_RETRY_SECS));
        }
        users.insert(who.clone(), held + 1);
        Ok(Self {
            state: state.clone(),
            who,
        })
    }
}

impl Drop for UserSeat {
    fn drop(&mut self) {
        let mut users = self.state.live().lock_users();
        if let Some(held) = users.get_mut(&self.who) {
            *held -= 1;
            if *held == 0 {
                users.remove(&self.who);
            }
        }
    }
}

impl Seat {
    /// A seat for `who`: theirs first, then one of all (a refused one frees theirs).
    fn take(state: &AppState, who: Who) -> Result<Self, AppError> {
        let user = UserSeat::take(state, who)?;
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
                Ok(Self {
                    state: state.clone(),
                    _user: user,
                })
            }
            Err(_) => Err(AppError::TooManyStreams(max)),
        }
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        let open = self.state.live().streams.fetch_sub(1, Ordering::AcqRel) - 1;
        self.state.metrics().live_streams(open);
    }
}
