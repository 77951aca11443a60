//! The execution ledger inside `runboard`: the start path's two writes (an intent before
//! the start is sent, the job id after), the follower that takes every unfinished job to
//! its end (`follow.rs`), `GET /runboard/history/{projId}` (`history.rs`), and one
//! execution with its comparison, one test's history (`detail.rs`). The store
//! itself is the `runboard-ledger` crate. No key ever reaches it: rows hold ids, names
//! and statuses only.

mod detail;
mod follow;
mod history;

use std::{collections::HashSet, sync::Mutex, time::Duration};

use runboard_ledger::{ExecutionId, Intent, Ledger, LedgerError};
use runboard_shared::{ExecuteRequest, ProjectId};
use tokio::sync::{Notify, watch};

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

/// The ledger, this instance's lease name, the jobs it knows are recorded, and its
/// follower's rounds.
pub(crate) struct Recorder {
    ledger: Ledger,
    config: LedgerConfig,
    owner: String,
    known: Mutex<HashSet<(ProjectId, String)>>,
    rounds: Rounds,
}

/// The follower's rounds, so that a reader who needs the ledger up to date now (a final
/// verdict compares a run with the previous one of its selection, which only the
/// follower records) can ask for a round at once and wait for it ([`Recorder::catch_up`])
/// instead of judging from a ledger up to `follow_ms` behind.
#[derive(Default)]
struct Rounds {
    /// Wakes the follower before its next tick (a permit is kept if it is busy).
    nudge: Notify,
    /// The number of the last round started, and of the last round finished.
    progress: watch::Sender<(u64, u64)>,
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
            rounds: Rounds::default(),
        })
    }

    /// Waits, at most `within`, for a follower round that starts after this call (asked
    /// for at once), so what the platform has finished is recorded. Returns at once on an
    /// instance that does not follow (another replica's rounds cannot be asked for).
    pub(crate) async fn catch_up(&self, within: Duration) {
        if self.config.follow.is_none() {
            return;
        }
        let mut progress = self.rounds.progress.subscribe();
        let wanted = progress.borrow().0 + 1;
        self.rounds.nudge.notify_one();
        let done = progress.wait_for(|(_, finished)| *finished >= wanted);
        if tokio::time::timeout(within, done).await.is_err() {
            tracing::debug!("the ledger's follower did not catch up in time");
        }
    }

    /// The follower is asked for a round.
    async fn nudged(&self) {
        self.rounds.nudge.notified().await;
    }

    /// The follower starts a round: its number.
    fn round_started(&self) -> u64 {
        let mut number = 0;
        self.rounds.progress.send_modify(|(started, _)| {
            *started += 1;
            number = *started;
        });
        number
    }

    /// The follower finished round `number`.
    fn round_finished(&self, number: u64) {
        self.rounds
            .progress
            .send_modify(|(_, finished)| *finished = number);
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
