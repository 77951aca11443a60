//! Starting a run, for every view that can (the start view's presets and form, the
//! report's "Re-run failed"): sends the start, remembers the job in this browser's book
//! and leaves the notice whose job the jobs view opens as soon as its run exists.

use leptos::prelude::Set;
use runboard_shared::{AgentName, ExecuteRequest, ProjectId, ScheduleStatus, Selector};

use crate::{
    api, browser,
    context::{Flash, Notice},
    logic::{failure::Failure, jobs::TrackedJob},
    store::{load_book, save_book},
};

/// One start: what to run, where, and how people call it.
#[derive(Clone)]
pub(crate) struct StartRequest {
    /// What runs.
    pub(crate) selector: Selector,
    /// The agent it runs on; any agent when `None`.
    pub(crate) agent: Option<AgentName>,
    /// Its name in notices and job rows ("Full regression", "2 failed tests").
    pub(crate) what: String,
}

/// Starts `request` in `project`. On success the job is remembered and `flash` holds
/// the notice; the caller then opens the jobs view. A start is never retried here.
pub(crate) async fn start_run(
    project: &ProjectId,
    request: StartRequest,
    Flash(flash): Flash,
) -> Result<(), Failure> {
    let body = ExecuteRequest::new(request.selector.clone(), request.agent.clone());
    let answer = api::execute(project, &body).await?;
    if answer.job_id.is_empty() {
        return Err(Failure::BadAnswer("no job id came back".into()));
    }
    let agent = request.agent.as_ref().map(ToString::to_string);
    let mut book = load_book(project.as_str());
    book.remember(TrackedJob::started(
        &answer.job_id,
        request.what.clone(),
        agent,
        browser::now_ms(),
    ));
    save_book(project.as_str(), &book);
    let text = if answer.schedule_status == ScheduleStatus::AlreadyExists {
        format!(
            "{} is already queued — following the existing job {}.",
            request.what, answer.job_id
        )
    } else {
        format!(
            "Started {} — job {}. Its report opens as soon as the run exists.",
            request.what, answer.job_id
        )
    };
    flash.set(Some(Notice {
        project: project.to_string(),
        job_id: answer.job_id,
        text,
        follow: true,
    }));
    Ok(())
}
