//! Each upstream failure becomes its documented error for the browser, never a hang and
//! never the upstream's own body.

mod common;

use std::time::Duration;

use common::{PROJECT, code, config_for, start, start_with_key};
use runboard_proxy::Server;
use runboard_sim::Faults;
use serde_json::{Value, json};

async fn jobs(h: &common::Harness) -> (u16, Value) {
    h.post(
        &format!("/api/jobs/{PROJECT}"),
        &json!({"jobIds": ["6804f1d1d2d4e0a1c1a0d123"]}),
    )
    .await
}

#[tokio::test]
async fn each_upstream_fault_maps_to_its_error() {
    let h = start(|c| c.upstream.timeout = Duration::from_millis(300)).await;
    let cases = [
        (
            Faults {
                error5xx_rate: 1.0,
                ..Faults::default()
            },
            502,
            "upstream_unavailable",
        ),
        (
            Faults {
                malformed_json_rate: 1.0,
                ..Faults::default()
            },
            502,
            "upstream_invalid",
        ),
        (
            Faults {
                drop_rate: 1.0,
                ..Faults::default()
            },
            502,
            "upstream_unavailable",
        ),
        (
            Faults {
                hang_rate: 1.0,
                ..Faults::default()
            },
            504,
            "upstream_timeout",
        ),
    ];
    for (faults, status, expected) in cases {
        h.sim.sim.set_faults(faults);
        let (got, body) = jobs(&h).await;
        assert_eq!((got, code(&body)), (status, expected), "{faults:?}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        // An unknown run is a 404 at the upstream; a cut body does not change that.
        if expected != "upstream_invalid" {
            let (got, body) = h.get(&format!("/api/testRun/{PROJECT}/r1")).await;
            assert_eq!((got, code(&body)), (status, expected), "{faults:?}: {body}");
        }
    }
    h.sim.sim.set_faults(Faults::default());
    let (status, _) = jobs(&h).await;
    assert_eq!(status, 200, "recovers once the faults stop");
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
            &format!("/api/testExecution/{PROJECT}"),
            &json!({"action": "executeTests", "featureId": h.feature_id()}),
        )
        .await;
    assert_eq!((status, code(&body)), (502, "upstream_auth"));
    h.stop().await;
}

#[tokio::test]
async fn an_unreachable_upstream_is_502_and_not_ready() {
    // A port that was free a moment ago: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let server = Server::start(config_for(&format!("http://{closed}"), "k"))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", server.url());
    let response = client
        .post(url(&format!("/api/jobs/{PROJECT}")))
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
