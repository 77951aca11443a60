//! What to run: exactly one of a feature, a test suite, a single test or a custom list of
//! tests, plus an optional agent. The types make "no selector" and "two selectors"
//! unrepresentable; parsing from JSON refuses them with a message naming the fields.

use std::collections::HashSet;

use serde::{Deserialize, Serialize, Serializer, ser::SerializeMap};

use crate::{AgentName, ValidationError, ids::Id};

/// The most test ids a custom list may hold.
pub const MAX_TESTS_PER_LIST: usize = 1000;

/// The only `action` the upstream knows.
pub const EXECUTE_ACTION: &str = "executeTests";

/// What an execution runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Selector {
    /// Every test of one feature (`featureId`).
    Feature(Id),
    /// Every test of one test suite (`testSuiteId`).
    TestSuite(Id),
    /// One test (`testId`).
    Test(Id),
    /// A custom list of tests (`tests`): non-empty, no duplicates, at most
    /// [`MAX_TESTS_PER_LIST`].
    Tests(Vec<Id>),
}

impl Selector {
    /// The JSON field name this selector is sent under.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Feature(_) => "featureId",
            Self::TestSuite(_) => "testSuiteId",
            Self::Test(_) => "testId",
            Self::Tests(_) => "tests",
        }
    }

    /// A short phrase for people: "feature 67f8…", "3 tests".
    pub fn describe(&self) -> String {
        match self {
            Self::Feature(id) => format!("feature {id}"),
            Self::TestSuite(id) => format!("test suite {id}"),
            Self::Test(id) => format!("test {id}"),
            Self::Tests(ids) if ids.len() == 1 => "1 test".to_owned(),
            Self::Tests(ids) => format!("{} tests", ids.len()),
        }
    }

    /// Builds a custom-list selector, checking the list rules.
    pub fn tests<S: AsRef<str>>(ids: &[S]) -> Result<Self, ValidationError> {
        if ids.is_empty() {
            return Err(ValidationError::new(
                "tests",
                "must list at least one test id",
            ));
        }
        if ids.len() > MAX_TESTS_PER_LIST {
            return Err(ValidationError::new(
                "tests",
                format!(
                    "lists {} ids; at most {MAX_TESTS_PER_LIST} may run at once",
                    ids.len()
                ),
            ));
        }
        let mut seen = HashSet::with_capacity(ids.len());
        let mut out = Vec::with_capacity(ids.len());
        for (i, raw) in ids.iter().enumerate() {
            let id = Id::parse(&format!("tests[{i}]"), raw.as_ref())?;
            if !seen.insert(id.clone()) {
                return Err(ValidationError::new(
                    format!("tests[{i}]"),
                    format!("repeats {id}; list each test once"),
                ));
            }
            out.push(id);
        }
        Ok(Self::Tests(out))
    }

    /// Builds a selector from the four optional JSON fields, requiring exactly one.
    pub fn from_fields(fields: SelectorFields) -> Result<Self, ValidationError> {
        let SelectorFields {
            feature_id,
            test_suite_id,
            test_id,
            tests,
        } = fields;
        let given: Vec<&str> = [
            feature_id.as_ref().map(|_| "featureId"),
            test_suite_id.as_ref().map(|_| "testSuiteId"),
            test_id.as_ref().map(|_| "testId"),
            tests.as_ref().map(|_| "tests"),
        ]
        .into_iter()
        .flatten()
        .collect();
        match given.len() {
            0 => {
                return Err(ValidationError::new(
                    "selector",
                    "say what to run: give one of featureId, testSuiteId, testId or tests",
                ));
            }
            1 => {}
            _ => {
                return Err(ValidationError::new(
                    "selector",
                    format!(
                        "give only one of {}; found {}",
                        given.join(", "),
                        given.len()
                    ),
                ));
            }
        }
        if let Some(id) = feature_id {
            return Id::parse("featureId", id).map(Self::Feature);
        }
        if let Some(id) = test_suite_id {
            return Id::parse("testSuiteId", id).map(Self::TestSuite);
        }
        if let Some(id) = test_id {
            return Id::parse("testId", id).map(Self::Test);
        }
        Self::tests(&tests.unwrap_or_default())
    }

    /// The four optional JSON fields this selector occupies.
    pub fn to_fields(&self) -> SelectorFields {
        let mut fields = SelectorFields::default();
        match self {
            Self::Feature(id) => fields.feature_id = Some(id.to_string()),
            Self::TestSuite(id) => fields.test_suite_id = Some(id.to_string()),
            Self::Test(id) => fields.test_id = Some(id.to_string()),
            Self::Tests(ids) => fields.tests = Some(ids.iter().map(Id::to_string).collect()),
        }
        fields
    }
}

impl Serialize for Selector {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            Self::Feature(id) | Self::TestSuite(id) | Self::Test(id) => {
                map.serialize_entry(self.field(), id.as_str())?
            }
            Self::Tests(ids) => map.serialize_entry(self.field(), ids)?,
        }
        map.end()
    }
}

/// The selector's fields as they appear in JSON, before the one-of rule is checked.
/// Configuration files and forms fill this, then call [`Selector::from_fields`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectorFields {
    /// `featureId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_id: Option<String>,
    /// `testSuiteId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_suite_id: Option<String>,
    /// `testId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_id: Option<String>,
    /// `tests`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<Vec<String>>,
}

/// The body of `POST /api/testExecution/{projId}`.
///
/// Deserializing is strict: unknown keys, a wrong `action`, no selector or two selectors
/// and invalid ids are all refused with a [`ValidationError`] message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawExecuteRequest")]
pub struct ExecuteRequest {
    /// What to run.
    pub selector: Selector,
    /// The agent to route the job to, if any.
    pub agent_name: Option<AgentName>,
}

impl ExecuteRequest {
    /// A request for `selector`, optionally on `agent`.
    pub fn new(selector: Selector, agent_name: Option<AgentName>) -> Self {
        Self {
            selector,
            agent_name,
        }
    }
}

impl Serialize for ExecuteRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire<'a> {
            action: &'static str,
            #[serde(flatten)]
            selector: &'a Selector,
            #[serde(skip_serializing_if = "Option::is_none")]
            agent_name: Option<&'a str>,
        }
        Wire {
            action: EXECUTE_ACTION,
            selector: &self.selector,
            agent_name: self.agent_name.as_ref().map(AgentName::as_str),
        }
        .serialize(serializer)
    }
}

/// The request exactly as JSON spells it; converted by [`TryFrom`].
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawExecuteRequest {
    action: Option<String>,
    feature_id: Option<String>,
    test_suite_id: Option<String>,
    test_id: Option<String>,
    tests: Option<Vec<String>>,
    agent_name: Option<String>,
}

impl TryFrom<RawExecuteRequest> for ExecuteRequest {
    type Error = ValidationError;

    fn try_from(raw: RawExecuteRequest) -> Result<Self, Self::Error> {
        match raw.action.as_deref() {
            Some(EXECUTE_ACTION) => {}
            Some(other) => {
                return Err(ValidationError::new(
                    "action",
                    format!("is {other:?}; the only supported action is \"{EXECUTE_ACTION}\""),
                ));
            }
            None => {
                return Err(ValidationError::new(
                    "action",
                    format!("is missing; send \"action\": \"{EXECUTE_ACTION}\""),
                ));
            }
        }
        let selector = Selector::from_fields(SelectorFields {
            feature_id: raw.feature_id,
            test_suite_id: raw.test_suite_id,
            test_id: raw.test_id,
            tests: raw.tests,
        })?;
        let agent_name = raw
            .agent_name
            .as_deref()
            .map(AgentName::parse)
            .transpose()?;
        Ok(Self {
            selector,
            agent_name,
        })
    }
}
