//! Pieces the views are built from.

pub(crate) mod banner;
pub(crate) mod causes;
pub(crate) mod chip;
pub(crate) mod chrome;
pub(crate) mod detail;
pub(crate) mod embed;
pub(crate) mod export;
pub(crate) mod rerun;
pub(crate) mod summary;
pub(crate) mod table;
pub(crate) mod toolbar;
