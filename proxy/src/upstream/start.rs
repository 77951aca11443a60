//! Starting a run without ever starting it twice. A start is retried only when its
//! connection never opened (nothing was sent). When it was sent but its answer was lost
//! (timeout, dropped connection, a gateway's 502/504, an unreadable 2xx), the active
//! jobs are looked up once: exactly one job that changed since the start was sent, on
//! the requested agent, is that start's job; otherwise the outcome is unknown and the
//! user is told to check the Jobs page. A second start could run the tests twice.
//! The look-up has its own `upstream.timeout`, so a lost start is answered within twice
//! the timeout.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use runboard_shared::{
    ExecuteRequest, ExecuteResponse, Job, JobsResponse, execute_path, jobs_path,
};
use serde_json::json;

use super::{Backoff, Endpoint, Transport, Upstream, Verified, gateway_lost, json_body, timed};
use crate::{AppError, config::ProjectConfig, metrics::Metrics};

/// How far the platform's clock may be behind Runboard's when matching a lost start.
const CLOCK_SKEW: Duration = Duration::from_secs(2);

/// An accepted start.
pub(crate) struct Started {
    /// What the browser gets: the platform's answer, or one naming the recovered job.
    pub(crate) answer: Verified<ExecuteResponse>,
    /// The answer was lost and the job was found by looking it up.
    pub(crate) recovered: bool,
}

impl Upstream {
    /// `POST /api/testExecution/{projId}` for `project`.
    pub(crate) async fn start(
        &self,
        metrics: &Metrics,
        project: &ProjectConfig,
        request: &ExecuteRequest,
    ) -> Result<Started, AppError> {
        let call = self.start_once(metrics, project, request);
        timed(metrics, Endpoint::Execute, call).await
    }

    async fn start_once(
        &self,
        metrics: &Metrics,
        project: &ProjectConfig,
        request: &ExecuteRequest,
    ) -> Result<Started, AppError> {
        let pass = self.admit(metrics)?;
        let path = execute_path(&project.id);
        let body = json_body(request)?;
        let sent_at = Utc::now();
        let deadline = Instant::now() + self.timeout;
        let mut backoff = Backoff::new();
        let attempt = loop {
            let attempt = self
                .client
                .send(project, &path, Some(&body), deadline)
                .await;
            if matches!(attempt, Err(Transport::Connect))
                && let Some(wait) = backoff.next(deadline)
            {
                metrics.upstream_event("retry");
                tokio::time::sleep(wait).await;
                continue;
            }
            break attempt;
        };
        self.judge(metrics, pass, &attempt);
        let status = attempt.as_ref().ok().map(|reply| reply.status);
        let lost = match &attempt {
            Err(transport) => {
                matches!(
                    transport,
                    Transport::Timeout | Transport::Dropped | Transport::TooLarge
                )
            }
            Ok(reply) => gateway_lost(reply.status),
        };
        if !lost {
            match self.answer(project, Endpoint::Execute, attempt) {
                Ok(answer) => {
                    return Ok(Started {
                        answer,
                        recovered: false,
                    });
                }
                // A 2xx that cannot be read may well have started the run.
                Err(AppError::UpstreamInvalid) if status.is_some_and(|s| s.is_success()) => {}
                Err(err) => return Err(err),
            }
        }
        self.find_lost(metrics, project, request, sent_at).await
    }

    /// Looks for the job a start whose answer was lost may have created.
    async fn find_lost(
        &self,
        metrics: &Metrics,
        project: &ProjectConfig,
        request: &ExecuteRequest,
        sent_at: DateTime<Utc>,
    ) -> Result<Started, AppError> {
        tracing::warn!(
            project = %project.id,
            "the answer to a start was lost; looking for the job it may have created"
        );
        let path = jobs_path(&project.id);
        let deadline = Instant::now() + self.timeout;
        let agent = request.agent_name.as_ref().map(|a| a.as_str());
        let found = match self
            .client
            .send(project, &path, Some(b"{}"), deadline)
            .await
        {
            Ok(reply) if reply.status.is_success() && !self.holds_key(&reply.bytes) => {
                serde_json::from_slice::<JobsResponse>(&reply.bytes)
                    .ok()
                    .and_then(|jobs| lost_job(&jobs.jobs, agent, sent_at).map(str::to_owned))
            }
            _ => None,
        };
        let Some(job_id) = found else {
            metrics.upstream_event("lost_start_unknown");
            return Err(AppError::StartOutcomeUnknown);
        };
        tracing::info!(project = %project.id, job_id, "found the job of a start whose answer was lost");
        metrics.upstream_event("lost_start_found");
        let answer = Verified::own(&json!({
            "success": true,
            "scheduleStatus": "Success",
            "jobId": job_id,
        }))?;
        Ok(Started {
            answer,
            recovered: true,
        })
    }
}

/// The one job among `jobs` that changed after `sent_at` (less the clock skew) and runs
/// on `agent` (when the start named one and the job says which it is), or `None` when
/// there is no such job or more than one.
fn lost_job<'a>(jobs: &'a [Job], agent: Option<&str>, sent_at: DateTime<Utc>) -> Option<&'a str> {
    let since = sent_at - CLOCK_SKEW;
    let mut candidates = jobs.iter().filter(|job| {
        let recent = job
            .updated_at
            .as_deref()
            .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
            .is_some_and(|at| at >= since);
        let same_agent = match (agent, job.agent_name.as_deref()) {
            (Some(wanted), Some(actual)) => wanted == actual,
            _ => true,
        };
        recent && same_agent
    });
    let first = candidates.next()?;
    candidates.next().is_none().then_some(first.job_id.as_str())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn job(id: &str, updated: &str, agent: Option<&str>) -> Job {
        serde_json::from_value(json!({
            "jobId": id, "status": "Pending", "updatedAt": updated, "agentName": agent,
        }))
        .unwrap()
    }

    #[test]
    fn only_one_recent_job_on_the_agent_is_named() {
        let sent: DateTime<Utc> = "2026-11-28T10:00:00Z".parse().unwrap();
        let all = [
            job("old", "2026-11-28T09:00:00.000Z", Some("a")),
            job("new-a", "2026-11-28T10:00:01Z", Some("a")),
            job("new-b", "2026-11-28T10:00:01.500Z", Some("b")),
            job("unnamed", "2026-11-28T09:59:59Z", None),
        ];
        let check = |ids: &[&str], agent: Option<&str>, expected: Option<&str>| {
            let jobs: Vec<Job> = all
                .iter()
                .filter(|j| ids.contains(&j.job_id.as_str()))
                .cloned()
                .collect();
            assert_eq!(lost_job(&jobs, agent, sent), expected, "{ids:?} {agent:?}");
        };
        check(&["old", "new-a"], Some("a"), Some("new-a"));
        check(&["old", "new-a", "new-b"], Some("b"), Some("new-b"));
        check(&["new-a", "new-b"], None, None);
        check(&["old"], Some("a"), None);
        check(&["new-a", "unnamed"], Some("a"), None);
        check(&["unnamed"], Some("a"), Some("unnamed"));
        check(&[], None, None);
    }
}
