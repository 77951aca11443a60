//! Prometheus metrics: requests by route template and status, and upstream latency by
//! endpoint. Labels hold route templates and endpoint names only: never an id, never a key.

use std::sync::Mutex;

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    endpoint: &'static str,
    outcome: &'static str,
}

/// The metric families and their registry.
pub(crate) struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    upstream: Family<UpstreamLabels, Histogram>,
}

fn latency_histogram() -> Histogram {
    // 5 ms … ~20 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 13))
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("runboard");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let upstream = Family::<UpstreamLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "upstream_request_duration_seconds",
            "Time for the test platform to answer, by endpoint and outcome",
            upstream.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            requests,
            upstream,
        }
    }

    /// Counts one answered request.
    pub(crate) fn request(&self, route: &str, method: &str, status: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .inc();
    }

    /// Records one upstream call.
    pub(crate) fn upstream(&self, endpoint: &'static str, outcome: &'static str, seconds: f64) {
        self.upstream
            .get_or_create(&UpstreamLabels { endpoint, outcome })
            .observe(seconds);
    }

    /// The OpenMetrics text exposition.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        let registry = self
            .registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &registry);
        out
    }
}
