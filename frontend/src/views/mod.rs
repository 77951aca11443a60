//! The routed views: the status board, start a run, follow jobs, read a run report, look
//! back at history, the triage rules.

pub(crate) mod board;
pub(crate) mod history;
pub(crate) mod home;
pub(crate) mod jobs;
pub(crate) mod not_found;
pub(crate) mod notifications;
pub(crate) mod rules;
pub(crate) mod run;
pub(crate) mod start;
pub(crate) mod tokens;
