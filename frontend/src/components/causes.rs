//! "Why it failed": the run's distinct error headlines with how many tests each broke
//! and, once the server's verdict is known, their classes ("2 new · 1 quarantined") and
//! owning teams; picking one shows only those tests in the table, picking it again shows
//! all.

use leptos::prelude::*;
use runboard_shared::TestStatus;

use crate::{
    components::chip::ClassChip,
    live::{live, shown},
    logic::{causes::causes, filter::StatusFilter, verdict::class_counts},
    state::{Report, TableState, VerdictState},
};

/// The failures of the report, grouped by cause; nothing when no test failed.
#[component]
pub(crate) fn FailureCauses(
    /// The report.
    report: Report,
    /// The table settings the panel filters with.
    state: TableState,
    /// The server's verdict: each cause's classes and owners.
    verdict: VerdictState,
) -> impl IntoView {
    let groups = move || {
        report.with(|r| {
            r.as_ref()
                .map(|r| {
                    causes(&r.tests)
                        .into_iter()
                        .map(|c| {
                            let ids: Vec<&str> = c
                                .tests
                                .iter()
                                .filter_map(|&i| r.tests.get(i).map(|t| t.id.as_str()))
                                .collect();
                            (c.headline, c.tests.len(), classes_of(verdict, &ids))
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let pick = move |headline: String| {
        if state
            .cause
            .with_untracked(|c| c.as_deref() == Some(headline.as_str()))
        {
            state.cause.set(None);
            state.filter.set(StatusFilter::All);
        } else {
            state.cause.set(Some(headline));
            state.filter.set(StatusFilter::Only(TestStatus::Failed));
        }
    };
    shown(move || {
        let list = groups();
        (!list.is_empty()).then(|| {
            view! {
                <section class="rb-causes" aria-labelledby="rb-causes-title" data-testid="causes">
                    <h2 id="rb-causes-title" class="rb-causes-title">"Why it failed"</h2>
                    <ul class="rb-cause-list">
                        {list.into_iter().map(|(headline, n, classes)| {
                            let key = StoredValue::new(headline.clone());
                            let pressed = move || state.cause.with(|c| key.with_value(|k| c.as_deref() == Some(k.as_str())));
                            let picked = headline.clone();
                            view! {
                                <li>
                                    <button type="button" class="rb-cause" data-testid="cause" data-count=n.to_string()
                                        aria-pressed=live(move || pressed().to_string())
                                        on:click=move |_| pick(picked.clone())>
                                        <span class="rb-cause-count rb-num">{format!("{n}×")}</span>
                                        <span class="rb-cause-text" data-testid="cause-headline">{headline}</span>
                                        {classes}
                                        <span class="rb-cause-action" aria-hidden="true">{shown(move || if pressed() { "show all" } else { "show →" })}</span>
                                    </button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </section>
            }
        })
    })
}

/// The classes and owners of the failed tests `ids`, as chips with words; nothing
/// without a verdict.
fn classes_of(verdict: VerdictState, ids: &[&str]) -> Option<AnyView> {
    verdict.with(|v| {
        let v = v.as_ref()?;
        let failures: Vec<_> = ids.iter().filter_map(|id| v.failure(id)).collect();
        let mut owners: Vec<&str> = Vec::new();
        for owner in failures.iter().flat_map(|f| f.owners.iter()) {
            if !owners.contains(&owner.as_str()) {
                owners.push(owner);
            }
        }
        let owners = (!owners.is_empty()).then(|| format!("· {}", owners.join(", ")));
        let chips = class_counts(failures.iter().copied())
            .into_iter()
            .map(|(class, n)| view! { <ClassChip class=class count=n testid="cause-class" /> })
            .collect_view();
        Some(view! { <span class="rb-cause-classes">{chips}<span class="rb-owners">{owners}</span></span> }.into_any())
    })
}
