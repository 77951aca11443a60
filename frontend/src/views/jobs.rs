//! The jobs view: the jobs this browser started and the project's active jobs, polled
//! in one batched request per tick; opens the run of a job just started from here.

use leptos::prelude::*;
use runboard_shared::ProjectInfo;

use crate::{
    api, browser,
    components::{banner::ErrorBanner, chip::Chip},
    context::{self, Clock, Flash},
    live::shown,
    logic::{format, jobs::TrackedJob, links::Prefs, look},
    poller,
    router::{Route, router},
    store::{load_book, save_book},
    views::not_found::UnknownProject,
};

/// `/p/:proj/jobs`.
#[component]
pub(crate) fn JobsView(
    /// The project id from the address.
    project: String,
) -> impl IntoView {
    match context::boot().project(&project) {
        Some(project) => view! { <JobsPage project=project /> }.into_any(),
        None => view! { <UnknownProject id=project /> }.into_any(),
    }
}

/// The jobs of one project.
#[component]
fn JobsPage(
    /// The project whose jobs are shown.
    project: ProjectInfo,
) -> impl IntoView {
    let prefs = expect_context::<Prefs>();
    let Flash(flash) = expect_context::<Flash>();
    let proj = project.id.clone();
    let mut remembered = load_book(proj.as_str());
    // A job whose undocumented-status clock ran out while no page was open is not
    // asked for again, not even once.
    remembered.expire(browser::now_ms());
    let book = RwSignal::new(remembered);
    let loaded = RwSignal::new(false);
    let interval = context::boot().0.poll.jobs_ms;
    let tick_proj = proj.clone();
    let status = poller::start(interval, move |n| {
        let proj = tick_proj.clone();
        async move {
            let request = book.with_untracked(|b| b.request(n));
            let answer = api::jobs(&proj, &request).await?;
            let now = browser::now_ms();
            book.update(|b| {
                b.apply(&answer, now);
                b.expire(now);
            });
            book.with_untracked(|b| save_book(proj.as_str(), b));
            loaded.set(true);
            Ok(false)
        }
    });

    let router = router();
    let follow_proj = proj.to_string();
    Effect::new(move |_| {
        let Some(notice) = flash.get().filter(|n| n.follow && n.project == follow_proj) else {
            return;
        };
        let run = book.with(|b| b.get(&notice.job_id).and_then(|j| j.test_run_id.clone()));
        if let Some(run) = run {
            flash.update(|n| {
                if let Some(n) = n {
                    n.follow = false
                }
            });
            let href = prefs.href(
                &Route::Run {
                    project: follow_proj.clone(),
                    run,
                }
                .href(),
                &[("job", notice.job_id.as_str())],
            );
            router.navigate(&href, false);
        }
    });

    let notice_proj = proj.to_string();
    let row_proj = StoredValue::new(proj.to_string());
    let empty_proj = proj.to_string();
    view! {
        <section class="rb-jobs-view" aria-labelledby="rb-jobs-title">
            <h1 id="rb-jobs-title" class="rb-title">"Jobs"</h1>
            {shown(move || flash.get().filter(|n| n.project == notice_proj).map(|n| view! {
                <p class="rb-notice rb-notice-ok" role="status" data-testid="start-notice">{n.text}</p>
            }.into_any()))}
            <ErrorBanner status=status />
            <Show when=move || !book.with(|b| b.jobs().is_empty())
                fallback=move || {
                    let start = Route::Start {
                        project: empty_proj.clone(),
                    };
                    let href = prefs.href(&start.href(), &[]);
                    view! {
                        <div class="rb-empty" data-testid="jobs-empty">
                            <p>{shown(move || if loaded.get() { "No jobs yet." } else { "Looking for jobs…" })}</p>
                            <p class="rb-muted">"Jobs you start from this browser, and every active job of the project, appear here. "
                                <a href=href.clone()>"Start a run"</a>"."</p>
                        </div>
                    }
                }>
                <ul class="rb-jobs" aria-label="Jobs, newest first">
                    <For each=move || book.with(|b| b.jobs().to_vec())
                        key=TrackedJob::row_key
                        let:job>
                        <JobRow job=job project=row_proj.get_value() />
                    </For>
                </ul>
            </Show>
        </section>
    }
}

/// One job: status chip, what, plain-words status, agent, last update, report link.
#[component]
fn JobRow(
    /// The job.
    job: TrackedJob,
    /// Its project's id.
    project: String,
) -> impl IntoView {
    let prefs = expect_context::<Prefs>();
    let Clock(now) = expect_context::<Clock>();
    let wire = job
        .status
        .as_ref()
        .map_or("Starting", |s| s.as_str())
        .to_owned();
    let description = job.describe();
    let no_report = if job.is_open() {
        "no report yet"
    } else if job.status == Some(runboard_shared::JobStatus::Failed) {
        "failed before a report existed"
    } else {
        "no report"
    };
    let what = job
        .what
        .clone()
        .unwrap_or_else(|| format!("Job {}", short(&job.job_id)));
    let changed = job.last_change_ms();
    let outcome = job.outcome.map(|o| o.describe());
    let started = job.started_ms;
    let by = if job.mine { " from this browser" } else { "" };
    let full = changed.map(|ms| format::timestamp(ms, browser::local_offset_min(ms)));
    let link = job.test_run_id.clone().map(|run| {
        let report = Route::Run {
            project: project.clone(),
            run,
        };
        let href = prefs.href(&report.href(), &[("job", job.job_id.as_str())]);
        // The link covers the whole row (CSS), so the row opens the report.
        view! { <a class="rb-job-link" data-testid="job-run-link" href=href>"Open report →"</a> }
    });
    view! {
        <li class=if job.test_run_id.is_some() { "rb-job rb-job-linked" } else { "rb-job" } data-testid="job-row" data-job-id=job.job_id.clone() data-status=wire
            data-followed=if job.unfollowed { "0" } else { "1" }>
            <Chip look=look::job(job.status.as_ref()) />
            <div class="rb-job-main">
                <span class="rb-job-what" title=job.job_id.clone()>{what}
                    {(!job.mine).then(|| view! { <span class="rb-muted">" · started elsewhere"</span> })}
                </span>
                <span class="rb-job-desc" data-testid="job-description">{description}</span>
                {outcome.map(|o| view! { <span class="rb-job-outcome rb-num" data-testid="job-outcome">{o}</span> })}
                {started.map(|ms| view! {
                    <span class="rb-job-started rb-num">{shown(move || format!("started {}{by}", format::ago(now.get(), ms)))}</span>
                })}
            </div>
            <span class="rb-job-agent">{job.agent.clone().map(|a| format!("agent {a}"))}</span>
            <span class="rb-job-when rb-num" title=full>{shown(move || changed.map(|ms| format::ago(now.get(), ms)))}</span>
            <span class="rb-job-run">{match link {
                Some(link) => link.into_any(),
                None => view! { <span class="rb-muted">{no_report}</span> }.into_any(),
            }}</span>
        </li>
    }
}

fn short(id: &str) -> &str {
    id.get(id.len().saturating_sub(6)..).unwrap_or(id)
}
