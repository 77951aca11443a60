//! Pure logic of the widget: everything that can be decided without a browser, so it
//! compiles natively and is unit-tested by `cargo test -p runboard-frontend`.

pub(crate) mod board;
pub(crate) mod case;
pub(crate) mod causes;
pub(crate) mod compare;
pub(crate) mod failure;
pub(crate) mod feed;
pub(crate) mod filter;
pub(crate) mod form;
pub(crate) mod format;
pub(crate) mod history;
pub(crate) mod jobs;
pub(crate) mod links;
pub(crate) mod look;
pub(crate) mod poll;
pub(crate) mod rule_edit;
pub(crate) mod summary;
pub(crate) mod time;
pub(crate) mod timeline;
pub(crate) mod trend;
pub(crate) mod triage;
pub(crate) mod verdict;
pub(crate) mod window;
