//! `GET /runboard/verdict/{projId}/{runId}`: the run's failures classed and what blocks,
//! decided by `shared`'s one implementation ([`Verdict::of_run`]) from the facts
//! `facts.rs` gathers. The report comes through the shared reads, checked as the report
//! route checks it; a finished one is parsed once and kept (`Triage::report`). The
//! answer's `Server-Timing` header says where the time went (step names and durations
//! only), which the verdict bench reads.

use std::time::Instant;

use axum::{
    extract::State,
    http::{HeaderName, HeaderValue, header},
    response::{IntoResponse, Response},
};
use runboard_shared::{RunId, TestRun, Verdict};

use super::facts::Facts;
use crate::{AppError, AppState, auth::Identity, config::ProjectConfig, extract::RunPath, reads};

const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");

/// The handler: identity, project and run id checked as for the report.
pub(crate) async fn verdict(
    State(state): State<AppState>,
    _identity: Identity,
    RunPath(proj, run): RunPath,
) -> Result<Response, AppError> {
    let project = state.project(&proj)?;
    let mut timing = Timing::start();
    let answer = reads::test_run(&state, project, &run).await?;
    let report = state.triage().report(&project.id, &run, &answer)?;
    timing.mark("report");
    let verdict = timed(
        &state,
        project,
        &run,
        &report,
        answer.is_finished(),
        &mut timing,
    )
    .await?;
    let body = serde_json::to_vec(&verdict).map_err(|_| AppError::UpstreamInvalid)?;
    timing.mark("json");
    let json = HeaderValue::from_static("application/json");
    Ok((
        [
            (header::CONTENT_TYPE, json),
            (SERVER_TIMING, timing.header()),
        ],
        body,
    )
        .into_response())
}

/// The verdict of `report` (run `run` of `project`); `finished` says it is final.
pub(crate) async fn compute(
    state: &AppState,
    project: &ProjectConfig,
    run: &RunId,
    report: &TestRun,
    finished: bool,
) -> Result<Verdict, AppError> {
    timed(state, project, run, report, finished, &mut Timing::start()).await
}

async fn timed(
    state: &AppState,
    project: &ProjectConfig,
    run: &RunId,
    report: &TestRun,
    finished: bool,
    timing: &mut Timing,
) -> Result<Verdict, AppError> {
    let facts = Facts::gather(state, project, run, report, finished, timing).await?;
    let verdict = Verdict::of_run(
        report,
        finished,
        |test| facts.of(test),
        |test| facts.owners_of(&test.id),
    );
    timing.mark("classify");
    Ok(verdict)
}

/// Where a verdict's time went, step by step: the `Server-Timing` header (names and
/// milliseconds only), `total` last.
pub(super) struct Timing {
    started: Instant,
    last: Instant,
    marks: Vec<(&'static str, f64)>,
}

impl Timing {
    fn start() -> Self {
        let now = Instant::now();
        Self {
            started: now,
            last: now,
            marks: Vec::new(),
        }
    }

    /// Ends step `name`, begun at the previous mark.
    pub(super) fn mark(&mut self, name: &'static str) {
        let now = Instant::now();
        let ms = now.duration_since(self.last).as_secs_f64() * 1000.0;
        self.marks.push((name, ms));
        self.last = now;
    }

    fn header(&self) -> HeaderValue {
        let total = self.last.duration_since(self.started).as_secs_f64() * 1000.0;
        let text = self
            .marks
            .iter()
            .chain([&("total", total)])
            .map(|(name, ms)| format!("{name};dur={ms:.2}"))
            .collect::<Vec<_>>()
            .join(", ");
        HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("total"))
    }
}
