//! Shared reads: identical concurrent reads for one project share one upstream call
//! (single flight), a live answer is reused for a short window, the platform's 404 for a
//! run id for a few seconds, finished run reports are kept in a byte-bounded LRU cache,
//! and every shared answer carries a strong `ETag` and is sent in the coding the browser
//! prefers, compressed once per answer (`answer.rs`, `encoded.rs`).
//!
//! Nothing here checks who asks: the handlers check identity and project before they
//! call in, and every key holds the project, so no answer crosses projects.

mod answer;
mod encoded;
mod finished;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    http::{HeaderMap, StatusCode},
    response::Response,
};
use runboard_shared::{
    Endpoint, JobId, JobsRequest, JobsResponse, ProjectId, RunId, RunStatus, TestRunShape,
    jobs_path, test_run_path,
};
use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::OnceCell;

use crate::{
    AppError, AppState,
    config::{CacheConfig, ProjectConfig},
    metrics::Metrics,
    upstream::Verified,
};
pub(crate) use answer::{Answer, none_match};
pub(crate) use encoded::{Coding, Negotiated, SMALL_BODY};
use finished::Finished;

/// What is read, within one project.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Read {
    TestRun(RunId),
    /// Sorted and without duplicates, so the same set in any order is one read.
    Jobs(Vec<JobId>),
    /// `jobs` without `jobIds`: every active job of the project.
    ActiveJobs,
}

type Key = (ProjectId, Read);
type Outcome = Result<Arc<Answer>, AppError>;

/// How long the platform's 404 for a run id is given again without asking: a client
/// repeating an unknown id (a typo, a stale link, a probe) costs the shared key one call
/// in this window. Short, so a run the platform did not know yet shows up soon after.
const NOT_FOUND_REUSE: Duration = Duration::from_secs(5);

/// One upstream call and, once it is done, its outcome and when it came.
struct Flight {
    reuse: Duration,
    /// How long a 404 is reused ([`NOT_FOUND_REUSE`] for run reports, else zero).
    not_found: Duration,
    done: OnceCell<(Outcome, Instant)>,
}

impl Flight {
    fn new(reuse: Duration, not_found: Duration) -> Arc<Self> {
        Arc::new(Self {
            reuse,
            not_found,
            done: OnceCell::new(),
        })
    }

    /// A successful answer, or a remembered 404, still inside its window.
    fn fresh(&self) -> Option<Outcome> {
        match self.done.get()? {
            (Ok(answer), at) if at.elapsed() < self.reuse => Some(Ok(answer.clone())),
            (Err(err), at) if is_not_found(err) && at.elapsed() < self.not_found => {
                Some(Err(err.clone()))
            }
            _ => None,
        }
    }

    /// Whether its outcome may be given to later readers (in its window): an answer, or
    /// a 404 this flight remembers. Other failures are not reused.
    fn keeps(&self, outcome: &Outcome) -> bool {
        match outcome {
            Ok(_) => true,
            Err(err) => is_not_found(err) && !self.not_found.is_zero(),
        }
    }

    /// Whether nothing can be gained from keeping it: done, and not fresh.
    fn stale(&self) -> bool {
        self.done.initialized() && self.fresh().is_none()
    }
}

/// The flights of every project and the cache of finished reports.
pub(crate) struct Reads {
    flights: Mutex<Flights>,
    finished: Mutex<Finished>,
    live_reuse: Duration,
    active_reuse: Duration,
}

/// How often finished flights past their window are dropped, so the last answer of a
/// run nobody watches any more (a live report can be megabytes) is not kept for long.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// The flights by key, and when stale ones were last swept out.
struct Flights {
    by_key: HashMap<Key, Arc<Flight>>,
    swept: Instant,
}

/// How a read was served, for the metrics.
enum Joined {
    Fresh(Outcome),
    Flight(Arc<Flight>, bool),
}

/// Whether `err` is the platform's 404 (an unknown run or project).
fn is_not_found(err: &AppError) -> bool {
    matches!(err, AppError::UpstreamRejected(status, _) if *status == StatusCode::NOT_FOUND)
}

/// How long `read`'s 404 is remembered: only a run report's, whose id a client chose.
fn not_found_reuse(read: &Read) -> Duration {
    match read {
        Read::TestRun(_) => NOT_FOUND_REUSE,
        Read::Jobs(_) | Read::ActiveJobs => Duration::ZERO,
    }
}

impl Reads {
    pub(crate) fn new(cache: &CacheConfig, active_jobs_every: Duration) -> Self {
        Self {
            flights: Mutex::new(Flights {
                by_key: HashMap::new(),
                swept: Instant::now(),
            }),
            finished: Mutex::new(Finished::new(cache.finished_bytes)),
            live_reuse: cache.live_reuse,
            active_reuse: active_jobs_every,
        }
    }

    /// The fresh answer for `key`, or the flight to wait on (a running one, joined, or a
    /// new one).
    fn join(&self, key: Key, reuse: Duration) -> Joined {
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(flight) = flights.by_key.get(&key) {
            if let Some(outcome) = flight.fresh() {
                return Joined::Fresh(outcome);
            }
            if !flight.done.initialized() {
                return Joined::Flight(flight.clone(), true);
            }
        }
        if flights.swept.elapsed() >= SWEEP_EVERY {
            flights.by_key.retain(|_, flight| !flight.stale());
            flights.swept = Instant::now();
        }
        let flight = Flight::new(reuse, not_found_reuse(&key.1));
        flights.by_key.insert(key, flight.clone());
        Joined::Flight(flight, false)
    }

    /// Forgets `flight` if it is still the one for `key` (a failed call is not reused).
    fn forget(&self, key: &Key, flight: &Arc<Flight>) {
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if flights
            .by_key
            .get(key)
            .is_some_and(|f| Arc::ptr_eq(f, flight))
        {
            flights.by_key.remove(key);
        }
    }

    /// Serves `key` from a fresh answer or a shared flight that runs `fetch` once.
    async fn shared(
        &self,
        metrics: &Metrics,
        key: Key,
        reuse: Duration,
        fetch: impl Future<Output = Outcome>,
    ) -> Outcome {
        let flight = match self.join(key.clone(), reuse) {
            Joined::Fresh(outcome) => {
                metrics.upstream_saved("reused");
                return outcome;
            }
            Joined::Flight(flight, joined) => {
                if joined {
                    metrics.upstream_saved("coalesced");
                }
                flight
            }
        };
        // Whoever polls first runs the call; if that request goes away, a waiter takes
        // over, so one impatient browser cannot fail the others.
        let (outcome, _) = flight
            .done
            .get_or_init(|| async { (fetch.await, Instant::now()) })
            .await;
        if !flight.keeps(outcome) {
            self.forget(&key, &flight);
        }
        outcome.clone()
    }
}

/// The run report `run` of `project`: from the finished cache, a fresh shared answer, or
/// one upstream call shared by everyone asking now. The caller has checked identity and
/// that `project` is configured; the live follower calls this too.
pub(crate) async fn test_run(
    state: &AppState,
    project: &ProjectConfig,
    run: &RunId,
) -> Result<Arc<Answer>, AppError> {
    let reads = state.reads();
    let metrics = state.metrics();
    let cache_key = (project.id.clone(), run.clone());
    if let Some(answer) = reads.finished_get(&cache_key) {
        metrics.upstream_saved("cache_hit");
        return Ok(answer);
    }
    let key = (project.id.clone(), Read::TestRun(run.clone()));
    let fetch = async {
        let path = test_run_path(&project.id, run);
        let verified: Verified<TestRunShape> =
            forward(state, project, Endpoint::TestRun, &path, None::<&()>).await?;
        let finished = final_status(&verified.value.status);
        Ok(Arc::new(Answer::new(verified.into_bytes(), finished)))
    };
    let answer = reads.shared(metrics, key, reads.live_reuse, fetch).await?;
    if answer.is_finished() {
        reads.finished_put(cache_key, answer.clone());
    }
    Ok(answer)
}

/// `GET` of the run report `run` for a browser: [`test_run`], sent in the coding the
/// request prefers ([`Answer::respond`]). A finished report's compressed form made for
/// it is then counted in the cache's byte bound.
pub(crate) async fn respond_test_run(
    state: &AppState,
    project: &ProjectConfig,
    run: &RunId,
    request: &HeaderMap,
) -> Result<Response, AppError> {
    let answer = test_run(state, project, run).await?;
    let response = answer.respond(request, state.metrics()).await;
    if answer.is_finished() {
        let key = (project.id.clone(), run.clone());
        state.reads().finished_recount(&key, &answer);
    }
    Ok(response)
}

/// The `jobs` answer for `request` (ids already made distinct and capped by the
/// handler): one shared call per sorted id set, or per project for the active-jobs list.
pub(crate) async fn jobs(
    state: &AppState,
    project: &ProjectConfig,
    request: &JobsRequest,
) -> Result<Arc<Answer>, AppError> {
    let reads = state.reads();
    let metrics = state.metrics();
    let (read, reuse, sorted) = match &request.job_ids {
        Some(ids) => {
            let mut ids = ids.clone();
            ids.sort();
            ids.dedup();
            let sorted = JobsRequest {
                job_ids: Some(ids.clone()),
            };
            (Read::Jobs(ids), reads.live_reuse, sorted)
        }
        None => (Read::ActiveJobs, reads.active_reuse, JobsRequest::default()),
    };
    let fetch = async {
        let path = jobs_path(&project.id);
        let verified: Verified<JobsResponse> =
            forward(state, project, Endpoint::Jobs, &path, Some(&sorted)).await?;
        Ok(Arc::new(Answer::new(verified.into_bytes(), false)))
    };
    reads
        .shared(metrics, (project.id.clone(), read), reuse, fetch)
        .await
}

/// The one way a read reaches the platform: `endpoint` at `path` (built from validated
/// ids) for `project`, with the project's key, the answer checked to parse as `T`.
async fn forward<T: DeserializeOwned>(
    state: &AppState,
    project: &ProjectConfig,
    endpoint: Endpoint,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<Verified<T>, AppError> {
    state
        .upstream()
        .read(state.metrics(), project, endpoint, path, body)
        .await
}

/// Whether a report in `status` never changes again. An undocumented status is not
/// trusted to be final: it is only reused for the live window.
fn final_status(status: &RunStatus) -> bool {
    matches!(status, RunStatus::Completed | RunStatus::Aborted)
}

impl Reads {
    fn finished_get(&self, key: &(ProjectId, RunId)) -> Option<Arc<Answer>> {
        let mut finished = self.finished.lock().unwrap_or_else(|p| p.into_inner());
        finished.get(key)
    }

    fn finished_put(&self, key: (ProjectId, RunId), answer: Arc<Answer>) {
        let mut finished = self.finished.lock().unwrap_or_else(|p| p.into_inner());
        finished.put(key, answer);
    }

    fn finished_recount(&self, key: &(ProjectId, RunId), answer: &Arc<Answer>) {
        let mut finished = self.finished.lock().unwrap_or_else(|p| p.into_inner());
        finished.recount(key, answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flight done with `outcome` `ago`, remembering 404s for `not_found`.
    fn done(outcome: Outcome, ago: Duration, not_found: Duration) -> Arc<Flight> {
        let flight = Flight::new(Duration::ZERO, not_found);
        let at = Instant::now() - ago;
        assert!(flight.done.set((outcome, at)).is_ok());
        flight
    }

    #[test]
    fn only_a_404_is_remembered_and_only_for_its_window() {
        let not_found = || {
            Err(AppError::UpstreamRejected(
                StatusCode::NOT_FOUND,
                "x".into(),
            ))
        };
        let recent = done(not_found(), Duration::ZERO, NOT_FOUND_REUSE);
        assert!(recent.keeps(&not_found()));
        assert!(matches!(recent.fresh(), Some(Err(err)) if is_not_found(&err)));
        let old = done(not_found(), NOT_FOUND_REUSE, NOT_FOUND_REUSE);
        assert!(old.fresh().is_none() && old.stale(), "past the window");
        let jobs = done(
            not_found(),
            Duration::ZERO,
            not_found_reuse(&Read::ActiveJobs),
        );
        assert!(
            !jobs.keeps(&not_found()) && jobs.fresh().is_none(),
            "not for jobs"
        );
        let failed = Err(AppError::UpstreamUnavailable("HTTP 503".into()));
        let outage = done(failed.clone(), Duration::ZERO, NOT_FOUND_REUSE);
        assert!(
            !outage.keeps(&failed) && outage.fresh().is_none(),
            "never a 5xx"
        );
    }
}
