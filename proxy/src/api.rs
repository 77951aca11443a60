//! The guide's three endpoints at the guide's paths: validate, authorise, forward with the
//! project's key, check the answer against the shared types and pass it on as sent.

use std::collections::HashSet;

use axum::extract::State;
use runboard_shared::{
    Endpoint, ExecuteRequest, ExecuteResponse, JobsRequest, JobsResponse, TestRun, jobs_path,
    test_run_path,
};
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    AppError, AppState, audit,
    auth::Identity,
    config::ProjectConfig,
    csrf::SameOrigin,
    extract::{ApiJson, ProjectPath, RunPath},
    upstream::Verified,
};

/// The most job ids one `jobs` request may ask for, after removing duplicates.
pub(crate) const MAX_JOB_IDS: usize = 200;

/// `POST /api/testExecution/{projId}`: start a run, if this user may.
pub(crate) async fn execute(
    State(state): State<AppState>,
    identity: Identity,
    _: SameOrigin,
    ProjectPath(proj): ProjectPath,
    ApiJson(request): ApiJson<ExecuteRequest>,
) -> Result<Verified<ExecuteResponse>, AppError> {
    let project = state.project(&proj)?;
    let result = if identity.can_run(&state.config().auth, project) {
        state
            .upstream()
            .start(state.metrics(), project, &request)
            .await
    } else {
        Err(AppError::Forbidden(format!(
            "you may watch {} but not start runs; ask the Runboard administrator for access",
            project.name
        )))
    };
    audit::execution(identity.name(), &proj, &request, &result);
    result.map(|started| started.answer)
}

/// `POST /api/jobs/{projId}`: job states, for at most [`MAX_JOB_IDS`] distinct ids.
pub(crate) async fn jobs(
    State(state): State<AppState>,
    _identity: Identity,
    _: SameOrigin,
    ProjectPath(proj): ProjectPath,
    ApiJson(request): ApiJson<JobsRequest>,
) -> Result<Verified<JobsResponse>, AppError> {
    let project = state.project(&proj)?;
    let request = distinct_job_ids(request)?;
    let path = jobs_path(&proj);
    forward(&state, project, Endpoint::Jobs, &path, Some(&request)).await
}

/// `GET /api/testRun/{projId}/{runId}`: the run report.
pub(crate) async fn test_run(
    State(state): State<AppState>,
    _identity: Identity,
    RunPath(proj, run): RunPath,
) -> Result<Verified<TestRun>, AppError> {
    let project = state.project(&proj)?;
    let path = test_run_path(&proj, &run);
    forward(&state, project, Endpoint::TestRun, &path, None::<&()>).await
}

/// The one way a read reaches the platform: `endpoint` at `path` (built from validated
/// ids) for `project`, with the project's key, the answer checked to parse as `T`.
async fn forward<T: DeserializeOwned>(
    state: &AppState,
    project: &ProjectConfig,
    endpoint: Endpoint,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<Verified<T>, AppError> {
    state
        .upstream()
        .read(state.metrics(), project, endpoint, path, body)
        .await
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
