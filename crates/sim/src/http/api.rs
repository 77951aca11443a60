//! Handlers of the three documented endpoints, and the answers for unknown routes and
//! wrong methods. Authorisation already happened in the middleware.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{Method, Uri, header},
    response::{IntoResponse, Response},
};
use runboard_shared::{ExecuteRequest, ExecuteResponse, JobsResponse, RunStatus};
use serde::Deserialize;

use super::body::RawBody;
use crate::{
    Simulator,
    error::{SimError, parse_json},
    report,
};

/// `POST /api/testExecution/{projId}`.
pub(super) async fn execute(
    State(sim): State<Simulator>,
    Path(project_id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Json<ExecuteResponse>, SimError> {
    let request: ExecuteRequest = parse_json(&body)?;
    let now = sim.now();
    sim.store().execute(&project_id, request, now).map(Json)
}

/// The body of `POST /api/jobs`: lenient, since any string id is allowed (ids that
/// match nothing are reported missing, not refused).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobsBody {
    #[serde(default)]
    job_ids: Option<Vec<String>>,
}

/// `POST /api/jobs/{projId}`.
pub(super) async fn jobs(
    State(sim): State<Simulator>,
    Path(project_id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Json<JobsResponse>, SimError> {
    let request: JobsBody = parse_json(&body)?;
    let now = sim.now();
    sim.store()
        .jobs(&project_id, request.job_ids, now)
        .map(Json)
}

/// `GET /api/testRun/{projId}/{runId}`. A completed report never changes, so its JSON
/// is built once and reused; building runs off the async workers, since a 10,000-test
/// report is megabytes.
pub(super) async fn test_run(
    State(sim): State<Simulator>,
    Path((project_id, run_id)): Path<(String, String)>,
) -> Result<Response, SimError> {
    let now = sim.now();
    let (job, data) = sim.store().run(&project_id, &run_id, now)?;
    if let Some(cached) = job.final_report.get() {
        return Ok(json_bytes(cached.clone()));
    }
    let built = tokio::task::spawn_blocking(move || -> Result<Option<Bytes>, String> {
        let Some(report) = report::run_report(&job, &data, now) else {
            return Ok(None);
        };
        let bytes = Bytes::from(serde_json::to_vec(&report).map_err(|e| e.to_string())?);
        if report.status == RunStatus::Completed {
            // Another request may have won the race; both built the same bytes.
            let _ = job.final_report.set(bytes.clone());
        }
        Ok(Some(bytes))
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|built| built);
    match built {
        Ok(Some(bytes)) => Ok(json_bytes(bytes)),
        Ok(None) => Err(SimError::NotFound(format!(
            "test run {run_id} was not found in this project"
        ))),
        Err(error) => {
            tracing::error!(%error, "building a run report failed");
            Err(SimError::Internal)
        }
    }
}

fn json_bytes(bytes: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

/// Any path the simulator does not serve.
pub(super) async fn unknown_route(uri: Uri) -> SimError {
    SimError::NotFound(format!(
        "no endpoint at {}; the API has POST /api/testExecution/{{projId}}, \
         POST /api/jobs/{{projId}} and GET /api/testRun/{{projId}}/{{runId}}",
        uri.path()
    ))
}

/// A known path called with the wrong method.
pub(super) async fn method_not_allowed(method: Method, uri: Uri) -> SimError {
    SimError::MethodNotAllowed(format!("{method} is not supported on {}", uri.path()))
}
