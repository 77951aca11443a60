//! Each upstream failure becomes its documented error for the browser, never a hang and
//! never the upstream's own body; reads are retried where safe and starts never; the
//! circuit breaker opens and closes by itself; answer size and concurrency are capped.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use runboard_proxy::{Config, Server};
use runboard_sim::Faults;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::common::{
    self, KEY, PROJECT, assert_forwarded_cleanly, code, config_for, raw_http, start,
    start_with_key, wait_for,
};

async fn jobs(h: &common::Harness) -> (u16, Value) {
    h.post(
        &common::jobs_path(),
        &json!({"jobIds": ["6804f1d1d2d4e0a1c1a0d123"]}),
    )
    .await
}

/// A generous timeout (time is not the subject) and a breaker that stays out of the way.
fn patient(c: &mut Config) {
    c.upstream.timeout = Duration::from_secs(10);
    c.upstream.breaker_failures = 1000;
}

#[tokio::test]
async fn each_upstream_fault_maps_to_its_error() {
    let h = start(patient).await;
    // (faults, status, code, upstream calls per read: 500 is not retried, 502/503 are,
    // and the simulator picks one of the three)
    let cases = [
        (
            Faults {
                error5xx_rate: 1.0,
                ..Faults::default()
            },
            502,
            "upstream_unavailable",
            1..=3,
        ),
        (
            Faults {
                malformed_json_rate: 1.0,
                ..Faults::default()
            },
            502,
            "upstream_invalid",
            1..=1,
        ),
        (
            Faults {
                drop_rate: 1.0,
                ..Faults::default()
            },
            502,
            "upstream_unavailable",
            3..=3,
        ),
    ];
    for (faults, status, expected, calls) in cases {
        h.sim.sim.set_faults(faults);
        let before = h.stats().by_endpoint.jobs;
        let (got, body) = jobs(&h).await;
        assert_eq!((got, code(&body)), (status, expected), "{faults:?}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert_own_error_shape(&body);
        let made = h.stats().by_endpoint.jobs - before;
        assert!(calls.contains(&made), "{faults:?}: {made} calls");
        // An unknown run is a 404 at the upstream; a cut body does not change that.
        if expected != "upstream_invalid" {
            let (got, body) = h.get(&common::run_path("r1")).await;
            assert_eq!((got, code(&body)), (status, expected), "{faults:?}: {body}");
        }
    }
    h.sim.sim.set_faults(Faults::default());
    let (status, _) = jobs(&h).await;
    assert_eq!(status, 200, "recovers once the faults stop");
    // Retries carry the project's key once, like first attempts.
    assert!(assert_forwarded_cleanly(&h, KEY) > 6);
    h.stop().await;
}

/// Runboard's own error shape and nothing else: never the upstream's body (whose
/// `success`, `code: internal_error` and text would show here).
fn assert_own_error_shape(body: &Value) {
    let keys = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(body), ["error"], "{body}");
    assert_eq!(keys(&body["error"]), ["code", "message"], "{body}");
    assert!(!body.to_string().contains("internal_error"), "{body}");
}

#[tokio::test]
async fn a_read_survives_a_dropped_connection_by_retrying() {
    // The platform drops the first connection and answers the next.
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let addr = raw_http::serve(move |mut stream| {
        let seen = seen.clone();
        async move {
            if raw_http::read_request(&mut stream).await.is_none() {
                return;
            }
            if seen.fetch_add(1, Ordering::SeqCst) > 0 {
                let body = r#"{"success":true,"jobs":[],"missingJobIds":[]}"#;
                raw_http::reply(stream, &raw_http::json_answer(body)).await;
            }
        }
    })
    .await;
    let mut config = config_for(&format!("http://{addr}"), KEY);
    patient(&mut config);
    let server = Server::start(config).await.unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}{}", server.url(), common::jobs_path()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let (status, body) = common::read(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(calls.load(Ordering::SeqCst), 2, "one retry");
    server.shutdown().await;
}

#[tokio::test]
async fn a_hanging_upstream_is_a_timeout() {
    // The timeout is the subject here, so it is short.
    let h = start(|c| c.upstream.timeout = Duration::from_millis(300)).await;
    h.sim.sim.set_faults(Faults {
        hang_rate: 1.0,
        ..Faults::default()
    });
    let (status, body) = jobs(&h).await;
    assert_eq!((status, code(&body)), (504, "upstream_timeout"), "{body}");
    let (status, body) = h.get(&common::run_path("r1")).await;
    assert_eq!((status, code(&body)), (504, "upstream_timeout"), "{body}");
    h.stop().await;
}

#[tokio::test]
async fn a_failing_start_is_never_retried() {
    let h = start(patient).await;
    h.sim.sim.set_faults(Faults {
        error5xx_rate: 1.0,
        ..Faults::default()
    });
    for _ in 0..5 {
        let before = h.stats().by_endpoint.test_execution;
        let (status, body) = h
            .post(
                &common::execute_path(),
                &json!({"action": "executeTests", "featureId": h.feature_id()}),
            )
            .await;
        // 500/503: the platform failed; 502: a gateway may have passed it on, so unknown.
        assert!(
            matches!(
                (status, code(&body)),
                (502, "upstream_unavailable") | (504, "start_outcome_unknown")
            ),
            "{body}"
        );
        assert_eq!(h.stats().by_endpoint.test_execution - before, 1);
    }
    h.stop().await;
}

#[tokio::test]
async fn a_rejected_key_is_a_server_problem_not_the_users() {
    let h = start_with_key("the-right-key", "a-stale-key", |_| {}).await;
    let (status, body) = jobs(&h).await;
    assert_eq!((status, code(&body)), (502, "upstream_auth"));
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(PROJECT) && message.contains("administrator"),
        "{message}"
    );
    assert!(!message.contains("stale"));
    let (status, body) = h
        .post(
            &common::execute_path(),
            &json!({"action": "executeTests", "featureId": h.feature_id()}),
        )
        .await;
    assert_eq!((status, code(&body)), (502, "upstream_auth"));
    h.stop().await;
}

#[tokio::test]
async fn an_unreachable_upstream_is_502_and_not_ready() {
    // Port 0 is never listened on: every connect is refused at once. A key of realistic
    // length: every key is scanned for, and a one-letter one is in every sentence.
    let server = Server::start(config_for("http://127.0.0.1:0", KEY))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", server.url());
    let response = client
        .post(url(&common::jobs_path()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let (status, body) = common::read(response).await;
    assert_eq!(
        (status, code(&body)),
        (502, "upstream_unavailable"),
        "{body}"
    );
    let response = client.get(url("/readyz")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    let response = client.get(url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    server.shutdown().await;
}

#[tokio::test]
async fn readyz_is_ok_when_the_upstream_answers() {
    let h = start(|_| {}).await;
    let (status, body) = h.get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    h.stop().await;
}

#[tokio::test]
async fn the_circuit_opens_after_failures_and_closes_by_itself() {
    let h = start(|c| {
        c.upstream.breaker_failures = 3;
        c.upstream.breaker_cool_down = Duration::from_millis(300);
    })
    .await;
    h.sim.sim.set_faults(Faults {
        error5xx_rate: 1.0,
        ..Faults::default()
    });
    for _ in 0..3 {
        assert_eq!(jobs(&h).await.0, 502);
    }
    let before = h.stats().total;
    let response = h
        .client
        .post(h.url(&common::jobs_path()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let retry_after = response.headers().get("retry-after").cloned();
    let (status, body) = common::read(response).await;
    assert_eq!(
        (status, code(&body)),
        (503, "upstream_circuit_open"),
        "{body}"
    );
    assert!(retry_after.is_some(), "Retry-After is set");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("3 times in a row")
    );
    assert_eq!(h.stats().total, before, "an open circuit calls nobody");
    let (status, body) = h.get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.to_string().contains("in a row"), "{body}");
    let (_, metrics) = h.get("/metrics").await;
    assert!(
        metrics
            .as_str()
            .unwrap()
            .contains(r#"runboard_upstream_events_total{event="circuit_opened"} 1"#),
        "{metrics}"
    );

    // The platform recovers; after the cool-down a probe closes the circuit.
    h.sim.sim.set_faults(Faults::default());
    wait_for(Duration::from_secs(10), || async {
        (jobs(&h).await.0 == 200).then_some(())
    })
    .await;
    let (status, body) = h.get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    h.stop().await;
}

/// An upstream that answers every request with a chunked 200, whose chunks (after the
/// first) are `chunk` repeated `count` times (`usize::MAX`: until the reader leaves).
async fn chunked_upstream(first: &'static str, chunk: &'static str, count: usize) -> String {
    let addr = raw_http::serve(move |mut stream| async move {
        if raw_http::read_request(&mut stream).await.is_none() {
            return;
        }
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        let write = |text: &str| format!("{:x}\r\n{text}\r\n", text.len());
        if stream.write_all(head.as_bytes()).await.is_err()
            || stream.write_all(write(first).as_bytes()).await.is_err()
        {
            return;
        }
        for _ in 0..count {
            if stream.write_all(write(chunk).as_bytes()).await.is_err() {
                return;
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n").await;
    })
    .await;
    format!("http://{addr}")
}

#[tokio::test]
async fn a_chunked_answer_is_held_to_the_size_limit() {
    let limit = |c: &mut Config| c.upstream.max_answer_bytes = 64 * 1024;
    let get = |server: &Server| {
        let url = format!("{}{}", server.url(), common::jobs_path());
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            common::read(response).await
        }
    };
    // Under the limit, a chunked answer passes.
    let small =
        chunked_upstream(r#"{"success":true,"jobs":[],"#, r#""missingJobIds":[]}"#, 1).await;
    let mut config = config_for(&small, "sim-key-0123456789abcdef");
    limit(&mut config);
    let server = Server::start(config).await.unwrap();
    let (status, body) = get(&server).await;
    assert_eq!(status, 200, "{body}");
    server.shutdown().await;

    // An endless one is cut at the limit.
    let endless = chunked_upstream(
        r#"{"success":true,"jobs":["#,
        r#"{"jobId":"j","status":"Pending"},"#,
        usize::MAX,
    )
    .await;
    let mut config = config_for(&endless, "sim-key-0123456789abcdef");
    limit(&mut config);
    patient(&mut config);
    let server = Server::start(config).await.unwrap();
    let (status, body) = get(&server).await;
    assert_eq!((status, code(&body)), (502, "upstream_invalid"), "{body}");
    server.shutdown().await;
}

/// Twelve reads that cannot share a call (each asks for its own job, and no answer is
/// reused), against a platform that holds each call until a third one is in flight: at
/// most `max_concurrent = 2` reach it at once, and all twelve do reach it.
#[tokio::test]
async fn upstream_calls_are_capped() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let calls = Arc::new(AtomicUsize::new(0));
    let (now, max, seen) = (in_flight.clone(), most.clone(), calls.clone());
    let addr = raw_http::serve(move |mut stream| {
        let (now, max, seen) = (now.clone(), max.clone(), seen.clone());
        async move {
            if raw_http::read_request(&mut stream).await.is_none() {
                return;
            }
            seen.fetch_add(1, Ordering::SeqCst);
            let current = now.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(current, Ordering::SeqCst);
            hold_until_overlap(&now, Instant::now() + Duration::from_millis(300)).await;
            now.fetch_sub(1, Ordering::SeqCst);
            let body = r#"{"success":true,"jobs":[],"missingJobIds":[]}"#;
            raw_http::reply(stream, &raw_http::json_answer(body)).await;
        }
    })
    .await;
    let mut config = config_for(&format!("http://{addr}"), "sim-key-0123456789abcdef");
    patient(&mut config);
    config.upstream.max_concurrent = 2;
    // Nothing shared but concurrent identical reads, and those are not made here.
    config.cache.live_reuse = Duration::ZERO;
    config.limits.reads_per_minute = 0;
    let server = Server::start(config).await.unwrap();
    let client = reqwest::Client::new();
    let requests = (0..12).map(|i| {
        // A distinct id set per read: twelve flights, not one.
        let job = format!("6804f1d1d2d4e0a1c1a0d{i:03}");
        let request = client
            .post(format!("{}{}", server.url(), common::jobs_path()))
            .json(&json!({ "jobIds": [job] }));
        async move { request.send().await.unwrap().status().as_u16() }
    });
    let statuses = futures_join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        12,
        "every read reached the platform"
    );
    let most = most.load(Ordering::SeqCst);
    assert!(most <= 2, "{most} calls at once under a cap of 2");
    // Two at once did happen, so the cap was what held the third back.
    assert_eq!(most, 2, "the reads never overlapped");
    server.shutdown().await;
}

/// A slow platform: holds a call until a third one is in flight (which only a broken cap
/// allows) or until `deadline`.
async fn hold_until_overlap(in_flight: &AtomicUsize, deadline: Instant) {
    while in_flight.load(Ordering::SeqCst) < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Runs the futures concurrently on this task's runtime and collects their outputs.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}
