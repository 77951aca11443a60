//! Each fault kind is observable through the router, and none touches the control
//! endpoints.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use runboard_sim::{Faults, Interrupted};
use serde_json::json;

use crate::common::{self, Harness, KEY};

fn only(faults: Faults) -> Harness {
    let h = Harness::new();
    h.sim.set_faults(faults);
    h
}

async fn jobs_answer(h: &Harness) -> common::Answer {
    h.call(Method::POST, &common::jobs_path(), Some(KEY), "{}")
        .await
}

#[tokio::test]
async fn server_errors_answer_5xx_and_do_nothing() {
    let h = only(Faults {
        error5xx_rate: 1.0,
        ..Faults::default()
    });
    let feature = h.feature_id();
    let answer = h
        .execute_raw(json!({"action": "executeTests", "featureId": feature}))
        .await;
    assert!(answer.status.is_server_error(), "{}", answer.status);
    assert_eq!(answer.error_code(), "internal_error");
    h.sim.set_faults(Faults::default());
    assert!(
        h.jobs(json!({})).await.jobs.is_empty(),
        "the failed request created nothing"
    );
    let stats = h.sim.stats();
    assert_eq!(stats.total, 2);
    assert_eq!(
        stats
            .by_status
            .iter()
            .filter(|(code, _)| code.starts_with('5'))
            .count(),
        1
    );
}

#[tokio::test]
async fn malformed_answers_keep_the_status_but_not_the_json() {
    let h = only(Faults {
        malformed_json_rate: 1.0,
        ..Faults::default()
    });
    let answer = jobs_answer(&h).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.text.starts_with('{'), "{}", answer.text);
    assert!(
        serde_json::from_str::<serde_json::Value>(&answer.text).is_err(),
        "{}",
        answer.text
    );
    let unauthorized = h.call(Method::POST, &common::jobs_path(), None, "{}").await;
    assert_eq!(unauthorized.status, StatusCode::UNAUTHORIZED);
    assert!(serde_json::from_str::<serde_json::Value>(&unauthorized.text).is_err());
}

#[tokio::test]
async fn hung_requests_never_answer() {
    let h = only(Faults {
        hang_rate: 1.0,
        ..Faults::default()
    });
    // The request runs until the simulator has counted it as hung; had the hang ended
    // (an answer), the request would have finished in that same step and won the race.
    let counted_hung = async {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !h.sim.stats().by_status.contains_key("hung") {
            assert!(
                std::time::Instant::now() < deadline,
                "never counted as hung"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::select! {
        answer = jobs_answer(&h) => panic!("the request was answered: {answer:?}"),
        () = counted_hung => {}
    }
    let stats = h.sim.stats();
    assert_eq!(
        (stats.total, stats.by_status.get("hung").copied()),
        (1, Some(1))
    );
}

#[tokio::test]
async fn dropped_requests_are_marked_for_the_server_to_close() {
    let h = only(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    });
    let answer = jobs_answer(&h).await;
    assert_eq!(
        answer.response_extensions.get::<Interrupted>(),
        Some(&Interrupted::Dropped)
    );
    assert!(answer.text.is_empty());
    assert_eq!(h.sim.stats().by_status.get("dropped").copied(), Some(1));
}

#[tokio::test]
async fn latency_delays_answers() {
    let h = only(Faults {
        latency_ms: 120,
        jitter_ms: 30,
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let answer = jobs_answer(&h).await;
    let took = started.elapsed();
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        took >= Duration::from_millis(120),
        "answered after {took:?}"
    );
}

#[tokio::test]
async fn control_endpoints_are_never_faulted() {
    let h = only(Faults {
        drop_rate: 1.0,
        hang_rate: 1.0,
        error5xx_rate: 1.0,
        ..Faults::default()
    });
    for path in ["/__sim/catalog", "/__sim/stats", "/__sim/faults"] {
        let answer = h.call(Method::GET, path, None, "").await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        answer.json();
    }
}
