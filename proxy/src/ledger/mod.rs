//! The execution ledger inside `runboard`: the start path's two writes (an intent before
//! the start is sent, the job id after), the follower that takes every unfinished job to
//! its end (`follow.rs`), `GET /runboard/history/{projId}` (`history.rs`), and one
//! execution with its comparison, one test's history (`detail.rs`). The store
//! itself is the `runboard-ledger` crate. No key ever reaches it: rows hold ids, names
//! and statuses only.

mod detail;
mod follow;
mod history;

use std::{collections::HashSet, sync::Mutex};

use runboard_ledger::{ExecutionId, Intent, Ledger, LedgerError};
use runboard_shared::{ExecuteRequest, ProjectId};

use crate::{
    AppError, AppState,
    config::{LedgerConfig, ProjectConfig},
    upstream::Started,
};

pub(crate) use detail::{execution, test_history};
pub(crate) use follow::Follower;
pub(crate) use history::history;

/// Job ids the sweep need not look up again, per process; cleared when it grows past
/// this (the ledger is the truth, this only saves queries).
const KNOWN_CAP: usize = 100_000;

/// The ledger, this instance's lease name, and the jobs it knows are recorded.
pub(crate) struct Recorder {
    ledger: Ledger,
    config: LedgerConfig,
    owner: String,
    known: Mutex<HashSet<(ProjectId, String)>>,
}

impl Recorder {
    /// Opens (and migrates) the ledger `config` names.
    pub(crate) async fn open(config: &LedgerConfig) -> Result<Self, LedgerError> {
        let ledger = Ledger::open(config.url.expose()).await?;
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "runboard".to_owned());
        let owner = format!(
            "{host}-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        Ok(Self {
            ledger,
            config: config.clone(),
            owner,
            known: Mutex::new(HashSet::new()),
        })
    }

    /// The store.
    pub(crate) fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// This instance's name on the leases it holds.
    pub(crate) fn owner(&self) -> &str {
        &self.owner
    }

    pub(crate) fn config(&self) -> &LedgerConfig {
        &self.config
    }

    /// Whether `job` is known to be recorded (so the sweep need not ask the ledger).
    fn knows(&self, project: &ProjectId, job: &str) -> bool {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known.contains(&(project.clone(), job.to_owned()))
    }

    fn remember(&self, project: &ProjectId, job: &str) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if known.len() >= KNOWN_CAP {
            known.clear();
        }
        known.insert((project.clone(), job.to_owned()));
    }
}

/// Starts a run the way the ledger needs: the intent is written first (a start whose
/// intent cannot be written is not sent: `ledger_unavailable`), then the upstream start,
/// then its outcome. A confirmation that cannot be written is logged; the sweep records
/// the job from the active-jobs list instead (see `runboard_ledger`'s write module).
pub(crate) async fn start(
    state: &AppState,
    project: &ProjectConfig,
    user: &str,
    request: &ExecuteRequest,
) -> Result<Started, AppError> {
    let recorder = state.ledger();
    let intent = Intent::new(
        &project.id,
        user,
        request,
        preset_of(project, request),
        runboard_ledger::now_ms(),
    );
    let id = recorder
        .ledger
        .record_intent(&intent)
        .await
        .map_err(ledger_error)?;
    let result = state
        .upstream()
        .start(state.metrics(), project, request)
        .await;
    settle(recorder, &project.id, id, &result).await;
    result
}

/// Writes how the start of intent `id` ended.
async fn settle(
    recorder: &Recorder,
    project: &ProjectId,
    id: ExecutionId,
    result: &Result<Started, AppError>,
) {
    let written = match result {
        Ok(started) => {
            let job = &started.answer.value.job_id;
            recorder.remember(project, job);
            recorder.ledger.confirm_start(id, job).await.map(|_| ())
        }
        Err(AppError::StartOutcomeUnknown) => recorder.ledger.abandon_intent(id, true).await,
        Err(_) => recorder.ledger.abandon_intent(id, false).await,
    };
    if let Err(err) = written {
        tracing::error!(error = %err, "the ledger could not record a start's outcome");
    }
}

/// The name of the first preset of `project` with exactly this selector and agent.
pub(crate) fn preset_of<'a>(
    project: &'a ProjectConfig,
    request: &ExecuteRequest,
) -> Option<&'a str> {
    project
        .presets
        .iter()
        .find(|p| p.selector == request.selector && p.agent_name == request.agent_name)
        .map(|p| p.name.as_str())
}

/// A ledger failure as a client sees it: a bad cursor is the client's, anything else is
/// logged and answered `ledger_unavailable`.
pub(crate) fn ledger_error(err: LedgerError) -> AppError {
    match err {
        LedgerError::InvalidCursor => AppError::InvalidQuery(err.to_string()),
        other => {
            tracing::error!(error = %other, "ledger");
            AppError::LedgerUnavailable
        }
    }
}
