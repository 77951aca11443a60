//! Request counters for `/api/` routes, so tests and benchmarks can see exactly what
//! reached the "upstream" (for example that a rejected request created nothing, or that
//! polling was coalesced).

use std::{
    collections::BTreeMap,
    sync::{Mutex, PoisonError},
};

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

/// Which documented endpoint a path belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    TestExecution,
    Jobs,
    TestRun,
    Other,
}

impl Endpoint {
    /// Classifies an `/api/…` path by its second segment.
    pub(crate) fn of(path: &str) -> Self {
        match path.trim_start_matches('/').split('/').nth(1) {
            Some("testExecution") => Self::TestExecution,
            Some("jobs") => Self::Jobs,
            Some("testRun") => Self::TestRun,
            _ => Self::Other,
        }
    }
}

/// Shared counters behind a mutex; each update is a few additions.
#[derive(Debug, Default)]
pub(crate) struct StatsCounter(Mutex<Stats>);

impl StatsCounter {
    fn with<T>(&self, f: impl FnOnce(&mut Stats) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Counts a request as it arrives.
    pub(crate) fn arrived(&self, endpoint: Endpoint) {
        self.with(|stats| {
            stats.total += 1;
            let slot = match endpoint {
                Endpoint::TestExecution => &mut stats.by_endpoint.test_execution,
                Endpoint::Jobs => &mut stats.by_endpoint.jobs,
                Endpoint::TestRun => &mut stats.by_endpoint.test_run,
                Endpoint::Other => &mut stats.by_endpoint.other,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_classified_by_endpoint() {
        let check = |path: &str, expected| assert_eq!(Endpoint::of(path), expected, "{path}");
        check("/api/testExecution/p", Endpoint::TestExecution);
        check("/api/jobs/p", Endpoint::Jobs);
        check("/api/testRun/p/r", Endpoint::TestRun);
        check("/api/nope", Endpoint::Other);
        check("/api/", Endpoint::Other);
    }
}
