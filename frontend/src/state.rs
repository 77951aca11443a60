//! State the run report's pieces share: the report itself, how it is followed, its
//! verdict and triage, and the user's view of its table. The run view creates it;
//! components read and write it here, so no component imports a view.

use std::{collections::HashSet, sync::Arc};

use leptos::prelude::*;
use runboard_shared::{ExecutionDetail, ProjectId, ProjectInfo, TestRun, Verdict};

use crate::logic::filter::{SortKey, StatusFilter};

/// The report shared by the view's pieces; `None` until the first answer.
pub(crate) type Report = RwSignal<Option<Arc<TestRun>>>;

/// The ledger's record of this run with the previous finished run of its selection (the
/// comparison's other side); `None` until the ledger answered, and without a job.
pub(crate) type Previous = RwSignal<Option<ExecutionDetail>>;

/// How the view follows a live run (decided by the feed, `logic::feed`): shown only in
/// the "updated" element's tooltip.
pub(crate) use crate::logic::feed::Via;

/// The user's view of the table: kept across refreshes.
#[derive(Clone, Copy)]
pub(crate) struct TableState {
    /// The status chip picked.
    pub(crate) filter: RwSignal<StatusFilter>,
    /// The search text.
    pub(crate) query: RwSignal<String>,
    /// The sort order.
    pub(crate) sort: RwSignal<SortKey>,
    /// The failure cause picked in "Why it failed" (an error headline), if any.
    pub(crate) cause: RwSignal<Option<String>>,
    /// Ids of the expanded tests.
    pub(crate) expanded: RwSignal<HashSet<String>>,
    /// "Owned by my groups": only failures owned by one of the user's teams.
    pub(crate) owned: RwSignal<bool>,
}

/// The run's verdict (issue 21): `None` until it was read, and for good when the server
/// has none (an older server), in which case the report keeps its own headline.
pub(crate) type VerdictState = RwSignal<Option<Arc<Verdict>>>;

/// The failure a triage menu or dialog is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failed {
    /// The test.
    pub(crate) test_id: String,
    /// Its title, as shown.
    pub(crate) title: String,
    /// Its error headline (the known issue's text to start from).
    pub(crate) headline: String,
}

/// Which triage dialog is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DialogKind {
    /// "Quarantine…".
    Quarantine,
    /// "Mark as known issue…".
    Known,
}

/// A row's menu, open at a place of the viewport (it lives outside the windowed table,
/// whose rows clip what overflows them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MenuAt {
    /// The failure.
    pub(crate) failed: Failed,
    /// The menu button's bottom-right corner, in viewport pixels.
    pub(crate) x: i32,
    /// See `x`.
    pub(crate) y: i32,
}

/// Triage on the run report: whether this user may, the row menu and dialog open now,
/// and a counter the verdict follows (bumped after each change of the rules).
#[derive(Clone, Copy)]
pub(crate) struct Triage {
    /// The run's project.
    pub(crate) project: StoredValue<ProjectId>,
    /// The bootstrap's triage permission for the project.
    pub(crate) allowed: bool,
    /// The row menu open now.
    pub(crate) menu: RwSignal<Option<MenuAt>>,
    /// The dialog open now.
    pub(crate) dialog: RwSignal<Option<(DialogKind, Failed)>>,
    /// Bumped after a rule was created here: the verdict is read again.
    pub(crate) changed: RwSignal<u32>,
}

impl Triage {
    /// Triage for `project`; nothing is shown unless the bootstrap allows it.
    pub(crate) fn new(project: &ProjectInfo) -> Self {
        Self {
            project: StoredValue::new(project.id.clone()),
            allowed: may_triage(project),
            menu: RwSignal::new(None),
            dialog: RwSignal::new(None),
            changed: RwSignal::new(0),
        }
    }

    /// Whether the triage tools are shown: the bootstrap allows it and this build has
    /// them. A constant `false` in the report page's build (no `full` feature), so the
    /// compiler leaves the row menu and the dialogs out of it.
    pub(crate) fn tools(&self) -> bool {
        cfg!(feature = "full") && self.allowed
    }
}

/// Whether the bootstrap lets this user change the project's triage rules (its
/// `mayTriage`; the one place the widget reads it).
pub(crate) fn may_triage(project: &ProjectInfo) -> bool {
    project.may_triage
}

/// The teams the bootstrap says are this user's in the project (`[[projects.owners]]`
/// naming the user or a group of theirs): the "Owned by my groups" filter's.
pub(crate) fn my_teams(project: &ProjectInfo) -> Vec<String> {
    project.teams.clone()
}
