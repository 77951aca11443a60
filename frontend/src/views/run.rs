//! The run report view: header, summary bar, filterable windowed tests table, exports.
//! It refreshes while the job or run is live, and the user's filter, sort, search,
//! scroll position and expanded rows survive every refresh (and, except scroll and
//! expansion, a reload: they live in the address).

use std::{collections::HashSet, sync::Arc};

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use runboard_shared::{JobId, JobStatus, JobsRequest, ProjectInfo, RunId, TestRun};

use crate::{
    api, browser,
    components::{
        banner::ErrorBanner, export::ExportBar, summary::RunHeader, table::TestsTable,
        toolbar::Toolbar,
    },
    context::{self, Flash},
    live::{live, shown},
    logic::{
        filter::{SortKey, StatusFilter, TestIndex, select},
        jobs::supersedes,
        links::{Prefs, parse_query, run_path},
        summary::is_live,
    },
    poller, store,
    views::not_found::UnknownProject,
};

/// The report shared by the view's pieces; `None` until the first answer.
pub(crate) type Report = RwSignal<Option<Arc<TestRun>>>;

/// The user's view of the table: kept across refreshes.
#[derive(Clone, Copy)]
pub(crate) struct TableState {
    /// The status chip picked.
    pub(crate) filter: RwSignal<StatusFilter>,
    /// The search text.
    pub(crate) query: RwSignal<String>,
    /// The sort order.
    pub(crate) sort: RwSignal<SortKey>,
    /// Ids of the expanded tests.
    pub(crate) expanded: RwSignal<HashSet<String>>,
}

/// `/p/:proj/runs/:run`.
#[component]
pub(crate) fn RunView() -> impl IntoView {
    let params = use_params_map();
    live(move || {
        let (id, run) = params.with(|p| {
            (
                p.get("proj").unwrap_or_default(),
                p.get("run").unwrap_or_default(),
            )
        });
        match (context::boot().project(&id), RunId::parse(run)) {
            (Some(project), Ok(run)) => view! { <RunPage project=project run=run /> }.into_any(),
            (None, _) => view! { <UnknownProject id=id /> }.into_any(),
            (Some(_), Err(e)) => view! {
                <section class="rb-empty"><h1>"Not a run id"</h1><p>{e.problem}</p></section>
            }
            .into_any(),
        }
    })
}

/// The report of one run.
#[component]
fn RunPage(
    /// The run's project.
    project: ProjectInfo,
    /// The run.
    run: RunId,
) -> impl IntoView {
    let prefs = expect_context::<Prefs>();
    let Flash(flash) = expect_context::<Flash>();
    let pairs = parse_query(&browser::location_search());
    let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let job: Option<JobId> = get("job").and_then(|j| JobId::parse(j).ok());
    let state = TableState {
        filter: RwSignal::new(StatusFilter::parse(&get("status").unwrap_or_default())),
        query: RwSignal::new(get("q").unwrap_or_default()),
        sort: RwSignal::new(SortKey::parse(&get("sort").unwrap_or_default())),
        expanded: RwSignal::new(HashSet::new()),
    };

    let report: Report = RwSignal::new(None);
    let job_status: RwSignal<Option<JobStatus>> = RwSignal::new(None);
    // The job's `updatedAt` beside its status, so an older answer never moves it back.
    let job_updated: StoredValue<Option<String>> = StoredValue::new(None);
    let proj = project.id.clone();
    let (tick_run, tick_job) = (run.clone(), job.clone());
    let poll = poller::start(context::boot().0.poll.run_ms, move |_| {
        let (proj, run, job) = (proj.clone(), tick_run.clone(), tick_job.clone());
        async move {
            let answer = api::test_run(&proj, &run).await?;
            let known_terminal =
                job_status.with_untracked(|s| s.as_ref().is_some_and(JobStatus::is_terminal));
            if let (Some(job), false) = (&job, known_terminal) {
                let jobs = api::jobs(
                    &proj,
                    &JobsRequest {
                        job_ids: Some(vec![job.clone()]),
                    },
                )
                .await?;
                let found = jobs.jobs.into_iter().find(|j| j.job_id == job.as_str());
                let newer = |f: &runboard_shared::Job| {
                    let time = job_updated.get_value();
                    job_status.with_untracked(|held| {
                        supersedes(
                            (held.as_ref(), time.as_deref()),
                            (&f.status, f.updated_at.as_deref()),
                        )
                    })
                };
                if let Some(found) = found.filter(newer) {
                    job_updated.set_value(found.updated_at);
                    job_status.set(Some(found.status));
                }
            }
            let finished = !is_live(&answer.status, job_status.get_untracked().as_ref());
            let undocumented =
                job_status.with_untracked(|s| matches!(s, Some(JobStatus::Other(_))));
            if let (true, true, Some(job)) = (finished, undocumented, &job) {
                store::report_final(proj.as_str(), job.as_str());
            }
            report.set(Some(Arc::new(answer)));
            Ok(finished)
        }
    });

    // The filter, sort and search live in the address, so a reload or a copied link
    // shows the same table.
    let (url_proj, url_run, url_job) = (
        project.id.to_string(),
        run.to_string(),
        job.as_ref().map(ToString::to_string),
    );
    Effect::new(move |_| {
        let filter = state.filter.get();
        let sort = state.sort.get();
        let query = state.query.get();
        let sort_value = if sort == SortKey::Status {
            ""
        } else {
            sort.as_str()
        };
        let filter_value = if filter == StatusFilter::All {
            ""
        } else {
            filter.as_str()
        };
        let extra = [
            ("job", url_job.as_deref().unwrap_or_default()),
            ("status", filter_value),
            ("sort", sort_value),
            ("q", query.as_str()),
        ];
        browser::replace_url(&prefs.href(&run_path(&url_proj, &url_run), &extra));
    });

    let index = Memo::new(move |_| {
        report.with(|r| {
            Arc::new(
                r.as_ref()
                    .map(|r| TestIndex::new(&r.tests))
                    .unwrap_or_default(),
            )
        })
    });
    let order = Memo::new(move |_| {
        report.with(|r| match r {
            Some(r) => index.with(|i| {
                state.filter.with(|f| {
                    state
                        .query
                        .with(|q| select(&r.tests, i, f, q, state.sort.get()))
                })
            }),
            None => Vec::new(),
        })
    });

    let flash_job = job.as_ref().map(ToString::to_string);
    view! {
        <section class="rb-run" aria-label="Run report">
            {shown(move || flash.get().filter(|n| Some(&n.job_id) == flash_job.as_ref()).map(|n| view! {
                <p class="rb-notice rb-notice-ok" role="status" data-testid="start-notice">{n.text}</p>
            }.into_any()))}
            <ErrorBanner status=poll />
            <Show when=move || report.with(Option::is_some)
                fallback=move || view! { <p class="rb-loading" role="status">{shown(move || if poll.error.with(Option::is_none) { "Loading the report…" } else { "" })}</p> }>
                <RunHeader report=report poll=poll job_status=job_status />
                <Toolbar report=report state=state order=order />
                <TestsTable report=report order=order expanded=state.expanded />
                <ExportBar report=report />
            </Show>
        </section>
    }
}
