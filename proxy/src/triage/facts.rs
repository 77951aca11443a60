//! What a verdict knows about each failure of a run, gathered in a few ledger queries and
//! decided in the order `shared`'s `classify` reads it, so nothing is read that cannot
//! change the class: quarantines first (a test's own, then its suites' and features'),
//! then known issues (the compiled matcher), then the previous run of the selection (only
//! for failures no rule covers), then the last results (only for those that did not pass
//! last time: flips tell `flaky` from `failing`, nothing else). When the ledger has no
//! record of the run, nothing is known of its past: every failure no rule covers is
//! `failing`.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use runboard_ledger::{Execution, Member, RuleRecord};
use runboard_shared::{
    FLIP_WINDOW, FailureFacts, KnownMatch, NewRule, RuleRef, RunId, Scope, TestResult, TestRun,
    TestStatus, count_flips, error_text,
};

use super::{Compiled, today, verdict::Timing};
use crate::{
    AppError, AppState,
    config::{Owner, ProjectConfig},
    ledger::ledger_error,
};

/// The selector fields whose tests the ledger can tell (`members`).
const GROUP_FIELDS: [&str; 2] = ["testSuiteId", "featureId"];

/// The longest a final verdict waits for the follower to record what the platform has
/// finished: a round is a few milliseconds unless the platform is slow.
const CATCH_UP: Duration = Duration::from_secs(2);

/// The ledger's record of `run`. A final report whose run the ledger has not recorded as
/// finished (the follower reads the platform every `follow_ms`) asks the follower for a
/// round first: otherwise the verdict would not know the run's selection, or the end of
/// the run before it, and would miss new failures, and a final verdict would change
/// after the fact (`crates/gate/tests/it/new_failures.rs`).
async fn execution(
    state: &AppState,
    project: &str,
    run: &RunId,
    finished: bool,
) -> Result<Option<Execution>, AppError> {
    let recorder = state.ledger();
    let read = async || {
        recorder
            .ledger()
            .execution_of_run(project, run.as_str())
            .await
            .map_err(ledger_error)
    };
    let execution = read().await?;
    if !finished || execution.as_ref().is_some_and(|e| e.finished) {
        return Ok(execution);
    }
    recorder.catch_up(CATCH_UP).await;
    read().await
}

/// Every failure's facts, and what owners need.
pub(super) struct Facts<'a> {
    owners: &'a [Owner],
    groups: Groups,
    failures: HashMap<String, FailureFacts>,
}

impl<'a> Facts<'a> {
    /// Reads what the failures of `report` (run `run` of `project`) need; `finished`
    /// says the report is final.
    pub(super) async fn gather(
        state: &AppState,
        project: &'a ProjectConfig,
        run: &RunId,
        report: &TestRun,
        finished: bool,
        timing: &mut Timing,
    ) -> Result<Self, AppError> {
        let ledger = state.ledger().ledger();
        let id = project.id.as_str();
        let rules = state.triage().rules(ledger, &project.id).await?;
        let execution = execution(state, id, run, finished).await?;
        timing.mark("rules");
        let quarantines = Quarantines::new(&rules);
        let wanted = group_selectors(&quarantines.groups, &project.owners);
        let members = if wanted.is_empty() {
            Vec::new()
        } else {
            let wanted: Vec<(&str, &str)> = wanted
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            ledger.members(id, &wanted).await.map_err(ledger_error)?
        };
        let groups = Groups::new(execution.as_ref(), members);
        timing.mark("members");
        let mut failures: HashMap<String, FailureFacts> = report
            .tests
            .iter()
            .filter(|t| t.status == TestStatus::Failed)
            .map(|t| {
                let headline = || {
                    Some(
                        t.error
                            .as_ref()
                            .map(|e| error_text(e).0)
                            .unwrap_or_default(),
                    )
                };
                let facts = ruled(&rules, &quarantines, &groups, &t.id, headline);
                (t.id.clone(), facts)
            })
            .collect();
        timing.mark("match");
        if let Some(execution) = &execution {
            past(state, id, execution, &mut failures, timing).await?;
        }
        Ok(Self {
            owners: &project.owners,
            groups,
            failures,
        })
    }

    /// What [`Verdict::of_run`](runboard_shared::Verdict::of_run) needs to class one
    /// failure.
    pub(super) fn of(&self, test: &TestResult) -> FailureFacts {
        self.failures.get(&test.id).cloned().unwrap_or_default()
    }

    /// The teams owning `test`, in configuration order.
    pub(super) fn owners_of(&self, test: &str) -> Vec<String> {
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

/// What the rules say of the failures of many runs of one project (the history's
/// blocking line): the rules, the quarantines that apply today and the suites' and
/// features' members, read once for a whole page; then each run's own selector is set
/// ([`Rulings::for_run`]) before its failures are asked about.
pub(super) struct Rulings {
    rules: Arc<Compiled>,
    quarantines: Quarantines,
    groups: Groups,
}

impl Rulings {
    /// Reads `project`'s rules and, when a quarantine covers a suite or feature, the
    /// members of those (owners do not change what blocks, so theirs are not read).
    pub(super) async fn read(state: &AppState, project: &ProjectConfig) -> Result<Self, AppError> {
        let ledger = state.ledger().ledger();
        let rules = state.triage().rules(ledger, &project.id).await?;
        let quarantines = Quarantines::new(&rules);
        let wanted = group_selectors(&quarantines.groups, &[]);
        let members = if wanted.is_empty() {
            Vec::new()
        } else {
            let wanted: Vec<(&str, &str)> = wanted
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            ledger
                .members(project.id.as_str(), &wanted)
                .await
                .map_err(ledger_error)?
        };
        Ok(Self {
            groups: Groups::new(None, members),
            rules,
            quarantines,
        })
    }

    /// Whether a failure's headline can change whether it blocks: only a known issue
    /// with `blocks = false` can (a quarantine needs no headline, and a known issue that
    /// blocks leaves the failure blocking).
    pub(super) fn headlines_matter(&self) -> bool {
        self.rules
            .known
            .iter()
            .any(|&i| !self.rules.rules[i].spec.blocks())
    }

    /// Judges the failures of `execution` next: its own selector covers its tests.
    pub(super) fn for_run(&mut self, execution: &Execution) {
        self.groups.own = Groups::own_of(Some(execution));
    }

    /// Whether a quarantine covers `test_id` (in the run set by [`Rulings::for_run`]).
    pub(super) fn quarantined(&self, test_id: &str) -> bool {
        self.quarantines.covering(&self.groups, test_id).is_some()
    }

    /// The rules' facts of a failure of `test_id` whose headline is `headline` (`None`:
    /// not known, matches no known issue).
    pub(super) fn facts(&self, test_id: &str, headline: Option<String>) -> FailureFacts {
        ruled(
            &self.rules,
            &self.quarantines,
            &self.groups,
            test_id,
            || headline,
        )
    }
}

/// The rules' part of a failure's facts: its quarantine, else its known issue, matched
/// against the headline `headline` gives (asked only when no quarantine covers the test;
/// `None` when the headline is not known, which then matches no known issue).
fn ruled(
    rules: &Compiled,
    quarantines: &Quarantines,
    groups: &Groups,
    test_id: &str,
    headline: impl FnOnce() -> Option<String>,
) -> FailureFacts {
    let reference = |r: &RuleRecord| RuleRef::new(r.id.to_string(), &r.spec, &r.created_by);
    if let Some(index) = quarantines.covering(groups, test_id) {
        return FailureFacts {
            quarantine: Some(reference(&rules.rules[index])),
            ..FailureFacts::default()
        };
    }
    let known = headline()
        .and_then(|headline| rules.known_match(test_id, &headline))
        .map(|rule| KnownMatch {
            rule: reference(rule),
            blocks: rule.spec.blocks(),
        });
    FailureFacts {
        known,
        ..FailureFacts::default()
    }
}

/// The history's part, for the failures no rule covers: whether each passed in the
/// previous finished run of the selection, and for those that did not, the flips in
/// their last results (this run's failure first).
async fn past(
    state: &AppState,
    project: &str,
    execution: &Execution,
    failures: &mut HashMap<String, FailureFacts>,
    timing: &mut Timing,
) -> Result<(), AppError> {
    let ledger = state.ledger().ledger();
    let unruled = |failures: &HashMap<String, FailureFacts>| -> Vec<String> {
        failures
            .iter()
            .filter(|(_, f)| f.quarantine.is_none() && f.known.is_none() && !f.passed_before)
            .map(|(id, _)| id.clone())
            .collect()
    };
    let ids = unruled(failures);
    if ids.is_empty() {
        return Ok(());
    }
    let previous = ledger.previous(execution).await.map_err(ledger_error)?;
    timing.mark("previous");
    if let Some(previous) = previous {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let said = ledger
            .results_of(project, previous.id, &ids)
            .await
            .map_err(ledger_error)?;
        for result in said.into_iter().filter(|r| r.status == "Passed") {
            if let Some(facts) = failures.get_mut(&result.test_id) {
                facts.passed_before = true;
            }
        }
    }
    timing.mark("passed");
    let ids = unruled(failures);
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let mut earlier: HashMap<String, Vec<TestStatus>> = HashMap::new();
    let results = ledger
        .recent_results(project, &ids, Some(execution.id), FLIP_WINDOW - 1)
        .await
        .map_err(ledger_error)?;
    for result in results {
        earlier
            .entry(result.test_id)
            .or_default()
            .push(TestStatus::parse(&result.status));
    }
    for (id, statuses) in earlier {
        if let Some(facts) = failures.get_mut(&id) {
            facts.flips = count_flips(std::iter::once(&TestStatus::Failed).chain(&statuses));
        }
    }
    timing.mark("flips");
    Ok(())
}

/// The quarantines that apply today, ready to look up by test.
struct Quarantines {
    /// Test-scoped ones by test: the oldest rule's index per test.
    tests: HashMap<String, usize>,
    /// Suite- and feature-scoped ones, oldest first: index, field, id.
    groups: Vec<(usize, &'static str, String)>,
}

impl Quarantines {
    fn new(rules: &Compiled) -> Self {
        let mut tests = HashMap::new();
        let mut groups = Vec::new();
        for (index, rule) in rules.quarantines(today()) {
            let NewRule::Quarantine(q) = &rule.spec else {
                continue;
            };
            match &q.scope {
                Scope::Test(test) => {
                    tests.entry(test.to_string()).or_insert(index);
                }
                Scope::Suite(_) | Scope::Feature(_) => {
                    groups.push((index, q.scope.field(), q.scope.id().to_string()));
                }
            }
        }
        Self { tests, groups }
    }

    /// The index of the oldest quarantine covering `test`.
    fn covering(&self, groups: &Groups, test: &str) -> Option<usize> {
        let own = self.tests.get(test).copied();
        let grouped = self
            .groups
            .iter()
            .find(|(_, field, id)| groups.holds(field, id, test))
            .map(|(index, ..)| *index);
        own.into_iter().chain(grouped).min()
    }
}

/// The suites and features whose tests the verdict must know: those of the group
/// quarantines and of the owners.
fn group_selectors(
    quarantined: &[(usize, &'static str, String)],
    owners: &[Owner],
) -> Vec<(String, String)> {
    let mut wanted: Vec<(String, String)> = Vec::new();
    let mut add = |kind: &str, id: &str| {
        let pair = (kind.to_owned(), id.to_owned());
        if !wanted.contains(&pair) {
            wanted.push(pair);
        }
    };
    for (_, field, id) in quarantined {
        add(field, id);
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
    /// By field, then id: the tests.
    members: HashMap<String, HashMap<String, HashSet<String>>>,
}

impl Groups {
    fn new(execution: Option<&Execution>, members: Vec<Member>) -> Self {
        let own = Self::own_of(execution);
        let mut grouped: HashMap<String, HashMap<String, HashSet<String>>> = HashMap::new();
        for m in members {
            grouped
                .entry(m.kind)
                .or_default()
                .entry(m.value)
                .or_default()
                .insert(m.test_id);
        }
        Self {
            own,
            members: grouped,
        }
    }

    /// The suite or feature `execution` ran, if it ran one.
    fn own_of(execution: Option<&Execution>) -> Option<(String, String)> {
        execution
            .filter(|e| GROUP_FIELDS.contains(&e.selector_kind.as_str()))
            .map(|e| (e.selector_kind.clone(), e.selector_value.clone()))
    }

    /// Whether `test` belongs to the suite or feature `field` `id`.
    fn holds(&self, field: &str, id: &str, test: &str) -> bool {
        let own = self
            .own
            .as_ref()
            .is_some_and(|(k, v)| k == field && v == id);
        own || self
            .members
            .get(field)
            .and_then(|ids| ids.get(id))
            .is_some_and(|tests| tests.contains(test))
    }
}
