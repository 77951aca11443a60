//! Triage end to end (issue 21), over real sockets against the simulator (its clock moved
//! by hand, so each run ends when the test says): runs of one selection followed into the
//! ledger, a failing test quarantined, another matched by a known issue, and every
//! class of `GET /runboard/verdict/…` checked against the simulator's own reports; the
//! exports carry the class; a rule whose `until` has passed (written straight into the
//! ledger) stops applying with no restart; every bad input is refused with a 400 naming
//! the field and nothing stored; a viewer gets 403; each attempt to change a rule
//! writes one audit line; rules survive a restart (SQLite file) and two Runboards on one
//! PostgreSQL database share them.

use std::{collections::HashMap, sync::Arc, time::Duration};

use reqwest::{Method, header::CONTENT_TYPE};
use runboard_ledger::Ledger;
use runboard_proxy::{
    Config, Server,
    config::{AuthMode, LedgerConfig},
};
use runboard_shared::{
    Day, ExecutionDetail, ExportFormat, FailureClass, HistoryPage, HistoryQuery, JobId, NewRule,
    RuleId, RuleState, RulesPage, RulesQuery, RunId, Target, TestRun, TestStatus, Verdict,
    VerdictStatus, error_text,
};
use runboard_sim::{ManualClock, RunningSim, SimConfig, SimProject};
use serde_json::{Value, json};

use crate::common::{self, KEY, PROJECT, code, execute_path, project_id, read, wait_for};

const WAIT: Duration = Duration::from_secs(30);
/// Who may change rules (`auth.triage_users`).
const LEAD: &str = "lead@example.com";
/// Who may start runs (`run_everyone`) but not change rules.
const VIEWER: &str = "viewer@example.com";
/// Runs of the selection at most, until the last one holds every class.
const MAX_RUNS: usize = 16;
/// The classes a failure has from its history alone.
const HISTORY_CLASSES: [FailureClass; 3] = [
    FailureClass::New,
    FailureClass::Flaky,
    FailureClass::Failing,
];

/// A simulator on a hand-moved clock and the ledger the Runboards in front of it share.
struct Stack {
    sim: RunningSim,
    clock: Arc<ManualClock>,
    ledger: common::ScratchLedger,
    client: reqwest::Client,
}

impl Stack {
    async fn new(postgres: bool) -> Self {
        let config = SimConfig {
            speed: 50.0,
            tests_per_project: 240,
            projects: vec![SimProject::new(PROJECT, KEY)],
            ..SimConfig::default()
        };
        let (sim, clock) = common::manual_sim(config).await;
        Self {
            sim,
            clock,
            ledger: common::ScratchLedger::new(postgres),
            client: reqwest::Client::new(),
        }
    }

    /// A Runboard on the shared ledger, following jobs, in header mode: everyone signed in
    /// may start runs, only [`LEAD`] may change rules.
    async fn runboard(&self) -> Server {
        Server::start(self.config()).await.unwrap()
    }

    fn config(&self) -> Config {
        let mut config = common::config_for(&self.sim.url(), KEY);
        let mut ledger = LedgerConfig::at(&self.ledger.url);
        ledger.follow = Some(Duration::from_millis(20));
        ledger.lease = Duration::from_millis(600);
        config.ledger = ledger;
        config.poll.jobs_ms = 50;
        config.cache.live_reuse = Duration::ZERO;
        config.limits.starts_per_minute = 0;
        config.limits.reads_per_minute = 0;
        config.auth.mode = AuthMode::Header;
        config.auth.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        config.auth.run_everyone = true;
        config.auth.triage_users = Some(vec![LEAD.to_owned()]);
        config.triage.max_quarantine_days = 30;
        config
    }

    /// The feature that runs every test of the project.
    fn everything(&self) -> String {
        let catalog = self.sim.sim.catalog(PROJECT).unwrap();
        catalog.all_feature().unwrap().id.clone()
    }

    /// Runs the whole project once through `server` and waits until the ledger has its
    /// end; the run's report as the simulator answers it.
    async fn run_once(&self, server: &Server) -> TestRun {
        let body = json!({"action": "executeTests", "featureId": self.everything()});
        let response = self
            .client
            .post(format!("{}{}", server.url(), execute_path()))
            .header("X-Forwarded-Email", VIEWER)
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, answer) = read(response).await;
        assert_eq!(status, 200, "{answer}");
        let job = JobId::parse(answer["jobId"].as_str().unwrap()).unwrap();
        self.clock.advance(Duration::from_secs(86_400));
        let target = Target::HistoryJob(project_id(), job);
        let run = wait_for(WAIT, || async {
            let (status, body) = self.get(server, VIEWER, &target).await;
            let detail: ExecutionDetail = serde_json::from_value(body).ok()?;
            (status == 200 && detail.execution.finished)
                .then_some(detail.execution.test_run_id)
                .flatten()
        })
        .await;
        self.report(&run).await
    }

    /// Run `run`'s report straight from the simulator.
    async fn report(&self, run: &str) -> TestRun {
        let response = self
            .client
            .get(format!("{}{}", self.sim.url(), common::run_path(run)))
            .header("x-api-key", KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// A request for `target` on `server`, not sent yet; as `user` when given (the
    /// header the SSO proxy sets), else with no identity at all.
    fn request(
        &self,
        server: &Server,
        method: Method,
        target: &Target,
        user: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let request = self
            .client
            .request(method, format!("{}{}", server.url(), target.path()));
        match user {
            Some(user) => request.header("X-Forwarded-Email", user),
            None => request,
        }
    }

    async fn get(&self, server: &Server, user: &str, target: &Target) -> (u16, Value) {
        let request = self.request(server, Method::GET, target, Some(user));
        read(request.send().await.unwrap()).await
    }

    async fn verdict(&self, server: &Server, run: &str) -> Verdict {
        let target = Target::Verdict(project_id(), RunId::parse(run).unwrap());
        let (status, body) = self.get(server, VIEWER, &target).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).unwrap()
    }

    async fn rules(&self, server: &Server, include_expired: bool) -> RulesPage {
        let target = Target::Rules(project_id(), RulesQuery { include_expired });
        let (status, body) = self.get(server, VIEWER, &target).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).unwrap()
    }

    async fn create(&self, server: &Server, user: &str, rule: &Value) -> (u16, Value) {
        let target = Target::RuleCreate(project_id());
        let request = self.request(server, Method::POST, &target, Some(user));
        read(request.json(rule).send().await.unwrap()).await
    }

    async fn edit(&self, server: &Server, user: &str, rule: &str, body: &Value) -> (u16, Value) {
        let target = Target::RuleEdit(project_id(), RuleId::parse(rule).unwrap());
        let request = self.request(server, Method::PATCH, &target, Some(user));
        read(request.json(body).send().await.unwrap()).await
    }

    async fn delete(&self, server: &Server, user: &str, rule: &str) -> u16 {
        let target = Target::RuleDelete(project_id(), RuleId::parse(rule).unwrap());
        let request = self.request(server, Method::DELETE, &target, Some(user));
        let response = request.header(CONTENT_TYPE, "application/json").send();
        response.await.unwrap().status().as_u16()
    }

    /// Every rule the ledger holds that is not deleted, expired ones too.
    async fn stored(&self) -> usize {
        let ledger = Ledger::open(&self.ledger.url).await.unwrap();
        let count = ledger.rules(PROJECT, None).await.unwrap().len();
        ledger.close().await;
        count
    }
}

/// Today (UTC) plus `days`, as `YYYY-MM-DD`.
fn day(days: i64) -> String {
    Day::from_epoch_ms(runboard_ledger::now_ms())
        .plus_days(days)
        .to_string()
}

/// The runs of the selection, oldest first, as the simulator reported them.
struct History {
    reports: Vec<TestRun>,
}

impl History {
    /// Each test's status in each run, newest run first.
    fn statuses(&self, test: &str) -> Vec<TestStatus> {
        self.reports
            .iter()
            .rev()
            .map(|r| {
                r.tests
                    .iter()
                    .find(|t| t.id == test)
                    .map_or(TestStatus::Other(String::new()), |t| t.status.clone())
            })
            .collect()
    }

    fn last(&self) -> &TestRun {
        self.reports.last().unwrap()
    }

    /// The class the last run's failure of `test` has from its history alone (no rule):
    /// `new` when it passed in the run before, `flaky` with 2 or more flips between
    /// passed and failed in its last 10 results, `failing` otherwise.
    fn class_without_rules(&self, test: &str) -> FailureClass {
        let statuses = self.statuses(test);
        if statuses.get(1) == Some(&TestStatus::Passed) {
            return FailureClass::New;
        }
        let decided: Vec<&TestStatus> = statuses
            .iter()
            .take(10)
            .filter(|s| matches!(s, TestStatus::Passed | TestStatus::Failed))
            .collect();
        let flips = decided.windows(2).filter(|w| w[0] != w[1]).count();
        if flips >= 2 {
            FailureClass::Flaky
        } else {
            FailureClass::Failing
        }
    }

    /// The last run's failures by the class history alone gives them.
    fn failures_by_class(&self) -> HashMap<FailureClass, Vec<String>> {
        let mut by_class: HashMap<FailureClass, Vec<String>> = HashMap::new();
        for test in self
            .last()
            .tests
            .iter()
            .filter(|t| t.status == TestStatus::Failed)
        {
            by_class
                .entry(self.class_without_rules(&test.id))
                .or_default()
                .push(test.id.clone());
        }
        by_class
    }

    /// Whether the last run has a failure of each class history gives, and two more to
    /// quarantine and to mark as a known issue.
    fn has_every_class(&self) -> bool {
        let by_class = self.failures_by_class();
        let counts = HISTORY_CLASSES.map(|c| by_class.get(&c).map_or(0, Vec::len));
        counts.iter().all(|n| *n >= 1) && counts.iter().sum::<usize>() >= 5
    }

    /// Two failures of the last run to triage, taken from the classes with the most
    /// failures, so that each class history gives keeps one: the one to quarantine and
    /// the one to mark as a known issue.
    fn targets(&self) -> (String, String) {
        let mut by_class = self.failures_by_class();
        let mut take = || {
            let class = HISTORY_CLASSES
                .into_iter()
                .max_by_key(|c| by_class.get(c).map_or(0, Vec::len))
                .unwrap();
            by_class.get_mut(&class).unwrap().pop().unwrap()
        };
        (take(), take())
    }
}

/// Runs the whole project through `server` until the last run holds a failure of every
/// class (at most [`MAX_RUNS`] runs; the simulator is seeded, so this is the same each
/// time).
async fn history(stack: &Stack, server: &Server) -> History {
    let mut history = History {
        reports: Vec::new(),
    };
    while history.reports.len() < MAX_RUNS {
        history.reports.push(stack.run_once(server).await);
        if history.reports.len() >= 2 && history.has_every_class() {
            return history;
        }
    }
    panic!("no run of {MAX_RUNS} had a failure of every class");
}

/// The rules the scenario writes: a quarantine of one failure and a known issue (not
/// blocking) on another's error headline, limited to that test. Their ids and the two
/// tests.
struct Triaged {
    quarantined: String,
    known: String,
    quarantine_id: String,
    known_id: String,
}

async fn triage(stack: &Stack, server: &Server, history: &History) -> Triaged {
    let (quarantined, known) = history.targets();
    let (status, body) = stack
        .create(
            server,
            LEAD,
            &json!({"kind": "quarantine", "testId": quarantined, "until": day(7),
                "reason": "flaky since the new login page", "link": "https://jira.example.com/Q-1"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let quarantine_id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(body["kind"], "quarantine");
    assert_eq!(body["by"], LEAD);
    assert_eq!(body["state"], "active");
    let error = history
        .last()
        .tests
        .iter()
        .find(|t| t.id == known)
        .and_then(|t| t.error.as_ref())
        .unwrap();
    let headline = error_text(error).0;
    let (status, body) = stack
        .create(
            server,
            LEAD,
            &json!({"kind": "known", "match": headline, "regex": false, "testId": known,
                "link": "https://jira.example.com/K-2", "note": "K-2", "blocks": false}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let known_id = body["id"].as_str().unwrap().to_owned();
    Triaged {
        quarantined,
        known,
        quarantine_id,
        known_id,
    }
}

/// The verdict of the last run agrees with the simulator's reports, class by class.
fn check_verdict(verdict: &Verdict, history: &History, triaged: &Triaged) {
    let report = history.last();
    let failed: Vec<&str> = report
        .tests
        .iter()
        .filter(|t| t.status == TestStatus::Failed)
        .map(|t| t.id.as_str())
        .collect();
    let listed: Vec<&str> = verdict
        .failures
        .iter()
        .map(|f| f.test_id.as_str())
        .collect();
    assert_eq!(listed, failed, "every failure, in the report's order");
    assert_eq!(verdict.counts.total, report.tests.len() as u64);
    assert_eq!(verdict.counts.failed, failed.len() as u64);
    let passed = report
        .tests
        .iter()
        .filter(|t| t.status == TestStatus::Passed);
    assert_eq!(verdict.counts.passed, passed.count() as u64);
    for failure in &verdict.failures {
        let (class, blocks) = if failure.test_id == triaged.quarantined {
            (FailureClass::Quarantined, false)
        } else if failure.test_id == triaged.known {
            (FailureClass::Known, false)
        } else {
            (history.class_without_rules(&failure.test_id), true)
        };
        assert_eq!(
            (&failure.class, failure.blocks),
            (&class, blocks),
            "{}: {:?}",
            failure.test_id,
            history.statuses(&failure.test_id)
        );
        let rule = failure.rule.as_ref().map(|r| r.id.as_str());
        let expected_rule = match class {
            FailureClass::Quarantined => Some(triaged.quarantine_id.as_str()),
            FailureClass::Known => Some(triaged.known_id.as_str()),
            _ => None,
        };
        assert_eq!(rule, expected_rule, "{}", failure.test_id);
    }
    let every: Vec<&FailureClass> = verdict.failures.iter().map(|f| &f.class).collect();
    for class in FailureClass::KNOWN {
        assert!(every.contains(&class), "no {class} failure: {every:?}");
    }
    let blocking = verdict.failures.iter().filter(|f| f.blocks).count() as u64;
    assert_eq!(verdict.blocking, blocking);
    assert_eq!(verdict.blocking, failed.len() as u64 - 2);
    assert_eq!(verdict.status, VerdictStatus::Failed);
    assert_eq!(
        verdict.headline().to_string(),
        format!(
            "✕ {blocking} blocking · {} of {} failed",
            failed.len(),
            report.tests.len()
        )
    );
}

#[tokio::test]
async fn every_class_of_a_verdict_matches_the_simulators_reports() {
    let stack = Stack::new(false).await;
    let server = stack.runboard().await;
    let history = history(&stack, &server).await;
    let first = stack.verdict(&server, &history.reports[0].run_id).await;
    assert!(
        first
            .failures
            .iter()
            .all(|f| f.class != FailureClass::New && f.rule.is_none()),
        "nothing ran before the first run: {first:?}"
    );
    let last = &history.last().run_id;
    let before = stack.verdict(&server, last).await;
    let triaged = triage(&stack, &server, &history).await;
    let after = stack.verdict(&server, last).await;
    check_verdict(&after, &history, &triaged);
    assert_eq!(
        after.blocking,
        before.blocking - 2,
        "one rule each, neither blocks"
    );

    // The exports carry the same classes.
    let run = RunId::parse(last.as_str()).unwrap();
    let csv_target = Target::Export(project_id(), run.clone(), ExportFormat::Csv);
    let response = stack
        .client
        .get(format!("{}{}", server.url(), csv_target.path()))
        .header("X-Forwarded-Email", VIEWER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csv = response.text().await.unwrap();
    let mut rows = csv.split("\r\n").filter(|l| !l.is_empty());
    assert!(rows.next().unwrap().ends_with(",class"));
    for failure in &after.failures {
        let row = csv
            .split("\r\n")
            .find(|l| l.starts_with(&format!("{},", failure.test_id)))
            .unwrap();
        assert!(row.ends_with(&format!(",{}", failure.class)), "{row}");
    }
    let junit_target = Target::Export(project_id(), run, ExportFormat::Junit);
    let response = stack
        .client
        .get(format!("{}{}", server.url(), junit_target.path()))
        .header("X-Forwarded-Email", VIEWER)
        .send()
        .await
        .unwrap();
    let xml = response.text().await.unwrap();
    let case = xml
        .split("<testcase ")
        .find(|c| c.contains(&format!("classname=\"{}\"", triaged.quarantined)))
        .unwrap();
    assert!(
        case.contains("<skipped message=\"quarantined: flaky since the new login page\"/>"),
        "{case}"
    );
    assert!(!case.contains("<failure"), "{case}");
    let failures = xml.matches("<failure ").count();
    assert_eq!(failures, after.counts.failed as usize - 1);
    server.shutdown().await;
}

/// Each run's blocking count as the history page answers it, by run id.
async fn history_blocking(stack: &Stack, server: &Server) -> HashMap<String, Option<u64>> {
    let target = Target::History(project_id(), HistoryQuery::default());
    let (status, body) = stack.get(server, VIEWER, &target).await;
    assert_eq!(status, 200, "{body}");
    let page: HistoryPage = serde_json::from_value(body).unwrap();
    page.executions
        .into_iter()
        .filter_map(|e| Some((e.test_run_id?, e.blocking)))
        .collect()
}

#[tokio::test]
async fn the_history_counts_what_blocks_by_todays_rules() {
    let stack = Stack::new(false).await;
    let server = stack.runboard().await;
    let history = history(&stack, &server).await;
    let last = history.last().run_id.clone();
    let untriaged = history_blocking(&stack, &server).await;
    assert_eq!(untriaged.len(), history.reports.len());
    for report in &history.reports {
        let verdict = stack.verdict(&server, &report.run_id).await;
        assert_eq!(
            untriaged[&report.run_id],
            Some(verdict.blocking),
            "the history agrees with the verdict of {}",
            report.run_id
        );
    }
    let before = untriaged[&last].unwrap();
    assert!(before >= 2, "{before}");

    // A quarantine and a known issue that does not block: each lowers the count by one,
    // in the history as in the verdict (the known issue is matched on the report's
    // headline).
    let triaged = triage(&stack, &server, &history).await;
    let triaged_page = history_blocking(&stack, &server).await;
    assert_eq!(triaged_page[&last], Some(before - 2));
    assert_eq!(
        triaged_page[&last],
        Some(stack.verdict(&server, &last).await.blocking)
    );
    // Once the known issue blocks again (an edit, which every reader sees at once), only
    // the quarantine lowers it.
    let (status, _) = stack
        .edit(&server, LEAD, &triaged.known_id, &json!({"blocks": true}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        history_blocking(&stack, &server).await[&last],
        Some(before - 1)
    );
    assert_eq!(stack.verdict(&server, &last).await.blocking, before - 1);
    server.shutdown().await;
}

#[tokio::test]
async fn a_quarantine_past_its_day_stops_applying_without_a_restart() {
    let stack = Stack::new(false).await;
    let server = stack.runboard().await;
    let history = history(&stack, &server).await;
    let last = history.last().run_id.clone();
    let target = history.failures_by_class()[&FailureClass::Failing][0].clone();
    let before = stack.verdict(&server, &last).await;
    assert_eq!(
        before.failure(&target).unwrap().class,
        FailureClass::Failing
    );

    // Written straight into the ledger, as a rule made days ago would be now.
    let ledger = Ledger::open(&stack.ledger.url).await.unwrap();
    let rule = |until: String| -> NewRule {
        serde_json::from_value(json!({"kind": "quarantine", "testId": target,
            "until": until, "reason": "old"}))
        .unwrap()
    };
    let past = ledger
        .create_rule(PROJECT, &rule(day(-1)), LEAD, runboard_ledger::now_ms())
        .await
        .unwrap();
    let verdict = stack.verdict(&server, &last).await;
    assert_eq!(
        verdict.failure(&target).unwrap().class,
        FailureClass::Failing
    );
    assert_eq!(verdict.blocking, before.blocking);
    assert!(stack.rules(&server, false).await.rules.is_empty());
    let all = stack.rules(&server, true).await.rules;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id.as_str(), past.id.to_string());
    assert_eq!(all[0].state, RuleState::Expired);
    let actions: Vec<_> = all[0].history.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            runboard_shared::RuleAction::Created,
            runboard_shared::RuleAction::Expired
        ]
    );

    // One whose last day is today applies until the day is over.
    ledger
        .create_rule(PROJECT, &rule(day(0)), LEAD, runboard_ledger::now_ms())
        .await
        .unwrap();
    ledger.close().await;
    let verdict = stack.verdict(&server, &last).await;
    assert_eq!(
        verdict.failure(&target).unwrap().class,
        FailureClass::Quarantined
    );
    assert_eq!(verdict.blocking, before.blocking - 1);
    server.shutdown().await;
}

/// A change answered `answer` was refused with a 400 naming `field`.
fn refused((status, answer): (u16, Value), body: &Value, field: &str) {
    assert_eq!(status, 400, "{body}: {answer}");
    assert_eq!(code(&answer), "invalid_body");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("{field}: ")),
        "{body}: {message}"
    );
}

#[tokio::test]
async fn bad_rules_are_refused_naming_the_field_and_nothing_is_stored() {
    let stack = Stack::new(false).await;
    let server = stack.runboard().await;
    let q = |extra: Value| {
        let mut body = json!({"kind": "quarantine", "testId": "t1", "until": day(3),
            "reason": "r"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases = [
        (json!({"kind": "mute", "testId": "t1"}), "kind"),
        (q(json!({"until": day(-1)})), "until"),
        (q(json!({"until": day(31)})), "until"),
        (q(json!({"until": "2026-02-30"})), "until"),
        (q(json!({"testId": "t 1"})), "testId"),
        (q(json!({"link": "javascript:alert(1)"})), "link"),
        (q(json!({"colour": "red"})), "colour"),
        (
            json!({"kind": "known", "match": "(unclosed", "regex": true}),
            "match",
        ),
        (
            json!({"kind": "known", "match": r"\w{1000}\w{1000}\w{1000}", "regex": true}),
            "match",
        ),
        (json!({"kind": "known", "match": "x".repeat(201)}), "match"),
        (
            json!({"kind": "known", "match": "x", "testId": "../t"}),
            "testId",
        ),
        (
            json!({"kind": "known", "match": "x", "link": "ftp://x.example"}),
            "link",
        ),
    ];
    for (body, field) in cases {
        refused(stack.create(&server, LEAD, &body).await, &body, field);
    }
    assert_eq!(stack.stored().await, 0, "nothing stored");
    let (status, _) = stack
        .create(&server, LEAD, &q(json!({"until": day(30)})))
        .await;
    assert_eq!(status, 201, "the last allowed day");
    assert_eq!(stack.stored().await, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn a_triager_edits_a_rule_and_bad_edits_change_nothing() {
    let stack = Stack::new(false).await;
    let server = stack.runboard().await;
    let body = json!({"kind": "quarantine", "testId": "t1", "until": day(3), "reason": "r"});
    let (status, created) = stack.create(&server, LEAD, &body).await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap().to_owned();
    let known = json!({"kind": "known", "match": "Timed out", "note": "slow"});
    let known_id = stack.create(&server, LEAD, &known).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = stack.rules(&server, true).await;

    let cases = [
        (&id, json!({"kind": "known"}), "kind"),
        (&id, json!({"testId": "t2"}), "testId"),
        (&id, json!({"featureId": "f1"}), "featureId"),
        (&known_id, json!({"match": "other"}), "match"),
        (&id, json!({"colour": "red"}), "colour"),
        (&id, json!({}), "body"),
        (&id, json!({"until": day(-1)}), "until"),
        (&id, json!({"until": day(31)}), "until"),
        (&id, json!({"until": "2026-02-30"}), "until"),
        (&id, json!({"reason": " "}), "reason"),
        (&id, json!({"link": "javascript:alert(1)"}), "link"),
        (&id, json!({"note": "n"}), "note"),
        (&known_id, json!({"until": day(3)}), "until"),
    ];
    for (rule, body, field) in &cases {
        refused(stack.edit(&server, LEAD, rule, body).await, body, field);
    }
    // A viewer is refused before the body is read; an unknown rule is a 404.
    let extend = json!({"until": day(10), "reason": "still flaky",
        "link": "https://jira.example.com/Q-9"});
    for body in [&extend, &json!({"kind": "mute"})] {
        let (status, answer) = stack.edit(&server, VIEWER, &id, body).await;
        assert_eq!((status, code(&answer)), (403, "forbidden"), "{answer}");
    }
    for unknown in ["999999", "nope"] {
        let (status, answer) = stack.edit(&server, LEAD, unknown, &extend).await;
        assert_eq!((status, code(&answer)), (404, "not_found"), "{answer}");
    }
    // Checked as starts are: JSON and same origin.
    let target = Target::RuleEdit(project_id(), RuleId::parse(&id).unwrap());
    let patch = || {
        stack
            .client
            .patch(format!("{}{}", server.url(), target.path()))
            .header("X-Forwarded-Email", LEAD)
    };
    let response = patch().body(extend.to_string()).send().await.unwrap();
    assert_eq!(response.status(), 403, "not JSON: a form could send it");
    let response = patch()
        .header("Origin", "https://evil.example")
        .json(&extend)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "another origin");
    assert_eq!(stack.rules(&server, true).await, before, "nothing changed");

    let (status, edited) = stack.edit(&server, LEAD, &id, &extend).await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        (
            &edited["id"],
            &edited["until"],
            &edited["reason"],
            &edited["testId"]
        ),
        (
            &json!(id),
            &json!(day(10)),
            &json!("still flaky"),
            &json!("t1")
        )
    );
    assert_eq!(edited["link"], "https://jira.example.com/Q-9");
    let history: Vec<(&str, &str)> = edited["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["by"].as_str().unwrap()))
        .collect();
    assert_eq!(history, [("created", LEAD), ("edited", LEAD)]);
    let listed = stack.rules(&server, false).await.rules;
    let listed = listed.iter().find(|r| r.id.as_str() == id).unwrap();
    assert_eq!(serde_json::to_value(listed).unwrap(), edited, "as listed");
    let (status, unblocked) = stack
        .edit(
            &server,
            LEAD,
            &known_id,
            &json!({"blocks": false, "link": ""}),
        )
        .await;
    assert_eq!((status, &unblocked["blocks"]), (200, &json!(false)));
    // Deleted, it can no more be edited.
    assert_eq!(stack.delete(&server, LEAD, &id).await, 204);
    assert_eq!(stack.edit(&server, LEAD, &id, &extend).await.0, 404);
    server.shutdown().await;
}

#[tokio::test]
async fn a_viewer_may_read_rules_but_not_change_them() {
    let stack = Stack::new(false).await;
    let server = stack.runboard().await;
    // The bootstrap tells the widget whether to show the triage menus.
    for (user, may) in [(VIEWER, false), (LEAD, true)] {
        let (status, bootstrap) = stack.get(&server, user, &Target::Bootstrap).await;
        assert_eq!(status, 200);
        assert_eq!(bootstrap["projects"][0]["mayTriage"], may, "{user}");
        assert_eq!(bootstrap["projects"][0]["canRun"], true, "{user}");
    }
    let body = json!({"kind": "known", "match": "Timed out", "note": "slow staging"});
    let (status, answer) = stack.create(&server, VIEWER, &body).await;
    assert_eq!((status, code(&answer)), (403, "forbidden"), "{answer}");
    // A viewer's bad body is still a 403: the permission is checked first.
    let (status, _) = stack
        .create(&server, VIEWER, &json!({"kind": "mute"}))
        .await;
    assert_eq!(status, 403);
    assert_eq!(stack.stored().await, 0);
    let (status, created) = stack.create(&server, LEAD, &body).await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap();
    assert_eq!(stack.delete(&server, VIEWER, id).await, 403);
    assert_eq!(
        stack.rules(&server, false).await.rules.len(),
        1,
        "a viewer reads"
    );

    // Changes are checked as starts are: JSON and same origin.
    let delete = Target::RuleDelete(project_id(), RuleId::parse(id).unwrap());
    let create = Target::RuleCreate(project_id());
    let refusals = [
        (
            stack.request(&server, Method::DELETE, &delete, Some(LEAD)),
            403,
            "not JSON: a form could send it",
        ),
        (
            stack
                .request(&server, Method::POST, &create, Some(LEAD))
                .header("Origin", "https://evil.example")
                .json(&body),
            403,
            "another origin",
        ),
        (
            stack
                .request(&server, Method::POST, &create, None)
                .json(&body),
            401,
            "no identity",
        ),
    ];
    for (request, status, why) in refusals {
        assert_eq!(request.send().await.unwrap().status(), status, "{why}");
    }
    assert_eq!(stack.stored().await, 1);

    assert_eq!(stack.delete(&server, LEAD, id).await, 204);
    assert_eq!(stack.delete(&server, LEAD, id).await, 404, "deleted once");
    assert_eq!(stack.delete(&server, LEAD, "nope").await, 404);
    assert!(stack.rules(&server, true).await.rules.is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn rules_survive_a_restart() {
    let stack = Stack::new(false).await;
    let first = stack.runboard().await;
    let history = history(&stack, &first).await;
    let triaged = triage(&stack, &first, &history).await;
    let last = history.last().run_id.clone();
    let before = stack.verdict(&first, &last).await;
    let rules = stack.rules(&first, false).await;
    first.shutdown().await;

    let second = stack.runboard().await;
    assert_eq!(stack.rules(&second, false).await, rules);
    let after = stack.verdict(&second, &last).await;
    assert_eq!(after, before);
    check_verdict(&after, &history, &triaged);
    second.shutdown().await;
}

#[tokio::test]
async fn two_runboards_on_one_postgres_share_the_rules() {
    let stack = Stack::new(true).await;
    let a = stack.runboard().await;
    let b = stack.runboard().await;
    let history = history(&stack, &a).await;
    let last = history.last().run_id.clone();
    // B compiles the rules it has (none) before A changes them.
    let untouched = stack.verdict(&b, &last).await;
    assert!(untouched.failures.iter().all(|f| f.rule.is_none()));
    let triaged = triage(&stack, &a, &history).await;
    assert_eq!(stack.rules(&b, false).await.rules.len(), 2);
    check_verdict(&stack.verdict(&b, &last).await, &history, &triaged);

    assert_eq!(stack.delete(&b, LEAD, &triaged.quarantine_id).await, 204);
    let left = stack.rules(&a, false).await.rules;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id.as_str(), triaged.known_id);
    let verdict = stack.verdict(&a, &last).await;
    assert_eq!(
        verdict.failure(&triaged.quarantined).unwrap().class,
        history.class_without_rules(&triaged.quarantined),
        "unquarantined on the other replica"
    );
    a.shutdown().await;
    b.shutdown().await;
}

/// The `runboard::audit` lines about rules written so far.
fn rule_lines(logs: &crate::common::log_capture::Buffer) -> Vec<Value> {
    logs.text()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["target"] == "runboard::audit" && line["fields"]["message"] == "rule")
        .map(|line| line["fields"].clone())
        .collect()
}

#[tokio::test]
async fn each_attempt_to_change_a_rule_writes_one_audit_line() {
    let name = "triage::each_attempt_to_change_a_rule_writes_one_audit_line";
    if !crate::common::alone::in_own_process(name).await {
        return;
    }
    let logs = crate::common::log_capture::Buffer::capture_json();
    let stack = Stack::new(false).await;
    let server = stack.runboard().await;
    let rule = json!({"kind": "quarantine", "featureId": "f1", "until": day(2), "reason": "r"});
    let (status, created) = stack.create(&server, LEAD, &rule).await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap();
    assert_eq!(stack.create(&server, VIEWER, &rule).await.0, 403);
    assert_eq!(
        stack
            .create(&server, LEAD, &json!({"kind": "mute"}))
            .await
            .0,
        400
    );
    let (status, _) = stack
        .edit(&server, LEAD, id, &json!({"until": day(5)}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(stack.delete(&server, LEAD, id).await, 204);
    let lines = rule_lines(&logs);
    let seen: Vec<(&str, &str, &str, &str)> = lines
        .iter()
        .map(|l| {
            let text = |k: &str| l[k].as_str().unwrap_or("<missing>");
            (
                text("user"),
                text("action"),
                text("outcome"),
                text("rule_id"),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (LEAD, "create", "created", id),
            (VIEWER, "create", "refused", ""),
            (LEAD, "create", "refused", ""),
            (LEAD, "edit", "edited", id),
            (LEAD, "delete", "deleted", id),
        ]
    );
    assert_eq!(lines[0]["scope"], "featureId f1");
    assert_eq!(lines[0]["until"], day(2));
    assert_eq!(lines[0]["kind"], "quarantine");
    assert_eq!(lines[0]["project"], PROJECT);
    assert_eq!(lines[3]["until"], day(5));
    assert!(
        lines[2]["reason"].as_str().unwrap().starts_with("kind: "),
        "{}",
        lines[2]
    );
    for line in &lines {
        let time = line["time"].as_str().unwrap_or_default();
        assert!(chrono::DateTime::parse_from_rfc3339(time).is_ok(), "{line}");
    }
    server.shutdown().await;
}
