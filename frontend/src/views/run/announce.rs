//! What the run view says outside its own DOM: the tab's title, and once the run is
//! final, this browser's job book, the embedding portal's message and a notification.

use leptos::prelude::*;
use runboard_shared::{JobId, ProjectId, RunId, TestStatus};

use crate::{
    browser,
    logic::{
        jobs::Outcome,
        summary::{Summary, elapsed_ms},
        verdict::headline,
    },
    state::{Report, VerdictState},
    store,
};

/// Says the outcome outside the widget's own DOM: the tab's title at every change, and
/// once the run is final this browser's job book, the embedding portal and, when asked,
/// a notification (once per opened report). The title says the server's verdict once it
/// is known, as the header does; the portal's message (its contract) and the
/// notification, sent the moment the report turns final, before the verdict of the
/// final report is read, keep the report's own outcome.
pub(super) fn announce_outcome(
    report: Report,
    judged: VerdictState,
    running: Memo<bool>,
    notify: RwSignal<bool>,
    project: &ProjectId,
    run: &RunId,
    job: Option<&JobId>,
) {
    let announced = StoredValue::new(false);
    let (title_proj, title_run) = (project.to_string(), run.to_string());
    let outcome_job = job.map(ToString::to_string);
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
        let shown = judged.with(|v| headline(v.as_deref(), verdict.clone(), running.get()));
        browser::set_title(&format!(
            "{} {} · {name} · Runboard",
            shown.icon, shown.text
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
}

/// The run's own status word, for the portal's message.
fn report_status(report: Report) -> String {
    report.with_untracked(|r| {
        r.as_ref()
            .map(|r| r.status.as_str().to_owned())
            .unwrap_or_default()
    })
}
