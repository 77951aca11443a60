//! The upstream API's request and response bodies, field for field with the guide's JSON
//! names. Requests are strict. Responses are lenient: the guide shows examples, not a
//! schema, so every field of an answer may be missing, `null`, fractional, negative or of
//! another type without failing the answer (each field's documentation says what it
//! keeps, the private `lenient` module how); unknown fields are ignored, and the shapes
//! the guide leaves open (`timeline`, `error`) stay JSON text ([`Timeline`], [`RawJson`]):
//! checked for syntax, read into values only when someone looks at them. Only a top level
//! that is not an object fails to parse: no field is essential.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::IgnoredAny};
use serde_json::{Value, value::RawValue};

use crate::{JobId, JobStatus, RunStatus, ScheduleStatus, TestStatus, lenient};

/// The answer of `POST /api/testExecution/{projId}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", remote = "Self")]
pub struct ExecuteResponse {
    /// Whether the request was accepted (only `true` is).
    #[serde(default, deserialize_with = "lenient::flag")]
    pub success: bool,
    /// `Success` for a new job, `AlreadyExists` when an identical one is queued;
    /// `Other("")` when absent, as in a refusal.
    #[serde(default)]
    pub schedule_status: ScheduleStatus,
    /// The job to follow (the existing one for `AlreadyExists`); empty when absent, as
    /// in a refusal.
    #[serde(default, deserialize_with = "lenient::string")]
    pub job_id: String,
}

/// Gives each answer type its serde impls: the derived ones (generated as inherent
/// functions by `remote = "Self"`), with reading restricted to a top-level object.
/// Those inherent `serialize`/`deserialize` functions are public as a side effect; use
/// serde's traits (`serde_json::from_str` and friends), which check the top level.
macro_rules! answer_object {
    ($($name:ident),+) => {$(
        impl lenient::Object for $name {
            fn from_members<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $name::deserialize(d)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                lenient::object(d)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $name::serialize(self, s)
            }
        }
    )+};
}

answer_object!(ExecuteResponse, JobsResponse, TestRun);

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
#[serde(rename_all = "camelCase", remote = "Self")]
pub struct JobsResponse {
    /// Whether the request succeeded (only `true` is).
    #[serde(default, deserialize_with = "lenient::flag")]
    pub success: bool,
    /// The jobs found; elements that are not objects are skipped.
    #[serde(default, deserialize_with = "lenient::objects")]
    pub jobs: Vec<Job>,
    /// Requested ids that were invalid, missing or of another project.
    #[serde(default, deserialize_with = "lenient::strings")]
    pub missing_job_ids: Vec<String>,
}

/// One job's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// The job id (empty when the platform sent none).
    #[serde(default, deserialize_with = "lenient::string")]
    pub job_id: String,
    /// Where the job is in its lifecycle.
    #[serde(default)]
    pub status: JobStatus,
    /// When the backend last changed the job record (ISO 8601).
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_at: Option<String>,
    /// The run record, once one exists.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub test_run_id: Option<String>,
    /// The agent the job was routed to. Not in the guide's example; kept when present.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub agent_name: Option<String>,
}

impl Job {
    /// A short sentence for a person: the status's wording (see
    /// [`JobStatus::describe`]), except that a `Failed` job without a run record
    /// "finished without a report", so nobody waits for one.
    pub fn describe(&self) -> String {
        if self.status == JobStatus::Failed && self.test_run_id.is_none() {
            return "finished without a report".to_owned();
        }
        self.status.describe(self.agent_name.as_deref())
    }
}

/// `GET /api/testRun/{projId}/{runId}`: the run report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", remote = "Self")]
pub struct TestRun {
    /// The run id.
    #[serde(default, deserialize_with = "lenient::string")]
    pub run_id: String,
    /// The project it belongs to.
    #[serde(default, deserialize_with = "lenient::string")]
    pub project_id: String,
    /// The overall run state.
    #[serde(default)]
    pub status: RunStatus,
    /// When the run started (ISO 8601).
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_time: Option<String>,
    /// The number of tests in the whole project (0 when unknown).
    #[serde(default, deserialize_with = "lenient::count")]
    pub tests_in_project_count: u64,
    /// A title for people (empty when unknown; the widget says "untitled").
    #[serde(default, deserialize_with = "lenient::string")]
    pub title: String,
    /// Summary counts by test status; entries that are not objects are skipped.
    #[serde(default, deserialize_with = "lenient::objects")]
    pub statuses: Vec<StatusCount>,
    /// Every test of the run; elements that are not objects are skipped.
    #[serde(default, deserialize_with = "lenient::objects")]
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
    #[serde(default)]
    pub label: TestStatus,
    /// How many tests have it (fractions rounded; negative or unknown is 0).
    #[serde(default, deserialize_with = "lenient::count")]
    pub count: u64,
}

/// One test of a run report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    /// The test id (empty when the platform sent none).
    #[serde(rename = "_id", default, deserialize_with = "lenient::string")]
    pub id: String,
    /// The test's title (empty when unknown; the widget says "untitled").
    #[serde(default, deserialize_with = "lenient::string")]
    pub title: String,
    /// The test's state.
    #[serde(default)]
    pub status: TestStatus,
    /// How long it ran, in milliseconds: fractions rounded; `None` when not finished
    /// or unknown (negative or not a number).
    #[serde(
        default,
        deserialize_with = "lenient::opt_whole",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration: Option<u64>,
    /// Whether a recording exists (only `true` is).
    #[serde(default, deserialize_with = "lenient::flag")]
    pub has_video: bool,
    /// Where the recording is, when there is one.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub video_link: Option<String>,
    /// When the test started (ISO 8601).
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_time: Option<String>,
    /// Execution steps; their shape is not documented, so they stay JSON text (`null`
    /// is no steps, a single non-list value one step).
    #[serde(default)]
    pub timeline: Timeline,
    /// Why the test failed: a string or an object, kept as JSON text (`null` is none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RawJson>,
}

/// One JSON value kept as the text it was sent as: checked for syntax while the answer
/// is read, but not built into a [`Value`] tree until [`RawJson::value`] is called.
/// A report of thousands of tests is checked and passed on without a tree per step
/// (see docs/benchmarks.md); the widget reads a test's error when its row is opened.
///
/// Two are equal when their texts are: values read from one answer compare as sent.
#[derive(Clone)]
pub struct RawJson(Raw);

/// Where a [`RawJson`]'s text came from; both were checked as JSON.
#[derive(Clone)]
enum Raw {
    /// Read with serde (the proxy, the simulator): written back as serde_json's own.
    Serde(Box<RawValue>),
    /// Read with `decode.rs` (the widget), which carries no serde_json reader.
    Checked(Box<str>),
}

impl RawJson {
    /// The JSON text, as sent.
    pub fn json(&self) -> &str {
        match &self.0 {
            Raw::Serde(raw) => raw.get(),
            Raw::Checked(text) => text,
        }
    }

    /// The value, read from the text (with `json.rs`, on every side, so the widget needs
    /// no second reader).
    pub fn value(&self) -> Value {
        // The text was checked when it was read, so it always parses.
        crate::json::parse(self.json()).map_or(Value::Null, |doc| doc.root().to_value())
    }

    /// A value's text already checked by [`json::parse`](crate::json::parse).
    pub(crate) fn from_checked(text: &str) -> Self {
        Self(Raw::Checked(text.into()))
    }

    /// The JSON text of `text` (already known to be valid JSON). Read the way a report
    /// is read, not with `RawValue::from_string`, which would add a second reader to
    /// the widget's wasm.
    fn from_valid(text: &str) -> Self {
        Self(Raw::Serde(
            serde_json::from_str(text).unwrap_or_else(|_| RawValue::NULL.to_owned()),
        ))
    }
}

impl From<&Value> for RawJson {
    fn from(value: &Value) -> Self {
        Self::from_valid(&value.to_string())
    }
}

impl From<Value> for RawJson {
    fn from(value: Value) -> Self {
        Self::from(&value)
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json())
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(d).map(|raw| Self(Raw::Serde(raw)))
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Raw::Serde(raw) => raw.serialize(s),
            // Checked as JSON when read, so `from_string` never refuses it.
            Raw::Checked(text) => RawValue::from_string(text.to_string())
                .map_err(serde::ser::Error::custom)?
                .serialize(s),
        }
    }
}

/// A test's timeline: always a JSON list, kept as text like [`RawJson`]. `null` reads
/// as no steps and a single value that is not a list as a list of that one step, so
/// readers never see another shape.
#[derive(Clone, PartialEq)]
pub struct Timeline(RawJson);

impl Timeline {
    /// A timeline of these steps (the simulator and tests build one).
    pub fn from_steps(steps: &[Value]) -> Self {
        Self(RawJson::from(Value::from(steps)))
    }

    /// The steps, read from the text.
    pub fn steps(&self) -> Vec<Value> {
        match self.0.value() {
            Value::Array(steps) => steps,
            _ => Vec::new(),
        }
    }

    /// The number of steps.
    pub fn len(&self) -> usize {
        crate::json::parse(self.json()).map_or(0, |doc| doc.root().items().len())
    }

    /// Whether there are no steps.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The JSON text of the list.
    pub fn json(&self) -> &str {
        self.0.json()
    }

    /// A timeline whose text is already known to be a JSON list.
    pub(crate) fn from_raw(list: RawJson) -> Self {
        Self(list)
    }
}

impl Default for Timeline {
    fn default() -> Self {
        Self(RawJson::from_checked("[]"))
    }
}

impl fmt::Debug for Timeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for Timeline {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        Ok(match raw.get() {
            "null" => Self::default(),
            list if list.starts_with('[') => Self(RawJson(Raw::Serde(raw))),
            one => Self(RawJson::from_valid(&format!("[{one}]"))),
        })
    }
}

impl Serialize for Timeline {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// A run report checked for exactly the shape [`TestRun`] reads, keeping only its
/// status. What `TestRun` refuses (a top level that is not an object, invalid JSON, a
/// field named twice in the report, a summary entry or a test) this refuses too, but
/// nothing else is built: no strings, no timelines, no list of tests. The proxy checks
/// every report this way and passes the bytes on as sent; reading a 2,000-test report
/// into `TestRun` costs about twice as much (see docs/benchmarks.md).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", remote = "Self")]
pub struct TestRunShape {
    /// The overall run state, read as [`TestRun::status`] is.
    #[serde(default)]
    pub status: RunStatus,
    #[serde(default)]
    run_id: IgnoredAny,
    #[serde(default)]
    project_id: IgnoredAny,
    #[serde(default)]
    start_time: IgnoredAny,
    #[serde(default)]
    tests_in_project_count: IgnoredAny,
    #[serde(default)]
    title: IgnoredAny,
    /// Always empty (its elements take no memory): each object element is checked.
    #[serde(default, deserialize_with = "lenient::objects")]
    statuses: Vec<StatusCountShape>,
    /// Always empty (its elements take no memory): each object element is checked.
    #[serde(default, deserialize_with = "lenient::objects")]
    tests: Vec<TestResultShape>,
}

impl lenient::Object for TestRunShape {
    fn from_members<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        TestRunShape::deserialize(d)
    }
}

impl<'de> Deserialize<'de> for TestRunShape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::object(d)
    }
}

/// The fields of a [`StatusCount`], each skipped: only a field named twice fails.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct StatusCountShape {
    #[serde(default)]
    label: IgnoredAny,
    #[serde(default)]
    count: IgnoredAny,
}

/// The fields of a [`TestResult`], each skipped: only a field named twice fails.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestResultShape {
    #[serde(rename = "_id", default)]
    id: IgnoredAny,
    #[serde(default)]
    title: IgnoredAny,
    #[serde(default)]
    status: IgnoredAny,
    #[serde(default)]
    duration: IgnoredAny,
    #[serde(default)]
    has_video: IgnoredAny,
    #[serde(default)]
    video_link: IgnoredAny,
    #[serde(default)]
    start_time: IgnoredAny,
    #[serde(default)]
    timeline: IgnoredAny,
    #[serde(default)]
    error: IgnoredAny,
}
