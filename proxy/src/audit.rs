//! The audit trail: exactly one structured line per execution attempt, on the
//! `runboard::audit` target, with when, who, where, what, on which agent, which job and
//! how it ended (and why, when it did not start). Never the key: reasons are error
//! messages, which are scrubbed or Runboard's own words.

use chrono::{SecondsFormat, Utc};
use runboard_shared::{AgentName, ExecuteRequest, ProjectId};

use crate::{AppError, upstream::Started};

/// The `outcome` field of a start that did not happen, or may not have.
fn failed_outcome(err: &AppError) -> &'static str {
    match err {
        // Runboard or the platform said no: trying again as is will not help.
        AppError::Forbidden(_)
        | AppError::UpstreamRefused(_)
        | AppError::UpstreamRejected(..)
        | AppError::InvalidBody(_) => "refused",
        AppError::StartOutcomeUnknown => "unknown",
        _ => "failed",
    }
}

/// Writes the audit line for one execution attempt and how it ended. Every line has the
/// same fields (`job_id` and `reason` empty where they do not apply), so a ledger can
/// read them alike.
pub(crate) fn execution(
    user: &str,
    project: &ProjectId,
    request: &ExecuteRequest,
    result: &Result<Started, AppError>,
) {
    let time = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let selector = request.selector.describe();
    let agent = request
        .agent_name
        .as_ref()
        .map(AgentName::as_str)
        .unwrap_or("");
    let (job_id, outcome, reason) = match result {
        Ok(Started {
            answer,
            recovered: true,
        }) => (answer.value.job_id.as_str(), "recovered", String::new()),
        Ok(Started { answer, .. }) => (
            answer.value.job_id.as_str(),
            answer.value.schedule_status.as_str(),
            String::new(),
        ),
        Err(err) => ("", failed_outcome(err), err.to_string()),
    };
    tracing::info!(
        target: "runboard::audit",
        time,
        user,
        project = %project,
        selector,
        agent,
        job_id,
        outcome,
        reason,
        "execution"
    );
}
