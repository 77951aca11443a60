//! The ledger's behaviour, one table of scenarios run against SQLite (a file, and memory)
//! and against a throwaway PostgreSQL server: the same suite, both backends.

use std::{future::Future, pin::Pin};

use runboard_ledger::{
    Backend, Confirmed, Counts, ExecutionId, Finish, HistoryQuery, Intent, Ledger, LedgerError,
    Member, Origin, STARTING, SeenJob, TestOutcome, UNCONFIRMED,
};
use runboard_shared::{Day, NewRule, ProjectId, RuleAction};
use runboard_testdb::PgServer;

const PROJECT: &str = "p1";
const OWNER_A: &str = "instance-a";
const OWNER_B: &str = "instance-b";
const T0: i64 = 1_765_000_000_000;

type Scenario = fn(Ledger) -> Pin<Box<dyn Future<Output = ()>>>;

/// Every scenario, by name.
const SCENARIOS: &[(&str, Scenario)] = &[
    ("a start is recorded, followed and finished", |l| {
        Box::pin(start_follow_finish(l))
    }),
    ("AlreadyExists keeps one row", |l| {
        Box::pin(already_exists(l))
    }),
    ("elsewhere jobs are recorded once and merged", |l| {
        Box::pin(elsewhere(l))
    }),
    ("an orphaned intent is adopted by the sweep", |l| {
        Box::pin(orphan_adopted(l))
    }),
    ("refused and unconfirmed starts", |l| Box::pin(abandoned(l))),
    ("leases are exclusive, expire and are released", |l| {
        Box::pin(leases(l))
    }),
    ("concurrent claims share the jobs out", |l| {
        Box::pin(concurrent_claims(l))
    }),
    ("a big report over several projects", |l| {
        Box::pin(big_report(l))
    }),
    ("history filters and pages", |l| Box::pin(history(l))),
    ("previous run and test history", |l| Box::pin(compare(l))),
    ("retention purge", |l| Box::pin(purge(l))),
    (
        "rules: stored, expired by date, deleted with history",
        |l| Box::pin(rules(l)),
    ),
    ("what a verdict reads", |l| Box::pin(verdict_facts(l))),
    (
        "tokens: by hash, unique live names, revoked, touched",
        |l| Box::pin(tokens(l)),
    ),
];

async fn run_all(open: impl AsyncFnMut() -> Ledger) {
    let mut open = open;
    for (name, scenario) in SCENARIOS {
        eprintln!("scenario: {name}");
        let ledger = open().await;
        scenario(ledger.clone()).await;
        ledger.close().await;
    }
}

#[tokio::test]
async fn sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    run_all(async || {
        n += 1;
        let url = format!("sqlite://{}/ledger-{n}.db", dir.path().display());
        let ledger = Ledger::open(&url).await.unwrap();
        assert_eq!(ledger.backend(), Backend::Sqlite);
        ledger
    })
    .await;
}

#[tokio::test]
async fn sqlite_memory() {
    run_all(async || Ledger::open("sqlite::memory:").await.unwrap()).await;
}

#[tokio::test]
async fn postgres() {
    let server = PgServer::start();
    run_all(async || {
        let ledger = Ledger::open(&server.fresh_database()).await.unwrap();
        assert_eq!(ledger.backend(), Backend::Postgres);
        ledger
    })
    .await;
}

#[tokio::test]
async fn reopening_keeps_the_rows_and_migrations_run_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/ledger.db", dir.path().display());
    let first = Ledger::open(&url).await.unwrap();
    let id = start(&first, "ann", None, "job-1", T0).await;
    first.close().await;
    let again = Ledger::open(&url).await.unwrap();
    let found = again.execution(PROJECT, "job-1").await.unwrap().unwrap();
    assert_eq!((found.id, found.user.as_str()), (id, "ann"));
}

#[tokio::test]
async fn other_urls_are_refused_without_quoting_them() {
    let err = Ledger::open("mysql://user:secret@db/x").await.unwrap_err();
    assert!(matches!(err, LedgerError::UnsupportedUrl(_)), "{err}");
    assert!(!err.to_string().contains("secret"), "{err}");
}

fn project() -> ProjectId {
    ProjectId::parse(PROJECT).unwrap()
}

fn intent(user: &str, preset: Option<&str>, selector: &str, at: i64) -> Intent {
    Intent {
        project: project(),
        user: user.to_owned(),
        selector_kind: "featureId".to_owned(),
        selector_value: selector.to_owned(),
        agent: None,
        preset: preset.map(str::to_owned),
        started_at: at,
    }
}

/// A confirmed start of feature `f1` by `user`.
async fn start(l: &Ledger, user: &str, preset: Option<&str>, job: &str, at: i64) -> ExecutionId {
    let id = l
        .record_intent(&intent(user, preset, "f1", at))
        .await
        .unwrap();
    assert_eq!(
        l.confirm_start(id, job).await.unwrap(),
        Confirmed::Recorded(id)
    );
    id
}

fn seen(job: &str, agent: Option<&str>) -> SeenJob {
    SeenJob {
        project: project(),
        job_id: job.to_owned(),
        status: "InProgress".to_owned(),
        agent: agent.map(str::to_owned),
        test_run_id: None,
    }
}

fn outcome(test: &str, status: &str) -> TestOutcome {
    TestOutcome {
        test_id: test.to_owned(),
        title: format!("Test {test}"),
        status: status.to_owned(),
        duration_ms: Some(1200),
    }
}

fn finish(counts: Counts, results: Vec<TestOutcome>, at: i64) -> Finish {
    Finish {
        status: "Success".to_owned(),
        test_run_id: Some("run-1".to_owned()),
        counts: Some(counts),
        duration_ms: Some(at - T0),
        results,
        finished_at: at,
    }
}

/// Claims, then finishes, `id` for `owner`.
async fn finish_now(l: &Ledger, id: ExecutionId, results: Vec<TestOutcome>, at: i64) {
    let held = l.claim(OWNER_A, &[PROJECT], at, 10_000, 100).await.unwrap();
    assert!(held.iter().any(|h| h.id == id), "{held:?}");
    let counts = Counts {
        passed: results.iter().filter(|r| r.status == "Passed").count() as i64,
        failed: results.iter().filter(|r| r.status == "Failed").count() as i64,
        skipped: 0,
        total: results.len() as i64,
    };
    assert!(
        l.finish(id, OWNER_A, &finish(counts, results, at))
            .await
            .unwrap()
    );
}

async fn start_follow_finish(l: Ledger) {
    let id = l
        .record_intent(&intent("ann@example.com", Some("Smoke"), "f1", T0))
        .await
        .unwrap();
    let page = l
        .history(
            PROJECT,
            &HistoryQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.executions.len(), 1);
    assert_eq!(
        (
            page.executions[0].status.as_str(),
            page.executions[0].job_id.as_deref()
        ),
        (STARTING, None)
    );
    assert!(
        l.claim(OWNER_A, &[PROJECT], T0, 10_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "an intent is not followed"
    );

    assert_eq!(
        l.confirm_start(id, "job-1").await.unwrap(),
        Confirmed::Recorded(id)
    );
    let held = l
        .claim(OWNER_A, &[PROJECT], T0 + 1, 10_000, 10)
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(
        (held[0].id, held[0].job_id.as_str(), held[0].status.as_str()),
        (id, "job-1", "Pending")
    );
    assert!(
        l.update_job(id, OWNER_A, "InProgress", Some("run-1"))
            .await
            .unwrap()
    );
    assert!(
        !l.update_job(id, OWNER_B, "Failed", None).await.unwrap(),
        "not B's lease"
    );
    let running = l.execution(PROJECT, "job-1").await.unwrap().unwrap();
    assert_eq!(
        (
            running.status.as_str(),
            running.test_run_id.as_deref(),
            running.finished
        ),
        ("InProgress", Some("run-1"), false)
    );

    let results = vec![
        outcome("t1", "Passed"),
        outcome("t2", "Failed"),
        outcome("t2", "Passed"),
    ];
    let counts = Counts {
        passed: 1,
        failed: 1,
        skipped: 0,
        total: 2,
    };
    let mut end = finish(counts, results, T0 + 5000);
    end.test_run_id = None;
    assert!(l.finish(id, OWNER_A, &end).await.unwrap());
    assert!(!l.finish(id, OWNER_A, &end).await.unwrap(), "finished once");
    assert!(
        l.claim(OWNER_A, &[PROJECT], T0 + 6000, 10_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "finished jobs are not followed"
    );

    let done = l.execution(PROJECT, "job-1").await.unwrap().unwrap();
    assert_eq!(done.user, "ann@example.com");
    assert_eq!(done.preset.as_deref(), Some("Smoke"));
    assert_eq!(done.origin, Origin::Runboard);
    assert_eq!((done.status.as_str(), done.finished), ("Success", true));
    assert_eq!(
        done.test_run_id.as_deref(),
        Some("run-1"),
        "a missing run id keeps the known one"
    );
    assert_eq!(done.counts, Some(counts));
    assert_eq!(
        (done.duration_ms, done.finished_at),
        (Some(5000), Some(T0 + 5000))
    );
    let stored = l.results(id).await.unwrap();
    assert_eq!(
        stored,
        vec![outcome("t1", "Passed"), outcome("t2", "Failed")],
        "first result of a repeated id"
    );
    assert!(
        l.lease_holder(PROJECT, "job-1").await.unwrap().is_none(),
        "the lease went with the end"
    );
}

async fn already_exists(l: Ledger) {
    let first = start(&l, "ann", None, "job-1", T0).await;
    let second = l
        .record_intent(&intent("bob", None, "f1", T0 + 1))
        .await
        .unwrap();
    assert_eq!(
        l.confirm_start(second, "job-1").await.unwrap(),
        Confirmed::AlreadyRecorded(first)
    );
    let page = l
        .history(
            PROJECT,
            &HistoryQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.executions.len(), 1, "{page:?}");
    assert_eq!(page.executions[0].user, "ann");
}

async fn elsewhere(l: Ledger) {
    let job = seen("ci-job", Some("agent-1"));
    let recorded = match l.saw_job(&job, T0, T0).await.unwrap() {
        runboard_ledger::Seen::Recorded(id) => id,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        l.saw_job(&job, T0 + 1, T0).await.unwrap(),
        runboard_ledger::Seen::Known
    );
    let row = l.execution(PROJECT, "ci-job").await.unwrap().unwrap();
    assert_eq!(
        (row.origin, row.user.as_str(), row.status.as_str()),
        (Origin::Elsewhere, "", "InProgress")
    );
    assert_eq!(row.agent.as_deref(), Some("agent-1"));
    // The sweep saw a Runboard start before its confirmation was written: one row, Runboard's.
    let late = l
        .record_intent(&intent("carol", Some("Nightly"), "f9", T0 - 50))
        .await
        .unwrap();
    assert_eq!(
        l.confirm_start(late, "ci-job").await.unwrap(),
        Confirmed::AlreadyRecorded(recorded)
    );
    let merged = l.execution(PROJECT, "ci-job").await.unwrap().unwrap();
    assert_eq!(
        (
            merged.origin,
            merged.user.as_str(),
            merged.preset.as_deref()
        ),
        (Origin::Runboard, "carol", Some("Nightly"))
    );
    assert_eq!(
        (merged.selector_value.as_str(), merged.started_at),
        ("f9", T0 - 50)
    );
    let all = l
        .history(
            PROJECT,
            &HistoryQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.executions.len(), 1);
}

async fn orphan_adopted(l: Ledger) {
    // A start whose process died after the upstream accepted it.
    let orphan = l
        .record_intent(&intent("dave", None, "f1", T0))
        .await
        .unwrap();
    // Too young to be an orphan: its start may still be in flight.
    let young = l.saw_job(&seen("job-x", None), T0 + 10, T0).await.unwrap();
    assert!(
        matches!(young, runboard_ledger::Seen::Recorded(_)),
        "{young:?}"
    );
    let adopted = l
        .saw_job(&seen("job-y", None), T0 + 60_000, T0 + 30_000)
        .await
        .unwrap();
    assert_eq!(adopted, runboard_ledger::Seen::Adopted(orphan));
    let row = l.execution(PROJECT, "job-y").await.unwrap().unwrap();
    assert_eq!((row.user.as_str(), row.origin), ("dave", Origin::Runboard));
    // Two orphans: nobody can say which is which, so the job is recorded as elsewhere.
    l.record_intent(&intent("erin", None, "f1", T0))
        .await
        .unwrap();
    l.record_intent(&intent("fred", None, "f1", T0))
        .await
        .unwrap();
    let ambiguous = l
        .saw_job(&seen("job-z", None), T0 + 60_000, T0 + 30_000)
        .await
        .unwrap();
    assert!(
        matches!(ambiguous, runboard_ledger::Seen::Recorded(_)),
        "{ambiguous:?}"
    );
}

async fn abandoned(l: Ledger) {
    let refused = l
        .record_intent(&intent("ann", None, "f1", T0))
        .await
        .unwrap();
    l.abandon_intent(refused, false).await.unwrap();
    let lost = l
        .record_intent(&intent("bob", None, "f1", T0 + 1))
        .await
        .unwrap();
    l.abandon_intent(lost, true).await.unwrap();
    let page = l
        .history(
            PROJECT,
            &HistoryQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.executions.len(), 1, "the refused start left no row");
    let row = &page.executions[0];
    assert_eq!(
        (row.user.as_str(), row.status.as_str(), row.finished),
        ("bob", UNCONFIRMED, true)
    );
    let adopted = l
        .saw_job(&seen("job-1", None), T0 + 60_000, T0 + 30_000)
        .await
        .unwrap();
    assert!(
        matches!(adopted, runboard_ledger::Seen::Recorded(_)),
        "an unconfirmed start is not adopted: {adopted:?}"
    );
}

async fn leases(l: Ledger) {
    let id = start(&l, "ann", None, "job-1", T0).await;
    assert_eq!(
        l.claim(OWNER_A, &[PROJECT], T0, 1000, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        l.claim(OWNER_B, &[PROJECT], T0 + 500, 1000, 10)
            .await
            .unwrap()
            .is_empty(),
        "A holds it"
    );
    assert_eq!(
        l.claim(OWNER_A, &[PROJECT], T0 + 900, 1000, 10)
            .await
            .unwrap()
            .len(),
        1,
        "A renews"
    );
    assert!(
        l.claim(OWNER_B, &[PROJECT], T0 + 1500, 1000, 10)
            .await
            .unwrap()
            .is_empty(),
        "renewed until 1900"
    );
    let elsewhere = l
        .claim(OWNER_B, &["p2"], T0 + 2000, 1000, 10)
        .await
        .unwrap();
    assert!(elsewhere.is_empty(), "only the claimer's projects");
    let taken = l
        .claim(OWNER_B, &[PROJECT], T0 + 2000, 1000, 10)
        .await
        .unwrap();
    assert_eq!(
        taken.iter().map(|h| h.id).collect::<Vec<_>>(),
        [id],
        "expired: B takes over"
    );
    assert_eq!(
        l.lease_holder(PROJECT, "job-1").await.unwrap().as_deref(),
        Some(OWNER_B)
    );
    assert!(
        !l.update_job(id, OWNER_A, "InProgress", None).await.unwrap(),
        "A lost it"
    );
    assert_eq!(l.release(OWNER_B).await.unwrap(), 1);
    assert_eq!(
        l.claim(OWNER_A, &[PROJECT], T0 + 2001, 1000, 10)
            .await
            .unwrap()
            .len(),
        1,
        "released: free at once"
    );
}

async fn concurrent_claims(l: Ledger) {
    for n in 0..40 {
        start(&l, "ann", None, &format!("job-{n}"), T0 + n).await;
    }
    let mut tasks = Vec::new();
    for owner in 0..8 {
        let l = l.clone();
        tasks.push(tokio::spawn(async move {
            l.claim(&format!("owner-{owner}"), &[PROJECT], T0, 60_000, 5)
                .await
                .unwrap()
        }));
    }
    let mut held = Vec::new();
    for task in tasks {
        held.extend(task.await.unwrap().into_iter().map(|h| h.job_id));
    }
    held.sort();
    let total = held.len();
    held.dedup();
    assert_eq!(held.len(), total, "a job was claimed twice");
    assert_eq!(total, 40, "8 owners × 5 cover the 40 jobs");
}

/// More tests than one multi-row insert holds, some without a duration, followed by an
/// instance that follows several projects.
async fn big_report(l: Ledger) {
    let id = start(&l, "ann", None, "job-1", T0).await;
    let projects = ["p0", PROJECT, "p2"];
    let held = l.claim(OWNER_A, &projects, T0, 10_000, 10).await.unwrap();
    assert_eq!(held.iter().map(|h| h.id).collect::<Vec<_>>(), [id]);
    assert!(
        l.claim(OWNER_A, &["p0", "p2"], T0, 10_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "only the listed projects"
    );
    let mut results: Vec<TestOutcome> = (0..1201)
        .map(|n| TestOutcome {
            duration_ms: (n % 2 == 0).then_some(n),
            ..outcome(&format!("t{n:04}"), "Passed")
        })
        .collect();
    // A repeated id in a later chunk keeps the first result.
    results.push(outcome("t0000", "Failed"));
    let counts = Counts {
        passed: 1201,
        failed: 0,
        skipped: 0,
        total: 1201,
    };
    assert!(
        l.finish(id, OWNER_A, &finish(counts, results.clone(), T0 + 1000))
            .await
            .unwrap()
    );
    results.pop();
    assert_eq!(l.results(id).await.unwrap(), results);
    let last = l.test_history(PROJECT, "t1200", 5).await.unwrap();
    assert_eq!(
        last.iter()
            .map(|r| (r.execution, r.duration_ms))
            .collect::<Vec<_>>(),
        [(id, Some(1200))]
    );
}

async fn history(l: Ledger) {
    for n in 0..25 {
        let user = if n % 2 == 0 { "ann" } else { "bob" };
        let preset = (n % 5 == 0).then_some("Smoke");
        let id = start(&l, user, preset, &format!("job-{n:02}"), T0 + n * 1000).await;
        if n % 3 == 0 {
            finish_now(&l, id, vec![outcome("t1", "Passed")], T0 + n * 1000 + 500).await;
        }
    }
    // Two executions in the same millisecond still page in a stable order.
    start(&l, "ann", None, "job-same", T0 + 24_000).await;
    let mut seen = Vec::new();
    let mut query = HistoryQuery {
        limit: 10,
        ..Default::default()
    };
    loop {
        let page = l.history(PROJECT, &query).await.unwrap();
        seen.extend(page.executions.iter().map(|e| (e.started_at, e.id)));
        match page.next {
            Some(next) => query.cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 26, "every execution once");
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first");

    let check = |query: HistoryQuery, expected: usize| {
        let l = l.clone();
        async move {
            let page = l
                .history(
                    PROJECT,
                    &HistoryQuery {
                        limit: 100,
                        ..query.clone()
                    },
                )
                .await
                .unwrap();
            assert_eq!(page.executions.len(), expected, "{query:?}");
            page
        }
    };
    let anns = check(
        HistoryQuery {
            user: Some("ann".into()),
            ..Default::default()
        },
        14,
    )
    .await;
    assert!(anns.executions.iter().all(|e| e.user == "ann"));
    check(
        HistoryQuery {
            preset: Some("Smoke".into()),
            ..Default::default()
        },
        5,
    )
    .await;
    check(
        HistoryQuery {
            status: Some("Success".into()),
            ..Default::default()
        },
        9,
    )
    .await;
    check(
        HistoryQuery {
            status: Some("Pending".into()),
            user: Some("bob".into()),
            ..Default::default()
        },
        8,
    )
    .await;
    check(
        HistoryQuery {
            from: Some(T0 + 20_000),
            ..Default::default()
        },
        6,
    )
    .await;
    check(
        HistoryQuery {
            to: Some(T0 + 5000),
            ..Default::default()
        },
        5,
    )
    .await;
    check(
        HistoryQuery {
            from: Some(T0 + 5000),
            to: Some(T0 + 10_000),
            user: Some("bob".into()),
            ..Default::default()
        },
        3,
    )
    .await;
    check(
        HistoryQuery {
            origin: Some(Origin::Elsewhere),
            ..Default::default()
        },
        0,
    )
    .await;
    let other = l
        .history(
            "p2",
            &HistoryQuery {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(other.executions.is_empty(), "no row crosses projects");
    let err = l
        .history(
            PROJECT,
            &HistoryQuery {
                cursor: Some("nope".into()),
                limit: 5,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, LedgerError::InvalidCursor), "{err}");
}

async fn compare(l: Ledger) {
    let first = start(&l, "ann", None, "job-1", T0).await;
    finish_now(
        &l,
        first,
        vec![outcome("t1", "Passed"), outcome("t2", "Passed")],
        T0 + 100,
    )
    .await;
    let other = l
        .record_intent(&intent("ann", None, "f2", T0 + 200))
        .await
        .unwrap();
    l.confirm_start(other, "job-other").await.unwrap();
    finish_now(&l, other, vec![outcome("t1", "Failed")], T0 + 300).await;
    let second = start(&l, "bob", None, "job-2", T0 + 1000).await;
    let running = l.execution(PROJECT, "job-2").await.unwrap().unwrap();
    assert_eq!(
        l.previous(&running).await.unwrap().map(|e| e.id),
        Some(first),
        "same selector, finished"
    );
    finish_now(
        &l,
        second,
        vec![outcome("t1", "Failed"), outcome("t2", "Passed")],
        T0 + 1100,
    )
    .await;
    let third = start(&l, "bob", None, "job-3", T0 + 2000).await;
    let latest = l.execution(PROJECT, "job-3").await.unwrap().unwrap();
    assert_eq!(
        l.previous(&latest).await.unwrap().map(|e| e.id),
        Some(second)
    );
    let firsts = l.execution(PROJECT, "job-1").await.unwrap().unwrap();
    assert!(l.previous(&firsts).await.unwrap().is_none());
    let _ = third;

    let t1 = l.test_history(PROJECT, "t1", 10).await.unwrap();
    let statuses: Vec<_> = t1
        .iter()
        .map(|r| (r.job_id.as_deref().unwrap_or(""), r.status.as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("job-2", "Failed"),
            ("job-other", "Failed"),
            ("job-1", "Passed")
        ]
    );
    assert_eq!(l.test_history(PROJECT, "t1", 1).await.unwrap().len(), 1);
    assert!(l.test_history("p2", "t1", 10).await.unwrap().is_empty());
}

async fn purge(l: Ledger) {
    let old = start(&l, "ann", None, "job-old", T0).await;
    finish_now(&l, old, vec![outcome("t1", "Passed")], T0 + 10).await;
    start(&l, "ann", None, "job-new", T0 + 86_400_000).await;
    assert_eq!(l.purge(T0 + 1000).await.unwrap(), 1);
    assert!(l.execution(PROJECT, "job-old").await.unwrap().is_none());
    assert!(l.results(old).await.unwrap().is_empty());
    assert!(l.test_history(PROJECT, "t1", 10).await.unwrap().is_empty());
    assert!(l.execution(PROJECT, "job-new").await.unwrap().is_some());
}

fn rule(body: serde_json::Value) -> NewRule {
    serde_json::from_value(body).unwrap()
}

fn day(text: &str) -> Day {
    Day::parse("until", text).unwrap()
}

async fn rules(l: Ledger) {
    let quarantine = rule(serde_json::json!({"kind": "quarantine", "testId": "t1",
        "until": "2026-05-01", "reason": "flaky login", "link": "https://jira.example.com/X-1"}));
    let known = rule(serde_json::json!({"kind": "known", "match": "Timeout", "note": "X-2"}));
    let q = l
        .create_rule(PROJECT, &quarantine, "ann", T0)
        .await
        .unwrap();
    let k = l.create_rule(PROJECT, &known, "bob", T0 + 1).await.unwrap();
    assert!(k.id > q.id);
    let listed = l.rules(PROJECT, Some(day("2026-04-20"))).await.unwrap();
    assert_eq!(listed, [k.clone(), q.clone()], "newest first, as created");
    assert_eq!(listed[1].spec, quarantine);
    assert_eq!(listed[1].events.len(), 1);
    assert_eq!(
        (listed[1].events[0].action, listed[1].events[0].by.as_str()),
        (RuleAction::Created, "ann")
    );
    let ids =
        |rules: Vec<runboard_ledger::RuleRecord>| rules.iter().map(|r| r.id).collect::<Vec<_>>();
    // Expiry is read against the day asked about: the last day still applies.
    assert_eq!(
        ids(l.rules(PROJECT, Some(day("2026-05-01"))).await.unwrap()),
        [k.id, q.id]
    );
    assert_eq!(
        ids(l.rules(PROJECT, Some(day("2026-05-02"))).await.unwrap()),
        [k.id]
    );
    assert_eq!(ids(l.rules(PROJECT, None).await.unwrap()), [k.id, q.id]);
    assert!(l.rules("p2", None).await.unwrap().is_empty());

    let stamp = l.rules_stamp(PROJECT).await.unwrap();
    assert_eq!(stamp, l.rules_stamp(PROJECT).await.unwrap());
    assert!(
        !l.delete_rule("p2", q.id, "eve", T0 + 5).await.unwrap(),
        "another project's"
    );
    assert_eq!(
        stamp,
        l.rules_stamp(PROJECT).await.unwrap(),
        "nothing written"
    );
    assert!(l.delete_rule(PROJECT, q.id, "carl", T0 + 10).await.unwrap());
    assert!(
        !l.delete_rule(PROJECT, q.id, "carl", T0 + 11).await.unwrap(),
        "once"
    );
    assert!(
        !l.delete_rule(PROJECT, 9_999, "carl", T0 + 11)
            .await
            .unwrap()
    );
    let after_delete = l.rules_stamp(PROJECT).await.unwrap();
    assert_ne!(stamp, after_delete);
    assert_eq!(ids(l.rules(PROJECT, None).await.unwrap()), [k.id]);
    assert_eq!(l.rule(PROJECT, q.id).await.unwrap(), None, "deleted");

    // An edit rewrites what may change, in one transaction with its event, and changes
    // the stamp; a deleted, unknown or other project's rule is not touched.
    let unblocked = rule(serde_json::json!({"kind": "known", "match": "Timeout",
        "note": "X-3", "link": "https://t.example/3", "blocks": false}));
    for (project, id) in [(PROJECT, q.id), (PROJECT, 9_999), ("p2", k.id)] {
        assert_eq!(
            l.edit_rule(project, id, &unblocked, "eve", T0 + 12)
                .await
                .unwrap(),
            None
        );
    }
    assert_eq!(
        l.rules_stamp(PROJECT).await.unwrap(),
        after_delete,
        "nothing written"
    );
    let edited = l
        .edit_rule(PROJECT, k.id, &unblocked, "fay", T0 + 13)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((edited.id, &edited.spec), (k.id, &unblocked));
    assert_eq!(edited.created_by, "bob", "who created it stays");
    let history: Vec<_> = edited
        .events
        .iter()
        .map(|e| (e.action, e.by.as_str(), e.at))
        .collect();
    assert_eq!(
        history,
        [
            (RuleAction::Created, "bob", T0 + 1),
            (RuleAction::Edited, "fay", T0 + 13)
        ]
    );
    assert_eq!(l.rule(PROJECT, k.id).await.unwrap(), Some(edited));
    let after_edit = l.rules_stamp(PROJECT).await.unwrap();
    assert_ne!(after_edit, after_delete);

    // Every shape of rule reads back as it was written.
    for body in [
        serde_json::json!({"kind": "quarantine", "testSuiteId": "s1", "until": "2026-05-01", "reason": "r"}),
        serde_json::json!({"kind": "quarantine", "featureId": "f1", "until": "2026-05-01", "reason": "r"}),
        serde_json::json!({"kind": "known", "testId": "t2", "match": "a.*b", "regex": true,
            "note": "", "link": "http://t.example", "blocks": false}),
    ] {
        let spec = rule(body);
        let stored = l.create_rule(PROJECT, &spec, "dee", T0 + 20).await.unwrap();
        let found = l.rules(PROJECT, None).await.unwrap();
        assert_eq!(found[0], stored);
        assert_eq!(found[0].spec, spec);
    }
    assert_ne!(after_edit, l.rules_stamp(PROJECT).await.unwrap());
}

/// Claims and finishes `id` as run `run` with `results`.
async fn finish_run(l: &Ledger, id: ExecutionId, run: &str, results: Vec<TestOutcome>, at: i64) {
    l.claim(OWNER_A, &[PROJECT], at, 10_000, 100).await.unwrap();
    let end = Finish {
        test_run_id: Some(run.to_owned()),
        ..finish(Counts::default(), results, at)
    };
    assert!(l.finish(id, OWNER_A, &end).await.unwrap());
}

async fn verdict_facts(l: Ledger) {
    let first = start(&l, "ann", None, "job-1", T0).await;
    finish_run(
        &l,
        first,
        "run-a",
        vec![outcome("t1", "Passed"), outcome("t2", "Failed")],
        T0 + 10,
    )
    .await;
    let second = start(&l, "ann", None, "job-2", T0 + 100).await;
    finish_run(
        &l,
        second,
        "run-b",
        vec![outcome("t1", "Failed"), outcome("t3", "Passed")],
        T0 + 110,
    )
    .await;
    let found = l.execution_of_run(PROJECT, "run-b").await.unwrap().unwrap();
    assert_eq!(found.id, second);
    assert_eq!(l.previous(&found).await.unwrap().map(|e| e.id), Some(first));
    assert!(
        l.execution_of_run(PROJECT, "run-z")
            .await
            .unwrap()
            .is_none()
    );
    assert!(l.execution_of_run("p2", "run-b").await.unwrap().is_none());

    let recent = |exclude, per_test| {
        let l = l.clone();
        async move {
            l.recent_results(PROJECT, &["t1", "t2", "t9"], exclude, per_test)
                .await
                .unwrap()
                .into_iter()
                .map(|r| (r.test_id, r.status))
                .collect::<Vec<_>>()
        }
    };
    let pair = |t: &str, s: &str| (t.to_owned(), s.to_owned());
    assert_eq!(
        recent(None, 10).await,
        [
            pair("t1", "Failed"),
            pair("t1", "Passed"),
            pair("t2", "Failed")
        ],
        "newest first within a test"
    );
    assert_eq!(
        recent(Some(second), 10).await,
        [pair("t1", "Passed"), pair("t2", "Failed")],
        "the judged run left out"
    );
    assert_eq!(
        recent(None, 1).await,
        [pair("t1", "Failed"), pair("t2", "Failed")]
    );
    let said: Vec<_> = l
        .results_of(PROJECT, first, &["t9", "t2", "t1"])
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.test_id, r.status))
        .collect();
    assert_eq!(
        said,
        [pair("t1", "Passed"), pair("t2", "Failed")],
        "only those asked"
    );
    let failed: Vec<_> = l
        .failures_of(PROJECT, &[second, first, ExecutionId(9_999)])
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.execution_id, f.test_id))
        .collect();
    assert_eq!(
        failed,
        [(first, "t2".to_owned()), (second, "t1".to_owned())],
        "each run's failures, by run"
    );
    assert!(l.failures_of("p2", &[first]).await.unwrap().is_empty());

    let many: Vec<String> = (0..1200).map(|i| format!("x{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).chain(["t2"]).collect();
    let found = l.recent_results(PROJECT, &many, None, 10).await.unwrap();
    assert_eq!(found.len(), 1, "ids are queried in chunks");

    // The members of a selector are the tests of its latest finished run.
    let mut members = l
        .members(PROJECT, &[("featureId", "f1"), ("testSuiteId", "s9")])
        .await
        .unwrap();
    members.sort_by(|a, b| a.test_id.cmp(&b.test_id));
    let member = |t: &str| Member {
        kind: "featureId".into(),
        value: "f1".into(),
        test_id: t.into(),
    };
    assert_eq!(members, [member("t1"), member("t3")]);
    assert!(
        l.members("p2", &[("featureId", "f1")])
            .await
            .unwrap()
            .is_empty()
    );

    // Many runs: each test's last results only, newest first, however many are kept.
    let mut ids = Vec::new();
    for i in 0..14 {
        let id = start(&l, "ann", None, &format!("job-m{i}"), T0 + 1_000 + i * 10).await;
        let status = if i % 3 == 0 { "Passed" } else { "Failed" };
        let results = vec![outcome("m1", status), outcome("m2", "Passed")];
        finish_run(&l, id, &format!("run-m{i}"), results, T0 + 1_005 + i * 10).await;
        ids.push(id);
    }
    let last = *ids.last().unwrap();
    let found = l
        .recent_results(PROJECT, &["m2", "m1"], Some(last), 9)
        .await
        .unwrap();
    let of = |t: &str| -> Vec<String> {
        found
            .iter()
            .filter(|r| r.test_id == t)
            .map(|r| r.status.clone())
            .collect()
    };
    let expected: Vec<String> = (4..13)
        .rev()
        .map(|i| if i % 3 == 0 { "Passed" } else { "Failed" }.to_owned())
        .collect();
    assert_eq!(
        of("m1"),
        expected,
        "the 9 before the judged run, newest first"
    );
    assert_eq!(of("m2"), vec!["Passed".to_owned(); 9]);
    assert_eq!(found[0].test_id, "m1", "tests in id order");
}

async fn tokens(l: Ledger) {
    use runboard_ledger::{Created, NewToken, TOUCH_EVERY_MS, Unusable};
    let presets = vec!["Nightly".to_owned()];
    let new = |name: &'static str, hash: &'static str| NewToken {
        project: PROJECT,
        name,
        hash,
        may_start: true,
        presets: Some(&presets),
        created_by: "cli",
        created_at: T0,
        expires_at: Some(T0 + 1_000),
    };
    let Created::Token(ci) = l.create_token(&new("ci", "h1")).await.unwrap() else {
        panic!("not created");
    };
    assert_eq!(
        l.create_token(&new("ci", "h2")).await.unwrap(),
        Created::NameTaken
    );
    let read = l.token_by_hash("h1").await.unwrap().unwrap();
    assert_eq!(read, ci);
    assert_eq!(read.presets.as_deref(), Some(&presets[..]));
    assert_eq!(read.usable_at(T0), Ok(()));
    assert_eq!(read.usable_at(T0 + 1_000), Err(Unusable::Expired));
    assert_eq!(l.token_by_hash("h2").await.unwrap(), None);

    // Last use is written at most once a minute.
    l.touch_token(ci.id, T0 + 10).await.unwrap();
    l.touch_token(ci.id, T0 + 20).await.unwrap();
    let used = l.token_by_hash("h1").await.unwrap().unwrap().last_used_at;
    assert_eq!(used, Some(T0 + 10));
    l.touch_token(ci.id, T0 + 10 + TOUCH_EVERY_MS)
        .await
        .unwrap();
    let used = l.token_by_hash("h1").await.unwrap().unwrap().last_used_at;
    assert_eq!(used, Some(T0 + 10 + TOUCH_EVERY_MS));

    assert!(!l.revoke_token(Some("p2"), "ci", "admin", T0).await.unwrap());
    assert_eq!(l.tokens(None).await.unwrap().len(), 1);
    assert!(
        l.revoke_token(Some(PROJECT), "ci", "admin", T0)
            .await
            .unwrap()
    );
    assert!(!l.revoke_token(None, "ci", "admin", T0).await.unwrap());
    let revoked = l.token_by_hash("h1").await.unwrap().unwrap();
    assert_eq!(revoked.usable_at(T0), Err(Unusable::Revoked));
    assert!(l.tokens(Some(PROJECT)).await.unwrap().is_empty());
    // A revoked token's name is free again.
    assert!(matches!(
        l.create_token(&new("ci", "h3")).await.unwrap(),
        Created::Token(_)
    ));
    assert_eq!(l.tokens(Some(PROJECT)).await.unwrap().len(), 1);
}
