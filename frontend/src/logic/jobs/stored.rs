//! This browser's remembered jobs in localStorage, written and read back with the
//! shared crate's JSON writer and reader (`runboard_shared::{encode, json}`) exactly as
//! their serde attributes say, so the widget carries no serde_json reader or typed
//! writer (frontend README, "Size"). The tests hold both to what serde does.

use runboard_shared::{
    DecodeError, FromJson, JobStatus,
    decode::{Fields, boolean, list, signed, string, unsigned},
    encode::{Members, write_list},
    json::{self, Node},
};

use super::{Outcome, TrackedJob};

/// The jobs stored as `text`; `None` when it is not a list of them.
pub(super) fn jobs(text: &str) -> Option<Vec<TrackedJob>> {
    list(&json::parse(text).ok()?.root(), TrackedJob::from_node).ok()
}

/// The text that stores `jobs`: what `serde_json::to_string` writes for them.
pub(super) fn write(jobs: &[&TrackedJob]) -> String {
    let mut out = String::new();
    write_list(&mut out, jobs, |job, out| write_job(job, out));
    out
}

fn write_job(job: &TrackedJob, out: &mut String) {
    let mut o = Members::open(out);
    o.str("jobId", &job.job_id);
    o.opt_str("what", job.what.as_deref());
    o.opt_str("agent", job.agent.as_deref());
    opt_plain(&mut o, "startedMs", job.started_ms);
    o.opt_str("status", job.status.as_ref().map(JobStatus::as_str));
    o.opt_str("updatedAt", job.updated_at.as_deref());
    o.opt_str("testRunId", job.test_run_id.as_deref());
    o.plain("mine", job.mine);
    o.plain("missing", job.missing);
    if let Some(since) = job.undocumented_since_ms {
        o.plain("undocumentedSinceMs", since);
    }
    if job.unfollowed {
        o.plain("unfollowed", true);
    }
    if let Some(outcome) = &job.outcome {
        let mut inner = Members::open(o.name("outcome"));
        inner.plain("total", outcome.total);
        inner.plain("passed", outcome.passed);
        inner.plain("failed", outcome.failed);
        opt_plain(&mut inner, "duration_ms", outcome.duration_ms);
        inner.close();
    }
    o.close();
}

/// A number member, or `null`.
fn opt_plain(o: &mut Members<'_>, name: &str, value: Option<impl std::fmt::Display>) {
    match value {
        Some(value) => o.plain(name, value),
        None => o.name(name).push_str("null"),
    }
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

    /// Both readers agree on `text`: the same jobs, or both refuse it; and what both
    /// read is written back as serde writes it.
    fn same(text: &str) {
        let theirs = serde_json::from_str::<Vec<TrackedJob>>(text).ok();
        assert_eq!(jobs(text), theirs, "{text}");
        if let Some(jobs) = theirs {
            let jobs: Vec<&TrackedJob> = jobs.iter().collect();
            assert_eq!(
                write(&jobs),
                serde_json::to_string(&jobs).unwrap(),
                "{text}"
            );
        }
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
            r#"[{"jobId":"j2","what":"a \"b\"\n\u0001 é 😀","agent":"x\\y"}]"#,
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
