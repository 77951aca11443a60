//! The run header: title, overall status, start and elapsed time, tests in the
//! project, the stacked summary bar with labelled counts, progress and freshness.

use leptos::prelude::*;
use runboard_shared::{JobStatus, TestStatus};

use crate::{
    browser,
    components::chip::Chip,
    context::Clock,
    live::{live, shown},
    logic::{
        case::lower,
        format, look,
        summary::{Summary, elapsed_ms, is_live},
        time::parse_iso_ms,
    },
    poller::PollStatus,
    state::{Report, Via},
};

/// The top of a run report.
#[component]
pub(crate) fn RunHeader(
    /// The report.
    report: Report,
    /// The refresh loop (for "updated N s ago").
    poll: PollStatus,
    /// The run's job status, when the report knows its job.
    job_status: RwSignal<Option<JobStatus>>,
    /// Stream or polling: said only in the tooltip of "updated N s ago".
    via: RwSignal<Via>,
) -> impl IntoView {
    let Clock(now) = expect_context::<Clock>();
    let summary = Memo::new(move |_| report.with(|r| r.as_ref().map(|r| Summary::of(r))));
    let running = Memo::new(move |_| {
        report.with(|r| {
            r.as_ref()
                .is_some_and(|r| is_live(&r.status, job_status.get().as_ref()))
        })
    });
    let title = shown(move || {
        report.with(|r| {
            r.as_ref().map(|r| {
                if r.title.is_empty() {
                    format!("Run {}", r.run_id)
                } else {
                    r.title.clone()
                }
            })
        })
    });
    let status = shown(move || {
        report.with(|r| {
            r.as_ref().map(|r| {
                let failed = summary.with(|s| s.as_ref().map_or(0, |s| count(s, &TestStatus::Failed)));
                let wire = r.status.as_str().to_owned();
                view! { <span class="rb-run-status" data-testid="run-status" data-status=wire><Chip look=look::run(&r.status, failed) /></span> }.into_any()
            })
        })
    });
    let started = shown(move || {
        report.with(|r| {
            let ms = r.as_ref()?.start_time.as_deref().and_then(parse_iso_ms)?;
            let offset = browser::local_offset_min(ms);
            Some(view! { <span>"started "<time title=format::timestamp(ms, offset)>{format::clock_short(ms, offset)}</time></span> }.into_any())
        })
    });
    let elapsed = shown(move || {
        report.with(|r| {
            r.as_ref()
                .and_then(|r| elapsed_ms(r, running.get(), now.get()))
                .map(|ms| format!(" · {}", format::elapsed(ms)))
        })
    });
    let in_project =
        shown(move || report.with(|r| r.as_ref().map(|r| r.tests_in_project_count.to_string())));
    let updated = shown(move || {
        poll.last_ok
            .get()
            .map(|at| format!("updated {}", format::ago(now.get(), at)))
    });
    view! {
        <header class="rb-run-head">
            <h1 class="rb-title" data-testid="run-title">{title}</h1>
            {status}
            <span class="rb-run-meta rb-num">{started}{elapsed}
                " · "<span data-testid="tests-in-project">{in_project}</span>" tests in project"</span>
        </header>
        <SummaryBar summary=summary />
        <div class="rb-progress-line rb-num">
            <span>{shown(move || summary.with(|s| s.as_ref().map(|s| format!("{} of {} done · {}%", s.done, s.total, s.percent_done()))))}</span>
            <span class="rb-spacer"></span>
            <span class="rb-updated" data-testid="updated-ago" data-live=live(move || if running.get() { "1" } else { "0" }.to_owned())
                title=live(move || via.get().as_str().to_owned()) data-via=live(move || via.get().as_str().to_owned())>
                <span class=live(move || if running.get() { "rb-live-dot" } else { "rb-live-dot rb-final" }) aria-hidden="true"></span>
                {shown(move || if running.get() { "live · " } else { "final · " })}{updated}
            </span>
        </div>
    }
}

fn count(summary: &Summary, status: &TestStatus) -> u64 {
    summary
        .counts
        .iter()
        .find(|(s, _)| s == status)
        .map_or(0, |(_, n)| *n)
}

/// The stacked, proportional bar and its legend of labelled counts.
#[component]
fn SummaryBar(
    /// The numbers.
    summary: Memo<Option<Summary>>,
) -> impl IntoView {
    let label = live(move || {
        summary.with(|s| {
            s.as_ref().map(|s| {
                s.counts
                    .iter()
                    .map(|(st, n)| format!("{n} {}", lower(st.as_str())))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
        })
    });
    let segments = shown(move || {
        summary.with(|s| {
            s.as_ref().map(|s| {
                s.shares()
                    .into_iter()
                    .filter(|(_, share)| *share > 0.0)
                    .map(|(status, share)| {
                        let class = format!("rb-seg {}", look::test(&status).tone.class());
                        view! { <span class=class style:width=format::css_percent(share)></span> }
                    })
                    .collect_view()
                    .into_any()
            })
        })
    });
    let legend = shown(move || {
        summary.with(|s| {
            s.as_ref().map(|s| {
                s.counts
                    .iter()
                    .map(|(status, n)| {
                        let l = look::test(status);
                        let class = format!("rb-legend-item {}{}", l.tone.class(), if *n == 0 { " rb-zero" } else { "" });
                        view! {
                            <li class=class data-testid="summary-count" data-status=status.as_str().to_owned() data-count=n.to_string()>
                                <span class="rb-chip-icon" aria-hidden="true">{l.icon}</span>
                                <span class="rb-num">{n.to_string()}</span>" "{lower(&l.word)}
                            </li>
                        }
                    })
                    .collect_view()
                    .into_any()
            })
        })
    });
    view! {
        <div class="rb-summary">
            <div class="rb-bar" role="img" aria-label=label>{segments}</div>
            <ul class="rb-legend" aria-label="Tests by status">{legend}</ul>
        </div>
    }
}
