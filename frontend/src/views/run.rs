//! The run report view: header, summary bar, filterable windowed tests table, exports.
//! It reads the report once, and follows a live run over the server's event stream from
//! there, or by polling (with `If-None-Match`) when the stream fails, as `logic::feed`
//! decides; the user's filter, sort, search, scroll position and expanded rows survive
//! every update (and, except scroll and expansion, a reload: they live in the address).

mod announce;
mod report_feed;
mod verdict_feed;

use std::{collections::HashSet, sync::Arc};

use leptos::{prelude::*, task::spawn_local};
use runboard_shared::{JobId, ProjectId, ProjectInfo, RunId, TestStatus};

use self::{
    announce::announce_outcome,
    report_feed::{FollowedJob, follow_run},
    verdict_feed::follow_verdict,
};
use crate::{
    api, browser,
    components::{
        banner::ErrorBanner, causes::FailureCauses, compare::ComparePanel, export::ExportBar,
        notify::NotifyWhenDone, rerun::RerunFailed, summary::RunHeader, table::TestsTable,
        toolbar::Toolbar, triage_menu::TriageLayer,
    },
    context::{self, Flash},
    live::shown,
    logic::{
        causes::headline,
        compare::compare,
        filter::{SortKey, StatusFilter, TestIndex, select},
        links::Prefs,
        summary::is_live,
        verdict::owned_by,
    },
    router::{Route, Router, router},
    state::{Previous, Report, TableState, Triage, VerdictState, my_teams},
    views::not_found::UnknownProject,
};

/// `/p/:proj/runs/:run`.
#[component]
pub(crate) fn RunView(
    /// The project id from the address.
    project: String,
    /// The run id from the address.
    run: String,
) -> impl IntoView {
    match (context::boot().project(&project), RunId::parse(run)) {
        (Some(found), Ok(run)) => view! { <RunPage project=found run=run /> }.into_any(),
        (None, _) => view! { <UnknownProject id=project /> }.into_any(),
        (Some(_), Err(e)) => view! {
            <section class="rb-empty"><h1>"Not a run id"</h1><p>{e.problem}</p></section>
        }
        .into_any(),
    }
}

/// The report of one run: wires the feed, the address, the announcements and the
/// comparison to the pieces that show them.
#[component]
fn RunPage(
    /// The run's project.
    project: ProjectInfo,
    /// The run.
    run: RunId,
) -> impl IntoView {
    // The router's query, read once: the view writes its own settings back to it.
    let router = router();
    let job: Option<JobId> = router
        .query_untracked("job")
        .and_then(|j| JobId::parse(j).ok());
    let state = table_state(router);
    let linked = open_linked_test(router, state);
    forget_start_notice(job.as_ref());

    let report: Report = RwSignal::new(None);
    let followed = FollowedJob::new(&project.id, job.as_ref());
    let (poll, via) = follow_run(&project.id, &run, job.clone(), report, followed);
    // The server's verdict line stays only until this view has something to say instead
    // (its header removes it; so do an error and leaving the page).
    Effect::new(move |_| {
        if poll.error.with(Option::is_some) {
            browser::remove_first_paint();
        }
    });
    on_cleanup(browser::remove_first_paint);
    sync_address(router, state, &project.id, &run, job.as_ref());

    let running = Memo::new(move |_| {
        report.with(|r| {
            r.as_ref()
                .is_some_and(|r| is_live(&r.status, followed.status.get().as_ref()))
        })
    });
    let triage = Triage::new(&project);
    let verdict = follow_verdict(&project.id, &run, report, running, triage);
    let teams = my_teams(&project);
    let mine = !teams.is_empty();
    let order = table_order(report, state, verdict, teams);
    // "Notify me when it finishes" (components/notify.rs), read when the run turns final.
    let notify = RwSignal::new(false);
    announce_outcome(
        report,
        verdict,
        running,
        notify,
        &project.id,
        &run,
        job.as_ref(),
    );
    let previous = previous_run(&project.id, job);
    let new_failures = new_failures(report, previous);
    let can_run = project.can_run;
    let rerun_proj = StoredValue::new(project.id.clone());
    view! {
        <section class="rb-run" aria-label="Run report">
            <ErrorBanner status=poll />
            <Show when=move || report.with(Option::is_some)
                fallback=move || view! { <p class="rb-loading" role="status">{shown(move || if poll.error.with(Option::is_none) { "Loading the report…" } else { "" })}</p> }>
                <RunHeader report=report poll=poll running=running via=via verdict=verdict>
                    <RerunFailed project=rerun_proj.get_value() report=report running=running can_run=can_run agent=followed.agent verdict=verdict />
                    <NotifyWhenDone running=running armed=notify />
                </RunHeader>
                <ComparePanel report=report previous=previous />
                <FailureCauses report=report state=state verdict=verdict />
                <Toolbar report=report state=state order=order mine=mine />
                <TestsTable report=report order=order expanded=state.expanded linked=linked.clone() new_failures=new_failures verdict=verdict triage=triage />
                <ExportBar report=report />
                {triage.tools().then(|| view! { <TriageLayer triage=triage /> })}
            </Show>
        </section>
    }
}

/// The notice about starting this run has done its job once the report is open.
fn forget_start_notice(job: Option<&JobId>) {
    let Flash(flash) = expect_context::<Flash>();
    let about_this_job = flash.with_untracked(|n| {
        n.as_ref()
            .is_some_and(|n| job.is_some_and(|j| n.job_id == j.as_str()))
    });
    if about_this_job {
        flash.set(None);
    }
}

/// The table's settings from the address, kept in step with it (back, forward).
fn table_state(router: Router) -> TableState {
    let get = |key: &str| router.query_untracked(key);
    let state = TableState {
        filter: RwSignal::new(StatusFilter::parse(&get("status").unwrap_or_default())),
        query: RwSignal::new(get("q").unwrap_or_default()),
        sort: RwSignal::new(SortKey::parse(&get("sort").unwrap_or_default())),
        cause: RwSignal::new(get("cause").filter(|c| !c.is_empty())),
        expanded: RwSignal::new(HashSet::new()),
        owned: RwSignal::new(get("mine").as_deref() == Some("1")),
    };
    router.follow("mine", state.owned, |v| v == Some("1"));
    router.follow("status", state.filter, |v| {
        StatusFilter::parse(v.unwrap_or_default())
    });
    router.follow("q", state.query, |v| v.unwrap_or_default().to_owned());
    router.follow("sort", state.sort, |v| {
        SortKey::parse(v.unwrap_or_default())
    });
    router.follow("cause", state.cause, |v| {
        v.filter(|c| !c.is_empty()).map(str::to_owned)
    });
    state
}

/// `?test=<id>`: that test's row opens, and the table scrolls to it once it is shown.
fn open_linked_test(router: Router, state: TableState) -> Option<String> {
    let linked = router.query_untracked("test").filter(|t| !t.is_empty())?;
    state.expanded.update(|open| {
        open.insert(linked.clone());
    });
    Some(linked)
}

/// Writes the filter, sort and search back to the address, so a reload or a copied link
/// shows the same table.
fn sync_address(
    router: Router,
    state: TableState,
    project: &ProjectId,
    run: &RunId,
    job: Option<&JobId>,
) {
    let prefs = expect_context::<Prefs>();
    let (url_proj, url_run, url_job) = (
        project.to_string(),
        run.to_string(),
        job.map(ToString::to_string),
    );
    Effect::new(move |_| {
        let filter = state.filter.get();
        let sort = state.sort.get();
        let query = state.query.get();
        let cause = state.cause.get();
        let mine = if state.owned.get() { "1" } else { "" };
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
            ("cause", cause.as_deref().unwrap_or_default()),
            ("mine", mine),
        ];
        let report = Route::Run {
            project: url_proj.clone(),
            run: url_run.clone(),
        };
        router.navigate(&prefs.href(&report.href(), &extra), true);
    });
}

/// The rows the table shows, in order: the tests the filter, search, picked cause and
/// "Owned by my groups" (failures owned by one of `teams`, by the verdict) keep, sorted.
fn table_order(
    report: Report,
    state: TableState,
    verdict: VerdictState,
    teams: Vec<String>,
) -> Memo<Vec<usize>> {
    let index = Memo::new(move |_| {
        report.with(|r| {
            Arc::new(
                r.as_ref()
                    .map(|r| TestIndex::new(&r.tests))
                    .unwrap_or_default(),
            )
        })
    });
    Memo::new(move |_| {
        report.with(|r| match r {
            Some(r) => {
                let picked = index.with(|i| {
                    state.filter.with(|f| {
                        state
                            .query
                            .with(|q| select(&r.tests, i, f, q, state.sort.get()))
                    })
                });
                // "Owned by my groups" keeps the failures the verdict gives a team of theirs.
                let picked = if state.owned.get() {
                    verdict.with(|v| {
                        picked
                            .into_iter()
                            .filter(|&i| {
                                let failure =
                                    r.tests.get(i).and_then(|t| v.as_ref()?.failure(&t.id));
                                failure.is_some_and(|f| owned_by(f, &teams))
                            })
                            .collect()
                    })
                } else {
                    picked
                };
                // A cause picked in "Why it failed" keeps only the tests it broke.
                state.cause.with(|cause| match cause {
                    Some(cause) => picked
                        .into_iter()
                        .filter(|&i| {
                            r.tests.get(i).is_some_and(|t| {
                                t.status == TestStatus::Failed && headline(t) == *cause
                            })
                        })
                        .collect(),
                    None => picked,
                })
            }
            None => Vec::new(),
        })
    })
}

/// The ledger's record of this run's job with the previous run of its selection: the
/// comparison is extra, so without a job or the ledger's answer the report stands alone.
fn previous_run(project: &ProjectId, job: Option<JobId>) -> Previous {
    let previous: Previous = RwSignal::new(None);
    if let Some(job) = job {
        let proj = project.clone();
        spawn_local(async move {
            if let Ok(found) = api::execution(&proj, &job).await {
                previous.set(Some(found));
            }
        });
    }
    previous
}

/// The ids of the tests that fail in this run but passed in the previous one.
fn new_failures(report: Report, previous: Previous) -> Memo<HashSet<String>> {
    Memo::new(move |_| {
        previous.with(|p| {
            let Some(p) = p.as_ref().filter(|p| p.previous.is_some()) else {
                return HashSet::new();
            };
            report.with(|r| {
                r.as_ref().map_or_else(HashSet::new, |r| {
                    compare(&r.tests, &p.previous_results)
                        .newly_failing
                        .into_iter()
                        .map(|c| c.id)
                        .collect()
                })
            })
        })
    })
}
