//! [`FromJson`] for Runboard's own answers (`runboard.rs`): strict, as their serde
//! attributes are.

use super::{DecodeError, Fields, FromJson, Read, boolean, list, string, unsigned};
use crate::{
    Bootstrap, ExecutionDetail, HistoryCounts, HistoryExecution, HistoryPage, HistoryTest, Origin,
    PollIntervals, Preset, ProjectId, ProjectInfo, TestHistory, TestRunRecord,
    json::{Json, Node},
    runboard::{DEFAULT_HEARTBEAT_MS, RawPreset},
    selector::SelectorFields,
};

impl FromJson for Bootstrap {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(Bootstrap {
            version: f.required("version", string)?,
            user: f.optional("user", string)?,
            projects: f.required("projects", |n| list(n, ProjectInfo::from_node))?,
            poll: f.required("poll", PollIntervals::from_node)?,
            live_heartbeat_ms: match f.get("liveHeartbeatMs")? {
                Some(node) => unsigned(node).map_err(|e| e.within("liveHeartbeatMs"))?,
                None => DEFAULT_HEARTBEAT_MS,
            },
            open_access: f.or_default("openAccess", boolean)?,
            may_admin: f.or_default("mayAdmin", boolean)?,
        })
    }
}

impl FromJson for ProjectInfo {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(ProjectInfo {
            id: f.required("id", |n| {
                ProjectId::parse(string(n)?).map_err(|e| DecodeError(e.to_string()))
            })?,
            name: f.required("name", string)?,
            can_run: f.required("canRun", boolean)?,
            may_triage: f.or_default("mayTriage", boolean)?,
            teams: f.or_default("teams", |n| list(n, string))?,
            presets: f.or_default("presets", |n| list(n, Preset::from_node))?,
        })
    }
}

impl FromJson for PollIntervals {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(PollIntervals {
            jobs_ms: f.required("jobsMs", unsigned)?,
            run_ms: f.required("runMs", unsigned)?,
        })
    }
}

impl FromJson for Preset {
    /// Through `RawPreset`, as serde reads it: the selector's keys beside the preset's
    /// own (the first of a repeated selector key counts), then the same validation.
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        let first = |name: &str| f.0.iter().find(|(key, _)| key == name).map(|(_, n)| n);
        let selector_field = |name: &str, read: Read<_>| match first(name) {
            Some(node) if node.json != Json::Null => read(node).map(Some),
            _ => Ok(None),
        };
        let raw = RawPreset {
            name: f.required("name", string)?,
            description: f.optional("description", string)?,
            selector: SelectorFields {
                feature_id: selector_field("featureId", string)?,
                test_suite_id: selector_field("testSuiteId", string)?,
                test_id: selector_field("testId", string)?,
                tests: match first("tests") {
                    Some(node) if node.json != Json::Null => Some(list(node, string)?),
                    _ => None,
                },
            },
            agent_name: f.optional("agentName", string)?,
        };
        Preset::try_from(raw).map_err(|e| DecodeError(e.to_string()))
    }
}

impl FromJson for HistoryPage {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(HistoryPage {
            executions: f.required("executions", |n| list(n, HistoryExecution::from_node))?,
            next: f.optional("next", string)?,
        })
    }
}

impl FromJson for Origin {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        match string(node)?.as_str() {
            "runboard" => Ok(Origin::Runboard),
            "elsewhere" => Ok(Origin::Elsewhere),
            other => Err(DecodeError(format!("unknown variant `{other}`"))),
        }
    }
}

impl FromJson for HistoryExecution {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(HistoryExecution {
            job_id: f.optional("jobId", string)?,
            test_run_id: f.optional("testRunId", string)?,
            user: f.required("user", string)?,
            started_at: f.required("startedAt", string)?,
            status: f.required("status", string)?,
            finished: f.required("finished", boolean)?,
            counts: f.optional("counts", HistoryCounts::from_node)?,
            duration_ms: f.optional("durationMs", unsigned)?,
            preset: f.optional("preset", string)?,
            origin: f.required("origin", Origin::from_node)?,
            selector: f.optional("selector", string)?,
            selector_value: f.optional("selectorValue", string)?,
            agent: f.optional("agent", string)?,
            finished_at: f.optional("finishedAt", string)?,
            blocking: f.optional("blocking", unsigned)?,
        })
    }
}

impl FromJson for HistoryCounts {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(HistoryCounts {
            passed: f.required("passed", unsigned)?,
            failed: f.required("failed", unsigned)?,
            skipped: f.required("skipped", unsigned)?,
            total: f.required("total", unsigned)?,
        })
    }
}

impl FromJson for HistoryTest {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(HistoryTest {
            test_id: f.required("testId", string)?,
            title: f.required("title", string)?,
            status: f.required("status", string)?,
            duration_ms: f.optional("durationMs", unsigned)?,
        })
    }
}

impl FromJson for ExecutionDetail {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(ExecutionDetail {
            execution: f.required("execution", HistoryExecution::from_node)?,
            results: f.required("results", |n| list(n, HistoryTest::from_node))?,
            previous: f.optional("previous", HistoryExecution::from_node)?,
            previous_results: f.required("previousResults", |n| list(n, HistoryTest::from_node))?,
        })
    }
}

impl FromJson for TestRunRecord {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(TestRunRecord {
            job_id: f.optional("jobId", string)?,
            status: f.required("status", string)?,
            duration_ms: f.optional("durationMs", unsigned)?,
            started_at: f.required("startedAt", string)?,
        })
    }
}

impl FromJson for TestHistory {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(TestHistory {
            test_id: f.required("testId", string)?,
            results: f.required("results", |n| list(n, TestRunRecord::from_node))?,
            flips: f.required("flips", |n| {
                u32::try_from(unsigned(n)?).map_err(|_| DecodeError::invalid("a u32"))
            })?,
        })
    }
}
