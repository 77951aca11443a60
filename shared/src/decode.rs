//! The answers the widget reads, read from a [`json`](crate::json) tree ([`FromJson`])
//! instead of with serde: the same types, the same answers, a fraction of the wasm
//! (see `json.rs` for why). Each impl follows its type's serde attributes: lenient
//! upstream answers through the same rules as `lenient.rs` (its `Scalar`), strict
//! Runboard answers refusing what serde refuses: a missing required field, a field named
//! twice, a value of another type. The tests read many answers both ways and compare.
//! Error messages are this module's own; they are shown only for a broken server. One
//! difference is deliberate: serde also reads a strict record given as a JSON array,
//! its fields by position; this refuses it (no Runboard server writes one, and reading
//! it would take a second, positional reader per type).

use std::borrow::Cow;

use crate::{
    ApiError, ErrorBody, ErrorCode, ExecuteResponse, FailureClass, Job, JobStatus, JobsResponse,
    RawJson, RunStatus, ScheduleStatus, StatusCount, TestResult, TestRun, TestStatus, Timeline,
    json::{self, Json, Node, Numeric},
    lenient::Scalar,
};

mod runboard;
mod triage;

/// Why an answer could not be read: not JSON, or not the type's shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(String);

impl DecodeError {
    fn invalid(expected: &str) -> Self {
        Self(format!("invalid type: expected {expected}"))
    }
}

/// A type read from a JSON tree (see the module documentation).
pub trait FromJson: Sized {
    /// Reads `node`.
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError>;
}

/// Reads a `T` from JSON text: what `serde_json::from_str` answers, for the types the
/// widget reads.
pub fn from_json<T: FromJson>(text: &str) -> Result<T, DecodeError> {
    let doc = json::parse(text).map_err(|e| DecodeError(e.to_string()))?;
    T::from_node(&doc.root())
}

/// An object's members, read by name as serde's derived code reads them.
pub struct Fields<'a>(Vec<(Cow<'a, str>, Node<'a>)>);

impl<'a> Fields<'a> {
    /// The members of `node`, which must be an object.
    pub fn of(node: &Node<'a>) -> Result<Self, DecodeError> {
        match node.json {
            Json::Object => Ok(Self(node.members())),
            _ => Err(DecodeError::invalid("an object")),
        }
    }

    /// The value named `name`; a name given twice is refused.
    pub fn get(&self, name: &str) -> Result<Option<&Node<'a>>, DecodeError> {
        let mut found = None;
        for (key, node) in &self.0 {
            if key == name {
                if found.is_some() {
                    return Err(DecodeError(format!("duplicate field `{name}`")));
                }
                found = Some(node);
            }
        }
        Ok(found)
    }

    /// A field that must be there, read with `read`.
    pub fn required<T>(&self, name: &str, read: Read<T>) -> Result<T, DecodeError> {
        match self.get(name)? {
            Some(node) => read(node).map_err(|e| e.within(name)),
            None => Err(DecodeError(format!("missing field `{name}`"))),
        }
    }

    /// An `Option` field: absent or `null` is `None`.
    pub fn optional<T>(&self, name: &str, read: Read<T>) -> Result<Option<T>, DecodeError> {
        match self.get(name)? {
            Some(node) if node.json != Json::Null => {
                read(node).map(Some).map_err(|e| e.within(name))
            }
            _ => Ok(None),
        }
    }

    /// A `#[serde(default)]` field: absent is `T::default()`.
    pub fn or_default<T: Default>(&self, name: &str, read: Read<T>) -> Result<T, DecodeError> {
        match self.get(name)? {
            Some(node) => read(node).map_err(|e| e.within(name)),
            None => Ok(T::default()),
        }
    }
}

impl DecodeError {
    fn within(self, field: &str) -> Self {
        Self(format!("{} in field `{field}`", self.0))
    }
}

/// How one value is read.
pub type Read<T> = fn(&Node<'_>) -> Result<T, DecodeError>;

/// A string.
pub fn string(node: &Node<'_>) -> Result<String, DecodeError> {
    match &node.json {
        Json::String(s) => Ok(s.clone().into_owned()),
        _ => Err(DecodeError::invalid("a string")),
    }
}

/// A boolean.
pub fn boolean(node: &Node<'_>) -> Result<bool, DecodeError> {
    match node.json {
        Json::Bool(b) => Ok(b),
        _ => Err(DecodeError::invalid("a boolean")),
    }
}

/// A non-negative integer.
pub fn unsigned(node: &Node<'_>) -> Result<u64, DecodeError> {
    match &node.json {
        Json::Number(n) => match n.numeric() {
            Numeric::Unsigned(n) => Ok(n),
            _ => Err(DecodeError::invalid("a non-negative integer")),
        },
        _ => Err(DecodeError::invalid("an integer")),
    }
}

/// An integer that fits `i64`.
pub fn signed(node: &Node<'_>) -> Result<i64, DecodeError> {
    let out_of_range = || DecodeError::invalid("an integer that fits i64");
    match &node.json {
        Json::Number(n) => match n.numeric() {
            Numeric::Unsigned(n) => i64::try_from(n).map_err(|_| out_of_range()),
            Numeric::Negative(n) => Ok(n),
            Numeric::Float(_) => Err(out_of_range()),
        },
        _ => Err(DecodeError::invalid("an integer")),
    }
}

/// An array, each element read with `read`.
pub fn list<T>(node: &Node<'_>, read: Read<T>) -> Result<Vec<T>, DecodeError> {
    match &node.json {
        Json::Array => node.items().iter().map(read).collect(),
        _ => Err(DecodeError::invalid("an array")),
    }
}

/// The lenient reading of one value (`lenient.rs`): containers are nothing.
fn scalar(node: &Node<'_>) -> Scalar {
    match &node.json {
        Json::Null | Json::Array | Json::Object => Scalar::Nothing,
        Json::Bool(b) => Scalar::Bool(*b),
        Json::Number(n) => Scalar::Number(n.as_f64()),
        Json::String(s) => Scalar::Text(s.clone().into_owned()),
    }
}

// The lenient readers of `lenient.rs`, one for one; none fails.
fn text(node: &Node<'_>) -> Result<String, DecodeError> {
    Ok(scalar(node).into_text().unwrap_or_default())
}

fn opt_text(node: &Node<'_>) -> Result<Option<String>, DecodeError> {
    Ok(scalar(node).into_text().filter(|text| !text.is_empty()))
}

fn count(node: &Node<'_>) -> Result<u64, DecodeError> {
    Ok(scalar(node).into_whole().unwrap_or(0))
}

fn opt_whole(node: &Node<'_>) -> Result<Option<u64>, DecodeError> {
    Ok(scalar(node).into_whole())
}

fn flag(node: &Node<'_>) -> Result<bool, DecodeError> {
    Ok(scalar(node) == Scalar::Bool(true))
}

fn texts(node: &Node<'_>) -> Result<Vec<String>, DecodeError> {
    Ok(node
        .items()
        .iter()
        .filter_map(|item| scalar(item).into_text())
        .collect())
}

/// `lenient::objects`: the object elements of a list, each read by `read`; anything
/// else is skipped.
fn objects<T>(node: &Node<'_>, read: Read<T>) -> Result<Vec<T>, DecodeError> {
    node.items()
        .iter()
        .filter(|item| item.json == Json::Object)
        .map(read)
        .collect()
}

/// A status vocabulary: its lenient text, parsed (never fails).
macro_rules! status_from_json {
    ($($name:ident),+) => {$(
        impl FromJson for $name {
            fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
                text(node).map(|s| Self::parse(&s))
            }
        }
    )+};
}

status_from_json!(
    JobStatus,
    RunStatus,
    TestStatus,
    ScheduleStatus,
    ErrorCode,
    FailureClass
);

impl FromJson for RawJson {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        Ok(RawJson::from_checked(node.raw))
    }
}

impl FromJson for Timeline {
    /// As `Timeline`'s serde reading: `null` is no steps, a list stays as sent, any
    /// other value is a list of that one step.
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        Ok(match node.json {
            Json::Null => Timeline::default(),
            Json::Array => Timeline::from_raw(RawJson::from_checked(node.raw)),
            _ => Timeline::from_raw(RawJson::from_checked(&format!("[{}]", node.raw))),
        })
    }
}

impl FromJson for TestRun {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node).map_err(|_| DecodeError::invalid("a JSON object"))?;
        Ok(TestRun {
            run_id: f.or_default("runId", text)?,
            project_id: f.or_default("projectId", text)?,
            status: f.or_default("status", RunStatus::from_node)?,
            start_time: f.or_default("startTime", opt_text)?,
            tests_in_project_count: f.or_default("testsInProjectCount", count)?,
            title: f.or_default("title", text)?,
            statuses: f.or_default("statuses", |n| objects(n, StatusCount::from_node))?,
            tests: f.or_default("tests", |n| objects(n, TestResult::from_node))?,
        })
    }
}

impl FromJson for StatusCount {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(StatusCount {
            label: f.or_default("label", TestStatus::from_node)?,
            count: f.or_default("count", count)?,
        })
    }
}

impl FromJson for TestResult {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(TestResult {
            id: f.or_default("_id", text)?,
            title: f.or_default("title", text)?,
            status: f.or_default("status", TestStatus::from_node)?,
            duration: f.or_default("duration", opt_whole)?,
            has_video: f.or_default("hasVideo", flag)?,
            video_link: f.or_default("videoLink", opt_text)?,
            start_time: f.or_default("startTime", opt_text)?,
            timeline: f.or_default("timeline", Timeline::from_node)?,
            error: f.optional("error", RawJson::from_node)?,
        })
    }
}

impl FromJson for ExecuteResponse {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node).map_err(|_| DecodeError::invalid("a JSON object"))?;
        Ok(ExecuteResponse {
            success: f.or_default("success", flag)?,
            schedule_status: f.or_default("scheduleStatus", ScheduleStatus::from_node)?,
            job_id: f.or_default("jobId", text)?,
        })
    }
}

impl FromJson for JobsResponse {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node).map_err(|_| DecodeError::invalid("a JSON object"))?;
        Ok(JobsResponse {
            success: f.or_default("success", flag)?,
            jobs: f.or_default("jobs", |n| objects(n, Job::from_node))?,
            missing_job_ids: f.or_default("missingJobIds", texts)?,
        })
    }
}

impl FromJson for Job {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(Job {
            job_id: f.or_default("jobId", text)?,
            status: f.or_default("status", JobStatus::from_node)?,
            updated_at: f.or_default("updatedAt", opt_text)?,
            test_run_id: f.or_default("testRunId", opt_text)?,
            agent_name: f.or_default("agentName", opt_text)?,
        })
    }
}

impl FromJson for ApiError {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(ApiError {
            error: f.required("error", ErrorBody::from_node)?,
        })
    }
}

impl FromJson for ErrorBody {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(ErrorBody {
            code: f.required("code", ErrorCode::from_node)?,
            message: f.required("message", string)?,
        })
    }
}
