//! State the run report's pieces share: the report itself, how it is followed, and the
//! user's view of its table. The run view creates it; components read and write it here,
//! so no component imports a view.

use std::{collections::HashSet, sync::Arc};

use leptos::prelude::*;
use runboard_shared::{ExecutionDetail, TestRun};

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
}
