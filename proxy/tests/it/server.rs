//! The server's life cycle over real sockets: a restart on the same port, refused
//! connections while stopped, idle connections closed at shutdown (a hang check, not a
//! speed check), requests in flight finished. And the demo, which embeds the simulator.

use std::time::Duration;

use runboard_proxy::{Server, demo};
use runboard_shared::Target;
use runboard_sim::Faults;
use serde_json::{Value, json};

use crate::common::{self, start, wait_for};

#[tokio::test]
async fn stops_promptly_and_restarts_on_the_same_port() {
    // A drain period (upstream timeout + 2 s) far longer than the hang check below.
    let h = start(|config| config.upstream.timeout = Duration::from_secs(60)).await;
    let addr = h.server.addr();
    // Leave a keep-alive connection idle in the client's pool.
    let (status, _) = h.get("/healthz").await;
    assert_eq!(status, 200);
    let common::Harness {
        sim,
        server,
        client,
    } = h;
    // An idle keep-alive connection must not hold the shutdown up for the 62 s drain
    // period; 10 s only catches that hang.
    tokio::time::timeout(Duration::from_secs(10), server.shutdown())
        .await
        .expect("shutdown does not wait for idle connections");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "refused while stopped"
    );
    assert!(
        client
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .is_err()
    );

    let mut config = common::config_for(&sim.url(), common::KEY);
    config.listen = addr;
    let server = Server::start(config).await.expect("the same port again");
    let response = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    server.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn requests_in_flight_finish_during_shutdown() {
    let h = start(|_| {}).await;
    h.sim.sim.set_faults(Faults {
        latency_ms: 400,
        ..Faults::default()
    });
    let client = h.client.clone();
    let url = h.url(&common::jobs_path());
    let pending = tokio::spawn(async move { client.post(url).json(&json!({})).send().await });
    wait_for(Duration::from_secs(10), || async {
        (h.stats().total > 0).then_some(())
    })
    .await;
    let common::Harness { sim, server, .. } = h;
    server.shutdown().await;
    let response = pending.await.unwrap().expect("answered, not cut");
    assert_eq!(response.status(), 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_demo_serves_presets_from_the_simulators_catalog() {
    let demo = demo::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let boot: Value = reqwest::get(format!("{}{}", demo.url(), Target::Bootstrap.path()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let project = &boot["projects"][0];
    assert_eq!(project["name"], "Demo shop");
    assert_eq!(project["id"], demo.project_id().as_str());
    let presets = project["presets"].as_array().unwrap();
    assert_eq!(presets.len(), 4, "{presets:?}");
    assert!(presets.iter().any(|p| p["featureId"].is_string()));
    assert!(presets.iter().any(|p| p["testSuiteId"].is_string()));
    assert!(
        presets
            .iter()
            .any(|p| p["testId"].is_string() && p["agentName"] == "nightly-agent")
    );
    assert!(presets.iter().any(|p| p["name"] == "Full regression"));
    let catalog = demo.sim().catalog(demo.project_id().as_str()).unwrap();
    let all = catalog.all_feature().unwrap();
    assert!(presets.iter().any(|p| p["featureId"] == all.id.as_str()));
    demo.shutdown().await;
}
