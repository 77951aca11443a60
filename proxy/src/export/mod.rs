//! `GET /runboard/export/{projId}/{runId}?format=csv|junit`: the run report as a CSV or
//! JUnit XML download. Identity, project and run id are checked as for the report route
//! (`api::test_run`), and the report is read through the same shared read
//! (`reads::test_run`), so a cached report costs no upstream call. Both carry each
//! failure's class from the run's verdict (`triage::compute`): a CSV `class` column, and
//! in JUnit a quarantined failure is skipped with its reason.

mod csv;
mod junit;

use axum::{
    extract::{Query, State, rejection::QueryRejection},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use runboard_shared::{ExportFormat, TestRun};
use serde::Deserialize;

use crate::{AppError, AppState, auth::Identity, extract::RunPath, reads, triage};

/// The query string as sent: the format as text, so that a missing or unknown one is
/// refused with [`FORMATS`] rather than serde's wording.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    format: Option<String>,
}

/// What an export may be.
const FORMATS: &str = "format is csv or junit";

/// The handler.
pub(crate) async fn report(
    State(state): State<AppState>,
    _identity: Identity,
    RunPath(proj, run): RunPath,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Response, AppError> {
    let project = state.project(&proj)?;
    let Query(params) = params.map_err(|e| AppError::InvalidQuery(e.body_text()))?;
    let format = params
        .format
        .as_deref()
        .and_then(ExportFormat::parse)
        .ok_or_else(|| AppError::InvalidQuery(FORMATS.to_owned()))?;
    let answer = reads::test_run(&state, project, &run).await?;
    let report: TestRun =
        serde_json::from_slice(answer.bytes()).map_err(|_| AppError::UpstreamInvalid)?;
    let verdict = triage::compute(&state, project, &run, &report, answer.is_finished()).await?;
    let (mime, name, body) = match format {
        ExportFormat::Junit => (
            "application/xml; charset=utf-8",
            format!("run-{run}.junit.xml"),
            junit::run_junit(&report, &verdict),
        ),
        ExportFormat::Csv => (
            "text/csv; charset=utf-8",
            format!("run-{run}.csv"),
            csv::run_csv(&report, &verdict),
        ),
    };
    // A validated run id holds no quote or control character, so this is a valid value.
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// A test's title, or "untitled test" (as the widget shows it).
fn test_title(title: &str) -> &str {
    if title.trim().is_empty() {
        "untitled test"
    } else {
        title
    }
}
