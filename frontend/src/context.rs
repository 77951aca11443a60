//! Values shared through Leptos context: the bootstrap, a ticking clock for relative
//! times, and the notice about the last start.

use gloo_timers::callback::Interval;
use leptos::prelude::*;
use runboard_shared::{Bootstrap, ProjectInfo};
use send_wrapper::SendWrapper;

use crate::browser;

/// The bootstrap, available to every routed view.
#[derive(Clone)]
pub(crate) struct Boot(pub(crate) Bootstrap);

impl Boot {
    /// The project with this id, if this user may see it.
    pub(crate) fn project(&self, id: &str) -> Option<ProjectInfo> {
        self.0
            .projects
            .iter()
            .find(|p| p.id.as_str() == id)
            .cloned()
    }
}

/// The current time, ticking once a second, for "12 s ago" labels.
#[derive(Clone, Copy)]
pub(crate) struct Clock(pub(crate) ReadSignal<i64>);

impl Clock {
    /// Starts the clock for the app's lifetime.
    pub(crate) fn start() -> Self {
        let (now, set_now) = signal(browser::now_ms());
        let interval = Interval::new(1000, move || set_now.set(browser::now_ms()));
        let kept = SendWrapper::new(interval);
        on_cleanup(move || drop(kept.take()));
        Self(now)
    }
}

/// The message about the last start, shown on the jobs view and on that job's report,
/// and the job whose run should open by itself.
#[derive(Clone, Copy, Default)]
pub(crate) struct Flash(pub(crate) RwSignal<Option<Notice>>);

/// What the last start did.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Notice {
    /// The project.
    pub(crate) project: String,
    /// The job started or followed.
    pub(crate) job_id: String,
    /// The sentence shown.
    pub(crate) text: String,
    /// Whether the run should still open by itself once it exists.
    pub(crate) follow: bool,
}

/// The context values; panics only if `App` did not provide them, a programming error.
pub(crate) fn boot() -> Boot {
    expect_context::<Boot>()
}
