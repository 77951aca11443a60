//! Runboard's contract: the wire types of the upstream Test Execution API and of
//! Runboard's own endpoints, with the validation both the proxy and the widget apply.
//!
//! The crate does no I/O and builds for native targets and `wasm32-unknown-unknown`.
//! Requests are strict (a malformed one is refused with a message naming the field);
//! responses are lenient (`null`, odd numbers, unknown statuses and extra fields never
//! break parsing; see `wire`).

pub mod calendar;
pub mod decode;
pub mod encode;
pub mod endpoint;
pub mod error;
pub mod ids;
pub mod json;
mod lenient;
pub mod live;
pub mod notifications;
pub mod page;
pub mod portal;
pub mod route;
pub mod rules;
pub mod runboard;
pub mod selector;
pub mod status;
pub mod target;
pub mod test_error;
pub mod tokens;
pub mod url;
pub mod verdict;
pub mod wire;

pub use decode::{DecodeError, FromJson, from_json};
pub use encode::ToJson;
pub use endpoint::{Endpoint, execute_path, jobs_path, test_run_path};
pub use error::{ApiError, ErrorBody, ErrorCode, ValidationError};
pub use ids::{AgentName, Id, JobId, ProjectId, RunId};
pub use live::LiveEventName;
pub use notifications::{NotificationsPage, NotifyChannel, NotifyDelivery};
pub use page::{FIRST_PAINT_ID, RunPage};
pub use portal::{PortalEvent, PortalMessage, RunFinished};
pub use route::{API_PREFIX, Allowance, RUNBOARD_PREFIX, Route, is_reserved};
pub use rules::{
    Day, KnownIssue, NewRule, Quarantine, Rule, RuleAction, RuleEdit, RuleEvent, RuleId, RuleKind,
    RuleRef, RuleState, RulesPage, Scope,
};
pub use runboard::{
    Bootstrap, ExecutionDetail, HistoryCounts, HistoryExecution, HistoryPage, HistoryTest, Origin,
    PollIntervals, Preset, ProjectInfo, TestHistory, TestRunRecord,
};
pub use selector::{ExecuteRequest, MAX_TESTS_PER_LIST, Selector};
pub use status::{JobStatus, RunStatus, ScheduleStatus, TestStatus};
pub use target::{
    ExportFormat, HistoryFormat, HistoryQuery, LIVE_SINCE, RULES_INCLUDE, RulesQuery, Target,
    TargetError,
};
pub use test_error::error_text;
pub use tokens::{NewToken, TokenCreated, TokenInfo, TokensPage};
pub use verdict::{
    Classified, FLAKY_FLIPS, FLIP_WINDOW, FailureClass, FailureFacts, Headline, KnownMatch,
    Verdict, VerdictCounts, VerdictFailure, VerdictStatus, classify, count_flips,
};
pub use wire::{
    ExecuteResponse, Job, JobsRequest, JobsResponse, RawJson, StatusCount, TestResult, TestRun,
    TestRunShape, Timeline,
};
