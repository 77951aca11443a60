//! The guide's three endpoints at the guide's paths: validate, authorise, forward with the
//! project's key, check the answer against the shared types and pass it on as sent.

use axum::extract::State;
use runboard_shared::{ExecuteRequest, ExecuteResponse, JobsRequest, JobsResponse, TestRun};

use crate::{
    AppError, AppState,
    audit::{self, Outcome},
    auth::Identity,
    csrf::SameOrigin,
    extract::{ApiJson, ProjectPath, RunPath},
    upstream::{Endpoint, Verified},
};

/// `POST /api/testExecution/{projId}`: start a run, if this user may.
pub(crate) async fn execute(
    State(state): State<AppState>,
    identity: Identity,
    _: SameOrigin,
    ProjectPath(proj): ProjectPath,
    ApiJson(request): ApiJson<ExecuteRequest>,
) -> Result<Verified<ExecuteResponse>, AppError> {
    let project = state.project(&proj)?;
    if !identity.can_run(&state.config().auth, project) {
        let err = AppError::Forbidden(format!(
            "you may watch {} but not start runs; ask the Runboard administrator for access",
            project.name
        ));
        audit::execution(identity.name(), &proj, &request, Outcome::Refused(&err));
        return Err(err);
    }
    let path = format!("/api/testExecution/{proj}");
    let result: Result<Verified<ExecuteResponse>, AppError> = state
        .upstream()
        .call(
            state.metrics(),
            project,
            Endpoint::Execute,
            &path,
            Some(&request),
        )
        .await;
    let outcome = match &result {
        Ok(answer) => Outcome::Accepted {
            job_id: &answer.value.job_id,
            schedule: answer.value.schedule_status.as_str(),
        },
        Err(err) => Outcome::Refused(err),
    };
    audit::execution(identity.name(), &proj, &request, outcome);
    result
}

/// `POST /api/jobs/{projId}`: job states.
pub(crate) async fn jobs(
    State(state): State<AppState>,
    _identity: Identity,
    _: SameOrigin,
    ProjectPath(proj): ProjectPath,
    ApiJson(request): ApiJson<JobsRequest>,
) -> Result<Verified<JobsResponse>, AppError> {
    let project = state.project(&proj)?;
    let path = format!("/api/jobs/{proj}");
    state
        .upstream()
        .call(
            state.metrics(),
            project,
            Endpoint::Jobs,
            &path,
            Some(&request),
        )
        .await
}

/// `GET /api/testRun/{projId}/{runId}`: the run report.
pub(crate) async fn test_run(
    State(state): State<AppState>,
    _identity: Identity,
    RunPath(proj, run): RunPath,
) -> Result<Verified<TestRun>, AppError> {
    let project = state.project(&proj)?;
    let path = format!("/api/testRun/{proj}/{run}");
    state
        .upstream()
        .call(
            state.metrics(),
            project,
            Endpoint::TestRun,
            &path,
            None::<&()>,
        )
        .await
}
