//! The only place HTTP happens: `runboard`'s endpoints on this page's own origin, with
//! the shared crate's types in and out, and every failure classified as a [`Failure`].
//! Every path is a shared [`Target`], so the widget asks for exactly what the server's
//! route table serves. The live report stream (`EventSource`) is its [`events`] module.

pub(crate) mod events;
pub(crate) mod notifications;
pub(crate) mod tokens;
pub(crate) mod triage;

use runboard_shared::{
    Bootstrap, ExecuteRequest, ExecuteResponse, ExecutionDetail, ExportFormat, FromJson,
    HistoryPage, HistoryQuery, JobId, JobsRequest, JobsResponse, ProjectId, RunId, Target,
    TestHistory, TestRun, ToJson,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

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
    let path = Target::TestRun(project.clone(), run.clone()).path();
    let headers: &[(&str, &str)] = match etag {
        Some(etag) => &[("If-None-Match", etag)],
        None => &[],
    };
    let sent = fetch("GET", &path, headers, None).await;
    if sent.as_ref().is_ok_and(|response| response.status() == 304) {
        return Ok((Fresh::Same, etag.map(str::to_owned)));
    }
    let tag = sent
        .as_ref()
        .ok()
        .and_then(|response| header(response, "etag"));
    Ok((Fresh::Changed(read(sent).await?), tag))
}

/// GETs `target` and reads its JSON answer.
async fn get<T: FromJson>(target: &Target) -> Result<T, Failure> {
    read(fetch("GET", &target.path(), &[], None).await).await
}

/// POSTs JSON (written with the shared crate's [`ToJson`], not serde) and reads the
/// JSON answer.
async fn post<B: ToJson, T: FromJson>(target: &Target, body: &B) -> Result<T, Failure> {
    decode(&change("POST", target, Some(&body.to_json())).await?)
}

/// Sends a change (`POST`, `DELETE`) to `target` with its JSON body, if any, and
/// `Content-Type: application/json`, which the proxy's CSRF rule requires of every
/// change; the text of its 2xx answer.
async fn change(method: &str, target: &Target, json: Option<&str>) -> Result<String, Failure> {
    let headers = [("Content-Type", "application/json")];
    body(fetch(method, &target.path(), &headers, json).await).await
}

/// Sends one request to this page's origin with the browser's `fetch`, in its default
/// `cors` mode with `same-origin` credentials: the request the page's preload hints
/// (`proxy/src/static_files/hints.rs`) ask for, so the browser hands a preloaded answer
/// over instead of fetching again. Straight over `web-sys`: a request builder would add
/// about 1 KB to the first load (frontend README, "Size"). `Err` only when no answer came.
async fn fetch(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Response, Failure> {
    let init = RequestInit::new();
    init.set_method(method);
    if !headers.is_empty() {
        let map = Headers::new().map_err(|_| Failure::Offline)?;
        for (name, value) in headers {
            map.set(name, value).map_err(|_| Failure::Offline)?;
        }
        init.set_headers(&map);
    }
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    let window = web_sys::window().ok_or(Failure::Offline)?;
    let answer = JsFuture::from(window.fetch_with_str_and_init(path, &init)).await;
    answer
        .ok()
        .and_then(|answer| answer.dyn_into::<Response>().ok())
        .ok_or(Failure::Offline)
}

/// The value of the answer's header `name`, if it has one.
fn header(response: &Response, name: &str) -> Option<String> {
    response.headers().get(name).ok().flatten()
}

/// Reads the JSON answer of a request that was sent, with the shared crate's
/// [`FromJson`], not serde (which would cost ~90 KB of wasm; frontend README, "Size").
/// Only the decoding is generic: the rest is [`body`], compiled once rather than once
/// per answer type.
async fn read<T: FromJson>(sent: Result<Response, Failure>) -> Result<T, Failure> {
    decode(&body(sent).await?)
}

/// An answer's JSON text as `T`.
fn decode<T: FromJson>(text: &str) -> Result<T, Failure> {
    runboard_shared::from_json(text).map_err(|e| Failure::BadAnswer(e.to_string()))
}

/// The text of a 2xx answer; any other status is classified as a [`Failure`].
async fn body(sent: Result<Response, Failure>) -> Result<String, Failure> {
    let response = sent?;
    let status = response.status();
    let retry_after = header(&response, "retry-after");
    let text = match response.text() {
        Ok(text) => JsFuture::from(text)
            .await
            .ok()
            .and_then(|text| text.as_string()),
        Err(_) => None,
    }
    .ok_or(Failure::Offline)?;
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

#[cfg(test)]
mod tests {
    use runboard_shared::{ProjectId, RunId, RunPage};

    use crate::router::Route;

    /// `runboard` sends a report's page with hints to preload its reads when the address
    /// is a shared `RunPage` (`proxy/src/static_files/hints.rs`); the widget must read the
    /// same address as the same run, or [`super::fetch`] asks again for nothing.
    #[test]
    fn the_report_address_the_server_hints_is_the_widget_s_run_route() {
        let page = RunPage {
            project: ProjectId::parse("shop_2").unwrap(),
            run: RunId::parse("64f1c0-aa").unwrap(),
        };
        let route = Route::Run {
            project: "shop_2".to_owned(),
            run: "64f1c0-aa".to_owned(),
        };
        assert_eq!(Route::parse(&page.path()), route);
        assert_eq!(RunPage::parse(&route.href()), Some(page));
    }
}
