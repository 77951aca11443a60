//! `GET /runboard/verdict/{projId}/{runId}`: the run's failures classed and what blocks,
//! decided by `shared`'s one implementation ([`Verdict::of_run`]) from facts gathered
//! here: the report (through the shared reads, checked as the report route checks it),
//! the rules, the previous finished run of the same selection, each failed test's last
//! results, and which tests belong to the suites and features that rules and owners name.
//! When the ledger has no record of the run (started elsewhere and not yet seen), nothing
//! is known of its past: every failure no rule covers is `failing`. The answer's
//! `Server-Timing` header says where the time went (durations only), which the verdict
//! bench reads.

use std::{
    collections::{HashMap, HashSet},
    time::Instant,
};

use axum::{
    extract::State,
    http::{HeaderName, HeaderValue, header},
    response::{IntoResponse, Response},
};
use runboard_ledger::{Execution, Member};
use runboard_shared::{
    Day, FLIP_WINDOW, FailureFacts, KnownMatch, NewRule, RuleRef, RunId, Scope, TestResult,
    TestRun, TestStatus, Verdict, count_flips, error_text,
};

use super::{Compiled, today};
use crate::{
    AppError, AppState,
    auth::Identity,
    config::{Owner, ProjectConfig},
    extract::RunPath,
    ledger::ledger_error,
    reads,
};

/// The selector fields whose tests the ledger can tell (`members`).
const GROUP_FIELDS: [&str; 2] = ["testSuiteId", "featureId"];

/// The handler: identity, project and run id checked as for the report.
pub(crate) async fn verdict(
    State(state): State<AppState>,
    _identity: Identity,
    RunPath(proj, run): RunPath,
) -> Result<Response, AppError> {
    let project = state.project(&proj)?;
    let mut timing = Timing::start();
    let answer = reads::test_run(&state, project, &run).await?;
    let report: TestRun =
        serde_json::from_slice(answer.bytes()).map_err(|_| AppError::UpstreamInvalid)?;
    timing.mark("report");
    let verdict = timed(
        &state,
        project,
        &run,
        &report,
        answer.is_finished(),
        &mut timing,
    )
    .await?;
    let body = serde_json::to_vec(&verdict).map_err(|_| AppError::UpstreamInvalid)?;
    timing.mark("json");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (SERVER_TIMING, timing.header()),
        ],
        body,
    )
        .into_response())
}

/// The verdict of `report` (run `run` of `project`); `finished` says it is final.
pub(crate) async fn compute(
    state: &AppState,
    project: &ProjectConfig,
    run: &RunId,
    report: &TestRun,
    finished: bool,
) -> Result<Verdict, AppError> {
    timed(state, project, run, report, finished, &mut Timing::start()).await
}

async fn timed(
    state: &AppState,
    project: &ProjectConfig,
    run: &RunId,
    report: &TestRun,
    finished: bool,
    timing: &mut Timing,
) -> Result<Verdict, AppError> {
    let facts = Facts::gather(state, project, run, report, timing).await?;
    let verdict = Verdict::of_run(
        report,
        finished,
        |test| facts.of(test),
        |test| facts.owners_of(&test.id),
    );
    timing.mark("classify");
    Ok(verdict)
}

const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");

/// Where a verdict's time went, step by step: the `Server-Timing` header (names and
/// milliseconds only), `total` last.
struct Timing {
    started: Instant,
    last: Instant,
    marks: Vec<(&'static str, f64)>,
}

impl Timing {
    fn start() -> Self {
        let now = Instant::now();
        Self {
            started: now,
            last: now,
            marks: Vec::new(),
        }
    }

    /// Ends step `name`, begun at the previous mark.
    fn mark(&mut self, name: &'static str) {
        let now = Instant::now();
        let ms = now.duration_since(self.last).as_secs_f64() * 1000.0;
        self.marks.push((name, ms));
        self.last = now;
    }

    fn header(&self) -> HeaderValue {
        let total = self.last.duration_since(self.started).as_secs_f64() * 1000.0;
        let text = self
            .marks
            .iter()
            .chain([&("total", total)])
            .map(|(name, ms)| format!("{name};dur={ms:.2}"))
            .collect::<Vec<_>>()
            .join(", ");
        HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("total"))
    }
}

/// Everything known about a run's failures, gathered once per verdict.
struct Facts<'a> {
    rules: std::sync::Arc<Compiled>,
    owners: &'a [Owner],
    /// Tests that passed in the previous finished run of the same selection.
    passed_before: HashSet<String>,
    /// Each failed test's earlier results, newest first (this run left out).
    recent: HashMap<String, Vec<TestStatus>>,
    groups: Groups,
    /// Test-scoped quarantines that apply today, by test (the oldest rule per test).
    quarantined_tests: HashMap<String, usize>,
    /// Suite- and feature-scoped quarantines that apply today, oldest first.
    quarantined_groups: Vec<usize>,
}

impl<'a> Facts<'a> {
    async fn gather(
        state: &AppState,
        project: &'a ProjectConfig,
        run: &RunId,
        report: &TestRun,
        timing: &mut Timing,
    ) -> Result<Self, AppError> {
        let ledger = state.ledger().ledger();
        let id = project.id.as_str();
        let rules = state.triage().rules(ledger, &project.id).await?;
        timing.mark("rules");
        let execution = ledger
            .execution_of_run(id, run.as_str())
            .await
            .map_err(ledger_error)?;
        let failed: Vec<&str> = report
            .tests
            .iter()
            .filter(|t| t.status == TestStatus::Failed)
            .map(|t| t.id.as_str())
            .collect();
        let (passed_before, recent) = match &execution {
            Some(execution) if !failed.is_empty() => past(state, id, execution, &failed).await?,
            _ => (HashSet::new(), HashMap::new()),
        };
        timing.mark("history");
        let today = today();
        let (quarantined_tests, quarantined_groups) = quarantines(&rules, today);
        let wanted = group_selectors(&rules, &quarantined_groups, &project.owners);
        let members = if wanted.is_empty() {
            Vec::new()
        } else {
            let wanted: Vec<(&str, &str)> = wanted
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            ledger.members(id, &wanted).await.map_err(ledger_error)?
        };
        timing.mark("members");
        Ok(Self {
            rules,
            owners: &project.owners,
            passed_before,
            recent,
            groups: Groups::new(execution.as_ref(), members),
            quarantined_tests,
            quarantined_groups,
        })
    }

    /// What [`Verdict::of_run`] needs to class one failure.
    fn of(&self, test: &TestResult) -> FailureFacts {
        let quarantine = self.quarantine_of(&test.id);
        let known = match quarantine {
            // A quarantine wins anyway (`classify`): no need to match the headline.
            Some(_) => None,
            None => {
                let headline = test
                    .error
                    .as_ref()
                    .map(|e| error_text(e).0)
                    .unwrap_or_default();
                self.rules
                    .known_match(&test.id, &headline)
                    .map(|rule| KnownMatch {
                        rule: RuleRef::new(rule.id.to_string(), &rule.spec, &rule.created_by),
                        blocks: rule.spec.blocks(),
                    })
            }
        };
        let earlier = self.recent.get(&test.id).map(Vec::as_slice).unwrap_or(&[]);
        FailureFacts {
            quarantine: quarantine.map(|r| RuleRef::new(r.id.to_string(), &r.spec, &r.created_by)),
            known,
            passed_before: self.passed_before.contains(&test.id),
            flips: count_flips(std::iter::once(&TestStatus::Failed).chain(earlier)),
        }
    }

    /// The oldest quarantine covering `test` today.
    fn quarantine_of(&self, test: &str) -> Option<&runboard_ledger::RuleRecord> {
        let by_test = self.quarantined_tests.get(test).copied();
        let by_group =
            self.quarantined_groups
                .iter()
                .copied()
                .find(|&i| match &self.rules.rules[i].spec {
                    NewRule::Quarantine(q) => match &q.scope {
                        Scope::Suite(s) => self.groups.holds("testSuiteId", s, test),
                        Scope::Feature(f) => self.groups.holds("featureId", f, test),
                        Scope::Test(_) => false,
                    },
                    NewRule::Known(_) => false,
                });
        let first = by_test.into_iter().chain(by_group).min()?;
        Some(&self.rules.rules[first])
    }

    /// The teams owning `test`, in configuration order.
    fn owners_of(&self, test: &str) -> Vec<String> {
        self.owners
            .iter()
            .filter(|o| {
                o.tests.iter().any(|t| t.as_str() == test)
                    || o.suites
                        .iter()
                        .any(|s| self.groups.holds("testSuiteId", s, test))
                    || o.features
                        .iter()
                        .any(|f| self.groups.holds("featureId", f, test))
            })
            .map(|o| o.team.clone())
            .collect()
    }
}

/// The previous run's passes and the failed tests' earlier results.
async fn past(
    state: &AppState,
    project: &str,
    execution: &Execution,
    failed: &[&str],
) -> Result<(HashSet<String>, HashMap<String, Vec<TestStatus>>), AppError> {
    let ledger = state.ledger().ledger();
    let passed_before = match ledger.previous(execution).await.map_err(ledger_error)? {
        Some(previous) => ledger
            .results_of(previous.id, failed)
            .await
            .map_err(ledger_error)?
            .into_iter()
            .filter(|r| r.status == TestStatus::Passed.as_str())
            .map(|r| r.test_id)
            .collect(),
        None => HashSet::new(),
    };
    let mut recent: HashMap<String, Vec<TestStatus>> = HashMap::new();
    let results = ledger
        .recent_results(project, failed, Some(execution.id), FLIP_WINDOW - 1)
        .await
        .map_err(ledger_error)?;
    for result in results {
        recent
            .entry(result.test_id)
            .or_default()
            .push(TestStatus::parse(&result.status));
    }
    Ok((passed_before, recent))
}

/// The quarantines that apply `today`: test-scoped ones by test (oldest per test), and
/// the indices of suite- and feature-scoped ones.
fn quarantines(rules: &Compiled, today: Day) -> (HashMap<String, usize>, Vec<usize>) {
    let mut by_test = HashMap::new();
    let mut groups = Vec::new();
    for (index, rule) in rules.quarantines(today) {
        let NewRule::Quarantine(q) = &rule.spec else {
            continue;
        };
        match &q.scope {
            Scope::Test(test) => {
                by_test.entry(test.to_string()).or_insert(index);
            }
            Scope::Suite(_) | Scope::Feature(_) => groups.push(index),
        }
    }
    (by_test, groups)
}

/// The suites and features whose tests the verdict must know: those of the group
/// quarantines and of the owners.
fn group_selectors(
    rules: &Compiled,
    quarantined: &[usize],
    owners: &[Owner],
) -> Vec<(String, String)> {
    let mut wanted: Vec<(String, String)> = Vec::new();
    let mut add = |kind: &str, id: &str| {
        let pair = (kind.to_owned(), id.to_owned());
        if !wanted.contains(&pair) {
            wanted.push(pair);
        }
    };
    for &i in quarantined {
        if let NewRule::Quarantine(q) = &rules.rules[i].spec {
            add(q.scope.field(), q.scope.id());
        }
    }
    for owner in owners {
        owner.suites.iter().for_each(|s| add("testSuiteId", s));
        owner.features.iter().for_each(|f| add("featureId", f));
    }
    wanted
}

/// Which tests belong to which suites and features, as far as the ledger has seen: the
/// latest finished run of each, and this run's own selector (all its tests).
struct Groups {
    own: Option<(String, String)>,
    members: HashMap<(String, String), HashSet<String>>,
}

impl Groups {
    fn new(execution: Option<&Execution>, members: Vec<Member>) -> Self {
        let own = execution
            .filter(|e| GROUP_FIELDS.contains(&e.selector_kind.as_str()))
            .map(|e| (e.selector_kind.clone(), e.selector_value.clone()));
        let mut grouped: HashMap<(String, String), HashSet<String>> = HashMap::new();
        for m in members {
            grouped
                .entry((m.kind, m.value))
                .or_default()
                .insert(m.test_id);
        }
        Self {
            own,
            members: grouped,
        }
    }

    /// Whether `test` belongs to the suite or feature `kind` `id`.
    fn holds(&self, kind: &str, id: &str, test: &str) -> bool {
        let own = self.own.as_ref().is_some_and(|(k, v)| k == kind && v == id);
        own || self
            .members
            .get(&(kind.to_owned(), id.to_owned()))
            .is_some_and(|tests| tests.contains(test))
    }
}
