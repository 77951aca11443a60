//! Shared reads, seen from outside: many viewers of one run or one job set cost the
//! upstream what the reuse window allows (counted at the simulator), never an answer of
//! another project, 304 for an unchanged report, finished reports from the cache.

use std::{sync::Arc, time::Duration};

use reqwest::{StatusCode, header};
use runboard_proxy::{
    Config, Server,
    config::{ApiKey, AuthMode, ProjectConfig},
};
use runboard_shared::{
    ExportFormat, HistoryFormat, HistoryQuery, ProjectId, RunId, Target, execute_path, jobs_path,
    test_run_path,
};
use runboard_sim::{Faults, ManualClock, RunningSim, SimConfig, SimProject};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::{
    common::{self, KEY, PROJECT},
    paths,
};

/// A second project at the same simulator, with its own key.
const OTHER: &str = "5f0c0ffee0c0ffee0c0ffee0";
const OTHER_KEY: &str = "sim-key-other-project-0001";
/// Viewers of one run in the fan-in tests.
const VIEWERS: usize = 50;
/// A reuse window no test outlives: whatever the machine's speed, one call per window.
const LONG: Duration = Duration::from_secs(60);
/// A run id the platform does not know, in either project.
const UNKNOWN_RUN: &str = "0000000000000000000000aa";

/// A simulator on a stopped clock with two projects, and Runboard in front of it.
struct Stack {
    sim: RunningSim,
    clock: Arc<ManualClock>,
    server: Server,
    client: reqwest::Client,
}

async fn stack(adjust: impl FnOnce(&mut Config)) -> Stack {
    let sim_config = SimConfig {
        speed: 1.0,
        tests_per_project: 6,
        projects: vec![
            SimProject::new(PROJECT, KEY),
            SimProject::new(OTHER, OTHER_KEY),
        ],
        ..SimConfig::default()
    };
    let (sim, clock) = common::manual_sim(sim_config).await;
    let mut config = common::config_for(&sim.url(), KEY);
    config.projects.push(ProjectConfig::new(
        ProjectId::parse(OTHER).unwrap(),
        "Other shop",
        ApiKey::new(OTHER_KEY).unwrap(),
    ));
    adjust(&mut config);
    let server = Server::start(config).await.expect("runboard starts");
    Stack {
        sim,
        clock,
        server,
        client: reqwest::Client::new(),
    }
}

/// [`PROJECT`] or [`OTHER`], typed for the shared path builders.
fn project_id(project: &str) -> ProjectId {
    ProjectId::parse(project).unwrap()
}

/// The guide's report path for `run` (a valid id) in `project`.
fn report_path(project: &str, run: &str) -> String {
    test_run_path(&project_id(project), &RunId::parse(run).unwrap())
}

/// A run started at the simulator itself (so nothing is cached in Runboard yet).
struct Run {
    job: String,
    id: String,
}

impl Stack {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    fn test_run_calls(&self) -> u64 {
        self.sim.sim.stats().by_endpoint.test_run
    }

    fn jobs_calls(&self) -> u64 {
        self.sim.sim.stats().by_endpoint.jobs
    }

    /// One call straight to the simulator with `project`'s key: the answer's bytes.
    async fn direct_bytes(&self, project: &str, path: &str, body: Option<Value>) -> Vec<u8> {
        let key = if project == PROJECT { KEY } else { OTHER_KEY };
        let url = format!("{}{path}", self.sim.url());
        let request = match body {
            Some(body) => self.client.post(url).json(&body),
            None => self.client.get(url),
        };
        let response = request.header("x-api-key", key).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.bytes().await.unwrap().to_vec()
    }

    /// [`Self::direct_bytes`], read as JSON.
    async fn direct(&self, project: &str, path: &str, body: Option<Value>) -> Value {
        serde_json::from_slice(&self.direct_bytes(project, path, body).await).unwrap()
    }

    /// Starts a run of `project`'s first feature and moves the clock until its report is
    /// `Running`, so it stays live while the clock stands still.
    async fn live_run(&self, project: &str) -> Run {
        let catalog = self.sim.sim.catalog(project).unwrap();
        let feature = catalog.features.iter().find(|f| !f.all).unwrap().id.clone();
        let started = self
            .direct(
                project,
                &execute_path(&project_id(project)),
                Some(json!({"action": "executeTests", "featureId": feature})),
            )
            .await;
        let job = started["jobId"].as_str().unwrap().to_owned();
        for _ in 0..3600 {
            let jobs = self
                .direct(
                    project,
                    &jobs_path(&project_id(project)),
                    Some(json!({"jobIds": [job]})),
                )
                .await;
            if let Some(id) = jobs["jobs"][0]["testRunId"].as_str() {
                let path = report_path(project, id);
                if self.direct(project, &path, None).await["status"] == "Running" {
                    return Run {
                        job,
                        id: id.to_owned(),
                    };
                }
            }
            self.clock.advance(Duration::from_millis(500));
        }
        panic!("the run never showed as running");
    }

    /// Moves the clock far enough for every run to be over.
    fn finish_runs(&self) {
        self.clock.advance(Duration::from_secs(24 * 3600));
    }

    /// A run of the first project, over, and its report read once through Runboard.
    async fn finished_report(&self) -> (Run, Value) {
        let run = self.live_run(PROJECT).await;
        self.finish_runs();
        let (status, report) = self.report(PROJECT, &run.id).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["status"], "Completed");
        (run, report)
    }

    /// Makes the platform answer every request with a 5xx (`true`), or normally again.
    fn outage(&self, on: bool) {
        let error5xx_rate = if on { 1.0 } else { 0.0 };
        self.sim.sim.set_faults(Faults {
            error5xx_rate,
            ..Faults::default()
        });
    }

    async fn get(&self, path: &str, if_none_match: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        if let Some(tag) = if_none_match {
            request = request.header(header::IF_NONE_MATCH, tag);
        }
        request.send().await.unwrap()
    }

    async fn report(&self, project: &str, run: &str) -> (StatusCode, Value) {
        let response = self.get(&report_path(project, run), None).await;
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn jobs(&self, project: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url(&jobs_path(&project_id(project))))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// `runboard_upstream_saved_total{reason}` from `/metrics`.
    async fn saved(&self, reason: &str) -> u64 {
        let text = self.get("/metrics", None).await.text().await.unwrap();
        let prefix = format!("runboard_upstream_saved_total{{reason=\"{reason}\"}} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .map_or(0, |n| n.trim().parse().unwrap())
    }
}

/// `count` requests at once, each answered with status and body.
async fn together<F, Fut>(count: usize, request: F) -> Vec<(StatusCode, Value)>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = (StatusCode, Value)> + Send + 'static,
{
    let mut set = JoinSet::new();
    for i in 0..count {
        set.spawn(request(i));
    }
    set.join_all().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_viewers_of_a_live_run_cost_one_upstream_call_per_window() {
    let s = Arc::new(stack(|c| c.cache.live_reuse = LONG).await);
    let run = s.live_run(PROJECT).await;
    let before = s.test_run_calls();
    let answers = together(VIEWERS, |_| {
        let s = s.clone();
        let id = run.id.clone();
        async move { s.report(PROJECT, &id).await }
    })
    .await;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body["runId"], run.id.as_str());
        assert_eq!(body["status"], "Running", "still live");
        assert_eq!(body, &answers[0].1, "every viewer sees the same report");
    }
    assert_eq!(
        s.test_run_calls() - before,
        1,
        "one upstream call for all viewers"
    );
    let shared = s.saved("coalesced").await + s.saved("reused").await;
    assert_eq!(shared, VIEWERS as u64 - 1, "the others were shared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_project_never_gets_the_answer() {
    let s = stack(|c| c.cache.live_reuse = LONG).await;
    let mine = s.live_run(PROJECT).await;
    let theirs = s.live_run(OTHER).await;
    let (status, report) = s.report(PROJECT, &mine.id).await;
    assert_eq!(status, StatusCode::OK, "{report}");

    // The same run id under the other project is the other project's question.
    let calls = s.test_run_calls();
    let (status, body) = s.report(OTHER, &mine.id).await;
    assert_eq!(
        s.test_run_calls(),
        calls + 1,
        "asked the platform, not the cache"
    );
    assert_ne!(status, StatusCode::OK, "{body}");
    assert_ne!(body, report);
    let (status, body) = s.report(OTHER, &theirs.id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["runId"], theirs.id.as_str());

    // And the same job id set too.
    let ids = json!({"jobIds": [mine.job]});
    let (_, jobs) = s.jobs(PROJECT, ids.clone()).await;
    assert_eq!(jobs["jobs"][0]["jobId"], mine.job.as_str(), "{jobs}");
    let (status, other) = s.jobs(OTHER, ids).await;
    assert_eq!(status, StatusCode::OK, "{other}");
    assert_ne!(other, jobs, "the other project's answer about that id");
    assert!(
        !other.to_string().contains(&mine.id),
        "nothing of the first project's run: {other}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_for_one_id_set_share_one_upstream_call() {
    let s = Arc::new(stack(|c| c.cache.live_reuse = LONG).await);
    let run = s.live_run(PROJECT).await;
    let unknown = "0123456789abcdef01234567".to_owned();
    let before = s.jobs_calls();
    let answers = together(VIEWERS, |i| {
        let s = s.clone();
        // The same set in either order, sometimes with a duplicate.
        let ids = match i % 3 {
            0 => json!([run.job, unknown]),
            1 => json!([unknown, run.job]),
            _ => json!([unknown, run.job, unknown]),
        };
        async move { s.jobs(PROJECT, json!({ "jobIds": ids })).await }
    })
    .await;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body, &answers[0].1);
    }
    let job = &answers[0].1["jobs"][0];
    assert_eq!(job["jobId"], run.job.as_str(), "{job}");
    assert_eq!(
        s.jobs_calls() - before,
        1,
        "one upstream call for the id set"
    );

    // Another set is another question.
    let (status, _) = s.jobs(PROJECT, json!({ "jobIds": [run.job] })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s.jobs_calls() - before, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_active_jobs_list_is_fetched_once_per_poll_window() {
    let s = Arc::new(stack(|c| c.poll.jobs_ms = 3_600_000).await);
    s.live_run(PROJECT).await;
    let before = s.jobs_calls();
    let answers = together(VIEWERS, |_| {
        let s = s.clone();
        async move { s.jobs(PROJECT, json!({})).await }
    })
    .await;
    for _ in 0..5 {
        let (status, later) = s.jobs(PROJECT, json!({})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(later, answers[0].1, "the list of this window");
    }
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert!(!body["jobs"].as_array().unwrap().is_empty(), "{body}");
    }
    assert_eq!(s.jobs_calls() - before, 1, "one upstream call per window");

    // Per project: the other project's list is its own call.
    let (status, _) = s.jobs(OTHER, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s.jobs_calls() - before, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_report_is_304_and_a_changed_one_200() {
    let s = stack(|c| c.cache.live_reuse = Duration::ZERO).await;
    let run = s.live_run(PROJECT).await;
    let path = common::run_path(&run.id);
    let first = s.get(&path, None).await;
    assert_eq!(first.status(), StatusCode::OK);
    let tag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
    assert!(tag.starts_with('"') && tag.ends_with('"'), "strong: {tag}");
    assert_eq!(first.headers()[header::CACHE_CONTROL], "no-cache, private");

    let calls = s.test_run_calls();
    let again = s.get(&path, Some(&tag)).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[header::ETAG], tag.as_str());
    assert_eq!(again.headers()[header::CACHE_CONTROL], "no-cache, private");
    assert!(again.bytes().await.unwrap().is_empty(), "no body");
    assert_eq!(
        s.test_run_calls(),
        calls + 1,
        "no reuse window: asked again"
    );
    assert_eq!(s.saved("not_modified").await, 1);

    s.finish_runs();
    let changed = s.get(&path, Some(&tag)).await;
    assert_eq!(changed.status(), StatusCode::OK);
    let new_tag = changed.headers()[header::ETAG].to_str().unwrap().to_owned();
    assert_ne!(new_tag, tag);
    let body: Value = changed.json().await.unwrap();
    assert_eq!(body["status"], "Completed", "the new report");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_report_is_served_after_the_platform_stops_answering() {
    let s = stack(|c| c.cache.live_reuse = Duration::ZERO).await;
    let (run, report) = s.finished_report().await;

    s.outage(true);
    let calls = s.test_run_calls();
    for _ in 0..3 {
        let (status, cached) = s.report(PROJECT, &run.id).await;
        assert_eq!(status, StatusCode::OK, "{cached}");
        assert_eq!(cached, report);
    }
    assert_eq!(s.test_run_calls(), calls, "the platform was not asked");
    assert_eq!(s.saved("cache_hit").await, 3);

    // The cache is per project: the same run id elsewhere still asks the platform.
    let (status, _) = s.report(OTHER, &run.id).await;
    assert!(status.is_server_error(), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_finished_cache_keeps_within_its_bytes() {
    // Smaller than any report: nothing fits, so nothing is served without the platform.
    let s = stack(|c| {
        c.cache.live_reuse = Duration::ZERO;
        c.cache.finished_bytes = 64;
    })
    .await;
    let (run, _) = s.finished_report().await;
    s.outage(true);
    let (status, body) = s.report(PROJECT, &run.id).await;
    assert!(status.is_server_error(), "{status} {body}");
    assert_eq!(s.saved("cache_hit").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_read_reaches_every_waiter_and_is_not_reused() {
    let s = Arc::new(stack(|c| c.cache.live_reuse = LONG).await);
    let run = s.live_run(PROJECT).await;
    s.outage(true);
    let failed = together(VIEWERS, |_| {
        let s = s.clone();
        let id = run.id.clone();
        async move { s.report(PROJECT, &id).await }
    })
    .await;
    for (status, body) in &failed {
        assert!(status.is_server_error(), "{status} {body}");
    }

    // The platform is back: the next viewer gets the report, not the old error.
    s.outage(false);
    let (status, report) = s.report(PROJECT, &run.id).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["runId"], run.id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_least_recently_used_finished_report_goes_first() {
    let s = stack(|_| {}).await;
    let (older, _) = s.finished_report().await;
    let (newer, _) = s.finished_report().await;
    let path = |run: &Run| common::run_path(&run.id);
    // Room for either report, not for both.
    let bound = s.direct_bytes(PROJECT, &path(&older), None).await.len()
        + s.direct_bytes(PROJECT, &path(&newer), None).await.len()
        - 1;
    let mut config = common::config_for(&s.sim.url(), KEY);
    config.cache.live_reuse = Duration::ZERO;
    config.cache.finished_bytes = bound as u64;
    let small = Server::start(config).await.expect("runboard starts");
    let status = async |run: &Run| {
        let url = format!("{}{}", small.url(), path(run));
        s.client.get(url).send().await.unwrap().status()
    };
    assert_eq!(status(&older).await, StatusCode::OK);
    assert_eq!(status(&newer).await, StatusCode::OK, "kept; the older goes");
    s.outage(true);
    assert_eq!(status(&newer).await, StatusCode::OK, "from the cache");
    assert!(status(&older).await.is_server_error(), "evicted");
    small.shutdown().await;
}

/// A user who mixes reports and exports of runs that do not exist (each a platform call
/// on the shared key) is cut off by one read allowance: the review saw 31 platform calls
/// in 40 requests with `reads_per_minute = 5`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_and_exports_of_unknown_runs_share_one_read_allowance() {
    let s = stack(|c| c.limits.reads_per_minute = 5).await;
    let before = s.test_run_calls();
    let mut refused = 0;
    for i in 0..40 {
        let run = format!("unknown-run-{i:02}");
        let path = if i % 2 == 0 {
            common::run_path(&run)
        } else {
            paths::export_path(&run, ExportFormat::Csv)
        };
        let response = s.get(&path, None).await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            let wait: u64 = response.headers()[header::RETRY_AFTER]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&wait), "Retry-After: {wait}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(common::code(&body), "rate_limited", "{body}");
            refused += 1;
        }
    }
    let calls = s.test_run_calls() - before;
    assert!(calls <= 5, "{calls} platform calls on a 5-read allowance");
    assert!(refused >= 35, "only {refused} of 40 refused");
}

/// Each route that can reach the platform or read the ledger spends the read allowance:
/// with one read a minute, the second request of any of them is 429; the probes stay free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_that_reaches_the_platform_or_the_ledger_spends_a_read() {
    let s = stack(|c| {
        c.auth.mode = AuthMode::Header;
        c.auth.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        c.limits.reads_per_minute = 1;
    })
    .await;
    let routes = [
        common::run_path(UNKNOWN_RUN),
        paths::export_path(UNKNOWN_RUN, ExportFormat::Csv),
        paths::export_path(UNKNOWN_RUN, ExportFormat::Junit),
        paths::history_path(HistoryQuery::default()),
        paths::history_path(HistoryQuery {
            format: Some(HistoryFormat::Csv),
            ..HistoryQuery::default()
        }),
        paths::history_job_path(UNKNOWN_RUN),
        Target::HistoryTest(common::project_id(), UNKNOWN_RUN.to_owned(), None).path(),
        paths::live_path(UNKNOWN_RUN),
        Target::Bootstrap.path(),
    ];
    let get_as = async |path: &str, user: &str| {
        let response = s
            .client
            .get(s.url(path))
            .header("x-forwarded-email", user)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let retry = response.headers().get(header::RETRY_AFTER).cloned();
        // Read to the end: a live stream ends after its failure event.
        let _ = response.bytes().await;
        (status, retry)
    };
    for (i, path) in routes.iter().enumerate() {
        let user = format!("reader-{i}@example.com");
        let (first, _) = get_as(path, &user).await;
        assert_ne!(first, StatusCode::TOO_MANY_REQUESTS, "{path}");
        let (second, retry) = get_as(path, &user).await;
        assert_eq!(
            second,
            StatusCode::TOO_MANY_REQUESTS,
            "{path}: a second read"
        );
        assert!(retry.is_some(), "{path}: Retry-After");
        for probe in ["/healthz", "/readyz", "/metrics"] {
            let (status, _) = get_as(probe, &user).await;
            assert_ne!(status, StatusCode::TOO_MANY_REQUESTS, "{probe} is free");
        }
    }
}

/// A run id the platform does not know is asked once in a while, not once per request:
/// every reader in the window gets the same 404, and the other project asks for itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_run_is_asked_of_the_platform_once_in_a_while() {
    let s = stack(|c| c.cache.live_reuse = Duration::ZERO).await;
    let before = s.test_run_calls();
    let (status, first) = s.report(PROJECT, UNKNOWN_RUN).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{first}");
    assert_eq!(common::code(&first), "upstream_rejected", "{first}");
    for _ in 0..2 {
        let (status, again) = s.report(PROJECT, UNKNOWN_RUN).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{again}");
        assert_eq!(again, first, "the same answer");
    }
    let export = s
        .get(&paths::export_path(UNKNOWN_RUN, ExportFormat::Csv), None)
        .await;
    assert_eq!(export.status(), StatusCode::NOT_FOUND);
    assert_eq!(export.json::<Value>().await.unwrap(), first);
    assert_eq!(s.test_run_calls() - before, 1, "one platform call");

    // Per project: the same id in the other project is that project's question.
    let (status, _) = s.report(OTHER, UNKNOWN_RUN).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(s.test_run_calls() - before, 2);
}
