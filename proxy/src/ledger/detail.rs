//! What comparison and flaky hints read: `GET /runboard/history/{projId}/jobs/{jobId}`
//! (one execution, its tests' results, the previous finished run of the same selector and
//! its results) and `GET /runboard/history/{projId}/tests/{testId}` (one test's last
//! results and how often they flipped between `Passed` and `Failed`).

use axum::{
    Json,
    extract::{
        Path, Query, State,
        rejection::{PathRejection, QueryRejection},
    },
};
use runboard_ledger::{ExecutionId, Ledger, MAX_PAGE, TestOutcome};
use runboard_shared::{
    ExecutionDetail, HistoryTest, Id, JobId, ProjectId, TestHistory, TestRunRecord, ValidationError,
};
use serde::Deserialize;

use super::{
    history::{rfc3339, wire},
    ledger_error,
};
use crate::{AppError, AppState, auth::Identity};

/// Results per test unless `limit` says otherwise.
const DEFAULT_TEST_LIMIT: usize = 20;

/// `GET /runboard/history/{projId}/jobs/{jobId}`.
pub(crate) async fn execution(
    State(state): State<AppState>,
    _identity: Identity,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<ExecutionDetail>, AppError> {
    let (proj, job) = segments(path)?;
    let proj = ProjectId::parse(proj).map_err(AppError::InvalidId)?;
    let job = JobId::parse(job).map_err(AppError::InvalidId)?;
    let project = state.project(&proj)?;
    let ledger = state.ledger().ledger();
    let found = ledger
        .execution(project.id.as_str(), job.as_str())
        .await
        .map_err(ledger_error)?
        .ok_or_else(|| AppError::NotFound(format!("job {job} in the ledger")))?;
    let previous = ledger.previous(&found).await.map_err(ledger_error)?;
    let previous_results = match &previous {
        Some(p) => results(ledger, p.id).await?,
        None => Vec::new(),
    };
    Ok(Json(ExecutionDetail {
        results: results(ledger, found.id).await?,
        execution: wire(&found),
        previous: previous.as_ref().map(wire),
        previous_results,
    }))
}

async fn results(ledger: &Ledger, id: ExecutionId) -> Result<Vec<HistoryTest>, AppError> {
    let outcomes = ledger.results(id).await.map_err(ledger_error)?;
    Ok(outcomes.into_iter().map(test).collect())
}

fn test(outcome: TestOutcome) -> HistoryTest {
    HistoryTest {
        test_id: outcome.test_id,
        title: outcome.title,
        status: outcome.status,
        duration_ms: outcome.duration_ms.and_then(|d| u64::try_from(d).ok()),
    }
}

/// `?limit=` of the test history.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TestParams {
    limit: Option<usize>,
}

/// `GET /runboard/history/{projId}/tests/{testId}`.
pub(crate) async fn test_history(
    State(state): State<AppState>,
    _identity: Identity,
    path: Result<Path<(String, String)>, PathRejection>,
    params: Result<Query<TestParams>, QueryRejection>,
) -> Result<Json<TestHistory>, AppError> {
    let (proj, test_id) = segments(path)?;
    let proj = ProjectId::parse(proj).map_err(AppError::InvalidId)?;
    let test_id = Id::parse("testId", test_id).map_err(AppError::InvalidId)?;
    let project = state.project(&proj)?;
    let Query(params) = params.map_err(|e| AppError::InvalidQuery(e.body_text()))?;
    let limit = params.limit.unwrap_or(DEFAULT_TEST_LIMIT);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::InvalidQuery(format!(
            "limit is from 1 to {MAX_PAGE}"
        )));
    }
    let records = state
        .ledger()
        .ledger()
        .test_history(project.id.as_str(), test_id.as_str(), limit)
        .await
        .map_err(ledger_error)?;
    let statuses: Vec<&str> = records.iter().map(|r| r.status.as_str()).collect();
    Ok(Json(TestHistory {
        test_id: test_id.to_string(),
        flips: flips(&statuses),
        results: records
            .into_iter()
            .map(|r| TestRunRecord {
                job_id: r.job_id,
                status: r.status,
                duration_ms: r.duration_ms.and_then(|d| u64::try_from(d).ok()),
                started_at: rfc3339(r.started_at),
            })
            .collect(),
    }))
}

/// The two path segments, or `invalid_id` in Runboard's error format.
fn segments(
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<(String, String), AppError> {
    path.map(|Path(pair)| pair)
        .map_err(|e| AppError::InvalidId(ValidationError::new("path", e.body_text())))
}

/// Changes between `Passed` and `Failed` from one result to the next, other statuses
/// (skipped, undocumented) left out.
fn flips(statuses: &[&str]) -> u32 {
    let decided: Vec<&&str> = statuses
        .iter()
        .filter(|s| matches!(**s, "Passed" | "Failed"))
        .collect();
    decided.windows(2).filter(|w| w[0] != w[1]).count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flips_count_changes_between_passed_and_failed_only() {
        let check = |statuses: &[&str], expected: u32| {
            assert_eq!(flips(statuses), expected, "{statuses:?}")
        };
        check(&[], 0);
        check(&["Passed"], 0);
        check(&["Passed", "Passed", "Passed"], 0);
        check(&["Failed", "Passed"], 1);
        check(&["Passed", "Failed", "Passed", "Failed"], 3);
        check(&["Passed", "Skipped", "Passed"], 0);
        check(&["Failed", "Skipped", "Passed", "Blocked", "Failed"], 2);
    }
}
