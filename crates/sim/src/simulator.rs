//! The [`Simulator`] handle: shared state behind an `Arc`, the clock, the faults, the
//! counters, and the methods tests and embedders call directly.

use std::{
    fmt,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use axum::Router;
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;

use crate::{
    catalog::{Catalog, CatalogList},
    clock::{Clock, SystemClock},
    config::{Faults, SimConfig},
    http::{
        self,
        faults::{self, FaultRoll},
    },
    recorder::{RecordedRequests, RequestLog},
    rng::{label, rng_for},
    stats::{Stats, StatsCounter},
    store::Store,
};

/// A simulated Test Execution API. Cheap to clone: clones share one state, so a test
/// can keep a handle while the router serves requests.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

struct Inner {
    clock: Arc<dyn Clock>,
    store: Mutex<Store>,
    faults: Mutex<Faults>,
    fault_rng: Mutex<StdRng>,
    stats: StatsCounter,
    requests: RequestLog,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // State stays consistent even if a holder panicked: every update is a single step.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Simulator {
    /// A simulator on the real clock. Out-of-range values in `config` are clamped (use
    /// [`SimConfig::validate`] first to refuse them instead).
    pub fn new(config: SimConfig) -> Self {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// A simulator reading time from `clock`, typically a shared
    /// [`ManualClock`](crate::ManualClock) that a test advances.
    pub fn with_clock(config: SimConfig, clock: Arc<dyn Clock>) -> Self {
        let config = config.clamped();
        let inner = Inner {
            clock,
            store: Mutex::new(Store::new(&config)),
            faults: Mutex::new(config.faults),
            fault_rng: Mutex::new(rng_for(config.seed, &[label("faults")])),
            stats: StatsCounter::default(),
            requests: RequestLog::default(),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The whole HTTP API: the three `/api/` endpoints and the `/__sim/` controls.
    pub fn router(&self) -> Router {
        http::router(self.clone())
    }

    /// The simulator's current instant.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// One project's catalog with its agents' current state (as in `/__sim/catalog`).
    pub fn catalog(&self, project_id: &str) -> Option<Catalog> {
        self.store().catalog(project_id)
    }

    /// Every project's catalog: the body of `GET /__sim/catalog`.
    pub fn catalogs(&self) -> CatalogList {
        CatalogList {
            projects: self.store().catalogs(),
        }
    }

    /// The `/api/` request counters.
    pub fn stats(&self) -> Stats {
        self.inner.stats.snapshot()
    }

    /// Zeroes the request counters.
    pub fn reset_stats(&self) {
        self.inner.stats.reset();
    }

    /// Every `/api/` request received since start or since [`Self::clear_requests`]
    /// (at most the last 10,000), oldest first.
    pub fn requests(&self) -> RecordedRequests {
        self.inner.requests.snapshot()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.inner.requests.clear();
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        *lock(&self.inner.faults)
    }

    /// Replaces the faults; out-of-range values are clamped.
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.inner.faults) = faults.clamped();
    }

    /// Connects or disconnects an agent of a project. Jobs waiting for it start when it
    /// connects; jobs not yet started wait again when it disconnects. Returns `false`
    /// when the project or agent does not exist.
    pub fn set_agent_connected(&self, project_id: &str, agent: &str, connected: bool) -> bool {
        let now = self.now();
        self.store().set_agent(project_id, agent, connected, now)
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.inner.store)
    }

    pub(crate) fn stats_counter(&self) -> &StatsCounter {
        &self.inner.stats
    }

    pub(crate) fn request_log(&self) -> &RequestLog {
        &self.inner.requests
    }

    pub(crate) fn roll_faults(&self) -> FaultRoll {
        let faults = self.faults();
        if faults.is_none() {
            return FaultRoll::default();
        }
        faults::roll(&faults, &mut lock(&self.inner.fault_rng))
    }
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("faults", &self.faults())
            .finish_non_exhaustive()
    }
}
