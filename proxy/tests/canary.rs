//! A canary key must never appear in any byte Runboard sends (assets, API answers, errors,
//! headers, metrics) nor in any log line it writes, whatever happens upstream.
//! One test in its own binary, because it installs the global log subscriber.

mod common;

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use common::{PROJECT, start_with_key};
use runboard_sim::Faults;
use serde_json::json;
use tracing_subscriber::{EnvFilter, fmt::MakeWriter};

const CANARY: &str = "CANARY-5f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// Log output collected in memory.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn widget_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.path().join(name), bytes).unwrap();
    write("index.html", b"<html><script type=\"module\">import init from '/app-0123456789abcdef.js'; init();</script></html>");
    write(
        "app-0123456789abcdef.js",
        "export default function init() {}\n".repeat(50).as_bytes(),
    );
    write("app-0123456789abcdef_bg.wasm", b"\0asm\x01\0\0\0");
    dir
}

/// Every byte of an answer: status, headers, body.
async fn everything(response: reqwest::Response) -> String {
    let mut text = format!("{}\n", response.status());
    for (name, value) in response.headers() {
        text.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    text.push_str(&String::from_utf8_lossy(&response.bytes().await.unwrap()));
    text
}

#[tokio::test]
async fn the_key_never_leaves_the_server() {
    let logs = Buffer::default();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new("trace,runboard_sim=off"))
        .with_writer(logs.clone())
        .with_ansi(false)
        .init();
    let widget = widget_dir();
    let dir = widget.path().to_owned();
    let h = start_with_key(CANARY, CANARY, move |c| c.widget_dir = dir).await;
    let mut seen = Vec::new();
    let hr = &h;
    let send_post = move |path: String, body: serde_json::Value| {
        hr.client.post(hr.url(&path)).json(&body).send()
    };
    // Each answer as text: status, headers and body.
    let get = move |path: String| async move {
        everything(hr.client.get(hr.url(&path)).send().await.unwrap()).await
    };
    let post = move |path: String, body: serde_json::Value| async move {
        everything(send_post(path, body).await.unwrap()).await
    };

    // The workflow, Runboard's own endpoints, the widget's files.
    let started = send_post(
        format!("/api/testExecution/{PROJECT}"),
        json!({"action": "executeTests", "featureId": h.feature_id(), "agentName": "staging-agent"}),
    )
    .await
    .unwrap();
    let started: serde_json::Value = started.json().await.unwrap();
    let job = started["jobId"].as_str().unwrap().to_owned();
    seen.push(post(format!("/api/jobs/{PROJECT}"), json!({"jobIds": [job]})).await);
    seen.push(post(format!("/api/jobs/{PROJECT}"), json!({})).await);
    for path in [
        "/".to_owned(),
        "/p/x/runs/y?embed=1".to_owned(),
        "/app-0123456789abcdef.js".to_owned(),
        "/app-0123456789abcdef_bg.wasm".to_owned(),
        "/runboard/bootstrap".to_owned(),
        "/healthz".to_owned(),
        "/readyz".to_owned(),
        format!("/api/testRun/{PROJECT}/r1"),
        format!("/api/testRun/{PROJECT}/..%2F"),
        "/api/testRun/aaaaaaaaaaaaaaaaaaaaaaaa/r1".to_owned(),
        "/api/nothing".to_owned(),
    ] {
        seen.push(get(path).await);
    }
    seen.push(
        post(
            format!("/api/testExecution/{PROJECT}"),
            json!({"action": "x"}),
        )
        .await,
    );

    // Every upstream fault.
    for faults in [
        Faults {
            error5xx_rate: 1.0,
            ..Faults::default()
        },
        Faults {
            malformed_json_rate: 1.0,
            ..Faults::default()
        },
        Faults {
            drop_rate: 1.0,
            ..Faults::default()
        },
    ] {
        h.sim.sim.set_faults(faults);
        seen.push(post(format!("/api/jobs/{PROJECT}"), json!({"jobIds": [job]})).await);
    }
    h.sim.sim.set_faults(Faults::default());
    seen.push(get("/metrics".to_owned()).await);
    h.stop().await;

    // The upstream rejecting the key.
    let rejected = start_with_key("another-key", CANARY, |_| {}).await;
    let response = rejected
        .client
        .post(rejected.url(&format!("/api/jobs/{PROJECT}")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let text = everything(response).await;
    assert!(text.contains("upstream_auth"), "{text}");
    seen.push(text);
    rejected.stop().await;

    for (i, text) in seen.iter().enumerate() {
        assert!(!text.contains(CANARY), "answer {i} leaks the key:\n{text}");
    }
    assert!(seen.iter().any(|t| t.contains("application/wasm")));
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("runboard::audit"), "the log capture works");
    assert!(logs.lines().count() > 20);
    for line in logs.lines() {
        assert!(!line.contains(CANARY), "a log line leaks the key: {line}");
    }
}
