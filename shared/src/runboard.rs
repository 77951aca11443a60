//! Runboard's own endpoints (under `/runboard/`): what the widget needs to start.

use serde::{Deserialize, Serialize};

use crate::{AgentName, ProjectId, Selector, ValidationError, selector::SelectorFields};

/// `GET /runboard/bootstrap`: everything the widget needs before its first view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bootstrap {
    /// Runboard's version.
    pub version: String,
    /// The signed-in user, when Runboard sits behind SSO.
    #[serde(default)]
    pub user: Option<String>,
    /// The projects this user may see, in configuration order.
    pub projects: Vec<ProjectInfo>,
    /// How often the widget polls.
    pub poll: PollIntervals,
    /// The longest a live report stream stays silent (it sends a heartbeat at least this
    /// often): twice that without a word means a proxy on the way holds it back.
    #[serde(default = "default_heartbeat_ms")]
    pub live_heartbeat_ms: u64,
    /// Runboard runs without sign-in on an address others can reach: the widget shows
    /// a warning banner for as long as this holds.
    #[serde(default)]
    pub open_access: bool,
    /// This user manages machine tokens (`auth.admin_users` / `admin_groups`): the
    /// widget shows the Tokens page.
    #[serde(default)]
    pub may_admin: bool,
}

/// The heartbeat browsers are promised when the server does not say (15 s).
pub(crate) const DEFAULT_HEARTBEAT_MS: u64 = 15_000;

fn default_heartbeat_ms() -> u64 {
    DEFAULT_HEARTBEAT_MS
}

/// A project as the widget sees it: never its key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectInfo {
    /// The project id used in API paths.
    pub id: ProjectId,
    /// The display name.
    pub name: String,
    /// Whether this user may start runs here (viewers may only watch).
    pub can_run: bool,
    /// Whether this user may change the project's triage rules (quarantines, known
    /// issues): the widget shows its triage menus only then.
    #[serde(default)]
    pub may_triage: bool,
    /// The teams of `[[projects.owners]]` this user belongs to (by user or group), for
    /// "Owned by my groups".
    #[serde(default)]
    pub teams: Vec<String>,
    /// One-click executions.
    #[serde(default)]
    pub presets: Vec<Preset>,
}

/// Poll intervals in milliseconds, set by the server's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PollIntervals {
    /// Between two `jobs` requests.
    pub jobs_ms: u64,
    /// Between two refreshes of a live run report.
    pub run_ms: u64,
}

/// A configured one-click execution ("Smoke on staging").
///
/// In JSON and TOML the selector is spelled with the guide's own keys
/// (`testSuiteId = "…"`), beside `name`, `description` and `agentName`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawPreset")]
pub struct Preset {
    /// The button's label.
    pub name: String,
    /// One line saying what it runs; derived from the selector and agent when not set.
    pub description: String,
    /// What to run.
    pub selector: Selector,
    /// Where to run it.
    pub agent_name: Option<AgentName>,
}

impl Serialize for Preset {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RawPreset {
            name: self.name.clone(),
            description: Some(self.description.clone()),
            selector: self.selector.to_fields(),
            agent_name: self.agent_name.as_ref().map(|a| a.to_string()),
        }
        .serialize(serializer)
    }
}

/// A preset as JSON and TOML spell it, before [`Preset`]'s checks (also read by
/// `decode.rs`).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawPreset {
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    #[serde(flatten)]
    pub(crate) selector: SelectorFields,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) agent_name: Option<String>,
}

impl TryFrom<RawPreset> for Preset {
    type Error = ValidationError;

    fn try_from(raw: RawPreset) -> Result<Self, Self::Error> {
        let name = raw.name.trim().to_owned();
        if name.is_empty() {
            return Err(ValidationError::new("name", "a preset needs a name"));
        }
        let selector = Selector::from_fields(raw.selector)?;
        let agent_name = raw
            .agent_name
            .as_deref()
            .map(AgentName::parse)
            .transpose()?;
        let description = raw.description.unwrap_or_else(|| {
            let what = selector.describe();
            match &agent_name {
                Some(agent) => format!("{what} · agent {agent}"),
                None => what,
            }
        });
        Ok(Self {
            name,
            description,
            selector,
            agent_name,
        })
    }
}

/// `GET /runboard/history/{projId}`: one page of the project's execution ledger, newest
/// first. `next` is the opaque cursor of the following page (`?cursor=`), `null` on the
/// last page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    /// The executions of this page.
    pub executions: Vec<HistoryExecution>,
    /// The cursor of the next page.
    pub next: Option<String>,
}

/// Who started an execution, as far as Runboard knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Started through Runboard: `user` is who did.
    Runboard,
    /// Seen in the project's active-jobs list but started elsewhere (CI, scripts).
    Elsewhere,
}

/// One execution of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryExecution {
    /// The platform's job id (`null` while starting, or when the start's answer was lost).
    pub job_id: Option<String>,
    /// The run record, once known.
    pub test_run_id: Option<String>,
    /// Who started it (`anonymous` without SSO; empty when started elsewhere).
    pub user: String,
    /// When it was started (first seen, for jobs started elsewhere), RFC 3339 UTC.
    pub started_at: String,
    /// The job's last known status (`Pending` … `Success`, `Failed`), or Runboard's own
    /// `Starting` / `Unconfirmed` / `Missing`.
    pub status: String,
    /// Whether the ledger has its end (final status, counts, results).
    pub finished: bool,
    /// The final counts, once finished with a report.
    pub counts: Option<HistoryCounts>,
    /// From start to end, once finished.
    pub duration_ms: Option<u64>,
    /// The preset the start matched, if any.
    pub preset: Option<String>,
    /// Runboard or elsewhere.
    pub origin: Origin,
    /// What ran: the selector field (`featureId`, `testSuiteId`, `testId`, `tests`), or
    /// `null` for jobs started elsewhere (the platform does not say).
    pub selector: Option<String>,
    /// The selector's id (ids joined with commas for `tests`).
    pub selector_value: Option<String>,
    /// The agent asked for or reported.
    pub agent: Option<String>,
    /// When the end was seen, RFC 3339 UTC.
    pub finished_at: Option<String>,
    /// How many of its failures block (issue 21's verdict, `shared`'s `classify` over
    /// the server's facts), judged by the rules as they apply *now*, not as they applied
    /// when it ran: quarantining a test lowers the count of its past runs too. `null`
    /// when it cannot be known: the run is not final, the ledger has no results for it,
    /// or (in answers other than the history page) it was not computed.
    #[serde(default)]
    pub blocking: Option<u64>,
}

/// The final counts of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryCounts {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed.
    pub failed: u64,
    /// Tests that were skipped.
    pub skipped: u64,
    /// Every test of the run.
    pub total: u64,
}

/// One test's final result in an execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryTest {
    /// The platform's test id.
    pub test_id: String,
    /// Its title.
    pub title: String,
    /// Its final status as the platform spelled it.
    pub status: String,
    /// How long it ran.
    pub duration_ms: Option<u64>,
}

/// `GET /runboard/history/{projId}/jobs/{jobId}`: one execution with each test's result,
/// and the previous finished execution of the same selector with its results (what the
/// run is compared with; `null` for the first, and for jobs started elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionDetail {
    /// The execution.
    pub execution: HistoryExecution,
    /// Its tests' final results (empty until it is finished).
    pub results: Vec<HistoryTest>,
    /// The previous finished execution of the same selector.
    pub previous: Option<HistoryExecution>,
    /// That execution's results.
    pub previous_results: Vec<HistoryTest>,
}

/// One earlier result of a test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestRunRecord {
    /// The job it ran in.
    pub job_id: Option<String>,
    /// Its final status.
    pub status: String,
    /// How long it ran.
    pub duration_ms: Option<u64>,
    /// When its execution started, RFC 3339 UTC.
    pub started_at: String,
}

/// `GET /runboard/history/{projId}/tests/{testId}?limit=N`: the test's last results,
/// newest first, and how often it flipped between `Passed` and `Failed` among them (a
/// flaky hint: 2 or more flips in a short history is worth a look).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestHistory {
    /// The test.
    pub test_id: String,
    /// Its last results, newest first.
    pub results: Vec<TestRunRecord>,
    /// Changes between `Passed` and `Failed` from one result to the next (others skipped).
    pub flips: u32,
}
