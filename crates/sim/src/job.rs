//! A job as the simulator created it: everything needed to derive its state at any
//! instant. `store` creates and keeps jobs, `report` reads them; neither needs the other
//! for this type, so dependencies point one way (`store → report → job`).

use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use runboard_shared::Selector;

use crate::{catalog::Fate, plan::Plan};

/// A job as created: everything needed to derive its state at any instant.
#[derive(Debug, Clone)]
pub(crate) struct JobRecord {
    pub(crate) id: String,
    pub(crate) run_id: String,
    pub(crate) created_at: DateTime<Utc>,
    /// When `Pending` ends.
    pub(crate) pending_end: DateTime<Utc>,
    /// When the run starts (the job turns `InProgress`); `None` while its agent is away
    /// with no known time of return.
    pub(crate) run_start: Option<DateTime<Utc>>,
    pub(crate) agent: Option<String>,
    /// The fixed ending of a job sent to a fated agent: it never gets a run.
    pub(crate) fate: Option<Fate>,
    pub(crate) title: String,
    /// What was asked for (the selection, normalised, and the agent), to recognise an
    /// identical execution.
    pub(crate) request_key: (Selector, Option<String>),
    pub(crate) plan: Arc<Plan>,
    /// The finished report's JSON, built once: a completed run never changes.
    pub(crate) final_report: Arc<OnceLock<Bytes>>,
}
