//! The only place HTTP happens: `runboard`'s endpoints on this page's own origin, with
//! the shared crate's types in and out, and every failure classified as a [`Failure`].
//! Every path is a shared [`Target`], so the widget asks for exactly what the server's
//! route table serves. The live report stream (`EventSource`) is its [`events`] module.

pub(crate) mod events;
pub(crate) mod triage;

use gloo_net::http::{Request, Response};
use runboard_shared::{
    Bootstrap, ExecuteRequest, ExecuteResponse, ExecutionDetail, ExportFormat, FromJson,
    HistoryPage, HistoryQuery, JobId, JobsRequest, JobsResponse, ProjectId, RunId, Target,
    TestHistory, TestRun, ToJson,
};

use crate::logic::failure::Failure;

/// `GET /runboard/bootstrap`: projects, presets, poll intervals, the user.
pub(crate) async fn bootstrap() -> Result<Bootstrap, Failure> {
    get(&Target::Bootstrap).await
}

/// `POST /api/testExecution/{projId}`: starts a run.
pub(crate) async fn execute(
    project: &ProjectId,
    request: &ExecuteRequest,
) -> Result<ExecuteResponse, Failure> {
    post(&Target::Execute(project.clone()), request).await
}

/// `POST /api/jobs/{projId}`: the state of several jobs in one request.
pub(crate) async fn jobs(
    project: &ProjectId,
    request: &JobsRequest,
) -> Result<JobsResponse, Failure> {
    post(&Target::Jobs(project.clone()), request).await
}

/// Where `GET /runboard/history/{projId}` answers: JSON, or CSV with
/// [`HistoryFormat::Csv`](runboard_shared::HistoryFormat) in `query` (the same filters),
/// which the page links to for download.
pub(crate) fn history_url(project: &ProjectId, query: &HistoryQuery) -> String {
    Target::History(project.clone(), query.clone()).path()
}

/// `GET /runboard/history/{projId}`: one page of the project's recorded executions,
/// newest first, filtered by `query` (`preset`, `status`, `cursor`, …).
pub(crate) async fn history(
    project: &ProjectId,
    query: &HistoryQuery,
) -> Result<HistoryPage, Failure> {
    get(&Target::History(project.clone(), query.clone())).await
}

/// `GET /runboard/history/{projId}/jobs/{jobId}`: one recorded execution with its
/// results and the previous finished run of the same selector with its own.
pub(crate) async fn execution(
    project: &ProjectId,
    job: &JobId,
) -> Result<ExecutionDetail, Failure> {
    get(&Target::HistoryJob(project.clone(), job.clone())).await
}

/// `GET /runboard/history/{projId}/tests/{testId}?limit=N`: the test's last recorded
/// results, newest first, and how often they flipped between Passed and Failed.
pub(crate) async fn test_history(
    project: &ProjectId,
    test: &str,
    limit: usize,
) -> Result<TestHistory, Failure> {
    get(&Target::HistoryTest(
        project.clone(),
        test.to_owned(),
        Some(limit),
    ))
    .await
}

/// A run report read with `If-None-Match`.
pub(crate) enum Fresh {
    /// A new report.
    Changed(TestRun),
    /// 304: the report named by the `ETag` sent is still current.
    Same,
}

/// `GET /api/testRun/{projId}/{runId}`: a run report, or [`Fresh::Same`] when `etag`
/// (from the last read) still names it, so an unchanged report is not sent again; with
/// the `ETag` to send next time.
pub(crate) async fn test_run(
    project: &ProjectId,
    run: &RunId,
    etag: Option<&str>,
) -> Result<(Fresh, Option<String>), Failure> {
    let mut request = Request::get(&Target::TestRun(project.clone(), run.clone()).path());
    if let Some(etag) = etag {
        request = request.header("If-None-Match", etag);
    }
    let sent = request.send().await;
    if sent.as_ref().is_ok_and(|response| response.status() == 304) {
        return Ok((Fresh::Same, etag.map(str::to_owned)));
    }
    let tag = sent
        .as_ref()
        .ok()
        .and_then(|response| response.headers().get("etag"));
    Ok((Fresh::Changed(read(sent).await?), tag))
}

/// GETs `target` and reads its JSON answer.
async fn get<T: FromJson>(target: &Target) -> Result<T, Failure> {
    read(Request::get(&target.path()).send().await).await
}

/// POSTs JSON (written with the shared crate's [`ToJson`], not serde) with
/// `Content-Type: application/json`, which the proxy's CSRF rule requires.
async fn post<B: ToJson, T: FromJson>(target: &Target, body: &B) -> Result<T, Failure> {
    let request = Request::post(&target.path())
        .header("Content-Type", "application/json")
        .body(body.to_json())
        .map_err(|_| Failure::BadAnswer("could not encode the request".into()))?;
    read(request.send().await).await
}

/// Reads the JSON answer of a request that was sent, with the shared crate's
/// [`FromJson`], not serde (which would cost ~90 KB of wasm; frontend README, "Size").
/// Only the decoding is generic: the rest is [`body`], compiled once rather than once
/// per answer type.
async fn read<T: FromJson>(sent: Result<Response, gloo_net::Error>) -> Result<T, Failure> {
    let text = body(sent).await?;
    runboard_shared::from_json(&text).map_err(|e| Failure::BadAnswer(e.to_string()))
}

/// The text of a 2xx answer; any other status is classified as a [`Failure`].
async fn body(sent: Result<Response, gloo_net::Error>) -> Result<String, Failure> {
    let response = sent.map_err(|_| Failure::Offline)?;
    let status = response.status();
    let retry_after = response.headers().get("retry-after");
    let text = response.text().await.map_err(|_| Failure::Offline)?;
    if !(200..300).contains(&status) {
        return Err(Failure::from_response(
            status,
            &text,
            retry_after.as_deref(),
        ));
    }
    Ok(text)
}

/// Where `GET /runboard/export/{projId}/{runId}` answers the run report as a download
/// (the proxy makes the file, so the widget carries no CSV or XML writer).
pub(crate) fn export_url(project: &ProjectId, run: &RunId, format: ExportFormat) -> String {
    Target::Export(project.clone(), run.clone(), format).path()
}
