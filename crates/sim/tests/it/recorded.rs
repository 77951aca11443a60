//! `GET`/`DELETE /__sim/requests` over a real socket: every `/api/` request is recorded
//! with its method, path and all its headers (duplicates kept, in order), and more than
//! one `x-api-key` is refused like a real platform may.

use runboard_sim::RecordedRequests;
use serde_json::json;

use crate::common::{
    self, KEY,
    socket::{client, send, start_manual},
};

async fn recorded(c: &reqwest::Client, url: &str) -> RecordedRequests {
    send(c.get(format!("{url}/__sim/requests"))).await.parse()
}

#[tokio::test]
async fn requests_are_recorded_with_every_header_in_order() {
    let (running, _clock) = start_manual().await;
    let (c, url) = (client(), running.url());
    let jobs = format!("{url}{}", common::jobs_path());

    let once = send(
        c.post(&jobs)
            .header("x-api-key", KEY)
            .header("x-trace", "first")
            .header("x-trace", "second")
            .json(&json!({})),
    )
    .await;
    assert_eq!(once.status, 200, "{}", once.text);
    // Two keys, even two right ones, are ambiguous: refused.
    let twice = send(
        c.post(&jobs)
            .header("x-api-key", KEY)
            .header("x-api-key", KEY)
            .json(&json!({})),
    )
    .await;
    assert_eq!(twice.status, 401, "{}", twice.text);
    assert!(twice.text.contains("x-api-key"), "{}", twice.text);
    let run = send(c.get(format!("{url}{}?x=1", common::run_path("r1")))).await;
    assert_eq!(run.status, 401, "no key at all");
    // Control endpoints are not recorded.
    send(c.get(format!("{url}/__sim/stats"))).await;

    let log = recorded(&c, &url).await.requests;
    let seen: Vec<(&str, &str)> = log
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    let (jobs_path, run_path) = (common::jobs_path(), common::run_path("r1"));
    let (jobs_path, run_path) = (jobs_path.as_str(), run_path.as_str());
    assert_eq!(
        seen,
        [("POST", jobs_path), ("POST", jobs_path), ("GET", run_path)]
    );
    assert_eq!(log[0].header_values("x-api-key"), [KEY]);
    assert_eq!(log[0].header_values("x-trace"), ["first", "second"]);
    assert_eq!(log[0].header_values("content-type"), ["application/json"]);
    assert_eq!(log[1].header_values("x-api-key"), [KEY, KEY]);
    assert!(log[2].header_values("x-api-key").is_empty());
    assert_eq!(log[2].query.as_deref(), Some("x=1"));
    assert!(
        log.iter()
            .flat_map(|r| &r.headers)
            .all(|(name, _)| *name == name.to_lowercase())
    );

    // The wire shape is the documented one: headers as [name, value] pairs.
    let raw = send(c.get(format!("{url}/__sim/requests"))).await.json();
    let pairs = raw["requests"][1]["headers"].as_array().expect("headers");
    let keys = pairs.iter().filter(|pair| pair[0] == "x-api-key");
    assert!(keys.clone().all(|pair| pair[1] == KEY));
    assert_eq!(keys.count(), 2);

    let cleared = send(c.delete(format!("{url}/__sim/requests"))).await;
    assert_eq!(cleared.json(), json!({"requests": []}));
    send(c.post(&jobs).header("x-api-key", KEY).json(&json!({}))).await;
    assert_eq!(
        recorded(&c, &url).await.requests.len(),
        1,
        "recording goes on after a clear"
    );
    running.shutdown().await;
}
