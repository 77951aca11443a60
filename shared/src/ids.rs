//! Validated identifiers. The platform's ids are 24-hex ObjectIds; Runboard accepts the
//! wider, safe alphabet `[A-Za-z0-9_-]{1,64}` so that nothing that could change a URL's
//! meaning (`/`, `.`, `%`, `?`, `#`, spaces) is ever placed into an upstream path.

use std::{fmt, ops::Deref, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// The longest id accepted.
pub const MAX_ID_LEN: usize = 64;
/// The longest agent name accepted, after trimming.
pub const MAX_AGENT_LEN: usize = 128;

/// Checks an id for `field`, returning a message a person can act on.
pub fn validate_id(field: &str, value: &str) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if value.chars().count() > MAX_ID_LEN {
        return Err(ValidationError::new(
            field,
            format!(
                "is {} characters long; ids have at most {MAX_ID_LEN}",
                value.chars().count()
            ),
        ));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(ValidationError::new(
            field,
            format!("contains {bad:?}; ids use only letters, digits, '_' and '-'"),
        ));
    }
    Ok(())
}

/// An id that passed [`validate_id`]: safe to place in an upstream URL path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Id(String);

impl Id {
    /// Validates `value` as the id in `field`.
    pub fn parse(field: &str, value: impl Into<String>) -> Result<Self, ValidationError> {
        let value = value.into();
        validate_id(field, &value)?;
        Ok(Self(value))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Id {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("id", value)
    }
}

impl From<Id> for String {
    fn from(id: Id) -> Self {
        id.0
    }
}

impl Deref for Id {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Declares a typed id so that a job id cannot be passed where a project id is expected.
macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Id);

        impl $name {
            /// Validates `value`; the error names this id's field.
            pub fn parse(value: impl Into<String>) -> Result<Self, ValidationError> {
                Id::parse($field, value).map(Self)
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0.into()
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                self.0.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

typed_id!(
    /// A project id (`projId` in the upstream paths).
    ProjectId,
    "projId"
);
typed_id!(
    /// A job id, as returned by `executeTests`.
    JobId,
    "jobId"
);
typed_id!(
    /// A test run id (`testRunId` of a job, `runId` of a report).
    RunId,
    "runId"
);

/// An agent name: 1–128 printable characters after trimming surrounding white space.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AgentName(String);

impl AgentName {
    /// Trims and validates an agent name.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let trimmed = value.trim();
        let len = trimmed.chars().count();
        if len == 0 {
            return Err(ValidationError::new("agentName", "must not be empty"));
        }
        if len > MAX_AGENT_LEN {
            return Err(ValidationError::new(
                "agentName",
                format!("is {len} characters long; agent names have at most {MAX_AGENT_LEN}"),
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "agentName",
                "contains a control character; use printable characters only",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AgentName {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<AgentName> for String {
    fn from(name: AgentName) -> Self {
        name.0
    }
}

impl fmt::Display for AgentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
