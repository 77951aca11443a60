//! Status vocabularies of the upstream API and what they mean for people.
//!
//! Every enum keeps an `Other(String)` arm: a status the guide does not document parses,
//! round-trips unchanged and is shown as is, instead of breaking the page. A status that
//! is `null`, missing or not text at all parses as `Other("")` (numbers keep their JSON
//! text), which people see as "unknown".

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares a string enum with documented values and an `Other` arm (also used by
/// [`crate::error::ErrorCode`]).
macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
            /// A value not documented here (a newer server's), kept verbatim.
            Other(String),
        }

        impl $name {
            /// Every documented value, in declaration order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Other(s) => s,
                }
            }

            /// Parses the wire spelling; never fails.
            pub fn parse(s: &str) -> Self {
                match s {
                    $($text => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl Default for $name {
            /// The unknown status, `Other("")`: what a missing or `null` status reads as.
            fn default() -> Self {
                Self::Other(String::new())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            /// Never fails on valid JSON; see the module documentation.
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                crate::lenient::status_text(deserializer).map(|s| Self::parse(&s))
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// The state of an execution job (`POST /api/jobs`).
    JobStatus {
        /// Created, waiting to start.
        Pending = "Pending",
        /// Waiting for the named agent to connect.
        PendingAgentConnection = "PendingAgentConnection",
        /// Execution has started.
        InProgress = "InProgress",
        /// Finished, every test passed or was skipped.
        Success = "Success",
        /// Finished with failures.
        Failed = "Failed",
    }
);

impl JobStatus {
    /// Whether the job is finished and will not change any more.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Success | Self::Failed)
    }

    /// A short sentence for a person, naming the agent where it matters. Finished jobs
    /// read as the guide puts it ("finished") with the status in brackets, since the
    /// guide gives `Success` and `Failed` no further meaning; an undocumented status is
    /// shown verbatim, an empty one as "unknown". See also [`Job::describe`], which
    /// knows about a `Failed` job without a report.
    ///
    /// [`Job::describe`]: crate::Job::describe
    pub fn describe(&self, agent: Option<&str>) -> String {
        match (self, agent) {
            (Self::Pending, _) => "queued, waiting to start".to_owned(),
            (Self::PendingAgentConnection, Some(agent)) => {
                format!("waiting for agent {agent} to connect")
            }
            (Self::PendingAgentConnection, None) => "waiting for an agent to connect".to_owned(),
            (Self::InProgress, Some(agent)) => format!("running on agent {agent}"),
            (Self::InProgress, None) => "running".to_owned(),
            (Self::Success, _) => "finished (Success)".to_owned(),
            (Self::Failed, _) => "finished (Failed)".to_owned(),
            (Self::Other(s), _) if s.is_empty() => "unknown".to_owned(),
            (Self::Other(s), _) => s.clone(),
        }
    }
}

string_enum!(
    /// The state of one test in a run report.
    TestStatus {
        /// Finished and passed.
        Passed = "Passed",
        /// Finished and failed; the test carries an `error`.
        Failed = "Failed",
        /// Not run.
        Skipped = "Skipped",
        /// Running now.
        Running = "Running",
        /// Waiting for its turn.
        Scheduled = "Scheduled",
    }
);

impl TestStatus {
    /// Whether the test is done.
    pub fn is_finished(&self) -> bool {
        matches!(self, Self::Passed | Self::Failed | Self::Skipped)
    }

    /// Sort rank for "problems first": failed, running, scheduled, other, passed, skipped.
    pub fn rank(&self) -> u8 {
        match self {
            Self::Failed => 0,
            Self::Running => 1,
            Self::Scheduled => 2,
            Self::Other(_) => 3,
            Self::Passed => 4,
            Self::Skipped => 5,
        }
    }
}

string_enum!(
    /// The overall state of a test run.
    RunStatus {
        /// The run record exists; no test has started.
        Scheduled = "Scheduled",
        /// Tests are running.
        Running = "Running",
        /// Every test is done (whatever their outcome).
        Completed = "Completed",
        /// The run was aborted before its tests were done.
        Aborted = "Aborted",
    }
);

impl RunStatus {
    /// Whether the report may still change, so a viewer should keep refreshing it.
    /// An undocumented status counts as live only while the job is not terminal, which
    /// the caller knows; on its own it is treated as finished.
    pub fn is_live(&self) -> bool {
        matches!(self, Self::Scheduled | Self::Running)
    }
}

string_enum!(
    /// The answer of `executeTests` about scheduling.
    ScheduleStatus {
        /// A new job was queued.
        Success = "Success",
        /// The same execution was already queued; its `jobId` is returned for reuse.
        AlreadyExists = "AlreadyExists",
    }
);
