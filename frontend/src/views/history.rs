//! The history view: the project's recorded executions from Runboard's ledger (who
//! started what, when, how it ended), filtered by preset and outcome, a page at a time,
//! with CSV download and, for one preset, its trend.

use leptos::prelude::*;
use runboard_shared::{HistoryExecution, HistoryFormat, HistoryQuery, JobStatus, ProjectInfo};

use crate::{
    api, browser,
    components::{banner::ErrorBanner, chip::Chip, trend::TrendChart},
    context::{self, Clock},
    live::{Live, live, shown},
    logic::{format, history, links::Prefs, look, time::parse_iso_ms, trend},
    poller,
    router::{Route, router},
    views::not_found::UnknownProject,
};

/// How often the first page is asked for again, so running executions move on.
const REFRESH_MS: u64 = 5_000;

/// The outcomes the filter offers: the guide's two final job statuses.
const OUTCOMES: [(&str, &str); 3] = [
    ("", "Any outcome"),
    ("Success", "Passed"),
    ("Failed", "Failed"),
];

/// `/p/:proj/history?preset=…&status=…`.
#[component]
pub(crate) fn HistoryView(
    /// The project id from the address.
    project: String,
) -> impl IntoView {
    match context::boot().project(&project) {
        Some(project) => view! { <HistoryPage project=project /> }.into_any(),
        None => view! { <UnknownProject id=project /> }.into_any(),
    }
}

/// The filters the page is showing, as they stand in the address.
#[derive(Clone, Copy)]
struct Filters {
    preset: RwSignal<String>,
    status: RwSignal<String>,
}

impl Filters {
    /// The history API's query for these filters (and a page's `cursor`); an empty
    /// filter is no filter.
    fn query(preset: String, status: String, cursor: Option<String>) -> HistoryQuery {
        let given = |value: String| Some(value).filter(|v| !v.is_empty());
        HistoryQuery {
            preset: given(preset),
            status: given(status),
            cursor,
            ..HistoryQuery::default()
        }
    }
}

/// The history of one project.
#[component]
fn HistoryPage(
    /// The project whose executions are shown.
    project: ProjectInfo,
) -> impl IntoView {
    let prefs = expect_context::<Prefs>();
    let router = router();
    let filters = Filters {
        preset: RwSignal::new(router.query_untracked("preset").unwrap_or_default()),
        status: RwSignal::new(router.query_untracked("status").unwrap_or_default()),
    };
    let text = |v: Option<&str>| v.unwrap_or_default().to_owned();
    router.follow("preset", filters.preset, text);
    router.follow("status", filters.status, text);
    // The first page, asked for again every few seconds; older pages appended by "Show
    // more" are kept below it.
    let first: RwSignal<Option<Vec<HistoryExecution>>> = RwSignal::new(None);
    let older: RwSignal<Vec<HistoryExecution>> = RwSignal::new(Vec::new());
    let next: RwSignal<Option<String>> = RwSignal::new(None);
    let proj = project.id.clone();
    let poll_proj = proj.clone();
    let status = poller::start(REFRESH_MS, move |_| {
        let proj = poll_proj.clone();
        async move {
            let (preset, outcome) = (
                filters.preset.get_untracked(),
                filters.status.get_untracked(),
            );
            let page = api::history(&proj, &Filters::query(preset, outcome, None)).await?;
            if older.with_untracked(Vec::is_empty) {
                next.set(page.next);
            }
            first.set(Some(page.executions));
            Ok(false)
        }
    });

    // The filters live in the address (a reload or a shared link shows the same page);
    // a change starts again from the first page.
    let url_proj = proj.to_string();
    Effect::new(move |previous: Option<(String, String)>| {
        let now = (filters.preset.get(), filters.status.get());
        let extra = [("preset", now.0.as_str()), ("status", now.1.as_str())];
        let extra: Vec<(&str, &str)> = extra.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let here = Route::History {
            project: url_proj.clone(),
        };
        router.navigate(&prefs.href(&here.href(), &extra), true);
        if previous.is_some_and(|p| p != now) {
            older.set(Vec::new());
            first.set(None);
            status.retry_now();
        }
        now
    });

    let more_proj = StoredValue::new(proj.clone());
    // Why the last "Show older runs" failed, until the next one succeeds.
    let more_failed: RwSignal<Option<String>> = RwSignal::new(None);
    let more = move |_| {
        let Some(cursor) = next.get_untracked() else {
            return;
        };
        let proj = more_proj.get_value();
        leptos::task::spawn_local(async move {
            let (preset, outcome) = (
                filters.preset.get_untracked(),
                filters.status.get_untracked(),
            );
            match api::history(&proj, &Filters::query(preset, outcome, Some(cursor))).await {
                Ok(page) => {
                    more_failed.set(None);
                    older.update(|o| o.extend(page.executions));
                    next.set(page.next);
                }
                Err(failure) => more_failed.set(Some(format!(
                    "Older runs could not be loaded: {} Try again.",
                    failure.message()
                ))),
            }
        });
    };
    let csv_proj = proj.clone();
    let csv = live(move || {
        let (preset, outcome) = (filters.preset.get(), filters.status.get());
        let query = HistoryQuery {
            format: Some(HistoryFormat::Csv),
            ..Filters::query(preset, outcome, None)
        };
        api::history_url(&csv_proj, &query)
    });
    let rows = move || {
        let mut rows = first.get().unwrap_or_default();
        rows.extend(older.get());
        rows
    };
    let trend = move || {
        let preset = filters.preset.get();
        if preset.is_empty() {
            return None;
        }
        let points = first.with(|f| f.as_deref().and_then(trend::points))?;
        Some(view! { <TrendChart name=preset points=points /> }.into_any())
    };
    let row_proj = StoredValue::new(proj.to_string());
    view! {
        <section class="rb-history-view" aria-labelledby="rb-history-title">
            <h1 id="rb-history-title" class="rb-title">"History"</h1>
            <ErrorBanner status=status />
            <HistoryFilters project=project.clone() filters=filters csv=csv />
            {shown(trend)}
            <Show when=move || first.with(|f| f.as_ref().is_some_and(|f| !f.is_empty()))
                fallback=move || view! {
                    <p class="rb-empty" data-testid="history-empty">
                        {shown(move || if first.with(Option::is_some) { "No runs recorded yet for this choice." } else { "Loading the history…" })}
                    </p>
                }>
                <ul class="rb-history" aria-label="Runs, newest first">
                    <For each=rows key=row_key let:execution>
                        <HistoryRow execution=execution project=row_proj.get_value() />
                    </For>
                </ul>
                {shown(move || next.with(Option::is_some).then(|| view! {
                    <button type="button" class="rb-button" data-testid="history-more" on:click=more>"Show older runs"</button>
                }.into_any()))}
                <p class="rb-field-error" role="status" data-testid="history-more-error">{shown(move || more_failed.get())}</p>
            </Show>
        </section>
    }
}

/// A row's key: the execution and what can still change about it, so a row that moved
/// on (a new status, its end) is drawn again.
fn row_key(execution: &HistoryExecution) -> String {
    format!(
        "{}|{}|{}|{}",
        execution.job_id.as_deref().unwrap_or_default(),
        execution.started_at,
        execution.status,
        execution.finished
    )
}

/// The preset and outcome pickers and the CSV link.
#[component]
fn HistoryFilters(
    /// The project (its presets are the choices).
    project: ProjectInfo,
    /// The filters they set.
    filters: Filters,
    /// Where the CSV of the same choice downloads from.
    csv: Live<String>,
) -> impl IntoView {
    let presets: Vec<String> = project.presets.iter().map(|p| p.name.clone()).collect();
    view! {
        <div class="rb-history-filters">
            <label class="rb-field-inline">"Preset "
                <select data-testid="history-preset" prop:value=live(move || filters.preset.get())
                    on:change=move |ev| filters.preset.set(event_target_value(&ev))>
                    <option value="">"All runs"</option>
                    {presets.into_iter().map(|name| view! { <option value=name.clone()>{name.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label class="rb-field-inline">"Outcome "
                <select data-testid="history-status" prop:value=live(move || filters.status.get())
                    on:change=move |ev| filters.status.set(event_target_value(&ev))>
                    {OUTCOMES.into_iter().map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
                </select>
            </label>
            <span class="rb-spacer"></span>
            <a class="rb-button" data-testid="history-csv" href=csv download="">"Download CSV"</a>
        </div>
    }
}

/// One execution: outcome, what ran, who and when, its result bar, how long, the report.
#[component]
fn HistoryRow(
    /// The execution.
    execution: HistoryExecution,
    /// Its project's id.
    project: String,
) -> impl IntoView {
    let prefs = expect_context::<Prefs>();
    let Clock(now) = expect_context::<Clock>();
    let status = JobStatus::parse(&execution.status);
    let (what, who) = (history::what(&execution), history::who(&execution));
    let started = parse_iso_ms(&execution.started_at);
    let full = started.map(|ms| format::timestamp(ms, browser::local_offset_min(ms)));
    let counts = execution.counts.map(|c| {
        let label = format!(
            "{} passed, {} failed, {} skipped of {}",
            c.passed, c.failed, c.skipped, c.total
        );
        let share = |n: u64| {
            format::css_percent(if c.total == 0 {
                0.0
            } else {
                100.0 * n as f64 / c.total as f64
            })
        };
        view! {
            <span class="rb-history-bar rb-bar" role="img" aria-label=label.clone() title=label>
                <span class="rb-seg rb-tone-passed" style:width=share(c.passed)></span>
                <span class="rb-seg rb-tone-failed" style:width=share(c.failed)></span>
                <span class="rb-seg rb-tone-skipped" style:width=share(c.skipped)></span>
            </span>
        }
    });
    let link = execution.test_run_id.clone().map(|run| {
        let job = execution.job_id.clone().unwrap_or_default();
        let report = Route::Run {
            project: project.clone(),
            run,
        };
        let href = prefs.href(&report.href(), &[("job", job.as_str())]);
        view! { <a class="rb-job-link" data-testid="history-report" href=href>"Report →"</a> }
    });
    let counts_attr = execution
        .counts
        .map(|c| format!("{}/{}/{}/{}", c.passed, c.failed, c.skipped, c.total))
        .unwrap_or_default();
    view! {
        <li class="rb-history-row" data-testid="history-row" data-job-id=execution.job_id.clone().unwrap_or_default()
            data-status=execution.status.clone() data-counts=counts_attr>
            <Chip look=look::job(Some(&status)) />
            <div class="rb-job-main">
                <span class="rb-job-what">{what}</span>
                <span class="rb-job-desc">{who}{execution.agent.clone().map(|a| format!(" · agent {a}"))}</span>
            </div>
            {counts}
            <span class="rb-job-when rb-num" title=full>{shown(move || started.map(|ms| format::ago(now.get(), ms)))}</span>
            <span class="rb-num rb-history-duration">{execution.duration_ms.map(format::duration)}</span>
            <span class="rb-job-run">{link}</span>
        </li>
    }
}
