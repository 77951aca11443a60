//! Hostile path ids are answered 400 before anything is sent: the simulator's request
//! counter stays at zero. Requests are written raw so no client library normalises them.

mod common;

use common::{PROJECT, raw_request, start};

/// Ids as they appear in the request line (already percent-encoded where a client would).
const CORPUS: &[&str] = &[
    "..",
    ".",
    "%2e%2e",
    "%2E%2E",
    "a%2Fb",
    "%2F",
    "a%3Fb",
    "a%23b",
    "a%20b",
    "%20",
    "caf%C3%A9",
    "%E2%80%AE",
    "%00",
    "a%0Ab",
    "%25",
    "a.b",
    "a;b",
    "a%2B1",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
];

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
}

fn post(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn hostile_ids_are_400_and_the_upstream_sees_nothing() {
    let h = start(|_| {}).await;
    let addr = h.server.addr();
    assert_eq!("a".repeat(65), CORPUS[CORPUS.len() - 1]);
    for id in CORPUS {
        let requests = [
            get(&format!("/api/testRun/{PROJECT}/{id}")),
            get(&format!("/api/testRun/{id}/6804f1e2d2d4e0a1c1a0d456")),
            post(&format!("/api/jobs/{id}"), "{}"),
            post(
                &format!("/api/testExecution/{id}"),
                r#"{"action":"executeTests","testId":"t1"}"#,
            ),
        ];
        for request in requests {
            let (status, answer) = raw_request(addr, &request).await;
            assert_eq!(status, 400, "{request}\n=> {answer}");
            assert!(answer.contains(r#""code":"invalid_id""#), "{answer}");
        }
    }
    // Hostile ids inside bodies, in JSON's own escapes.
    for id in [
        "..",
        "a/b",
        "a?b",
        "a#b",
        "a b",
        "caf\u{e9}",
        &"a".repeat(65),
    ] {
        let body = serde_json::json!({"action": "executeTests", "testId": id}).to_string();
        let (status, answer) =
            raw_request(addr, &post(&format!("/api/testExecution/{PROJECT}"), &body)).await;
        assert_eq!(status, 400, "{id:?} => {answer}");
        let body = serde_json::json!({"jobIds": [id]}).to_string();
        let (status, _) = raw_request(addr, &post(&format!("/api/jobs/{PROJECT}"), &body)).await;
        assert_eq!(status, 400, "{id:?}");
    }
    let stats = h.stats();
    assert_eq!(stats.total, 0, "the upstream received {stats:?}");
    h.stop().await;
}
