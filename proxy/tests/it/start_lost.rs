//! A start whose answer is lost is never sent twice: Runboard looks the job up and names
//! it, or says plainly that the outcome is unknown. A front between Runboard and the
//! simulator passes everything on but loses what happens to the start.

use std::{net::SocketAddr, time::Duration};

use runboard_proxy::Server;
use runboard_shared::Endpoint;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

use crate::{
    common::{
        self, Harness, KEY, PROJECT, assert_forwarded_through, code, config_for, raw_http, start,
    },
    paths,
};

/// What the front does with a start.
#[derive(Debug, Clone, Copy)]
enum Lose {
    /// Passes it on, then closes the browser's side without an answer.
    AnswerDropped,
    /// Passes it on, then never answers.
    AnswerHeld,
    /// Closes the connection without passing it on.
    RequestDropped,
}

async fn front(sim: SocketAddr, lose: Lose) -> SocketAddr {
    raw_http::serve(move |mut stream| async move {
        let Some(request) = raw_http::read_request(&mut stream).await else {
            return;
        };
        if paths::endpoint_of_line(&request.line) != Some(Endpoint::Execute) {
            let answer = raw_http::forward(sim, &request).await;
            return raw_http::reply(stream, &answer).await;
        }
        match lose {
            Lose::AnswerDropped => {
                raw_http::forward(sim, &request).await;
            }
            Lose::AnswerHeld => {
                raw_http::forward(sim, &request).await;
                // Until Runboard gives up and closes.
                let _ = stream.read(&mut [0u8; 1]).await;
            }
            Lose::RequestDropped => {}
        }
    })
    .await
}

/// The simulator, and a Runboard that reaches it through a front losing starts as told
/// (at the address returned last).
async fn through_front(lose: Lose, timeout: Duration) -> (Harness, Server, SocketAddr) {
    let h = start(|_| {}).await;
    let front = front(h.sim.addr, lose).await;
    let mut config = config_for(&format!("http://{front}"), KEY);
    config.upstream.timeout = timeout;
    let server = Server::start(config).await.unwrap();
    (h, server, front)
}

/// An agent that is not connected, so a job for it stays active (and findable).
fn offline_agent(h: &Harness) -> String {
    let catalog = h.sim.sim.catalog(PROJECT).unwrap();
    let agent = catalog.agents[0].name.clone();
    assert!(h.sim.sim.set_agent_connected(PROJECT, &agent, false));
    agent
}

async fn start_run(h: &Harness, server: &Server, agent: &str) -> (u16, Value) {
    let response = h
        .client
        .post(format!("{}{}", server.url(), common::execute_path()))
        // A browser's own credentials, which must never travel on, retried or not.
        .header("x-api-key", "the-browsers-own-key")
        .header("authorization", "Bearer browser-token")
        .header("cookie", "session=browser")
        .json(&json!({"action": "executeTests", "featureId": h.feature_id(), "agentName": agent}))
        .send()
        .await
        .unwrap();
    common::read(response).await
}

/// The active jobs at the simulator, asked directly.
async fn jobs_at_sim(h: &Harness) -> Vec<String> {
    let response = h
        .client
        .post(format!("{}{}", h.sim.url(), common::jobs_path()))
        .header("x-api-key", KEY)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let (_, body) = common::read(response).await;
    body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| job["jobId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_start_whose_answer_is_lost_names_its_job() {
    // Held: the timeout is the subject, so it is short; dropped: no timeout involved.
    for (lose, timeout) in [
        (Lose::AnswerDropped, Duration::from_secs(10)),
        (Lose::AnswerHeld, Duration::from_millis(800)),
    ] {
        let (h, server, front) = through_front(lose, timeout).await;
        let agent = offline_agent(&h);
        let (status, body) = start_run(&h, &server, &agent).await;
        assert_eq!(status, 200, "{lose:?}: {body}");
        // The start and the look-up, each with Runboard's headers only (and the front's
        // `connection: close`), none of the browser's.
        let forwarded =
            assert_forwarded_through(&h, KEY, &front.to_string(), &[("connection", "close")]);
        assert_eq!(forwarded, 2, "{lose:?}");
        let jobs = jobs_at_sim(&h).await;
        assert_eq!(jobs.len(), 1, "{lose:?}: exactly one job upstream");
        assert_eq!(body["jobId"], json!(jobs[0]), "{lose:?}: the job is named");
        assert_eq!(
            h.stats().by_endpoint.test_execution,
            1,
            "{lose:?}: never sent twice"
        );
        server.shutdown().await;
        h.stop().await;
    }
}

#[tokio::test]
async fn a_start_that_may_not_have_happened_is_unknown() {
    let (h, server, _) = through_front(Lose::RequestDropped, Duration::from_secs(10)).await;
    let agent = offline_agent(&h);
    let (status, body) = start_run(&h, &server, &agent).await;
    assert_eq!(
        (status, code(&body)),
        (504, "start_outcome_unknown"),
        "{body}"
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("may or may not") && message.contains("Jobs page"),
        "{message}"
    );
    assert_eq!(h.stats().by_endpoint.test_execution, 0, "not sent again");
    assert!(jobs_at_sim(&h).await.is_empty());
    server.shutdown().await;
    h.stop().await;
}

#[tokio::test]
async fn two_candidate_jobs_are_not_guessed_between() {
    let (h, server, _) = through_front(Lose::AnswerDropped, Duration::from_secs(10)).await;
    let agent = offline_agent(&h);
    // Someone else's start on the same agent, a moment earlier, straight at the platform.
    let response = h
        .client
        .post(format!("{}{}", h.sim.url(), common::execute_path()))
        .header("x-api-key", KEY)
        .json(&json!({"action": "executeTests", "testId": first_test(&h), "agentName": agent}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, body) = start_run(&h, &server, &agent).await;
    assert_eq!(
        (status, code(&body)),
        (504, "start_outcome_unknown"),
        "{body}"
    );
    assert_eq!(jobs_at_sim(&h).await.len(), 2, "no third job");
    assert_eq!(h.stats().by_endpoint.test_execution, 2);
    server.shutdown().await;
    h.stop().await;
}

fn first_test(h: &Harness) -> String {
    let catalog = h.sim.sim.catalog(PROJECT).unwrap();
    let feature = catalog.features.iter().find(|f| !f.all).unwrap();
    feature.suites[0].tests[0].id.clone()
}
