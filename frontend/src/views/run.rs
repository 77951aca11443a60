//! The run report view: header, summary bar, filterable windowed tests table, exports.
//! It follows a live run over the server's event stream, or by polling (with
//! `If-None-Match`) when the stream fails, and the user's filter, sort, search, scroll
//! position and expanded rows survive every update (and, except scroll and expansion, a
//! reload: they live in the address).

use std::{collections::HashSet, sync::Arc};

use leptos::{prelude::*, task::spawn_local};
use runboard_shared::{
    Job, JobId, JobStatus, JobsRequest, ProjectId, ProjectInfo, RunId, TestRun, TestStatus,
};
use send_wrapper::SendWrapper;

use crate::{
    api::{
        self, Fresh,
        events::{LiveEvent, LiveReport},
    },
    browser,
    components::{
        banner::ErrorBanner, causes::FailureCauses, compare::ComparePanel, export::ExportBar,
        notify::NotifyWhenDone, rerun::RerunFailed, summary::RunHeader, table::TestsTable,
        toolbar::Toolbar,
    },
    context::{self, Flash},
    live::shown,
    logic::{
        causes::headline,
        compare::compare,
        failure::Failure,
        filter::{SortKey, StatusFilter, TestIndex, select},
        jobs::Outcome,
        jobs::supersedes,
        links::{Prefs, run_path},
        patch,
        summary::{Summary, elapsed_ms, is_live},
    },
    poller,
    router::router,
    state::{Previous, Report, TableState, Via},
    store,
    views::not_found::UnknownProject,
};

/// How long a stream may still show a live run after its job ended before the view reads
/// the report itself: the server follows at `poll.run_ms` and reuses a live answer for
/// about a second, so a healthy stream is never this late.
const STREAM_GRACE_MS: i64 = 10_000;

/// The open stream, if any (browser objects: the view's thread only).
type Stream = StoredValue<Option<SendWrapper<LiveReport>>>;

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
    // The router's query, read once: the view writes its own settings back to it.
    let router = router();
    let get = |key: &str| router.query_untracked(key);
    let job: Option<JobId> = get("job").and_then(|j| JobId::parse(j).ok());
    let state = TableState {
        filter: RwSignal::new(StatusFilter::parse(&get("status").unwrap_or_default())),
        query: RwSignal::new(get("q").unwrap_or_default()),
        sort: RwSignal::new(SortKey::parse(&get("sort").unwrap_or_default())),
        cause: RwSignal::new(get("cause").filter(|c| !c.is_empty())),
        expanded: RwSignal::new(HashSet::new()),
    };
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
    // `?test=<id>`: that test's row opens, and the table scrolls to it once it is shown.
    let linked: Option<String> = get("test").filter(|t| !t.is_empty());
    if let Some(test) = &linked {
        state.expanded.update(|open| {
            open.insert(test.clone());
        });
    }
    // The notice about starting this run has done its job once the report is open.
    if flash.with_untracked(|n| {
        n.as_ref()
            .is_some_and(|n| job.as_ref().is_some_and(|j| n.job_id == j.as_str()))
    }) {
        flash.set(None);
    }

    let report: Report = RwSignal::new(None);
    let job_status: RwSignal<Option<JobStatus>> = RwSignal::new(None);
    // The agent the run's job went to: remembered by this browser, or from the platform.
    let job_agent: RwSignal<Option<String>> = RwSignal::new(job.as_ref().and_then(|j| {
        store::load_book(project.id.as_str())
            .get(j.as_str())
            .and_then(|t| t.agent.clone())
    }));
    // The job's `updatedAt` beside its status, so an older answer never moves it back.
    let job_updated: StoredValue<Option<String>> = StoredValue::new(None);
    let via = RwSignal::new(Via::Stream);
    let stream: Stream = StoredValue::new(None);
    // The `ETag` of the report last polled, for `If-None-Match`.
    let etag: StoredValue<Option<String>> = StoredValue::new(None);
    // When the job was first seen finished while the streamed report was still live.
    let behind_since: StoredValue<Option<i64>> = StoredValue::new(None);
    let proj = project.id.clone();
    let (tick_run, tick_job) = (run.clone(), job.clone());
    let poll = poller::start(context::boot().0.poll.run_ms, move |_| {
        let (proj, run, job) = (proj.clone(), tick_run.clone(), tick_job.clone());
        async move {
            // While the stream is open it is the report's only writer: a tick that held
            // a report across an await and wrote it back would undo the changes that
            // arrived meanwhile (the page then froze on a live state).
            if via.get_untracked() == Via::Polling
                && let Fresh::Changed(answer) = poll_report(&proj, &run, etag).await?
            {
                report.set(Some(Arc::new(answer)));
            }
            if let Some(job) = &job {
                follow_job(&proj, job, job_status, job_updated, job_agent).await?;
            }
            let Some(held) = report.get_untracked() else {
                return Ok(false);
            };
            let job_now = job_status.get_untracked();
            let finished = !is_live(&held.status, job_now.as_ref());
            if via.get_untracked() == Via::Stream
                && stream_behind(&held, job_now.as_ref(), behind_since)
            {
                // The job is over but the stream still shows a live run: stop trusting
                // it and read the report directly from the next tick on.
                stream.set_value(None);
                via.set(Via::Polling);
                return Ok(false);
            }
            let undocumented = matches!(job_now, Some(JobStatus::Other(_)));
            if let (true, true, Some(job)) = (finished, undocumented, &job) {
                store::report_final(proj.as_str(), job.as_str());
            }
            if finished {
                stream.set_value(None);
            }
            Ok(finished)
        }
    });
    let on_event = move |event: LiveEvent| match event {
        LiveEvent::Report(fresh) => report.set(Some(Arc::new(fresh))),
        LiveEvent::Change(change) => report.update(|held| match held {
            Some(held) => patch::apply(Arc::make_mut(held), change),
            None => *held = Some(Arc::new(change)),
        }),
        LiveEvent::Final(fresh) => {
            report.set(Some(Arc::new(fresh)));
            // The tick sees the final report (and the job) and stops.
            poll.retry_now();
        }
        LiveEvent::Broken => {
            stream.set_value(None);
            via.set(Via::Polling);
            poll.retry_now();
        }
    };
    let heartbeat_ms = context::boot().0.live_heartbeat_ms;
    match LiveReport::open(&project.id, &run, heartbeat_ms, on_event) {
        Some(opened) => stream.set_value(Some(SendWrapper::new(opened))),
        None => via.set(Via::Polling),
    }
    on_cleanup(move || stream.set_value(None));

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
        let cause = state.cause.get();
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
        ];
        router.navigate(&prefs.href(&run_path(&url_proj, &url_run), &extra), true);
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
            Some(r) => {
                let picked = index.with(|i| {
                    state.filter.with(|f| {
                        state
                            .query
                            .with(|q| select(&r.tests, i, f, q, state.sort.get()))
                    })
                });
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
    });

    let running = Memo::new(move |_| {
        report.with(|r| {
            r.as_ref()
                .is_some_and(|r| is_live(&r.status, job_status.get().as_ref()))
        })
    });
    // The tab's title says the outcome, and the embedding portal hears once that the run
    // is final (both outside the widget's own DOM).
    let announced = StoredValue::new(false);
    // "Notify me when it finishes" (components/notify.rs), read when the run turns final.
    let notify = RwSignal::new(false);
    let (title_proj, title_run) = (project.id.to_string(), run.to_string());
    let outcome_job = job.as_ref().map(ToString::to_string);
    Effect::new(move |_| {
        let Some((verdict, summary, name, took)) = report.with(|r| {
            r.as_ref().map(|r| {
                let summary = Summary::of(r);
                let took = elapsed_ms(r, false, 0);
                (
                    summary.verdict(&r.status, running.get()),
                    summary,
                    r.title.clone(),
                    took,
                )
            })
        }) else {
            return;
        };
        let name = if name.is_empty() {
            "Run".to_owned()
        } else {
            name
        };
        browser::set_title(&format!(
            "{} {} · {name} · Runboard",
            verdict.icon, verdict.text
        ));
        if verdict.outcome != "running" && !announced.get_value() {
            announced.set_value(true);
            if let Some(job) = &outcome_job {
                let outcome = Outcome {
                    total: summary.total,
                    passed: summary.count(&TestStatus::Passed),
                    failed: summary.count(&TestStatus::Failed),
                    duration_ms: took,
                };
                store::note_outcome(&title_proj, job, outcome);
            }
            browser::post_finished(
                &title_proj,
                &title_run,
                &report_status(report),
                verdict.outcome,
                &summary,
            );
            if notify.get_untracked() {
                let title = format!("{} {}", verdict.icon, verdict.text);
                browser::notify_if_hidden(&title, &format!("{name} · Runboard"), &title_run);
            }
        }
    });
    on_cleanup(|| browser::set_title("Runboard"));
    let can_run = project.can_run;
    let rerun_proj = StoredValue::new(project.id.clone());
    let previous: Previous = RwSignal::new(None);
    if let Some(job) = job.clone() {
        let proj = project.id.clone();
        spawn_local(async move {
            // The comparison is extra: without the ledger's answer the report stands alone.
            if let Ok(found) = api::execution(&proj, &job).await {
                previous.set(Some(found));
            }
        });
    }
    let new_failures = Memo::new(move |_| {
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
    });
    view! {
        <section class="rb-run" aria-label="Run report">
            <ErrorBanner status=poll />
            <Show when=move || report.with(Option::is_some)
                fallback=move || view! { <p class="rb-loading" role="status">{shown(move || if poll.error.with(Option::is_none) { "Loading the report…" } else { "" })}</p> }>
                <RunHeader report=report poll=poll running=running via=via>
                    <RerunFailed project=rerun_proj.get_value() report=report running=running can_run=can_run agent=job_agent />
                    <NotifyWhenDone running=running armed=notify />
                </RunHeader>
                <ComparePanel report=report previous=previous />
                <FailureCauses report=report state=state />
                <Toolbar report=report state=state order=order />
                <TestsTable report=report order=order expanded=state.expanded linked=linked.clone() new_failures=new_failures />
                <ExportBar report=report />
            </Show>
        </section>
    }
}

/// The run's own status word, for the portal's message.
fn report_status(report: Report) -> String {
    report.with_untracked(|r| {
        r.as_ref()
            .map(|r| r.status.as_str().to_owned())
            .unwrap_or_default()
    })
}

/// One poll of the report with the `ETag` of the last one; a 304 keeps the report held.
async fn poll_report(
    project: &ProjectId,
    run: &RunId,
    etag: StoredValue<Option<String>>,
) -> Result<Fresh, Failure> {
    let sent = etag.get_value();
    let (fresh, tag) = api::test_run(project, run, sent.as_deref()).await?;
    etag.set_value(tag);
    Ok(fresh)
}

/// Reads `job`'s state unless it is already known to be over, and keeps it only when it
/// is newer than the one held, so an older answer never moves the job back.
async fn follow_job(
    project: &ProjectId,
    job: &JobId,
    status: RwSignal<Option<JobStatus>>,
    updated: StoredValue<Option<String>>,
    agent: RwSignal<Option<String>>,
) -> Result<(), Failure> {
    if status.with_untracked(|s| s.as_ref().is_some_and(JobStatus::is_terminal)) {
        return Ok(());
    }
    let request = JobsRequest {
        job_ids: Some(vec![job.clone()]),
    };
    let jobs = api::jobs(project, &request).await?;
    let found = jobs.jobs.into_iter().find(|j| j.job_id == job.as_str());
    let newer = |f: &Job| {
        let time = updated.get_value();
        status.with_untracked(|held| {
            supersedes(
                (held.as_ref(), time.as_deref()),
                (&f.status, f.updated_at.as_deref()),
            )
        })
    };
    if let Some(found) = found.filter(newer) {
        if found.agent_name.is_some() && agent.with_untracked(Option::is_none) {
            agent.set(found.agent_name.clone());
        }
        updated.set_value(found.updated_at);
        status.set(Some(found.status));
    }
    Ok(())
}

/// Whether the stream has fallen behind: the job has been over for longer than the
/// stream needs to bring the final report, and the report held is still live.
fn stream_behind(held: &TestRun, job: Option<&JobStatus>, since: StoredValue<Option<i64>>) -> bool {
    let over = job.is_some_and(JobStatus::is_terminal) && held.status.is_live();
    if !over {
        since.set_value(None);
        return false;
    }
    let now = browser::now_ms();
    let first = since.get_value().unwrap_or(now);
    since.set_value(Some(first));
    now - first > STREAM_GRACE_MS
}
