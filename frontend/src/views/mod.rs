//! The routed views: start a run, follow jobs, read a run report, look back at history.

pub(crate) mod history;
pub(crate) mod home;
pub(crate) mod jobs;
pub(crate) mod not_found;
pub(crate) mod run;
pub(crate) mod start;
