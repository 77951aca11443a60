//! The integration-test harness: the shared stack builder (`runboard_proxy::demo`) starts an
//! in-process `runboard-sim` as the upstream and a real Runboard server in front of it, both
//! on `127.0.0.1:0`; plus small HTTP helpers.

#![allow(unreachable_pub)] // `pub` for the test modules of this one binary.

pub mod alone;
pub mod log_capture;
pub mod raw_http;
pub mod sse;
pub mod watch;

use std::{
    future::Future,
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use runboard_proxy::{
    Config, Server,
    config::ApiKey,
    demo::{self, StackBuilder},
};
use runboard_shared::{ProjectId, RunId};
use runboard_sim::{ManualClock, RecordedRequest, RunningSim, SimConfig, Simulator, Stats};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The project every test uses (the one every stack serves).
pub const PROJECT: &str = demo::PROJECT;
/// Its key at the simulator (and, unless a test says otherwise, in Runboard's config).
pub const KEY: &str = demo::KEY;

/// [`PROJECT`], typed for the shared path builders.
pub fn project_id() -> ProjectId {
    demo::project_id()
}

/// The guide's start path for [`PROJECT`].
pub fn execute_path() -> String {
    runboard_shared::execute_path(&project_id())
}

/// The guide's `jobs` path for [`PROJECT`].
pub fn jobs_path() -> String {
    runboard_shared::jobs_path(&project_id())
}

/// The guide's report path for `run` (a valid id) in [`PROJECT`].
pub fn run_path(run: &str) -> String {
    runboard_shared::test_run_path(&project_id(), &RunId::parse(run).unwrap())
}

/// A simulator on a manual clock (runs move only when the test says so), on
/// `127.0.0.1:0`, and its clock.
pub async fn manual_sim(config: SimConfig) -> (RunningSim, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at_example_time());
    let sim = demo::spawn_sim(Simulator::with_clock(config, clock.clone()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (sim, clock)
}

/// A simulator and a Runboard in front of it.
pub struct Harness {
    pub sim: RunningSim,
    pub server: Server,
    pub client: reqwest::Client,
}

/// Starts both with the default test config, adjusted by `adjust`.
pub async fn start(adjust: impl FnOnce(&mut Config)) -> Harness {
    start_with_key(KEY, KEY, adjust).await
}

/// Starts both; the simulator expects `sim_key`, Runboard is configured with `proxy_key`.
pub async fn start_with_key(
    sim_key: &str,
    proxy_key: &str,
    adjust: impl FnOnce(&mut Config),
) -> Harness {
    let stack = StackBuilder::new()
        .sim_speed(2000.0)
        .sim_tests(6)
        .key(sim_key)
        .proxy_key(proxy_key)
        .start_with(|config| {
            test_settings(config);
            adjust(config);
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Harness {
        sim: stack.sim,
        server: stack.server,
        client: reqwest::Client::new(),
    }
}

/// A Runboard configuration pointing at `upstream`, on a free port, with one project.
pub fn config_for(upstream: &str, key: &str) -> Config {
    let mut config = demo::config(
        upstream.parse().unwrap(),
        "Test shop",
        ApiKey::new(key).unwrap(),
    );
    test_settings(&mut config);
    config
}

/// A ledger of one test's own: an SQLite file in a scratch folder, or a fresh database
/// on a PostgreSQL server started for it; both go when it is dropped.
pub struct ScratchLedger {
    /// Where Runboard and the test open it.
    pub url: String,
    _dir: tempfile::TempDir,
    pg: Option<runboard_testdb::PgServer>,
}

impl ScratchLedger {
    pub fn new(postgres: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (pg, url) = if postgres {
            let pg = runboard_testdb::PgServer::start();
            let url = pg.fresh_database();
            (Some(pg), url)
        } else {
            let path = dir.path().join("ledger.db");
            (None, format!("sqlite://{}", path.display()))
        };
        Self { url, _dir: dir, pg }
    }

    /// Whether it is on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// Stops its PostgreSQL server under whoever uses it (nothing for SQLite).
    pub fn stop_server(&mut self) {
        drop(self.pg.take());
    }
}

/// What every suite's Runboard has unless it says otherwise.
fn test_settings(config: &mut Config) {
    config.upstream.timeout = Duration::from_millis(2000);
    config.widget_dir = Some("/nonexistent-widget-dir".into());
    // Most suites count what reaches the simulator; the ledger's own suite follows jobs.
    config.ledger.follow = None;
}

impl Harness {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    pub fn stats(&self) -> Stats {
        self.sim.sim.stats()
    }

    /// The first feature of the project's catalog (not the "everything" one).
    pub fn feature_id(&self) -> String {
        let catalog = self.sim.sim.catalog(PROJECT).unwrap();
        catalog.features.iter().find(|f| !f.all).unwrap().id.clone()
    }

    /// POSTs `body` as JSON; returns status and JSON answer.
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_as(path, body, &[]).await
    }

    /// `post`, with the front door's identity `headers` (header mode).
    pub async fn post_as(
        &self,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let request = self.client.post(self.url(path)).json(body);
        read(with_headers(request, headers).send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.get_as(path, &[]).await
    }

    /// `get`, with the front door's identity `headers` (header mode).
    pub async fn get_as(&self, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
        let request = self.client.get(self.url(path));
        read(with_headers(request, headers).send().await.unwrap()).await
    }

    /// Starts a run of the catalog's first feature through Runboard and waits until its
    /// report is final; the run's id.
    pub async fn finished_run(&self) -> String {
        self.finished_run_as(&[]).await
    }

    /// `finished_run`, started and followed with the front door's identity `headers`.
    pub async fn finished_run_as(&self, headers: &[(&str, &str)]) -> String {
        let start = json!({"action": "executeTests", "featureId": self.feature_id(), "agentName": "staging-agent"});
        let (status, started) = self.post_as(&execute_path(), &start, headers).await;
        assert_eq!(status, 200, "{started}");
        let job = started["jobId"].as_str().unwrap().to_owned();
        let run = wait_for(Duration::from_secs(10), || async {
            let (_, jobs) = self
                .post_as(&jobs_path(), &json!({"jobIds": [job]}), headers)
                .await;
            let job = &jobs["jobs"][0];
            let done = matches!(job["status"].as_str(), Some("Success" | "Failed"));
            done.then(|| job["testRunId"].as_str().map(str::to_owned))
                .flatten()
        })
        .await;
        wait_for(Duration::from_secs(10), || async {
            let (_, report) = self.get_as(&run_path(&run), headers).await;
            matches!(report["status"].as_str(), Some("Completed" | "Aborted")).then_some(())
        })
        .await;
        run
    }

    pub async fn stop(self) {
        self.server.shutdown().await;
        self.sim.shutdown().await;
    }
}

/// `request` with each of `headers`.
pub fn with_headers(
    mut request: reqwest::RequestBuilder,
    headers: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
}

pub async fn read(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// The `error.code` of an error body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error code>")
}

/// Sends raw bytes as an HTTP/1.1 request (so nothing normalises the path) and returns
/// the status code and the whole raw answer.
pub async fn raw_request(addr: SocketAddr, request: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

/// Polls `check` until it yields a value or `within` has passed.
pub async fn wait_for<T, F, Fut>(within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "condition not met within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Checks that every `/api` request the simulator received (retries and look-ups
/// included) carried exactly the headers Runboard sends ([`assert_exact_headers`]), with
/// one `x-api-key` equal to `key`. Returns how many requests there were.
pub fn assert_forwarded_cleanly(h: &Harness, key: &str) -> usize {
    assert_forwarded_through(h, key, &h.sim.addr.to_string(), &[])
}

/// [`assert_forwarded_cleanly`] for requests that reached the simulator through a test's
/// own front at `host` (Runboard's upstream), which adds the `added` headers itself.
pub fn assert_forwarded_through(
    h: &Harness,
    key: &str,
    host: &str,
    added: &[(&str, &str)],
) -> usize {
    let recorded = h.sim.sim.requests().requests;
    for request in &recorded {
        assert_exact_headers(request, key, host, added);
    }
    recorded.len()
}

/// The whole set of headers one forwarded call may carry, each exactly once: `host`,
/// `x-api-key` (the project's key), `accept`, `user-agent` (Runboard's own), and with a
/// body (every POST) `content-type` and `content-length`; plus what a test's front
/// `added`. Anything else (a browser's header, a second key, `accept-encoding` from a
/// compression feature switched on somewhere in the workspace) fails here until someone
/// decides it belongs.
pub fn assert_exact_headers(
    request: &RecordedRequest,
    key: &str,
    host: &str,
    added: &[(&str, &str)],
) {
    let what = format!("{} {}: {:?}", request.method, request.path, request.headers);
    let user_agent = format!("runboard/{}", runboard_proxy::VERSION);
    let mut expected: Vec<(&str, &str)> = vec![
        ("host", host),
        ("x-api-key", key),
        ("accept", "application/json"),
        ("user-agent", &user_agent),
    ];
    let post = request.method == "POST";
    if post {
        expected.push(("content-type", "application/json"));
    }
    expected.extend_from_slice(added);
    let mut names: Vec<&str> = request.headers.iter().map(|(n, _)| n.as_str()).collect();
    let mut wanted: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
    if post {
        wanted.push("content-length");
    }
    names.sort_unstable();
    wanted.sort_unstable();
    assert_eq!(names, wanted, "{what}");
    for (name, value) in expected {
        assert_eq!(request.header_values(name), [value], "{what}");
    }
    if post {
        let length = request.header_values("content-length")[0];
        assert!(
            length.parse::<usize>().is_ok_and(|n| n > 0),
            "content-length {length}: {what}"
        );
    }
    assert!(
        request.method == "GET" || post,
        "only GET and POST go upstream: {what}"
    );
}
