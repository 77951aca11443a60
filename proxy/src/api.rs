//! The guide's three endpoints at the guide's paths: validate, authorise, then start a run
//! or read through the shared reads (`reads.rs`), which forward with the project's key and
//! pass the checked answer on as sent.

use std::collections::HashSet;

use axum::{extract::State, http::HeaderMap, response::Response};
use runboard_shared::{ExecuteRequest, ExecuteResponse, JobsRequest};

use crate::{
    AppError, AppState, audit,
    auth::Identity,
    csrf::SameOrigin,
    extract::{ApiJson, ProjectPath, RunPath},
    ledger, reads,
    upstream::Verified,
};

/// The most job ids one `jobs` request may ask for, after removing duplicates.
pub(crate) const MAX_JOB_IDS: usize = 200;

/// `POST /api/testExecution/{projId}`: start a run, if this user may, recorded in the
/// ledger (`ledger::start`).
pub(crate) async fn execute(
    State(state): State<AppState>,
    identity: Identity,
    _: SameOrigin,
    ProjectPath(proj): ProjectPath,
    ApiJson(request): ApiJson<ExecuteRequest>,
) -> Result<Verified<ExecuteResponse>, AppError> {
    let project = state.project(&proj)?;
    let result = match identity.check_start(&state.config().auth, project, &request) {
        Ok(()) => ledger::start(&state, project, identity.name(), &request).await,
        Err(refused) => Err(refused),
    };
    audit::execution(identity.name(), &proj, &request, &result);
    result.map(|started| started.answer)
}

/// `POST /api/jobs/{projId}`: job states, for at most [`MAX_JOB_IDS`] distinct ids,
/// through the project's shared reads (304 when `If-None-Match` names the answer).
pub(crate) async fn jobs(
    State(state): State<AppState>,
    _identity: Identity,
    _: SameOrigin,
    ProjectPath(proj): ProjectPath,
    headers: HeaderMap,
    ApiJson(request): ApiJson<JobsRequest>,
) -> Result<Response, AppError> {
    let project = state.project(&proj)?;
    let request = distinct_job_ids(request)?;
    let answer = reads::jobs(&state, project, &request).await?;
    Ok(answer.respond(&headers, state.metrics()).await)
}

/// `GET /api/testRun/{projId}/{runId}`: the run report, through the project's shared
/// reads (304 when `If-None-Match` names the answer).
pub(crate) async fn test_run(
    State(state): State<AppState>,
    _identity: Identity,
    RunPath(proj, run): RunPath,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let project = state.project(&proj)?;
    reads::respond_test_run(&state, project, &run, &headers).await
}

/// The request with each job id once (first occurrence kept), or `invalid_body` when
/// more than [`MAX_JOB_IDS`] remain.
fn distinct_job_ids(mut request: JobsRequest) -> Result<JobsRequest, AppError> {
    if let Some(ids) = request.job_ids.as_mut() {
        let mut seen = HashSet::with_capacity(ids.len());
        ids.retain(|id| seen.insert(id.clone()));
        if ids.len() > MAX_JOB_IDS {
            return Err(AppError::InvalidBody(format!(
                "at most {MAX_JOB_IDS} job ids per request; this one has {} distinct ids",
                ids.len()
            )));
        }
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(ids: impl IntoIterator<Item = String>) -> JobsRequest {
        serde_json::from_value(serde_json::json!({ "jobIds": ids.into_iter().collect::<Vec<_>>() }))
            .unwrap()
    }

    #[test]
    fn job_ids_are_made_distinct_then_capped() {
        let twice = (0..MAX_JOB_IDS)
            .chain(0..MAX_JOB_IDS)
            .map(|i| format!("j{i}"));
        let kept = distinct_job_ids(request(twice)).unwrap().job_ids.unwrap();
        assert_eq!(kept.len(), MAX_JOB_IDS);
        assert_eq!(kept[1].as_str(), "j1", "first occurrences, in order");
        let too_many = (0..=MAX_JOB_IDS).map(|i| format!("j{i}"));
        let err = distinct_job_ids(request(too_many)).unwrap_err();
        assert!(err.to_string().contains("at most 200 job ids"), "{err}");
        assert!(distinct_job_ids(JobsRequest::default()).is_ok());
    }
}
