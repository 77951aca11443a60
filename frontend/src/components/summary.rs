//! The run header: the verdict first ("✕ 1 blocking · 2 of 36 failed" once the server's
//! verdict is known, else the report's own "2 of 36 failed"), then the run's name, start and
//! elapsed time, the stacked summary bar with each count once, and while live only,
//! progress and freshness.

use leptos::prelude::*;

use crate::{
    browser,
    context::Clock,
    live::{live, shown},
    logic::{
        case::lower,
        format,
        look::{self, Tone},
        summary::{Summary, elapsed_ms},
        time::parse_iso_ms,
        verdict::headline,
    },
    poller::PollStatus,
    state::{Report, VerdictState, Via},
};

/// The top of a run report: the verdict (the largest text), one quiet line about the
/// run, the bar with each count once, and, only while the run is live, its progress and
/// freshness.
#[component]
pub(crate) fn RunHeader(
    /// The report.
    report: Report,
    /// The refresh loop (for "updated N s ago").
    poll: PollStatus,
    /// Whether the report may still change (run or job still going).
    running: Memo<bool>,
    /// Stream or polling: said only in the tooltip of "updated N s ago".
    via: RwSignal<Via>,
    /// The server's verdict, when known: its wording replaces the report's own.
    verdict: VerdictState,
    /// What to do next, shown beside the verdict (re-run what failed).
    children: Children,
) -> impl IntoView {
    let Clock(now) = expect_context::<Clock>();
    // Mounted: this header now says what the server's first paint said.
    Effect::new(|_| browser::remove_first_paint());
    let summary = Memo::new(move |_| report.with(|r| r.as_ref().map(|r| Summary::of(r))));
    let judged = verdict;
    let verdict = move || {
        report.with(|r| {
            let r = r.as_ref()?;
            let live = running.get();
            let own = summary.with(|s| s.as_ref().map(|s| s.verdict(&r.status, live)))?;
            Some(judged.with(|v| headline(v.as_deref(), own, live)))
        })
    };
    let blocking = live(move || judged.with(|v| v.as_ref().map(|v| v.blocking.to_string())));
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
    let started = shown(move || {
        report.with(|r| {
            let ms = r.as_ref()?.start_time.as_deref().and_then(parse_iso_ms)?;
            let offset = browser::local_offset_min(ms);
            Some(view! { <span>" · started "<time title=format::timestamp(ms, offset)>{format::clock_short(ms, offset)}</time></span> }.into_any())
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
    let tone = move || {
        let tone = match verdict().map(|v| v.outcome) {
            Some("passed") => Tone::Passed,
            Some("failed") => Tone::Failed,
            Some("running") => Tone::Running,
            _ => Tone::Other,
        };
        format!("rb-verdict {}", tone.class())
    };
    let wire = move || report.with(|r| r.as_ref().map(|r| r.status.as_str().to_owned()));
    view! {
        <header class="rb-run-head">
            <div class="rb-verdict-row">
                <h1 class=live(tone) data-testid="run-status" data-status=live(wire)
                    data-outcome=live(move || verdict().map(|v| v.outcome.to_owned())) data-blocking=blocking>
                    <span class="rb-verdict-icon" aria-hidden="true">{shown(move || verdict().map(|v| v.icon))}</span>
                    <span data-testid="verdict">{shown(move || verdict().map(|v| v.text))}</span>
                </h1>
                {children()}
            </div>
            <p class="rb-run-meta rb-num">
                <span class="rb-run-name" data-testid="run-title">{title}</span>{started}{elapsed}
                " · "<span data-testid="tests-in-project">{in_project}</span>" tests in project"
            </p>
            <SummaryBar summary=summary />
            <div class="rb-progress-line rb-num" hidden=live(move || !running.get())>
                <span>{shown(move || summary.with(|s| s.as_ref().map(|s| format!("{}% done", s.percent_done()))))}</span>
                <span class="rb-spacer"></span>
                <span class="rb-updated" data-testid="updated-ago" data-live=live(move || if running.get() { "1" } else { "0" }.to_owned())
                    title=live(move || via.get().as_str().to_owned()) data-via=live(move || via.get().as_str().to_owned())>
                    <span class="rb-live-dot" aria-hidden="true"></span>
                    "live · "{updated}
                </span>
            </div>
        </header>
    }
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
                    .filter(|(_, n)| *n > 0)
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
                    .filter(|(_, n)| *n > 0)
                    .map(|(status, n)| {
                        let l = look::test(status);
                        let class = format!("rb-legend-item {}", l.tone.class());
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
