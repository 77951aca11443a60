//! Live run reports pushed as Server-Sent Events (`GET /runboard/live/{projId}/{runId}`):
//! the handler, the stream limits (all streams, and each user's), and the registry of
//! followed runs. [`follow`] polls a run once for all its viewers ([`digest`] tells what
//! changed); [`viewer`] turns what it publishes into one viewer's events, which [`sse`]
//! encodes once for all of them. A viewer is placed by `Last-Event-ID`, or by `?since=`,
//! the `ETag` of the report it already read with a plain `GET`: then it is sent only what
//! came after that report, and the whole report only when the follower cannot tell.

mod digest;
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

use axum::{
    extract::{RawQuery, State},
    http::HeaderMap,
    response::Response,
};
use runboard_shared::{LIVE_SINCE, ProjectId, RunId, url::parse_query};
use tokio::sync::{Notify, watch};

use crate::{AppError, AppState, auth::Identity, extract::RunPath, limits::Who};

use snapshot::Snapshot;

/// The run a follower polls: never shared across projects.
type RunKey = (ProjectId, RunId);

/// The `Retry-After` of a user refused one more stream. A seat frees only when one of
/// their tabs closes, which no clock predicts; the widget polls meanwhile.
const USER_STREAMS_RETRY_SECS: u64 = 30;

/// One followed run: where its follower publishes, and the bell a viewer rings when it
/// holds a report the follower has not published (read by a `GET` after the follower's
/// last poll). The follower then polls at once, and the shared read (`reads.rs`) gives
/// it that very report, reused, without another upstream call.
struct Follower {
    sender: watch::Sender<Arc<Snapshot>>,
    nudge: Arc<Notify>,
}

/// The followed runs and the open streams of one process.
pub(crate) struct Live {
    followers: Mutex<HashMap<RunKey, Follower>>,
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
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    state.project(&proj)?;
    let seat = Seat::take(&state, who)?;
    let follower = state.live().subscribe(&state, (proj, run));
    let closing = state.live().closing.subscribe();
    let heartbeat = state.config().live.heartbeat;
    let start = start_of(&headers, query.as_deref());
    let frames = viewer::events(follower, closing, start, heartbeat, seat);
    Ok(sse::response(frames))
}

/// Where the viewer says it is. `Last-Event-ID` comes first: a browser sends it when it
/// reconnects, to the same address, whose `since` names an older report than the events
/// it applied since. An id or tag Runboard never gave places the viewer nowhere (it gets
/// the whole report).
fn start_of(headers: &HeaderMap, query: Option<&str>) -> viewer::Start {
    let last = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(viewer::EventId::parse);
    if let Some(last) = last {
        return viewer::Start::After(last);
    }
    let since = parse_query(query.unwrap_or_default())
        .into_iter()
        .find_map(|(name, value)| (name == LIVE_SINCE).then_some(value));
    since.map_or(viewer::Start::Fresh, viewer::Start::Holding)
}

impl Live {
    /// Ends every open stream (the server is stopping).
    pub(crate) fn close(&self) {
        self.closing.send_replace(true);
    }

    /// The updates of `key`'s follower and its bell, starting one if the run has none.
    fn subscribe(&self, state: &AppState, key: RunKey) -> viewer::Followed {
        let mut followers = self.lock();
        if let Some(follower) = followers.get(&key) {
            return viewer::Followed {
                updates: follower.sender.subscribe(),
                nudge: follower.nudge.clone(),
            };
        }
        let epoch = self.epochs.fetch_add(1, Ordering::Relaxed) + 1;
        let (sender, updates) = watch::channel(Arc::new(Snapshot::new(epoch)));
        let nudge = Arc::new(Notify::new());
        let follower = Follower {
            sender: sender.clone(),
            nudge: nudge.clone(),
        };
        followers.insert(key.clone(), follower);
        state.metrics().runs_followed(followers.len());
        tokio::spawn(follow::run(state.clone(), key, sender, nudge.clone()));
        viewer::Followed { updates, nudge }
    }

    /// Forgets `key`'s follower if nobody watches it any more (or it is done), under the
    /// same lock [`Self::subscribe`] takes, so no viewer joins a follower that is leaving.
    fn leave(&self, state: &AppState, key: &RunKey, done: bool) -> bool {
        let mut followers = self.lock();
        let leaving = followers
            .get(key)
            .is_some_and(|follower| done || follower.sender.receiver_count() == 0);
        if leaving {
            followers.remove(key);
            state.metrics().runs_followed(followers.len());
        }
        leaving
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RunKey, Follower>> {
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
