//! An expanded test: its error (string or object, readable), its class and the rule behind
//! it with its ticket (issue 21), its timeline steps
//! (rendered from whatever fields they have), its video link (http/https only) and its
//! last results across runs (`test_history.rs`).

use leptos::prelude::*;
use runboard_shared::{RuleKind, TestResult, TestStatus, VerdictFailure, test_error::error_parts};

use crate::{
    browser,
    components::{chip::ClassChip, export::copy_link, test_history::RecentResults},
    live::{live, shown},
    logic::{
        format, look,
        time::parse_iso_ms,
        timeline::{safe_video_url, steps},
    },
};

/// The detail panel of one test.
#[component]
pub(crate) fn TestDetail(
    /// The test.
    test: Memo<Option<TestResult>>,
    /// The panel's DOM id (the toggle's `aria-controls`).
    id: String,
    /// Its failure in the server's verdict, when it failed and the verdict is known.
    failure: Memo<Option<VerdictFailure>>,
) -> impl IntoView {
    let test_id = test.with_untracked(|t| t.as_ref().map(|t| t.id.clone()));
    let copied = RwSignal::new(String::new());
    let share = move |_| {
        copy_link(
            test.with_untracked(|t| t.as_ref().map(|t| t.id.clone())),
            copied,
        )
    };
    let error = shown(move || {
        test.with(|t| {
            t.as_ref().and_then(|t| t.error.as_ref()).map(|e| {
                let (headline, details) = error_parts(e);
                view! {
                    <div class="rb-error" data-testid="test-error">
                        <strong>"Error: "{headline}</strong>
                        {details.map(|d| view! {
                            <details class="rb-error-more">
                                <summary>"More about this error"</summary>
                                <pre class="rb-pre" data-testid="error-details">{d}</pre>
                            </details>
                        })}
                    </div>
                }
                .into_any()
            })
        })
    });
    let timeline = live(move || {
        test.with(|t| {
            // Read from the timeline's JSON text only now that the row is open.
            let entries = t.as_ref().map(|t| steps(&t.timeline.steps())).unwrap_or_default();
            if entries.is_empty() {
                return view! { <p class="rb-muted">"No timeline steps recorded."</p> }.into_any();
            }
            view! {
                <ol class="rb-timeline" aria-label="Timeline">
                    {entries.into_iter().enumerate().map(|(i, step)| {
                        let parsed = step.status.as_deref().map(TestStatus::parse);
                        let failing = parsed.as_ref() == Some(&TestStatus::Failed);
                        let status = parsed.as_ref().map(look::test);
                        let status_class = status.as_ref().map_or_else(|| "rb-step-status".to_owned(), |l| format!("rb-step-status {}", l.tone.class()));
                        // Every step fills the same columns (an empty one when a field is
                        // missing), so the steps line up; the failing step stands out.
                        view! {
                            <li class=if failing { "rb-step rb-step-failed" } else { "rb-step" } data-testid="timeline-step"
                                data-failing=if failing { "1" } else { "0" }>
                                <span class="rb-step-index rb-num">{i + 1}</span>
                                <span class=status_class>
                                    {status.map(|l| view! { <span aria-hidden="true">{l.icon}</span>" "{l.word} })}
                                </span>
                                <span class="rb-step-name">{step.name}</span>
                                <span class="rb-num rb-muted rb-step-duration">{step.duration}</span>
                                <span class="rb-step-time">{step.time.map(step_time)}</span>
                                <span class="rb-step-extras">
                                    {step.extras.into_iter().map(|(k, v)| view! {
                                        <span class="rb-step-extra"><span class="rb-muted">{k}": "</span>{v}</span>
                                    }).collect_view()}
                                </span>
                            </li>
                        }
                    }).collect_view()}
                </ol>
            }
            .into_any()
        })
    });
    let video = shown(move || {
        test.with(|t| {
            let t = t.as_ref().filter(|t| t.has_video)?;
            Some(match t.video_link.as_deref().and_then(safe_video_url) {
                Some(url) => view! {
                    <a class="rb-video" data-testid="video-link" href=url.to_owned() target="_blank" rel="noopener">"▶ Watch video"</a>
                }
                .into_any(),
                None => view! { <p class="rb-muted">"A video exists, but its link is not a web address that can be opened safely."</p> }.into_any(),
            })
        })
    });
    let triaged = shown(move || failure.with(|f| f.as_ref().map(triage_line)));
    view! {
        <div class="rb-detail" id=id role="region" aria-label="Test details">
            {error}
            {triaged}
            {timeline}
            <div class="rb-detail-actions">
                {video}
                <button type="button" class="rb-btn rb-btn-small" data-testid="copy-test-link" on:click=share>"Copy link to this test"</button>
                <span class="rb-muted" role="status">{shown(move || copied.get())}</span>
            </div>
            {test_id.map(|id| view! { <RecentResults test_id=id /> })}
        </div>
    }
}

/// The failure's class, its owners, and the rule behind it with its ticket: "⊘
/// quarantined by ana until 2026-12-14: flaky backend · ticket".
fn triage_line(failure: &VerdictFailure) -> AnyView {
    let rule = failure.rule.as_ref().map(|rule| {
        let what = match rule.kind {
            RuleKind::Quarantine => "quarantined",
            RuleKind::Known => "known issue",
        };
        let until = rule.until.as_deref().map(|u| format!(" until {u}"));
        let reason = (!rule.reason.is_empty()).then(|| format!(": {}", rule.reason));
        let link = rule.link.as_deref().and_then(safe_video_url).map(|url| {
            view! { " · "<a href=url.to_owned() target="_blank" rel="noopener" data-testid="rule-link">"ticket"</a> }
        });
        view! { <span data-testid="rule">{format!(" {what} by {}", rule.by)}{until}{reason}{link}</span> }
    });
    let owners =
        (!failure.owners.is_empty()).then(|| format!(" · owned by {}", failure.owners.join(", ")));
    view! {
        <p class="rb-triage-line" data-testid="triage-line">
            <ClassChip class=failure.class.clone() testid="detail-class" />
            {rule}{owners}
        </p>
    }
    .into_any()
}

/// A step's time: the local time of day with the full timestamp on hover when it is
/// ISO 8601 (ui.md: times local, full timestamp on hover), otherwise as the platform sent it.
fn step_time(text: String) -> AnyView {
    match parse_iso_ms(&text) {
        Some(ms) => {
            let offset = browser::local_offset_min(ms);
            view! {
                <time class="rb-num rb-muted" title=format::timestamp(ms, offset)>
                    {format::clock(ms, offset)}
                </time>
            }
            .into_any()
        }
        None => view! { <span class="rb-num rb-muted">{text}</span> }.into_any(),
    }
}
