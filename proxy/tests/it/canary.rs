//! A canary key must never appear in any byte Runboard sends (assets, API answers, errors,
//! headers, metrics) nor in any log line it writes, whatever happens upstream: faults,
//! a rejected key, or a platform that echoes the key back raw, percent-encoded, in
//! base64 or in JSON `\u` escapes (which only a decoding client sees whole). Answers are never content-encoded, so scanning their bytes means something.
//! The first test runs in a process of its own (`common::alone`): it installs the global
//! log subscriber.

use std::time::Duration;

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE},
};
use runboard_shared::{API_PREFIX, Endpoint, ExportFormat, HistoryQuery, Route, Target};
use runboard_sim::Faults;
use serde_json::{Value, json};
use tracing_subscriber::EnvFilter;

use crate::{
    common::{self, Harness, PROJECT, alone, code, log_capture::Buffer, start_with_key, wait_for},
    paths,
};

const CANARY: &str = "CANARY-5f1e2d3c4b5a69788796a5b4c3d2e1f0";

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

/// Every byte of an answer (status, headers, body) and, for a JSON body, the body again
/// as a browser's `JSON.parse` reads it (escapes decoded); and its body as JSON.
async fn everything(response: reqwest::Response) -> (String, Value) {
    let mut text = format!("{}\n", response.status());
    for (name, value) in response.headers() {
        text.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    let body = response.bytes().await.unwrap();
    text.push_str(&String::from_utf8_lossy(&body));
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    text.push_str(&format!("\n(decoded) {}", decoded(&json)));
    (text, json)
}

/// Every string and object key of `json`, decoded, one per line.
fn decoded(json: &Value) -> String {
    match json {
        Value::String(s) => format!("{s}\n"),
        Value::Array(items) => items.iter().map(decoded).collect(),
        Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| format!("{k}\n{}", decoded(v)))
            .collect(),
        _ => String::new(),
    }
}

/// The canary as it could be echoed: raw, percent-encoded, base64 (both alphabets).
fn forms() -> Vec<String> {
    let percent: String = CANARY
        .bytes()
        .map(|b| match b.is_ascii_alphanumeric() {
            true => (b as char).to_string(),
            false => format!("%{b:02X}"),
        })
        .collect();
    vec![
        CANARY.to_owned(),
        percent,
        STANDARD.encode(CANARY).trim_end_matches('=').to_owned(),
        URL_SAFE.encode(CANARY).trim_end_matches('=').to_owned(),
    ]
}

/// Sets the simulator's switches by their names in the contract (`/__sim/faults`).
fn switch(h: &Harness, faults: Value) {
    h.sim
        .sim
        .set_faults(serde_json::from_value::<Faults>(faults).unwrap());
}

/// Polls the job through Runboard until it is finished with a report; the report's id.
async fn finished_run(h: &Harness, job: &str) -> String {
    wait_for(Duration::from_secs(10), || async {
        let response = h
            .client
            .post(h.url(&common::jobs_path()))
            .json(&json!({"jobIds": [job]}))
            .send()
            .await
            .unwrap();
        let (_, body) = everything(response).await;
        let job = &body["jobs"][0];
        let done = matches!(job["status"].as_str(), Some("Success" | "Failed"));
        done.then(|| job["testRunId"].as_str().map(str::to_owned))
            .flatten()
    })
    .await
}

#[tokio::test]
async fn the_key_never_leaves_the_server() {
    if !alone::in_own_process("canary::the_key_never_leaves_the_server").await {
        return;
    }
    let logs = Buffer::default();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new("trace,runboard_sim=off"))
        .with_writer(logs.clone())
        .with_ansi(false)
        .init();
    let widget = widget_dir();
    let dir = widget.path().to_owned();
    // No shared-read reuse or finished cache: each fault switch below must reach the
    // platform, so every kind of answer passes the key scan.
    let h = start_with_key(CANARY, CANARY, move |c| {
        c.widget_dir = Some(dir);
        c.cache.live_reuse = std::time::Duration::ZERO;
        c.cache.finished_bytes = 0;
    })
    .await;
    let mut seen = Vec::new();
    let hr = &h;
    // Each answer as text (status, headers and body) and its JSON body.
    let get = move |path: String| async move {
        everything(hr.client.get(hr.url(&path)).send().await.unwrap()).await
    };
    let post = move |path: String, body: Value| async move {
        everything(
            hr.client
                .post(hr.url(&path))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    let start_body = json!({"action": "executeTests", "featureId": h.feature_id(), "agentName": "staging-agent"});

    // The workflow, Runboard's own endpoints, the widget's files.
    let (text, started) = post(common::execute_path(), start_body.clone()).await;
    seen.push(text);
    let job = started["jobId"].as_str().unwrap().to_owned();
    seen.push(post(common::jobs_path(), json!({"jobIds": [job]})).await.0);
    seen.push(post(common::jobs_path(), json!({})).await.0);
    let run = finished_run(&h, &job).await;
    let (text, report) = get(common::run_path(&run)).await;
    assert!(
        report["tests"].as_array().is_some_and(|t| !t.is_empty()),
        "{text}"
    );
    seen.push(text);
    let test_run = Route::Guide(Endpoint::TestRun);
    for path in [
        "/".to_owned(),
        "/p/x/runs/y?embed=1".to_owned(),
        "/app-0123456789abcdef.js".to_owned(),
        "/app-0123456789abcdef_bg.wasm".to_owned(),
        Target::Bootstrap.path(),
        "/healthz".to_owned(),
        "/readyz".to_owned(),
        common::run_path("r1"),
        test_run.fill(&[PROJECT, "..%2F"]),
        test_run.fill(&["aaaaaaaaaaaaaaaaaaaaaaaa", "r1"]),
        format!("{API_PREFIX}nothing"),
    ] {
        seen.push(get(path).await.0);
    }
    seen.push(post(common::execute_path(), json!({"action": "x"})).await.0);

    // Every upstream fault.
    for faults in [
        json!({"error5xxRate": 1.0}),
        json!({"malformedJsonRate": 1.0}),
        json!({"dropRate": 1.0}),
    ] {
        switch(&h, faults);
        seen.push(post(common::jobs_path(), json!({"jobIds": [job]})).await.0);
    }

    // A platform that echoes the key, in each way: every answer is withheld, and so is
    // every answer Runboard derives from one (the exports).
    let export = |format| paths::export_path(&run, format);
    for mode in ["error", "body", "urlencoded", "base64", "escaped"] {
        switch(&h, json!({ "echo_key": mode }));
        let answers = [
            post(common::execute_path(), start_body.clone()).await,
            post(common::jobs_path(), json!({"jobIds": [job]})).await,
            get(common::run_path(&run)).await,
            get(export(ExportFormat::Csv)).await,
            get(export(ExportFormat::Junit)).await,
        ];
        for (text, body) in answers {
            assert_eq!(code(&body), "upstream_withheld", "echo_key {mode}: {text}");
            assert!(text.starts_with("502"), "echo_key {mode}: {text}");
            seen.push(text);
        }
        // The ledger's record of the run: it was written before the echo began.
        let (text, _) = get(paths::history_job_path(&job)).await;
        seen.push(text);
    }
    switch(&h, json!({}));
    seen.push(get("/metrics".to_owned()).await.0);
    h.stop().await;

    // The upstream rejecting the key.
    let rejected = start_with_key("another-key", CANARY, |_| {}).await;
    let response = rejected
        .client
        .post(rejected.url(&common::jobs_path()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let (text, _) = everything(response).await;
    assert!(text.contains("upstream_auth"), "{text}");
    seen.push(text);
    rejected.stop().await;

    let forms = forms();
    for (i, text) in seen.iter().enumerate() {
        for form in &forms {
            assert!(
                !text.contains(form.as_str()),
                "answer {i} leaks the key:\n{text}"
            );
        }
        assert!(
            !text.to_ascii_lowercase().contains("\ncontent-encoding:"),
            "answer {i} is content-encoded, so scanning it proves nothing:\n{text}"
        );
    }
    assert!(seen.iter().any(|t| t.contains("application/wasm")));
    let logs = logs.text();
    assert!(logs.contains("runboard::audit"), "the log capture works");
    assert!(logs.contains("withheld"), "the withheld answers are logged");
    assert!(logs.lines().count() > 20);
    for line in logs.lines() {
        for form in &forms {
            assert!(
                !line.contains(form.as_str()),
                "a log line leaks the key: {line}"
            );
        }
    }
}

/// Project A's key, and project B's: both contain `+` and `/`, which a .NET platform
/// writes as `\u002B` and `\u002F`.
const KEY_A: &str = "pk+Live/0123456789abcdefAAAA";
const KEY_B: &str = "pk+Beta/9876543210fedcbaBBBB";
const PROJECT_B: &str = "67f8cb3fe236b8d41b7700bb";

/// `key` as a .NET JSON writer spells it: `+` and `/` as `\u` escapes, in `upper` or
/// lower-case hex.
fn dotnet(key: &str, upper: bool) -> String {
    let (plus, slash) = if upper {
        ("\\u002B", "\\u002F")
    } else {
        ("\\u002b", "\\u002f")
    };
    key.replace('+', plus).replace('/', slash)
}

/// A run report in the guide's shape whose one test has `title` and `message` as JSON
/// string text, written into the answer as they are.
fn report(run: &str, title: &str, message: &str) -> String {
    format!(
        r#"{{"runId":"{run}","status":"Failed","title":"Nightly","startTime":"2026-12-07T10:00:00Z","testsInProjectCount":1,"statuses":[{{"label":"Failed","count":1}}],"tests":[{{"_id":"t1","title":"{title}","status":"Failed","duration":12,"error":{{"message":"{message}"}}}}]}}"#
    )
}

/// A platform that answers project A with another project's key, or its own, hidden in
/// JSON escapes: every answer is withheld, and so is everything Runboard derives from
/// it (exports), while a clean report still passes. Project B's key is found in A's
/// answers because one scan holds every configured key.
#[tokio::test]
async fn a_key_hidden_in_json_escapes_never_reaches_a_client() {
    use crate::common::raw_http::{read_request, reply, serve};

    let answers: Vec<(&str, String)> = vec![
        ("r0", report("r0", "Login works", "expected 1, got 2")),
        (
            "r1",
            report("r1", "Login", &format!("sent {}", dotnet(KEY_B, true))),
        ),
        (
            "r2",
            report("r2", &format!("as {}", dotnet(KEY_A, false)), "x"),
        ),
        ("r3", report("r3", KEY_B, "x")),
        // Escaped twice: a JSON text inside the error's message.
        (
            "r4",
            report(
                "r4",
                "t",
                &format!(
                    "{{\\\"key\\\":\\\"{}\\\"}}",
                    dotnet(KEY_A, true).replace('\\', "\\\\")
                ),
            ),
        ),
        // Every character escaped, and a surrogate pair beside it.
        (
            "r5",
            report(
                "r5",
                &format!(
                    "\\ud83d\\ude00{}",
                    KEY_A
                        .chars()
                        .map(|c| format!("\\u{:04x}", c as u32))
                        .collect::<String>()
                ),
                "x",
            ),
        ),
    ];
    let upstream = serve(move |mut stream| {
        let answers = answers.clone();
        async move {
            let Some(request) = read_request(&mut stream).await else {
                return;
            };
            let body = if paths::endpoint_of_line(&request.line) == Some(Endpoint::Execute) {
                // A duplicate start whose job id is the key, escaped.
                format!(
                    r#"{{"success":false,"scheduleStatus":"AlreadyExists","jobId":"{}","message":"queued"}}"#,
                    dotnet(KEY_A, true)
                )
            } else {
                answers
                    .iter()
                    .find(|(run, _)| request.line.contains(&format!("/{run} ")))
                    .map_or_else(|| "{}".to_owned(), |(_, body)| body.clone())
            };
            let status = if body.contains("AlreadyExists") { "409 Conflict" } else { "200 OK" };
            let answer = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            reply(stream, answer.as_bytes()).await;
        }
    })
    .await;
    let mut config = common::config_for(&format!("http://{upstream}"), KEY_A);
    config.cache.finished_bytes = 0;
    config
        .projects
        .push(runboard_proxy::config::ProjectConfig::new(
            runboard_shared::ProjectId::parse(PROJECT_B).unwrap(),
            "Other shop",
            runboard_proxy::config::ApiKey::new(KEY_B).unwrap(),
        ));
    let server = runboard_proxy::Server::start(config).await.unwrap();
    let client = reqwest::Client::new();
    let get = |path: String| {
        let url = format!("{}{path}", server.url());
        let client = client.clone();
        async move { everything(client.get(url).send().await.unwrap()).await }
    };

    let (text, body) = get(common::run_path("r0")).await;
    assert!(text.starts_with("200"), "a clean report passes: {text}");
    assert_eq!(body["tests"][0]["title"], "Login works");
    let (text, _) = get(paths::export_path("r0", ExportFormat::Csv)).await;
    assert!(
        text.starts_with("200") && text.contains("Login works"),
        "{text}"
    );

    let mut seen = Vec::new();
    for run in ["r1", "r2", "r3", "r4", "r5"] {
        for path in [
            common::run_path(run),
            paths::export_path(run, ExportFormat::Csv),
            paths::export_path(run, ExportFormat::Junit),
        ] {
            let (text, body) = get(path.clone()).await;
            assert_eq!(code(&body), "upstream_withheld", "{path}: {text}");
            seen.push(text);
        }
    }
    let start = client
        .post(format!("{}{}", server.url(), common::execute_path()))
        .json(&json!({"action": "executeTests", "testId": "t1"}))
        .send()
        .await
        .unwrap();
    let (text, body) = everything(start).await;
    assert_eq!(code(&body), "upstream_withheld", "the start: {text}");
    seen.push(text);
    let (text, _) = get(paths::history_path(HistoryQuery::default())).await;
    seen.push(text);
    server.shutdown().await;

    for text in &seen {
        for key in [KEY_A, KEY_B] {
            assert!(!text.contains(key), "an answer leaks a key:\n{text}");
            assert!(!text.contains(&dotnet(key, true)), "{text}");
            assert!(!text.contains(&dotnet(key, false)), "{text}");
        }
    }
}
