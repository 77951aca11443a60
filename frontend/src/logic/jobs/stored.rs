//! Reading this browser's remembered jobs back from localStorage with the shared
//! crate's JSON reader (`runboard_shared::json`), as their serde attributes say: the
//! widget carries no serde_json reader (frontend README, "Size"). They are still written
//! with serde; the tests read what serde writes.

use runboard_shared::{
    DecodeError, FromJson, JobStatus,
    decode::{Fields, boolean, list, signed, string, unsigned},
    json::{self, Node},
};

use super::{Outcome, TrackedJob};

/// The jobs stored as `text`; `None` when it is not a list of them.
pub(super) fn jobs(text: &str) -> Option<Vec<TrackedJob>> {
    list(&json::parse(text).ok()?, TrackedJob::from_node).ok()
}

impl FromJson for TrackedJob {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(Self {
            job_id: f.required("jobId", string)?,
            what: f.optional("what", string)?,
            agent: f.optional("agent", string)?,
            started_ms: f.optional("startedMs", signed)?,
            status: f.optional("status", JobStatus::from_node)?,
            updated_at: f.optional("updatedAt", string)?,
            test_run_id: f.optional("testRunId", string)?,
            mine: f.or_default("mine", boolean)?,
            missing: f.or_default("missing", boolean)?,
            undocumented_since_ms: f.optional("undocumentedSinceMs", signed)?,
            unfollowed: f.or_default("unfollowed", boolean)?,
            outcome: f.optional("outcome", Outcome::from_node)?,
        })
    }
}

impl FromJson for Outcome {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(Self {
            total: f.required("total", unsigned)?,
            passed: f.required("passed", unsigned)?,
            failed: f.required("failed", unsigned)?,
            duration_ms: f.optional("duration_ms", unsigned)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both readers agree on `text`: the same jobs, or both refuse it.
    fn same(text: &str) {
        let theirs = serde_json::from_str::<Vec<TrackedJob>>(text).ok();
        assert_eq!(jobs(text), theirs, "{text}");
    }

    #[test]
    fn stored_jobs_read_as_serde_reads_them() {
        let full = r#"[{"jobId":"j1","what":"Smoke","agent":"a1","startedMs":1700000000000,
            "status":"Cancelled","updatedAt":"2026-12-07T10:00:00Z","testRunId":"r1",
            "mine":true,"missing":false,"undocumentedSinceMs":-5,"unfollowed":true,
            "outcome":{"total":4,"passed":3,"failed":1,"duration_ms":1200}}]"#;
        assert_eq!(jobs(full).map(|j| j.len()), Some(1));
        for text in [
            full,
            "[]",
            r#"[{"jobId":"j2"}]"#,
            r#"[{"jobId":"j2","status":null,"outcome":null,"what":null}]"#,
            r#"[{"jobId":"j2","status":7,"outcome":{"total":1,"passed":1,"failed":0}}]"#,
            r#"[{"jobId":"j2","mine":"yes"}]"#,
            r#"[{"jobId":"j2","startedMs":1.5}]"#,
            r#"[{"what":"no id"}]"#,
            r#"[{"jobId":"j2","jobId":"j3"}]"#,
            r#"{"jobId":"j2"}"#,
            "not json",
        ] {
            same(text);
        }
    }
}
