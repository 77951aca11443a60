//! Pieces the views are built from.

pub(crate) mod banner;
pub(crate) mod causes;
pub(crate) mod chip;
pub(crate) mod chrome;
pub(crate) mod compare;
pub(crate) mod detail;
pub(crate) mod embed;
pub(crate) mod export;
pub(crate) mod notify;
pub(crate) mod rerun;
pub(crate) mod rule_edit;
pub(crate) mod summary;
pub(crate) mod table;
pub(crate) mod test_history;
pub(crate) mod toolbar;
pub(crate) mod trend;
pub(crate) mod triage_dialog;
pub(crate) mod triage_menu;
