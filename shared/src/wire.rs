//! The upstream API's request and response bodies, field for field with the guide's JSON
//! names. Responses are lenient: missing optional fields default, unknown fields are
//! ignored, and the shapes the guide leaves open (`timeline`, `error`) stay JSON values.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{JobId, JobStatus, RunStatus, ScheduleStatus, TestStatus};

/// The answer of `POST /api/testExecution/{projId}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecuteResponse {
    /// Whether the request was accepted.
    #[serde(default)]
    pub success: bool,
    /// `Success` for a new job, `AlreadyExists` when an identical one is queued.
    pub schedule_status: ScheduleStatus,
    /// The job to follow (the existing one for `AlreadyExists`).
    pub job_id: String,
}

/// The body of `POST /api/jobs/{projId}`. `None` asks for all active jobs of the last
/// month, which the guide discourages for regular polling.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobsRequest {
    /// The jobs to report on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_ids: Option<Vec<JobId>>,
}

/// The answer of `POST /api/jobs/{projId}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobsResponse {
    /// Whether the request succeeded.
    #[serde(default)]
    pub success: bool,
    /// The jobs found.
    #[serde(default)]
    pub jobs: Vec<Job>,
    /// Requested ids that were invalid, missing or of another project.
    #[serde(default)]
    pub missing_job_ids: Vec<String>,
}

/// One job's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// The job id.
    pub job_id: String,
    /// Where the job is in its lifecycle.
    pub status: JobStatus,
    /// When the backend last changed the job record (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// The run record, once one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_run_id: Option<String>,
    /// The agent the job was routed to. Not in the guide's example; kept when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
}

/// `GET /api/testRun/{projId}/{runId}`: the run report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestRun {
    /// The run id.
    pub run_id: String,
    /// The project it belongs to.
    #[serde(default)]
    pub project_id: String,
    /// The overall run state.
    pub status: RunStatus,
    /// When the run started (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// The number of tests in the whole project.
    #[serde(default)]
    pub tests_in_project_count: u64,
    /// A title for people.
    #[serde(default)]
    pub title: String,
    /// Summary counts by test status.
    #[serde(default)]
    pub statuses: Vec<StatusCount>,
    /// Every test of the run.
    #[serde(default)]
    pub tests: Vec<TestResult>,
}

impl TestRun {
    /// The count for `status` in the summary, zero when absent.
    pub fn count(&self, status: &TestStatus) -> u64 {
        self.statuses
            .iter()
            .filter(|s| &s.label == status)
            .map(|s| s.count)
            .sum()
    }
}

/// One entry of a run's summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCount {
    /// The test status counted.
    pub label: TestStatus,
    /// How many tests have it.
    #[serde(default)]
    pub count: u64,
}

/// One test of a run report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    /// The test id.
    #[serde(rename = "_id")]
    pub id: String,
    /// The test's title.
    #[serde(default)]
    pub title: String,
    /// The test's state.
    pub status: TestStatus,
    /// How long it ran, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
    /// Whether a recording exists.
    #[serde(default)]
    pub has_video: bool,
    /// Where the recording is, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_link: Option<String>,
    /// When the test started (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// Execution steps; their shape is not documented, so they stay JSON.
    #[serde(default)]
    pub timeline: Vec<Value>,
    /// Why the test failed: a string or an object, kept as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}
