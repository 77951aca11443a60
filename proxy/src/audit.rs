//! The audit trail: one structured line per execution attempt, on the `runboard::audit`
//! target, with who, where, what, on which agent, and how it ended. Never the key.

use runboard_shared::{AgentName, ExecuteRequest, ProjectId};

use crate::AppError;

/// How an execution attempt ended.
pub(crate) enum Outcome<'a> {
    /// The upstream accepted it (`Success` or `AlreadyExists`).
    Accepted { job_id: &'a str, schedule: &'a str },
    /// Runboard or the upstream refused it.
    Refused(&'a AppError),
}

/// Writes the audit line.
pub(crate) fn execution(
    user: &str,
    project: &ProjectId,
    request: &ExecuteRequest,
    outcome: Outcome<'_>,
) {
    let selector = request.selector.describe();
    let agent = request
        .agent_name
        .as_ref()
        .map(AgentName::as_str)
        .unwrap_or("");
    match outcome {
        Outcome::Accepted { job_id, schedule } => tracing::info!(
            target: "runboard::audit",
            user,
            project = %project,
            selector,
            agent,
            job_id,
            outcome = schedule,
            "execution"
        ),
        Outcome::Refused(err) => tracing::warn!(
            target: "runboard::audit",
            user,
            project = %project,
            selector,
            agent,
            job_id = "",
            outcome = "refused",
            reason = %err,
            "execution"
        ),
    }
}
