//! The execution ledger end to end, over real sockets against the simulator (its clock
//! moved by hand, so a run ends exactly when a test says): starts recorded with user and
//! preset, jobs followed to their end with no client polling, restart recovery, jobs
//! started elsewhere, history filters, pages and CSV, identity and project checks, the
//! intent written before the platform sees a start, and no start sent when it cannot be.
//! Every scenario runs twice: on a SQLite file and on a throwaway PostgreSQL server.
//! `ledger_replicas.rs` runs two instances on one PostgreSQL database.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use runboard_ledger::{Execution, HistoryQuery, Ledger, STARTING};
use runboard_proxy::{
    Config, Server,
    config::{AuthMode, LedgerConfig},
};
use runboard_shared::{
    Endpoint, ExecutionDetail, HistoryFormat, HistoryPage, Origin, Preset, Route, Target,
    TestHistory,
};
use runboard_sim::{ManualClock, RunningSim, SimConfig, SimProject};
use serde_json::{Value, json};

use crate::{
    common::{self, KEY, PROJECT, code, execute_path, raw_http, read, wait_for},
    paths,
};

const WAIT: Duration = Duration::from_secs(20);

/// A simulator on a hand-moved clock, and the ledger file runboards in front of it share.
struct Stack {
    sim: RunningSim,
    clock: Arc<ManualClock>,
    ledger: common::ScratchLedger,
    client: reqwest::Client,
}

/// Where a scenario's ledger lives.
#[derive(Clone, Copy)]
enum Db {
    Sqlite,
    Postgres,
}

/// Each scenario as one test per database.
macro_rules! on_both {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $scenario() {
                super::$scenario(super::Stack::new(super::Db::Sqlite).await).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $scenario() {
                super::$scenario(super::Stack::new(super::Db::Postgres).await).await;
            })*
        }
    };
}

on_both!(
    a_start_is_recorded_and_followed_to_its_end_with_no_client_polling,
    a_job_started_before_a_restart_finishes_in_the_ledger_after_it,
    jobs_started_elsewhere_are_recorded_and_followed,
    history_filters_pages_and_exports_csv,
    history_checks_identity_project_and_query_like_the_api,
    a_run_is_compared_with_the_previous_one_and_tests_have_a_history,
    a_start_the_ledger_cannot_record_is_never_sent,
    the_intent_is_written_before_the_platform_sees_the_start,
);

impl Stack {
    async fn new(db: Db) -> Self {
        let config = SimConfig {
            speed: 50.0,
            tests_per_project: 6,
            projects: vec![SimProject::new(PROJECT, KEY)],
            ..SimConfig::default()
        };
        let (sim, clock) = common::manual_sim(config).await;
        Self {
            sim,
            clock,
            ledger: common::ScratchLedger::new(matches!(db, Db::Postgres)),
            client: reqwest::Client::new(),
        }
    }

    /// The catalog's test ids (one distinct selector each).
    fn tests(&self) -> Vec<String> {
        let catalog = self.sim.sim.catalog(PROJECT).unwrap();
        let mut ids: Vec<String> = catalog
            .features
            .iter()
            .flat_map(|f| f.suites.iter())
            .flat_map(|s| s.tests.iter().map(|t| t.id.clone()))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// A runboard with a following ledger on the shared file, in header mode (so tests
    /// name their users), with a "Smoke" preset on the first test.
    async fn runboard(&self) -> Server {
        let mut config = common::config_for(&self.sim.url(), KEY);
        follow_fast(&mut config, &self.ledger.url);
        config.auth.mode = AuthMode::Header;
        config.auth.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        config.auth.run_everyone = true;
        let smoke: Preset = serde_json::from_value(
            json!({"name": "Smoke", "description": "", "testId": self.tests()[0]}),
        )
        .unwrap();
        config.projects[0].presets = vec![smoke];
        Server::start(config).await.unwrap()
    }

    /// Starts test `test` as `user` through `server`; the job id.
    async fn start(&self, server: &Server, user: &str, test: &str) -> String {
        let response = self
            .client
            .post(format!("{}{}", server.url(), execute_path()))
            .header("X-Forwarded-Email", user)
            .json(&json!({"action": "executeTests", "testId": test}))
            .send()
            .await
            .unwrap();
        let (status, body) = read(response).await;
        assert_eq!(status, 200, "{body}");
        body["jobId"].as_str().unwrap().to_owned()
    }

    /// `GET /runboard/history/{PROJECT}?{query}` as `user`, the query as written.
    async fn history(&self, server: &Server, user: &str, query: &str) -> (u16, Value) {
        let path = paths::history_path(Default::default());
        let response = self
            .client
            .get(format!("{}{path}?{query}", server.url()))
            .header("X-Forwarded-Email", user)
            .send()
            .await
            .unwrap();
        read(response).await
    }

    async fn page(&self, server: &Server, query: &str) -> HistoryPage {
        let (status, body) = self.history(server, "viewer", query).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).unwrap()
    }

    /// Waits until job `job` is finished in the ledger, as `server` answers.
    async fn finished(&self, server: &Server, job: &str) -> runboard_shared::HistoryExecution {
        wait_for(WAIT, || async {
            let page = self.page(server, "limit=500").await;
            page.executions
                .into_iter()
                .find(|e| e.job_id.as_deref() == Some(job) && e.finished)
        })
        .await
    }

    /// Moves the simulated platform a day ahead: every run is over.
    fn end_every_run(&self) {
        self.clock.advance(Duration::from_secs(86_400));
    }
}

/// A ledger at `url` whose follower polls every 20 ms with short leases.
fn follow_fast(config: &mut Config, url: &str) {
    let mut ledger = LedgerConfig::at(url);
    ledger.follow = Some(Duration::from_millis(20));
    ledger.lease = Duration::from_millis(600);
    config.ledger = ledger;
    config.poll.jobs_ms = 50;
    config.cache.live_reuse = Duration::ZERO;
    config.limits.starts_per_minute = 0;
    config.limits.reads_per_minute = 0;
}

async fn a_start_is_recorded_and_followed_to_its_end_with_no_client_polling(stack: Stack) {
    let server = stack.runboard().await;
    let test = stack.tests()[0].clone();
    let job = stack.start(&server, "ann@example.com", &test).await;

    let page = stack.page(&server, "").await;
    assert_eq!(page.executions.len(), 1, "{page:?}");
    let row = &page.executions[0];
    assert_eq!(row.job_id.as_deref(), Some(job.as_str()));
    assert_eq!(row.user, "ann@example.com");
    assert_eq!(
        row.preset.as_deref(),
        Some("Smoke"),
        "the start matched the preset"
    );
    assert_eq!(row.origin, Origin::Runboard);
    assert_eq!(
        (row.selector.as_deref(), row.selector_value.as_deref()),
        (Some("testId"), Some(test.as_str()))
    );
    assert!(!row.finished);

    let api_before = stack.sim.sim.stats().total;
    stack.end_every_run();
    let done = stack.finished(&server, &job).await;
    assert!(
        stack.sim.sim.stats().total > api_before,
        "the follower read the job"
    );
    assert!(
        matches!(done.status.as_str(), "Success" | "Failed"),
        "{done:?}"
    );
    let counts = done.counts.expect("final counts");
    assert_eq!(counts.total, 1, "one test ran");
    assert_eq!(counts.passed + counts.failed + counts.skipped, 1);
    assert!(done.test_run_id.is_some() && done.duration_ms.is_some() && done.finished_at.is_some());

    let ledger = Ledger::open(&stack.ledger.url).await.unwrap();
    let execution = ledger.execution(PROJECT, &job).await.unwrap().unwrap();
    let results = ledger.results(execution.id).await.unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].test_id, test);
    assert!(results[0].duration_ms.is_some());
    server.shutdown().await;
}

async fn a_job_started_before_a_restart_finishes_in_the_ledger_after_it(stack: Stack) {
    let first = stack.runboard().await;
    let job = stack
        .start(&first, "ann@example.com", &stack.tests()[1])
        .await;
    first.shutdown().await;

    // The run ends while no Runboard is up; the next one picks the job up by itself.
    stack.end_every_run();
    let second = stack.runboard().await;
    let done = stack.finished(&second, &job).await;
    assert_eq!(done.user, "ann@example.com");
    assert!(done.counts.is_some(), "{done:?}");
    second.shutdown().await;
}

async fn jobs_started_elsewhere_are_recorded_and_followed(stack: Stack) {
    let server = stack.runboard().await;
    let response = stack
        .client
        .post(format!("{}{}", stack.sim.url(), execute_path()))
        .header("x-api-key", KEY)
        .json(&json!({"action": "executeTests", "testId": stack.tests()[2]}))
        .send()
        .await
        .unwrap();
    let (_, body) = read(response).await;
    let job = body["jobId"].as_str().unwrap().to_owned();
    let seen = wait_for(WAIT, || async {
        let page = stack.page(&server, "origin=elsewhere").await;
        page.executions
            .into_iter()
            .find(|e| e.job_id.as_deref() == Some(job.as_str()))
    })
    .await;
    assert_eq!(
        (seen.origin, seen.user.as_str(), seen.selector.as_deref()),
        (Origin::Elsewhere, "", None)
    );
    stack.end_every_run();
    let done = stack.finished(&server, &job).await;
    assert_eq!(done.origin, Origin::Elsewhere);
    assert!(done.counts.is_some());
    let all = stack.page(&server, "").await;
    assert_eq!(all.executions.len(), 1, "recorded once: {all:?}");
    server.shutdown().await;
}

async fn history_filters_pages_and_exports_csv(stack: Stack) {
    let server = stack.runboard().await;
    let tests = stack.tests();
    assert!(tests.len() >= 5, "{tests:?}");
    let mut jobs = Vec::new();
    for (i, test) in tests.iter().take(5).enumerate() {
        let user = if i % 2 == 0 {
            "ann@example.com"
        } else {
            "bob@example.com"
        };
        jobs.push(stack.start(&server, user, test).await);
    }
    // Newest first, in pages of two, every execution once.
    let mut seen = Vec::new();
    let mut query = "limit=2".to_owned();
    let mut pages = 0;
    loop {
        let page = stack.page(&server, &query).await;
        pages += 1;
        seen.extend(page.executions.iter().filter_map(|e| e.job_id.clone()));
        match page.next {
            Some(next) => query = format!("limit=2&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let newest_first: Vec<String> = jobs.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);

    let count = |query: &'static str| {
        let stack = &stack;
        let server = &server;
        async move { stack.page(server, query).await.executions.len() }
    };
    assert_eq!(count("user=ann@example.com").await, 3);
    assert_eq!(count("user=bob@example.com&preset=Smoke").await, 0);
    assert_eq!(count("preset=Smoke").await, 1);
    assert_eq!(count("status=Pending").await, 5);
    assert_eq!(count("status=Success").await, 0);
    assert_eq!(count("from=2000-01-01&to=2999-12-31").await, 5);
    assert_eq!(count("to=2000-01-01").await, 0);
    assert_eq!(count("origin=runboard").await, 5);

    let response = stack
        .client
        .get(format!(
            "{}{}",
            server.url(),
            paths::history_path(runboard_shared::HistoryQuery {
                user: Some("ann@example.com".to_owned()),
                format: Some(HistoryFormat::Csv),
                ..Default::default()
            })
        ))
        .header("X-Forwarded-Email", "viewer")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(
        lines[0].starts_with("jobId,testRunId,user,startedAt,status"),
        "{csv}"
    );
    assert!(
        lines[1].starts_with(&jobs[4]) && lines[1].contains("ann@example.com"),
        "{csv}"
    );
    assert!(!csv.contains(KEY));
    server.shutdown().await;
}

async fn history_checks_identity_project_and_query_like_the_api(stack: Stack) {
    let server = stack.runboard().await;
    let check = |path: String, user: Option<&'static str>, status: u16, expected: &'static str| {
        let stack = &stack;
        let server = &server;
        async move {
            let mut request = stack.client.get(format!("{}{path}", server.url()));
            if let Some(user) = user {
                request = request.header("X-Forwarded-Email", user);
            }
            let (got, body) = read(request.send().await.unwrap()).await;
            assert_eq!((got, code(&body)), (status, expected), "{path}: {body}");
        }
    };
    let history = paths::history_path(Default::default());
    check(history.clone(), None, 401, "unauthenticated").await;
    check(
        Route::History.fill(&["000000000000000000000000"]),
        Some("ann"),
        404,
        "unknown_project",
    )
    .await;
    check(
        Route::History.fill(&["bad%20id"]),
        Some("ann"),
        400,
        "invalid_id",
    )
    .await;
    check(
        format!("{history}?cursor=nope"),
        Some("ann"),
        400,
        "invalid_query",
    )
    .await;
    check(
        format!("{history}?limit=0"),
        Some("ann"),
        400,
        "invalid_query",
    )
    .await;
    check(
        format!("{history}?limit=lots"),
        Some("ann"),
        400,
        "invalid_query",
    )
    .await;
    check(
        format!("{history}?from=yesterday"),
        Some("ann"),
        400,
        "invalid_query",
    )
    .await;
    check(
        format!("{history}?format=xml"),
        Some("ann"),
        400,
        "invalid_query",
    )
    .await;
    check(
        format!("{history}?origin=mars"),
        Some("ann"),
        400,
        "invalid_query",
    )
    .await;
    check(
        format!("{history}?sort=asc"),
        Some("ann"),
        400,
        "invalid_query",
    )
    .await;
    let (status, body) = stack.history(&server, "ann", "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"executions": [], "next": null}));
    server.shutdown().await;
}

async fn a_run_is_compared_with_the_previous_one_and_tests_have_a_history(stack: Stack) {
    let server = stack.runboard().await;
    let test = stack.tests()[3].clone();
    let first = stack.start(&server, "ann@example.com", &test).await;
    stack.end_every_run();
    stack.finished(&server, &first).await;
    let second = stack.start(&server, "bob@example.com", &test).await;
    stack.end_every_run();
    stack.finished(&server, &second).await;

    let get = |path: String| {
        let stack = &stack;
        let server = &server;
        async move {
            let response = stack
                .client
                .get(format!("{}{path}", server.url()))
                .header("X-Forwarded-Email", "viewer")
                .send()
                .await
                .unwrap();
            read(response).await
        }
    };
    let (status, body) = get(paths::history_job_path(&second)).await;
    assert_eq!(status, 200, "{body}");
    let detail: ExecutionDetail = serde_json::from_value(body).unwrap();
    assert_eq!(detail.execution.job_id.as_deref(), Some(second.as_str()));
    assert_eq!(detail.results.len(), 1);
    assert_eq!(detail.results[0].test_id, test);
    let previous = detail.previous.expect("the first run of the same selector");
    assert_eq!(
        (previous.job_id.as_deref(), previous.user.as_str()),
        (Some(first.as_str()), "ann@example.com")
    );
    assert_eq!(detail.previous_results.len(), 1);
    let (_, body) = get(paths::history_job_path(&first)).await;
    let oldest: ExecutionDetail = serde_json::from_value(body).unwrap();
    assert!(oldest.previous.is_none() && oldest.previous_results.is_empty());

    let tests_of = |test: &str, limit| {
        Target::HistoryTest(common::project_id(), test.to_owned(), limit).path()
    };
    let (status, body) = get(tests_of(&test, Some(10))).await;
    assert_eq!(status, 200, "{body}");
    let history: TestHistory = serde_json::from_value(body).unwrap();
    let jobs: Vec<_> = history
        .results
        .iter()
        .map(|r| r.job_id.clone().unwrap())
        .collect();
    assert_eq!(jobs, [second.clone(), first.clone()], "newest first");
    assert!(history.flips <= 1);

    let (status, body) = get(Route::HistoryJob.fill(&[PROJECT, "000000000000000000000000"])).await;
    assert_eq!((status, code(&body)), (404, "not_found"), "{body}");
    let (status, body) = get(Route::HistoryTest.fill(&[PROJECT, "a%20b"])).await;
    assert_eq!((status, code(&body)), (400, "invalid_id"), "{body}");
    let (status, body) = get(tests_of(&test, Some(0))).await;
    assert_eq!((status, code(&body)), (400, "invalid_query"), "{body}");
    server.shutdown().await;
}

/// The sweep records only ids that pass validation: one the platform lists but Runboard
/// could never ask about is skipped, never stored (where it would stay unfinished), and
/// no `jobs` call goes out without an id (`{"jobIds":[]}`). SQLite only: this is the
/// sweep's rule, not the database's.
#[tokio::test]
async fn the_sweep_skips_invalid_job_ids_and_never_asks_about_no_job() {
    const VALID: &str = "0123456789abcdef01234567";
    let long = "x".repeat(65);
    let active = json!({"jobs": [
        {"jobId": "not a valid id!", "status": "InProgress"},
        {"jobId": long, "status": "InProgress"},
        {"jobId": VALID, "status": "InProgress"},
    ], "missingJobIds": []})
    .to_string();
    // Asked about the valid job, the platform says it ended (without a run), so the
    // follower finishes it and then holds only what the sweep wrongly kept, if anything.
    let ended =
        json!({"jobs": [{"jobId": VALID, "status": "Failed"}], "missingJobIds": []}).to_string();
    let bodies = Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
    let seen = bodies.clone();
    let addr = common::raw_http::serve(move |mut stream| {
        let (seen, active, ended) = (seen.clone(), active.clone(), ended.clone());
        async move {
            let Some(request) = common::raw_http::read_request(&mut stream).await else {
                return;
            };
            let text = String::from_utf8_lossy(&request.bytes).into_owned();
            let body: Value = text
                .split_once("\r\n\r\n")
                .and_then(|(_, body)| serde_json::from_str(body).ok())
                .unwrap_or(Value::Null);
            let answer = if body.get("jobIds").is_some() {
                &ended
            } else {
                &active
            };
            seen.lock().unwrap().push(body);
            common::raw_http::reply(stream, &common::raw_http::json_answer(answer)).await;
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ledger.db").display());
    let mut config = common::config_for(&format!("http://{addr}"), KEY);
    follow_fast(&mut config, &url);
    let server = Server::start(config).await.unwrap();
    let client = reqwest::Client::new();
    let history = async || {
        let response = client
            .get(format!(
                "{}{}",
                server.url(),
                paths::history_path(Default::default())
            ))
            .send()
            .await
            .unwrap();
        let (status, body) = read(response).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value::<HistoryPage>(body).unwrap()
    };
    wait_for(WAIT, || async {
        let page = history().await;
        page.executions
            .iter()
            .any(|e| e.job_id.as_deref() == Some(VALID) && e.finished)
            .then_some(())
    })
    .await;
    // A few more sweeps, each followed by a follow round, after the valid job ended.
    let sweeps = || {
        let bodies = bodies.lock().unwrap();
        bodies.iter().filter(|b| b.get("jobIds").is_none()).count()
    };
    let until = sweeps() + 3;
    wait_for(WAIT, || async { (sweeps() >= until).then_some(()) }).await;
    let page = history().await;
    server.shutdown().await;

    let ids: Vec<_> = page.executions.iter().map(|e| e.job_id.clone()).collect();
    assert_eq!(
        ids,
        [Some(VALID.to_owned())],
        "only the valid job is recorded"
    );
    let bodies = bodies.lock().unwrap();
    for body in bodies.iter() {
        assert_ne!(
            body["jobIds"],
            json!([]),
            "a jobs call without an id: {bodies:?}"
        );
    }
}

/// A Runboard in front of `upstream` on the ledger at `url`, in header mode, following
/// nothing (so the only upstream calls are the ones a test makes it send).
async fn recording_only(upstream: &str, url: &str) -> Server {
    let mut config = common::config_for(upstream, KEY);
    follow_fast(&mut config, url);
    config.ledger.follow = None;
    config.auth.mode = AuthMode::Header;
    config.auth.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    config.auth.run_everyone = true;
    Server::start(config).await.unwrap()
}

/// No intent, no start: when the ledger cannot take the intent, the browser gets
/// `503 ledger_unavailable` and the platform receives nothing at all. SQLite: the file
/// is migrated, then Runboard opens it read-only; PostgreSQL: the server is stopped
/// under a running Runboard.
async fn a_start_the_ledger_cannot_record_is_never_sent(mut stack: Stack) {
    let url = if stack.ledger.is_postgres() {
        stack.ledger.url.clone()
    } else {
        Ledger::open(&stack.ledger.url).await.unwrap().close().await;
        format!("{}?mode=ro", stack.ledger.url)
    };
    let server = recording_only(&stack.sim.url(), &url).await;
    stack.ledger.stop_server();
    let response = stack
        .client
        .post(format!("{}{}", server.url(), execute_path()))
        .header("X-Forwarded-Email", "ann@example.com")
        .json(&json!({"action": "executeTests", "testId": stack.tests()[0]}))
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!((status, code(&body)), (503, "ledger_unavailable"), "{body}");
    let stats = stack.sim.sim.stats();
    assert_eq!(stats.by_endpoint.test_execution, 0, "{stats:?}");
    assert_eq!(stats.total, 0, "nothing reached the platform: {stats:?}");
    server.shutdown().await;
}

/// The intent is in the ledger before the platform sees the start: a front between
/// Runboard and the simulator reads the ledger the moment a start reaches it, then
/// passes the start on. It sees one row, the intent (no job id yet, `Starting`, the
/// user and selector), and the job id lands later in that same row.
async fn the_intent_is_written_before_the_platform_sees_the_start(stack: Stack) {
    let ledger = Ledger::open(&stack.ledger.url).await.unwrap();
    let seen: Arc<Mutex<Vec<Vec<Execution>>>> = Arc::default();
    let (reader, rows, sim) = (ledger.clone(), seen.clone(), stack.sim.addr);
    let front = raw_http::serve(move |mut stream| {
        let (ledger, rows) = (reader.clone(), rows.clone());
        async move {
            let Some(request) = raw_http::read_request(&mut stream).await else {
                return;
            };
            if paths::endpoint_of_line(&request.line) == Some(Endpoint::Execute) {
                let query = HistoryQuery {
                    limit: 10,
                    ..HistoryQuery::default()
                };
                let page = ledger.history(PROJECT, &query).await.unwrap();
                rows.lock().unwrap().push(page.executions);
            }
            let answer = raw_http::forward(sim, &request).await;
            raw_http::reply(stream, &answer).await;
        }
    })
    .await;
    let server = recording_only(&format!("http://{front}"), &stack.ledger.url).await;
    let test = stack.tests()[0].clone();
    let job = stack.start(&server, "ann@example.com", &test).await;

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "one start reached the platform: {seen:?}");
    let [intent] = seen[0].as_slice() else {
        panic!("the ledger held no intent (or more) as the start arrived: {seen:?}");
    };
    assert_eq!(intent.job_id, None, "{intent:?}");
    assert_eq!(intent.status, STARTING, "{intent:?}");
    assert_eq!(
        (intent.user.as_str(), intent.selector_value.as_str()),
        ("ann@example.com", test.as_str())
    );
    let confirmed = ledger.execution(PROJECT, &job).await.unwrap().unwrap();
    assert_eq!(confirmed.id, intent.id, "the intent's row holds the job");
    assert_eq!(stack.sim.sim.stats().by_endpoint.test_execution, 1);
    server.shutdown().await;
}
