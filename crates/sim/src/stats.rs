//! Request counters for `/api/` routes, so tests and benchmarks can see exactly what
//! reached the "upstream" (for example that a rejected request created nothing, or that
//! polling was coalesced).

use std::{
    collections::BTreeMap,
    sync::{Mutex, PoisonError},
};

use runboard_shared::Endpoint;
use serde::{Deserialize, Serialize};

/// The body of `GET /__sim/stats`.
///
/// `byStatus` is keyed by HTTP status code (`"200"`, `"401"`…), plus `"dropped"` for
/// connections closed by the drop fault and `"hung"` for requests held by the hang fault.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Every request under `/api/`, rejected ones included.
    pub total: u64,
    /// The same requests by endpoint.
    pub by_endpoint: EndpointCounts,
    /// How they were answered.
    pub by_status: BTreeMap<String, u64>,
}

impl Stats {
    /// Requests answered with HTTP status `code`.
    pub fn status(&self, code: u16) -> u64 {
        self.by_status.get(&code.to_string()).copied().unwrap_or(0)
    }
}

/// Requests per endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointCounts {
    /// `POST /api/testExecution/…`.
    pub test_execution: u64,
    /// `POST /api/jobs/…`.
    pub jobs: u64,
    /// `GET /api/testRun/…`.
    pub test_run: u64,
    /// Any other path under `/api/`.
    pub other: u64,
}

/// Shared counters behind a mutex; each update is a few additions.
#[derive(Debug, Default)]
pub(crate) struct StatsCounter(Mutex<Stats>);

impl StatsCounter {
    fn with<T>(&self, f: impl FnOnce(&mut Stats) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Counts a request as it arrives; `None` is a path that names no documented endpoint.
    pub(crate) fn arrived(&self, endpoint: Option<Endpoint>) {
        self.with(|stats| {
            stats.total += 1;
            let slot = match endpoint {
                Some(Endpoint::Execute) => &mut stats.by_endpoint.test_execution,
                Some(Endpoint::Jobs) => &mut stats.by_endpoint.jobs,
                Some(Endpoint::TestRun) => &mut stats.by_endpoint.test_run,
                None => &mut stats.by_endpoint.other,
            };
            *slot += 1;
        });
    }

    /// Counts how a request ended: a status code, `dropped` or `hung`.
    pub(crate) fn answered(&self, outcome: &str) {
        self.with(|stats| *stats.by_status.entry(outcome.to_owned()).or_default() += 1);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        self.with(|stats| stats.clone())
    }

    pub(crate) fn reset(&self) {
        self.with(|stats| *stats = Stats::default());
    }
}
