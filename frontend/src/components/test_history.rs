//! An opened test's last results across runs, from the ledger, and the flaky hint: a test
//! whose result flipped between Passed and Failed within them is marked possibly flaky,
//! with the results as the evidence.

use leptos::{prelude::*, task::spawn_local};
use runboard_shared::{ProjectId, TestHistory, TestStatus};

use crate::{
    api, browser,
    components::chip::Chip,
    live::shown,
    logic::{format, look, time::parse_iso_ms},
    router::router,
};

/// How many earlier results an opened test shows.
pub(crate) const RECENT_RESULTS: usize = 10;

/// Flips between Passed and Failed within [`RECENT_RESULTS`] that make a test look flaky
/// (once is a change; twice or more is a pattern).
pub(crate) const FLAKY_FLIPS: u32 = 2;

/// The test's recent results (nothing while the ledger has none).
#[component]
pub(crate) fn RecentResults(
    /// The test's id.
    test_id: String,
) -> impl IntoView {
    let project = router()
        .route()
        .with_untracked(|r| r.project().map(str::to_owned));
    let history: RwSignal<Option<TestHistory>> = RwSignal::new(None);
    if let Some(project) = project.and_then(|p| ProjectId::parse(&p).ok()) {
        spawn_local(async move {
            // The history is extra: without the ledger's answer the test stands alone.
            if let Ok(found) = api::test_history(&project, &test_id, RECENT_RESULTS).await {
                history.set(Some(found));
            }
        });
    }
    shown(move || {
        let found = history.get().filter(|h| !h.results.is_empty())?;
        let flaky = (found.flips >= FLAKY_FLIPS).then(|| view! {
            <p class="rb-flaky" data-testid="flaky">
                <strong>"Possibly flaky: "</strong>
                {format!("its result flipped between passed and failed {} times in its last {} runs.", found.flips, found.results.len())}
            </p>
        });
        let results = found.results.iter().map(|r| {
            let status = TestStatus::parse(&r.status);
            let when = parse_iso_ms(&r.started_at).map(|ms| format::timestamp(ms, browser::local_offset_min(ms)));
            let took = r.duration_ms.map(format::duration).unwrap_or_default();
            view! { <li class="rb-test-recent-result" data-testid="recent-result" data-status=r.status.clone() title=format!("{} · {took}", when.unwrap_or_default())><Chip look=look::test(&status) /></li> }
        }).collect_view();
        Some(view! {
            <div class="rb-test-recent" data-testid="recent-results" data-flips=found.flips.to_string()>
                {flaky}
                <span class="rb-muted">"Last runs, newest first: "</span>
                <ul class="rb-test-recent-list" aria-label="This test's last results, newest first">{results}</ul>
            </div>
        }.into_any())
    })
}
