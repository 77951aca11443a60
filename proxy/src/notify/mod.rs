//! Notifications (issue 22): when the ledger's follower sees a run start or end, each
//! `[[notify]]` channel that covers the run and listens for the event gets one message,
//! recorded in the ledger's outbox first (once per channel, execution and event, however
//! many replicas see it) and delivered by a task of its own (`deliver.rs`), so a slow or
//! failing channel never holds up following or another channel. Bodies (`message.rs`)
//! are checked before they are recorded: no project key, no channel URL and no channel
//! secret in any form the key scan knows.

mod deliver;
mod message;
mod page;

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use runboard_ledger::{Execution, Held, NewMessage};
use runboard_shared::{RunId, RunPage, TestRun, TestStatus, Verdict, error_text};

pub(crate) use deliver::Delivery;
pub(crate) use page::page;

use crate::{
    AppState,
    config::{ApiKey, Channel, Config, NotifyEvent, ProjectConfig},
    keyscan::KeyScan,
};

/// What the notifier keeps for the life of the process.
pub(crate) struct Notifier {
    /// Every project key and every channel URL and secret: what no body may hold.
    secrets: KeyScan,
    /// Executions whose `started` messages this instance recorded (to skip the ledger
    /// on later rounds); forgotten when the run ends.
    announced: Mutex<HashSet<i64>>,
}

impl Notifier {
    /// The notifier of `config`'s channels.
    pub(crate) fn new(config: &Config) -> Arc<Self> {
        let channel_secrets: Vec<ApiKey> = config
            .notify
            .channels
            .iter()
            .flat_map(|c| [Some(c.url()), c.secret()])
            .flatten()
            .filter_map(|s| ApiKey::new(s).ok())
            .collect();
        let keys = config.projects.iter().map(|p| &p.key);
        Arc::new(Self {
            secrets: KeyScan::new(keys.chain(&channel_secrets)),
            announced: Mutex::new(HashSet::new()),
        })
    }

    fn first_announcement(&self, id: i64) -> bool {
        let mut announced = self.announced.lock().unwrap_or_else(|p| p.into_inner());
        announced.insert(id)
    }

    fn forget(&self, id: i64) {
        let mut announced = self.announced.lock().unwrap_or_else(|p| p.into_inner());
        announced.remove(&id);
    }
}

/// The follower recorded `held`'s end (or another instance did): it is no longer
/// announced, whatever comes next.
pub(crate) fn ended(state: &AppState, held: &Held) {
    state.notifier().forget(held.id.0);
}

/// The events a final run with `verdict` raises; `previous_failed` says whether the
/// previous run of the same selection had failures (`None`: no previous run known).
fn events(verdict: &Verdict, previous_failed: Option<bool>) -> Vec<NotifyEvent> {
    let mut events = vec![NotifyEvent::Finished];
    if verdict.blocking > 0 {
        events.push(NotifyEvent::Failed);
    } else if previous_failed == Some(true) {
        events.push(NotifyEvent::Recovered);
    }
    if verdict.counts.new > 0 {
        events.push(NotifyEvent::NewFailure);
    }
    events
}

/// The channels that cover a run of `project` started with `preset` and hear `event`.
fn listening<'a>(
    state: &'a AppState,
    project: &'a ProjectConfig,
    preset: Option<&'a str>,
    event: NotifyEvent,
) -> impl Iterator<Item = &'a Channel> {
    state
        .config()
        .notify
        .channels
        .iter()
        .filter(move |c| c.on.contains(&event) && c.covers(&project.id, preset))
}

/// The follower saw `held` running: records `started` for each channel that wants it.
pub(crate) async fn started(state: &AppState, project: &ProjectConfig, held: &Held) {
    let notifier = state.notifier();
    let anyone = state
        .config()
        .notify
        .channels
        .iter()
        .any(|c| c.on.contains(&NotifyEvent::Started));
    if !anyone || !notifier.first_announcement(held.id.0) {
        return;
    }
    let Some(execution) = execution(state, project, held).await else {
        notifier.forget(held.id.0);
        return;
    };
    let subject = subject(state, project, &execution, NotifyEvent::Started, None, None);
    record(state, project, &execution, &subject).await;
}

/// The follower recorded `held`'s end with `report` (run `run`): records each event the
/// verdict raises for each channel that covers the run and wants it.
pub(crate) async fn finished(
    state: &AppState,
    project: &ProjectConfig,
    held: &Held,
    run: &RunId,
    report: &TestRun,
) {
    let notifier = state.notifier();
    notifier.forget(held.id.0);
    if state.config().notify.channels.is_empty() {
        return;
    }
    let Some(execution) = execution(state, project, held).await else {
        return;
    };
    let verdict = match crate::triage::compute(state, project, run, report, true).await {
        Ok(verdict) => verdict,
        Err(err) => {
            tracing::warn!(error = %err, job = %held.job_id, "no notification: the verdict failed");
            return;
        }
    };
    let ledger = state.ledger().ledger();
    let previous_failed = match ledger.previous(&execution).await {
        Ok(previous) => previous.map(|p| p.counts.is_some_and(|c| c.failed > 0)),
        Err(err) => {
            tracing::warn!(error = %err, "notifications: the previous run could not be read");
            None
        }
    };
    let blocking = blocking(&verdict, report);
    for event in events(&verdict, previous_failed) {
        let subject = subject(
            state,
            project,
            &execution,
            event,
            Some(&verdict),
            Some(blocking.clone()),
        );
        record(state, project, &execution, &subject).await;
    }
}

/// Each blocking failure's title and error headline, in the verdict's order.
fn blocking(verdict: &Verdict, report: &TestRun) -> Vec<(String, String)> {
    verdict
        .failures
        .iter()
        .filter(|f| f.blocks)
        .map(|f| {
            let error = report
                .tests
                .iter()
                .find(|t| t.id == f.test_id && t.status == TestStatus::Failed)
                .and_then(|t| t.error.as_ref())
                .map(|e| error_text(e).0)
                .unwrap_or_default();
            let title = if f.title.is_empty() {
                f.test_id.clone()
            } else {
                f.title.clone()
            };
            (title, error)
        })
        .collect()
}

async fn execution(state: &AppState, project: &ProjectConfig, held: &Held) -> Option<Execution> {
    let ledger = state.ledger().ledger();
    match ledger.execution(project.id.as_str(), &held.job_id).await {
        Ok(found) => found,
        Err(err) => {
            tracing::warn!(error = %err, "notifications: the execution could not be read");
            None
        }
    }
}

fn subject<'a>(
    state: &AppState,
    project: &'a ProjectConfig,
    execution: &'a Execution,
    event: NotifyEvent,
    verdict: Option<&'a Verdict>,
    blocking: Option<Vec<(String, String)>>,
) -> message::Subject<'a> {
    let run_id = execution.test_run_id.as_deref();
    let url = run_id
        .and_then(|run| RunId::parse(run).ok())
        .zip(state.config().public_url.as_ref())
        .and_then(|(run, base)| {
            let page = RunPage {
                project: project.id.clone(),
                run,
            };
            base.join(page.path().trim_start_matches('/')).ok()
        })
        .map(String::from);
    let title = match &execution.preset {
        Some(preset) => preset.clone(),
        None if execution.selector_kind.is_empty() => "A run started elsewhere".to_owned(),
        None => format!("{} {}", execution.selector_kind, execution.selector_value),
    };
    message::Subject {
        event,
        project_id: project.id.as_str(),
        project_name: &project.name,
        run_id,
        job_id: execution.job_id.as_deref().unwrap_or_default(),
        title,
        preset: execution.preset.as_deref(),
        started_by: &execution.user,
        duration_ms: execution.duration_ms,
        url,
        verdict,
        blocking: blocking.unwrap_or_default(),
    }
}

/// Renders and records `subject` for each channel that wants it; a body holding a key or
/// a channel secret is dropped and said so (by channel name only).
async fn record(
    state: &AppState,
    project: &ProjectConfig,
    execution: &Execution,
    subject: &message::Subject<'_>,
) {
    let ledger = state.ledger().ledger();
    let notifier = state.notifier();
    let preset = execution.preset.as_deref();
    for channel in listening(state, project, preset, subject.event) {
        let body = message::body(channel.kind, subject).to_string();
        if notifier.secrets.found_in(body.as_bytes()) {
            tracing::error!(
                channel = %channel.name,
                event = subject.event.as_str(),
                "a notification would carry a key or a channel secret; not recorded"
            );
            continue;
        }
        let message = NewMessage {
            channel: &channel.name,
            project: project.id.as_str(),
            execution: execution.id,
            run_id: subject.run_id,
            event: subject.event.as_str(),
            body: &body,
        };
        if let Err(err) = ledger.enqueue(&message, runboard_ledger::now_ms()).await {
            tracing::warn!(error = %err, channel = %channel.name, "a notification could not be recorded");
        }
    }
}

#[cfg(test)]
mod tests {
    use runboard_shared::VerdictStatus;

    use super::*;

    fn verdict(blocking: u64, new: u64) -> Verdict {
        let mut verdict = Verdict {
            run_id: "r".into(),
            status: if blocking > 0 {
                VerdictStatus::Failed
            } else {
                VerdictStatus::Passed
            },
            blocking,
            counts: Default::default(),
            failures: Vec::new(),
        };
        verdict.counts.new = new;
        verdict
    }

    #[test]
    fn a_verdict_raises_its_events() {
        use NotifyEvent::*;
        let check = |v: Verdict, previous, expected: &[NotifyEvent]| {
            assert_eq!(events(&v, previous), expected);
        };
        check(verdict(0, 0), None, &[Finished]);
        check(verdict(0, 0), Some(false), &[Finished]);
        check(verdict(0, 0), Some(true), &[Finished, Recovered]);
        check(verdict(2, 1), Some(true), &[Finished, Failed, NewFailure]);
        check(
            verdict(0, 1),
            Some(true),
            &[Finished, Recovered, NewFailure],
        );
    }
}
