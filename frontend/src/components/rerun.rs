//! "Re-run N failed": one click starts exactly the report's failed tests, as a `tests`
//! list, on the run's agent when known, and follows the new job like any start. Beside
//! it, once the server's verdict says some failures do not block, "Re-run N blocking"
//! starts only those that do. People who may not start runs see them disabled, with the
//! reason.

use leptos::{prelude::*, task::spawn_local};
use runboard_shared::{AgentName, ProjectId, Selector, TestStatus};

use crate::{
    context::Flash,
    launch::{StartRequest, start_run},
    live::{live, shown},
    logic::{failure::Failure, links::Prefs},
    router::{Route, router},
    state::{Report, VerdictState},
};

/// Which failures a re-run button starts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    /// Every failed test of the report.
    Failed,
    /// The failures the verdict counts as blocking.
    Blocking,
}

/// The re-run button of a finished report with failures.
#[component]
pub(crate) fn RerunFailed(
    /// The run's project.
    project: ProjectId,
    /// The report.
    report: Report,
    /// Whether the report may still change: nothing to re-run until it is final.
    running: Memo<bool>,
    /// Whether this user may start runs (the bootstrap's permission).
    can_run: bool,
    /// The agent the run ran on, when known.
    agent: RwSignal<Option<String>>,
    /// The server's verdict, for "Re-run N blocking".
    verdict: VerdictState,
) -> impl IntoView {
    let prefs = expect_context::<Prefs>();
    let flash = expect_context::<Flash>();
    let router = router();
    let sending = RwSignal::new(false);
    let failure: RwSignal<Option<Failure>> = RwSignal::new(None);
    let failed = move || {
        report.with(|r| {
            r.as_ref()
                .map(|r| {
                    r.tests
                        .iter()
                        .filter(|t| t.status == TestStatus::Failed)
                        .map(|t| t.id.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let blocking = move || {
        verdict.with(|v| {
            v.as_ref()
                .map(|v| v.blocking_ids().map(str::to_owned).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    };
    let run = Callback::new(move |which: Which| {
        let ids = match which {
            Which::Failed => untrack(failed),
            Which::Blocking => untrack(blocking),
        };
        let Ok(selector) = Selector::tests(&ids) else {
            return;
        };
        if sending.get_untracked() || !can_run {
            return;
        }
        sending.set(true);
        failure.set(None);
        let title =
            report.with_untracked(|r| r.as_ref().map(|r| r.title.clone()).unwrap_or_default());
        let kind = match which {
            Which::Failed => "failed",
            Which::Blocking => "blocking",
        };
        let what = match (ids.len(), title.is_empty()) {
            (1, true) => format!("1 {kind} test"),
            (n, true) => format!("{n} {kind} tests"),
            (1, false) => format!("1 {kind} test of {title}"),
            (n, false) => format!("{n} {kind} tests of {title}"),
        };
        let request = StartRequest {
            selector,
            agent: agent
                .get_untracked()
                .and_then(|a| AgentName::parse(&a).ok()),
            what,
        };
        let project = project.clone();
        spawn_local(async move {
            let result = start_run(&project, request, flash).await;
            sending.set(false);
            match result {
                Ok(()) => {
                    let jobs = Route::Jobs {
                        project: project.to_string(),
                    };
                    router.navigate(&prefs.href(&jobs.href(), &[]), false);
                }
                Err(f) => failure.set(Some(f)),
            }
        });
    });
    shown(move || {
        let ids = failed();
        if running.get() || ids.is_empty() {
            return None;
        }
        // A list the platform would refuse (too long, odd ids) is explained, not sent.
        let refused = Selector::tests(&ids).err().map(|e| e.problem);
        let reason = match (&refused, can_run) {
            (_, false) => Some("You may view runs but not start them in this project.".to_owned()),
            (Some(problem), true) => Some(format!(
                "These tests cannot be re-run as one list: {problem}."
            )),
            (None, true) => None,
        };
        let disabled = reason.is_some();
        let label = format!("↻ Re-run {} failed", ids.len());
        // Only when it starts fewer tests than "Re-run failed" does.
        let blocking = blocking();
        let blocking = (!blocking.is_empty() && blocking.len() < ids.len()).then(|| {
            let refused = Selector::tests(&blocking).is_err();
            view! {
                <button type="button" class="rb-btn" data-testid="rerun-blocking"
                    data-count=blocking.len().to_string()
                    aria-describedby=disabled.then_some("rb-rerun-why")
                    disabled=live(move || disabled || refused || sending.get()) on:click=move |_| run.run(Which::Blocking)>
                    {format!("↻ Re-run {} blocking", blocking.len())}
                </button>
            }
        });
        Some(view! {
            <div class="rb-rerun">
                <button type="button" class="rb-btn rb-btn-primary" data-testid="rerun-failed"
                    data-count=ids.len().to_string()
                    aria-describedby=disabled.then_some("rb-rerun-why")
                    disabled=live(move || disabled || sending.get()) on:click=move |_| run.run(Which::Failed)>
                    {label}
                </button>
                {blocking}
                {reason.map(|r| view! { <span id="rb-rerun-why" class="rb-muted rb-rerun-why" data-testid="rerun-disabled-reason">{r}</span> })}
                {shown(move || failure.get().map(|f| view! {
                    <span class="rb-field-error" role="alert" data-testid="rerun-error">"Could not start the re-run: "{f.message()}</span>
                }))}
            </div>
        })
    })
}
