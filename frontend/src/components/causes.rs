//! "Why it failed": the run's distinct error headlines with how many tests each broke;
//! picking one shows only those tests in the table, picking it again shows all.

use leptos::prelude::*;
use runboard_shared::TestStatus;

use crate::{
    live::{live, shown},
    logic::{causes::causes, filter::StatusFilter},
    state::{Report, TableState},
};

/// The failures of the report, grouped by cause; nothing when no test failed.
#[component]
pub(crate) fn FailureCauses(
    /// The report.
    report: Report,
    /// The table settings the panel filters with.
    state: TableState,
) -> impl IntoView {
    let groups = move || {
        report.with(|r| {
            r.as_ref()
                .map(|r| {
                    causes(&r.tests)
                        .into_iter()
                        .map(|c| (c.headline, c.tests.len()))
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
                        {list.into_iter().map(|(headline, n)| {
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
