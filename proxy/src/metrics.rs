//! Prometheus metrics: requests by route template and status, and upstream latency by
//! endpoint. Labels hold route templates and endpoint names only: never an id, never a key.

use std::sync::Mutex;

use axum::http::Method;
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

/// The bounded label for `method`: a standard method, or `OTHER`.
fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "HEAD" => "HEAD",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        "PATCH" => "PATCH",
        _ => "OTHER",
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamEventLabels {
    event: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SavedLabels {
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodingLabels {
    coding: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    endpoint: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NotificationLabels {
    /// A configured channel's name: bounded by the configuration.
    channel: String,
    outcome: &'static str,
}

/// The metric families and their registry.
pub(crate) struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    upstream: Family<UpstreamLabels, Histogram>,
    upstream_events: Family<UpstreamEventLabels, Counter>,
    upstream_saved: Family<SavedLabels, Counter>,
    compressions: Family<CodingLabels, Counter>,
    compressed_hits: Family<CodingLabels, Counter>,
    live_streams: Gauge,
    runs_followed: Gauge,
    notifications: Family<NotificationLabels, Counter>,
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
        let upstream_events = Family::<UpstreamEventLabels, Counter>::default();
        registry.register(
            "upstream_events",
            "Retries, circuit breaker openings and refusals, and lost starts found or not",
            upstream_events.clone(),
        );
        let upstream_saved = Family::<SavedLabels, Counter>::default();
        registry.register(
            "upstream_saved",
            "Upstream calls saved by shared reads: coalesced, reused, cache_hit, not_modified",
            upstream_saved.clone(),
        );
        let compressions = Family::<CodingLabels, Counter>::default();
        registry.register(
            "compressions",
            "Compressed forms of shared answers made, by content coding (once per answer and coding)",
            compressions.clone(),
        );
        let compressed_hits = Family::<CodingLabels, Counter>::default();
        registry.register(
            "compressed_cache_hits",
            "Answers sent in a compressed form made for an earlier request, by content coding",
            compressed_hits.clone(),
        );
        let live_streams = Gauge::default();
        registry.register(
            "live_streams",
            "Live report streams (Server-Sent Events) open now",
            live_streams.clone(),
        );
        let runs_followed = Gauge::default();
        registry.register(
            "runs_followed",
            "Runs Runboard polls itself now, once for all their live viewers",
            runs_followed.clone(),
        );
        let notifications = Family::<NotificationLabels, Counter>::default();
        registry.register(
            "notifications",
            "Notification delivery attempts by channel and outcome: sent, failed (tried again later), gave_up",
            notifications.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            requests,
            upstream,
            upstream_events,
            upstream_saved,
            compressions,
            compressed_hits,
            live_streams,
            runs_followed,
            notifications,
        }
    }

    /// Counts one delivery attempt to `channel` (a configured name) by `outcome`:
    /// `sent`, `failed` or `gave_up`.
    pub(crate) fn notification(&self, channel: &str, outcome: &'static str) {
        self.notifications
            .get_or_create(&NotificationLabels {
                channel: channel.to_owned(),
                outcome,
            })
            .inc();
    }

    /// Counts one answered request. The method label is one of the standard methods or
    /// `OTHER`: a client inventing methods must not grow the label set.
    pub(crate) fn request(&self, route: &str, method: &Method, status: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method_label(method),
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

    /// Counts one upstream event (`retry`, `circuit_opened`, `circuit_rejected`,
    /// `lost_start_found`, `lost_start_unknown`): a fixed set of names, never an id.
    pub(crate) fn upstream_event(&self, event: &'static str) {
        self.upstream_events
            .get_or_create(&UpstreamEventLabels { event })
            .inc();
    }

    /// Counts one upstream call saved, by `reason`: `coalesced` (joined a call already on
    /// its way), `reused` (a live answer inside its window), `cache_hit` (a finished
    /// report), `not_modified` (a 304: the browser already had it, nothing sent).
    pub(crate) fn upstream_saved(&self, reason: &'static str) {
        self.upstream_saved
            .get_or_create(&SavedLabels { reason })
            .inc();
    }

    /// Counts one shared answer sent compressed in `coding` (`br`, `zstd`, `gzip`): a
    /// form `made` for this request, or one kept from an earlier request (a hit).
    pub(crate) fn compressed(&self, coding: &'static str, made: bool) {
        let family = if made {
            &self.compressions
        } else {
            &self.compressed_hits
        };
        family.get_or_create(&CodingLabels { coding }).inc();
    }

    /// Sets how many live streams are open.
    pub(crate) fn live_streams(&self, open: usize) {
        self.live_streams
            .set(i64::try_from(open).unwrap_or(i64::MAX));
    }

    /// Sets how many runs have a follower.
    pub(crate) fn runs_followed(&self, runs: usize) {
        self.runs_followed
            .set(i64::try_from(runs).unwrap_or(i64::MAX));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_share_one_label() {
        let metrics = Metrics::new();
        for method in ["GET", "get", "BREW", "TRACE", "X-ANYTHING-12345"] {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            metrics.request("/healthz", &method, 405);
        }
        let text = metrics.render();
        assert!(text.contains(r#"method="GET""#), "{text}");
        assert!(text.contains(r#"method="OTHER""#), "{text}");
        for invented in ["get", "BREW", "TRACE", "X-ANYTHING"] {
            assert!(!text.contains(&format!(r#"method="{invented}"#)), "{text}");
        }
    }
}
