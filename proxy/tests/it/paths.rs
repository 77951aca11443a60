//! Runboard's own paths for [`PROJECT`](crate::common::PROJECT) and the reading of
//! request lines, built from `shared`'s route table so no test spells a path by hand
//! (the guide's three paths are `common`'s). Deliberately broken paths are not here:
//! each test fills them in with `Route::fill`, byte for byte as it sends them.

use runboard_shared::{Endpoint, ExportFormat, HistoryQuery, JobId, RunId, Target};

use crate::common::project_id;

/// `GET /runboard/export/…` of `run` (a valid id) as `format`.
pub(crate) fn export_path(run: &str, format: ExportFormat) -> String {
    Target::Export(project_id(), RunId::parse(run).unwrap(), format).path()
}

/// `GET /runboard/live/…` of `run` (a valid id).
pub(crate) fn live_path(run: &str) -> String {
    Target::Live(project_id(), RunId::parse(run).unwrap(), None).path()
}

/// `GET /runboard/live/…?since=` of `run` (a valid id), holding the report `since`.
pub(crate) fn live_path_since(run: &str, since: &str) -> String {
    Target::Live(
        project_id(),
        RunId::parse(run).unwrap(),
        Some(since.to_owned()),
    )
    .path()
}

/// `GET /runboard/history/…` with `query`.
pub(crate) fn history_path(query: HistoryQuery) -> String {
    Target::History(project_id(), query).path()
}

/// `GET /runboard/history/…/jobs/{job}` (a valid id).
pub(crate) fn history_job_path(job: &str) -> String {
    Target::HistoryJob(project_id(), JobId::parse(job).unwrap()).path()
}

/// The request line `METHOD path HTTP/1.1` of a request written raw.
pub(crate) fn request_line(method: &str, path: &str) -> String {
    format!("{method} {path} HTTP/1.1")
}

/// The guide's endpoint a received request line (`METHOD path HTTP/1.1`) calls, when
/// its method is that endpoint's: how a hand-written upstream tells a start apart.
pub(crate) fn endpoint_of_line(line: &str) -> Option<Endpoint> {
    let mut words = line.split(' ');
    let (method, path) = (words.next()?, words.next()?);
    Endpoint::of_path(path).filter(|endpoint| endpoint.method() == method)
}

#[test]
fn a_request_line_names_its_endpoint_only_with_that_endpoints_method() {
    let check = |line: String, expected| assert_eq!(endpoint_of_line(&line), expected, "{line}");
    check(
        request_line("POST", &crate::common::execute_path()),
        Some(Endpoint::Execute),
    );
    check(
        request_line("POST", &crate::common::jobs_path()),
        Some(Endpoint::Jobs),
    );
    check(
        request_line("GET", &format!("{}?x=1", crate::common::run_path("r1"))),
        Some(Endpoint::TestRun),
    );
    check(request_line("GET", &crate::common::execute_path()), None);
    check(request_line("POST", &live_path("r1")), None);
    check("POST".to_owned(), None);
}
