//! A project's catalog: features holding suites holding tests, the agents that can run
//! them, and the lookups an execution needs (which tests a selector picks).
//!
//! The public types are the JSON of `GET /__sim/catalog`:
//! `{"projects":[{"id","testCount","features":[{"id","title","testCount","all"?,"suites":[{"id","title","tests":[{"id","title"}]}]}],"agents":[{"name","connected","connectsAfterMs"?,"fate"?}]}]}`.
//! The feature marked `"all": true` ("Full regression") has no suites of its own and runs
//! every test of the project.

mod generate;
mod words;

use std::{collections::HashMap, ops::Range};

use runboard_shared::Selector;
use serde::{Deserialize, Serialize};

use crate::error::SimError;

pub(crate) use generate::generate;

/// The body of `GET /__sim/catalog`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogList {
    /// One catalog per project, in configuration order.
    pub projects: Vec<Catalog>,
}

/// What one project can run, and on which agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    /// The project id.
    pub id: String,
    /// Tests in the project (the run report's `testsInProjectCount`).
    pub test_count: usize,
    /// Features in display order; the last one is the "run everything" feature.
    pub features: Vec<Feature>,
    /// Agents jobs may be routed to, with their current connection state.
    pub agents: Vec<Agent>,
}

impl Catalog {
    /// The feature that runs every test of the project.
    pub fn all_feature(&self) -> Option<&Feature> {
        self.features.iter().find(|f| f.all)
    }

    /// Every suite with its feature, in catalog order.
    pub fn suites(&self) -> impl Iterator<Item = (&Feature, &Suite)> {
        self.features
            .iter()
            .flat_map(|f| f.suites.iter().map(move |s| (f, s)))
    }

    /// Every test of the project, once each, in catalog order.
    pub fn tests(&self) -> impl Iterator<Item = &TestCase> {
        self.suites().flat_map(|(_, s)| s.tests.iter())
    }
}

/// A feature: what `featureId` selects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Feature {
    /// The feature id.
    pub id: String,
    /// Its title ("Checkout").
    pub title: String,
    /// How many tests running it starts.
    pub test_count: usize,
    /// Whether this feature runs every test of the project (and lists no suites).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
    /// Its test suites.
    pub suites: Vec<Suite>,
}

/// A test suite: what `testSuiteId` selects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Suite {
    /// The suite id.
    pub id: String,
    /// Its title ("Smoke").
    pub title: String,
    /// Its tests.
    pub tests: Vec<TestCase>,
}

/// A test: what `testId` or an entry of `tests` selects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestCase {
    /// The test id.
    pub id: String,
    /// Its title ("Checkout rejects expired card").
    pub title: String,
}

/// An agent (`agentName`) and whether it is connected now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    /// The name jobs are routed by.
    pub name: String,
    /// Whether it takes jobs right away.
    pub connected: bool,
    /// For an agent that wakes on demand: simulated milliseconds between a job starting
    /// to wait for it and it connecting for that job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connects_after_ms: Option<u64>,
    /// For an agent whose jobs always end the same way: how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fate: Option<Fate>,
}

/// What always happens to a job sent to an agent with a fixed fate: the endings the
/// guide does not describe, so a client can be tested against them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Fate {
    /// The job goes `Pending` → `"Cancelled"` (a status the guide does not list) and
    /// never gets a `testRunId`.
    Cancelled,
    /// The job goes `Pending` → `Failed` and never gets a `testRunId`.
    FailsWithoutRun,
    /// `executeTests` answers HTTP 200 `{"success":false,"message":…}` and creates no job.
    RefusesStarts,
}

/// The agents every project starts with: one connected, one that wakes on demand a few
/// simulated seconds after a job waits for it, one that stays away until connected
/// through `POST /__sim/agents`, and three connected ones with fixed fates (jobs
/// cancelled, jobs failing without a run, starts refused).
pub(crate) fn default_agents() -> Vec<Agent> {
    let agent = |name: &str, connected, connects_after_ms, fate| Agent {
        name: name.to_owned(),
        connected,
        connects_after_ms,
        fate,
    };
    vec![
        agent("staging-agent", true, None, None),
        agent("nightly-agent", false, Some(4_000), None),
        agent("offline-agent", false, None, None),
        agent("cancel-agent", true, None, Some(Fate::Cancelled)),
        agent("broken-agent", true, None, Some(Fate::FailsWithoutRun)),
        agent("refusing-agent", true, None, Some(Fate::RefusesStarts)),
    ]
}

/// A test as the planner sees it: its public face plus what shapes its runs.
#[derive(Debug, Clone)]
pub(crate) struct TestSpec {
    pub(crate) id: String,
    pub(crate) title: String,
    /// Chance that a run of this test fails (a few tests are flaky).
    pub(crate) fail_chance: f64,
    /// Step names, first "open …", last the assertion.
    pub(crate) steps: Vec<String>,
    /// What the final assertion expects, and what a failing run saw instead.
    pub(crate) check: (&'static str, &'static str),
}

/// A project's generated catalog with its lookup tables. Tests are stored feature by
/// feature and suite by suite, so every feature and suite is a contiguous range.
#[derive(Debug)]
pub(crate) struct ProjectData {
    /// The public catalog; its `agents` are filled from live state when served.
    pub(crate) catalog: Catalog,
    pub(crate) tests: Vec<TestSpec>,
    features: HashMap<String, (String, Range<usize>)>,
    suites: HashMap<String, (String, Range<usize>)>,
    test_index: HashMap<String, usize>,
}

/// The tests a selector picks, and the run title it earns.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Selection {
    pub(crate) tests: Vec<usize>,
    pub(crate) title: String,
}

impl ProjectData {
    /// Resolves `selector` against this catalog, naming the first id that is not in it.
    pub(crate) fn select(&self, selector: &Selector) -> Result<Selection, SimError> {
        let unknown = |field: &str, id: &str, what: &str| {
            SimError::UnknownId(format!("{field} {id:?} is not {what} of this project"))
        };
        let selection = match selector {
            Selector::Feature(id) => {
                let (title, range) = self
                    .features
                    .get(id.as_str())
                    .ok_or_else(|| unknown("featureId", id, "a feature"))?;
                Selection {
                    tests: range.clone().collect(),
                    title: title.clone(),
                }
            }
            Selector::TestSuite(id) => {
                let (title, range) = self
                    .suites
                    .get(id.as_str())
                    .ok_or_else(|| unknown("testSuiteId", id, "a test suite"))?;
                Selection {
                    tests: range.clone().collect(),
                    title: title.clone(),
                }
            }
            Selector::Test(id) => {
                let index = self.find_test("testId", id)?;
                Selection {
                    tests: vec![index],
                    title: format!("{} · single test run", self.tests[index].title),
                }
            }
            Selector::Tests(ids) => {
                let tests = ids
                    .iter()
                    .enumerate()
                    .map(|(i, id)| self.find_test(&format!("tests[{i}]"), id))
                    .collect::<Result<Vec<_>, _>>()?;
                let title = format!("Custom selection · {} tests", tests.len());
                Selection { tests, title }
            }
        };
        Ok(selection)
    }

    fn find_test(&self, field: &str, id: &str) -> Result<usize, SimError> {
        self.test_index.get(id).copied().ok_or_else(|| {
            SimError::UnknownId(format!("{field} {id:?} is not a test of this project"))
        })
    }
}

#[cfg(test)]
mod tests;
