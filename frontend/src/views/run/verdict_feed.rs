//! The run view's verdict in the browser: read when the report opens, again as it
//! changes (at most once per few seconds while live), once more when it is final, and
//! after each rule made here, as `logic::verdict::Schedule` decides. A server without
//! verdicts (404) is not asked again, and the report keeps its own headline.

use std::sync::Arc;

use gloo_timers::callback::Timeout;
use leptos::{prelude::*, task::spawn_local};
use runboard_shared::{ProjectId, RunId};
use send_wrapper::SendWrapper;

use crate::{
    api::triage as api,
    browser,
    logic::{
        failure::Failure,
        verdict::{Read, Schedule},
    },
    state::{Report, Triage, VerdictState},
};

/// Follows the verdict of `run` beside its report; `running` says whether the report
/// may still change.
pub(super) fn follow_verdict(
    project: &ProjectId,
    run: &RunId,
    report: Report,
    running: Memo<bool>,
    triage: Triage,
) -> VerdictState {
    let driver = Driver {
        verdict: RwSignal::new(None),
        schedule: StoredValue::new(Schedule::default()),
        timer: StoredValue::new(None),
        project: StoredValue::new(project.clone()),
        run: StoredValue::new(run.clone()),
        running,
    };
    Effect::new(move |_| {
        let changed = report.with(|r| r.as_ref().map(Arc::as_ptr));
        let live = running.get();
        if changed.is_some() {
            driver.step(|s| s.on_report(browser::now_ms(), live));
        }
    });
    Effect::new(move |first: Option<()>| {
        triage.changed.track();
        if first.is_some() {
            driver.step(|s| s.on_rules_changed(browser::now_ms()));
        }
    });
    on_cleanup(move || driver.timer.set_value(None));
    driver.verdict
}

/// The schedule with the browser objects its steps act on.
#[derive(Clone, Copy)]
struct Driver {
    verdict: VerdictState,
    schedule: StoredValue<Schedule>,
    timer: StoredValue<Option<SendWrapper<Timeout>>>,
    project: StoredValue<ProjectId>,
    run: StoredValue<RunId>,
    running: Memo<bool>,
}

impl Driver {
    /// Gives the schedule one input and does what it says.
    fn step(self, input: impl FnOnce(&mut Schedule) -> Option<Read>) {
        self.act(self.schedule.try_update_value(input).flatten());
    }

    /// Does what the schedule said (not generic: the timer steps again from here).
    fn act(self, next: Option<Read>) {
        match next {
            Some(Read::Now) => self.read(),
            Some(Read::At(at)) => {
                let wait = u32::try_from((at - browser::now_ms()).max(0)).unwrap_or(u32::MAX);
                let timeout = Timeout::new(wait, move || {
                    let live = self.running.get_untracked();
                    let next = self
                        .schedule
                        .try_update_value(|s| s.on_timer(browser::now_ms(), live));
                    self.act(next.flatten());
                });
                self.timer.set_value(Some(SendWrapper::new(timeout)));
            }
            None => {}
        }
    }

    /// Reads the verdict and hands the answer to the schedule.
    fn read(self) {
        let (Some(project), Some(run)) = (self.project.try_get_value(), self.run.try_get_value())
        else {
            return;
        };
        spawn_local(async move {
            let answer = api::verdict(&project, &run).await;
            let Some(live) = self.running.try_get_untracked() else {
                return;
            };
            let (status, gone) = match answer {
                Ok(verdict) => {
                    let status = verdict.status;
                    self.verdict.try_set(Some(Arc::new(verdict)));
                    (Some(status), false)
                }
                Err(failure) => (None, never_there(&failure)),
            };
            let next = self
                .schedule
                .try_update_value(|s| s.on_answer(browser::now_ms(), live, status, gone));
            self.act(next.flatten());
        });
    }
}

/// Failures that asking again will not mend: no verdicts on this server (404), none
/// for this user (403), or an answer this widget cannot read.
fn never_there(failure: &Failure) -> bool {
    matches!(
        failure,
        Failure::NotFound(_) | Failure::Forbidden(_) | Failure::BadAnswer(_)
    )
}
