//! 10,000 requests against a platform that fails in every way at once (latency spikes,
//! 5xx, cut JSON, dropped connections): each gets an answer in the documented shape, no
//! panic anywhere, no file descriptors left open, memory bounded, and the next request
//! after the storm succeeds by itself. It runs in a process of its own (`common::alone`):
//! it measures the process and counts its panics.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use runboard_proxy::config::LimitsConfig;
use runboard_sim::Faults;
use serde_json::{Value, json};

use crate::common::{self, Harness, alone, code, start, wait_for};

static PANICS: AtomicUsize = AtomicUsize::new(0);

const REQUESTS: usize = 10_000;
const CLIENTS: usize = 64;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    kb * 1024
}

/// Request `i` of the mix: mostly job polls, some reports, a few starts.
async fn one(h: &Harness, i: usize) -> (u16, Value) {
    match i % 20 {
        0 => {
            h.post(
                &common::execute_path(),
                &json!({"action": "executeTests", "featureId": h.feature_id()}),
            )
            .await
        }
        1..=5 => h.get(&common::run_path(&format!("r{i}"))).await,
        _ => {
            h.post(
                &common::jobs_path(),
                &json!({"jobIds": ["6804f1d1d2d4e0a1c1a0d123"]}),
            )
            .await
        }
    }
}

/// Sends `count` requests from [`CLIENTS`] concurrent clients; checks every answer.
async fn storm(h: &Arc<Harness>, count: usize) {
    let per_client = count / CLIENTS;
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..CLIENTS {
        let h = h.clone();
        clients.spawn(async move {
            for n in 0..per_client {
                let (status, body) = one(&h, c * per_client + n).await;
                let expected = matches!(
                    (status, code(&body)),
                    (200, _)
                        | (404, "upstream_rejected")
                        | (502, "upstream_unavailable" | "upstream_invalid")
                        | (504, "upstream_timeout" | "start_outcome_unknown")
                );
                assert!(expected, "an undocumented answer: {status} {body}");
            }
        });
    }
    while let Some(done) = clients.join_next().await {
        done.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_faulted_requests_leave_no_trace() {
    if !alone::in_own_process("fault_storm::ten_thousand_faulted_requests_leave_no_trace").await {
        return;
    }
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));
    let h = start(|c| {
        c.upstream.timeout = Duration::from_secs(10);
        c.upstream.breaker_failures = 1000;
        c.limits = LimitsConfig {
            starts_per_minute: 0,
            reads_per_minute: 0,
        };
    })
    .await;
    let h = Arc::new(h);
    let faults = Faults {
        jitter_ms: 30,
        error5xx_rate: 0.2,
        malformed_json_rate: 0.2,
        drop_rate: 0.2,
        ..Faults::default()
    };
    h.sim.sim.set_faults(faults);
    // Warm-up: connection pools and buffers reach their working size.
    storm(&h, 1_000).await;
    let (fds_before, rss_before) = (open_fds(), rss_bytes());

    storm(&h, REQUESTS).await;

    h.sim.sim.set_faults(Faults::default());
    let (status, body) = one(&h, 7).await;
    assert_eq!(status, 200, "recovers by itself: {body}");
    // Idle pooled connections may differ by a few; a leak would be thousands.
    wait_for(Duration::from_secs(10), || async {
        (open_fds() <= fds_before + 16).then_some(())
    })
    .await;
    let rss_after = rss_bytes();
    assert!(
        rss_after < 2 * rss_before + 50 * 1024 * 1024,
        "memory grew from {rss_before} to {rss_after} bytes"
    );
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "no panic anywhere");
    Arc::into_inner(h).unwrap().stop().await;
}
