//! The JSON bodies the widget sends, built from the shared types: a start and a jobs poll.

use runboard_shared::{AgentName, ExecuteRequest, JobId, JobsRequest, Selector};

use crate::BenchError;

/// `{"jobIds":[…]}`.
pub(crate) fn jobs_body(ids: &[String]) -> Result<String, BenchError> {
    let job_ids = ids
        .iter()
        .map(|id| JobId::parse(id.as_str()))
        .collect::<Result<Vec<_>, _>>()?;
    let request = JobsRequest {
        job_ids: Some(job_ids),
    };
    serde_json::to_string(&request).map_err(|e| BenchError::Fixture(e.to_string()))
}

/// `{"action":"executeTests", <selector>, "agentName":"staging-agent"}`; the staging
/// agent is always connected, so the job starts at once.
pub(crate) fn execute_body(selector: Selector) -> Result<String, BenchError> {
    let agent = AgentName::parse("staging-agent")?;
    serde_json::to_string(&ExecuteRequest::new(selector, Some(agent)))
        .map_err(|e| BenchError::Fixture(e.to_string()))
}
