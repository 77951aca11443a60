//! Handlers of the three documented endpoints, and the answers for unknown routes and
//! wrong methods. Authorisation already happened in the middleware.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{Method, Uri, header},
    response::{IntoResponse, Response},
};
use runboard_shared::{Endpoint, ExecuteRequest, ExecuteResponse, RunStatus, ScheduleStatus};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{body::RawBody, odd};
use crate::{
    Simulator,
    config::Shapes,
    error::{SimError, parse_json},
    report,
    store::Execution,
};

/// `POST /api/testExecution/{projId}`.
pub(super) async fn execute(
    State(sim): State<Simulator>,
    Path(project_id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, SimError> {
    let request: ExecuteRequest = parse_json(&body)?;
    let now = sim.now();
    let execution = sim.store().execute(&project_id, request, now)?;
    let accepted = |schedule_status, job_id| {
        let response = ExecuteResponse {
            success: true,
            schedule_status,
            job_id,
        };
        Json(response).into_response()
    };
    Ok(match execution {
        Execution::Started(job_id) => accepted(ScheduleStatus::Success, job_id),
        Execution::AlreadyQueued(job_id) if sim.faults().shapes == Shapes::Odd => {
            odd::duplicate_start(&job_id)
        }
        Execution::AlreadyQueued(job_id) => accepted(ScheduleStatus::AlreadyExists, job_id),
        Execution::Refused(message) => {
            Json(json!({"success": false, "message": message})).into_response()
        }
    })
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
) -> Result<Response, SimError> {
    let request: JobsBody = parse_json(&body)?;
    let now = sim.now();
    let answer = sim.store().jobs(&project_id, request.job_ids, now)?;
    if sim.faults().shapes == Shapes::Odd {
        let mut answer = serde_json::to_value(answer).map_err(internal)?;
        odd::jobs(&mut answer);
        return Ok(Json(answer).into_response());
    }
    Ok(Json(answer).into_response())
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
    let odd = sim.faults().shapes == Shapes::Odd;
    if let Some(cached) = job.final_report.get() {
        return report_answer(cached.clone(), odd);
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
        Ok(Some(bytes)) => report_answer(bytes, odd),
        Ok(None) => Err(SimError::NotFound(format!(
            "test run {run_id} was not found in this project"
        ))),
        Err(error) => Err(internal(error)),
    }
}

/// A report's answer: its plain JSON, or that JSON reshaped when `odd`.
fn report_answer(bytes: Bytes, odd: bool) -> Result<Response, SimError> {
    if !odd {
        return Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response());
    }
    let mut report: Value = serde_json::from_slice(&bytes).map_err(internal)?;
    odd::report(&mut report);
    Ok(Json(report).into_response())
}

/// A failure inside the simulator: logged, answered without detail.
fn internal(error: impl std::fmt::Display) -> SimError {
    tracing::error!(%error, "building an answer failed");
    SimError::Internal
}

/// Any path the simulator does not serve.
pub(super) async fn unknown_route(uri: Uri) -> SimError {
    let [execute, jobs, test_run] = Endpoint::ALL;
    SimError::NotFound(format!(
        "no endpoint at {}; the API has {execute}, {jobs} and {test_run}",
        uri.path()
    ))
}

/// A known path called with the wrong method.
pub(super) async fn method_not_allowed(method: Method, uri: Uri) -> SimError {
    SimError::MethodNotAllowed(format!("{method} is not supported on {}", uri.path()))
}
