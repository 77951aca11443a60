//! The run compared with the previous finished run of the same selection, from the
//! ledger: newly failing, newly passing, still failing, and markedly slower tests.

use leptos::prelude::*;

use crate::{
    context::Clock,
    live::shown,
    logic::{
        compare::{Compared, Comparison, compare},
        format,
        time::parse_iso_ms,
    },
    state::{Previous, Report},
};

/// The comparison panel; nothing while the ledger knows no earlier run of the selection.
#[component]
pub(crate) fn ComparePanel(
    /// The report compared (live or final).
    report: Report,
    /// The ledger's record of it and of the previous run.
    previous: Previous,
) -> impl IntoView {
    let Clock(now) = expect_context::<Clock>();
    let comparison = move || {
        let found = previous.get()?;
        let previous = found.previous?;
        let compared = report.with(|r| {
            r.as_ref()
                .map(|r| compare(&r.tests, &found.previous_results))
        })?;
        Some((previous, compared))
    };
    shown(move || {
        let (previous, compared) = comparison()?;
        let started = parse_iso_ms(&previous.started_at);
        let when = started
            .map(|ms| format::ago(now.get(), ms))
            .unwrap_or_default();
        let by = match previous.origin {
            runboard_shared::Origin::Runboard => format!(" by {}", previous.user),
            runboard_shared::Origin::Elsewhere => String::new(),
        };
        Some(view! {
            <section class="rb-compare" data-testid="compare" aria-label="Compared with the previous run">
                <h2 class="rb-compare-title">"Compared with the previous run"
                    <span class="rb-muted">{format!(" · started {when}{by}")}</span></h2>
                {groups(&compared)}
            </section>
        }.into_any())
    })
}

/// The comparison's non-empty groups, or a sentence when nothing changed.
fn groups(compared: &Comparison) -> AnyView {
    if compared.is_empty() {
        return view! { <p class="rb-muted" data-testid="compare-same">"Same results as the previous run."</p> }.into_any();
    }
    [
        ("newly-failing", "newly failing", &compared.newly_failing),
        ("newly-passing", "newly passing", &compared.newly_passing),
        ("still-failing", "still failing", &compared.still_failing),
        ("slower", "slower", &compared.slower),
    ]
    .into_iter()
    .filter(|(_, _, tests)| !tests.is_empty())
    .map(|(key, label, tests)| group(key, label, tests))
    .collect_view()
    .into_any()
}

fn group(key: &'static str, label: &'static str, tests: &[Compared]) -> AnyView {
    let items = tests
        .iter()
        .map(|t| {
            let times = t
                .durations
                .map(|(then, now)| format!(" · {} → {}", format::duration(then), format::duration(now)));
            view! { <li data-test-id=t.id.clone()>{format::test_title(&t.title).to_owned()}<span class="rb-muted rb-num">{times}</span></li> }
        })
        .collect_view();
    view! {
        <details class=format!("rb-compare-group rb-compare-{key}") data-testid=format!("compare-{key}") open=key == "newly-failing">
            <summary>{format!("{} {label}", tests.len())}</summary>
            <ul>{items}</ul>
        </details>
    }
    .into_any()
}
