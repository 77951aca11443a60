//! The ledger's records as Rust values: what a start, a job's end and a history page
//! hold. Times are epoch milliseconds (UTC); formatting them is the caller's business.
//! Records a query returns unchanged derive `sqlx::FromRow` (columns read by name);
//! [`Execution`] is built from a private row type in `read.rs`.

use runboard_shared::{AgentName, ExecuteRequest, ProjectId, Selector};

/// The row id of one execution (`BIGINT` on both backends; bound and read as itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::Type)]
#[sqlx(transparent)]
pub struct ExecutionId(pub i64);

/// Who started an execution, as far as Runboard knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Started through Runboard (the user is known).
    Runboard,
    /// Seen in the project's active-jobs list but started elsewhere (CI, scripts).
    Elsewhere,
}

impl Origin {
    /// The stored and wire spelling: `runboard` or `elsewhere`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Runboard => "runboard",
            Self::Elsewhere => "elsewhere",
        }
    }

    pub(crate) fn parse(text: &str) -> Self {
        if text == "elsewhere" {
            Self::Elsewhere
        } else {
            Self::Runboard
        }
    }
}

/// The status an intent has until the upstream answers: Runboard's own word, never
/// one of the platform's job statuses.
pub const STARTING: &str = "Starting";
/// The status of an intent whose start answer was lost (it may or may not have started;
/// if it did, the active-jobs sweep records the job).
pub const UNCONFIRMED: &str = "Unconfirmed";

/// A start about to be sent: everything known before the upstream answers.
#[derive(Debug, Clone)]
pub struct Intent {
    /// The project.
    pub project: ProjectId,
    /// The user from SSO, or `anonymous`.
    pub user: String,
    /// What runs (`featureId` and its id, `tests` and the ids joined with commas…).
    pub selector_kind: String,
    /// See [`Intent::selector_kind`].
    pub selector_value: String,
    /// The agent asked for, if any.
    pub agent: Option<String>,
    /// The preset whose selector and agent the request matches, if any.
    pub preset: Option<String>,
    /// When the start was asked for.
    pub started_at: i64,
}

impl Intent {
    /// The intent for `request` by `user` in `project`, at `now`.
    pub fn new(
        project: &ProjectId,
        user: &str,
        request: &ExecuteRequest,
        preset: Option<&str>,
        now: i64,
    ) -> Self {
        let (selector_kind, selector_value) = selector_columns(&request.selector);
        Self {
            project: project.clone(),
            user: user.to_owned(),
            selector_kind,
            selector_value,
            agent: request
                .agent_name
                .as_ref()
                .map(|a| AgentName::as_str(a).to_owned()),
            preset: preset.map(str::to_owned),
            started_at: now,
        }
    }
}

/// A selector as two columns: its JSON field and its id (ids joined with commas for a
/// list), so "the same selector" is an equality on both.
pub fn selector_columns(selector: &Selector) -> (String, String) {
    let value = match selector {
        Selector::Feature(id) | Selector::TestSuite(id) | Selector::Test(id) => id.to_string(),
        Selector::Tests(ids) => ids
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
    };
    (selector.field().to_owned(), value)
}

/// What the confirmation of a start did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmed {
    /// The intent now carries the job id.
    Recorded(ExecutionId),
    /// The job was recorded already (the platform answered `AlreadyExists`, or the
    /// sweep saw it first); the intent was dropped so the job stays recorded once.
    AlreadyRecorded(ExecutionId),
}

/// A job seen in the active-jobs list.
#[derive(Debug, Clone)]
pub struct SeenJob {
    /// The project.
    pub project: ProjectId,
    /// The platform's job id.
    pub job_id: String,
    /// Its status as the platform spelled it.
    pub status: String,
    /// The agent, when the platform says.
    pub agent: Option<String>,
    /// The run record, once one exists.
    pub test_run_id: Option<String>,
}

/// An unfinished job this instance holds the lease on.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Held {
    /// The row.
    pub id: ExecutionId,
    /// Its project.
    pub project: String,
    /// The platform's job id.
    pub job_id: String,
    /// The run record, if known yet.
    pub test_run_id: Option<String>,
    /// The last status recorded.
    pub status: String,
    /// When it started.
    pub started_at: i64,
}

/// Final counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Tests that passed.
    pub passed: i64,
    /// Tests that failed.
    pub failed: i64,
    /// Tests that were skipped.
    pub skipped: i64,
    /// All tests of the run.
    pub total: i64,
}

/// One test's final result.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TestOutcome {
    /// The platform's test id.
    pub test_id: String,
    /// Its title.
    pub title: String,
    /// Its final status as the platform spelled it.
    pub status: String,
    /// How long it ran, when known.
    pub duration_ms: Option<i64>,
}

/// How a job ended.
#[derive(Debug, Clone, Default)]
pub struct Finish {
    /// The job's final status.
    pub status: String,
    /// The run record, if there was one.
    pub test_run_id: Option<String>,
    /// The run's counts (none when the job ended without a report).
    pub counts: Option<Counts>,
    /// From start to end.
    pub duration_ms: Option<i64>,
    /// Each test's final result.
    pub results: Vec<TestOutcome>,
    /// When the end was seen.
    pub finished_at: i64,
}

/// One execution as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    /// The row.
    pub id: ExecutionId,
    /// Its project.
    pub project: String,
    /// The platform's job id (none while starting or when the start was unconfirmed).
    pub job_id: Option<String>,
    /// The run record, once known.
    pub test_run_id: Option<String>,
    /// Who started it (`anonymous`, or empty when started elsewhere).
    pub user: String,
    /// The selector's field (empty when started elsewhere: the platform does not say).
    pub selector_kind: String,
    /// The selector's id or ids.
    pub selector_value: String,
    /// The agent.
    pub agent: Option<String>,
    /// The preset, if the start matched one.
    pub preset: Option<String>,
    /// Runboard or elsewhere.
    pub origin: Origin,
    /// When it was started (or first seen, when started elsewhere).
    pub started_at: i64,
    /// The last status recorded.
    pub status: String,
    /// Whether the ledger has its end.
    pub finished: bool,
    /// The final counts.
    pub counts: Option<Counts>,
    /// From start to end.
    pub duration_ms: Option<i64>,
    /// When the end was seen.
    pub finished_at: Option<i64>,
}

/// What a history page asks for. Empty filters match everything.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    /// Only this user.
    pub user: Option<String>,
    /// Only this preset.
    pub preset: Option<String>,
    /// Only this status (exact, as recorded).
    pub status: Option<String>,
    /// Only these origins.
    pub origin: Option<Origin>,
    /// Started at or after (epoch ms).
    pub from: Option<i64>,
    /// Started before (epoch ms).
    pub to: Option<i64>,
    /// Where the previous page ended.
    pub cursor: Option<String>,
    /// At most this many (clamped to 1..=[`crate::MAX_PAGE`]).
    pub limit: usize,
}

/// One page of history, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The executions.
    pub executions: Vec<Execution>,
    /// The cursor of the next page, when there may be one.
    pub next: Option<String>,
}

/// One earlier result of a test, for flaky hints.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TestRecord {
    /// The execution it ran in.
    pub execution: ExecutionId,
    /// That execution's job.
    pub job_id: Option<String>,
    /// Its status.
    pub status: String,
    /// How long it ran.
    pub duration_ms: Option<i64>,
    /// When its execution started.
    pub started_at: i64,
}
