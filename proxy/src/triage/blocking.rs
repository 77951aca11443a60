//! The history's blocking line (issue 21): how many failures of each execution of a
//! history page block, decided by `shared`'s [`classify`] (the verdict's own rule) over the
//! facts `facts.rs` reads ([`Rulings`]), with the rules as they apply *now*: a quarantine
//! made today lowers the count of last week's runs too, which is what a trend of "what
//! still needs someone" should show. Only what can change `blocks` is read: which tests
//! failed (one ledger query for the whole page), the quarantines (and the members of the
//! suites and features they cover, one query), and a failure's error headline only when a
//! known issue with `blocks = false` exists (the report, through the shared reads and
//! their finished-report cache; a finished report's headlines are then kept, as the
//! widget reads the same page again every few seconds); the previous run and the flips
//! (`new`, `flaky`, `failing`) are not read: those classes all block.

use std::{collections::HashMap, mem::size_of, sync::Arc};

use runboard_ledger::{Execution, ExecutionId};
use runboard_shared::{RunId, TestRun, TestStatus, classify, error_text};

use super::{facts::Rulings, kept_or};
use crate::{AppError, AppState, config::ProjectConfig, ledger::ledger_error, reads};

/// Each failed test's error headline in one run's report, by test id (empty when the
/// failure has no error).
pub(super) type Headlines = HashMap<String, String>;

/// The blocking count of each of `executions` (same order): `None` for a run that is not
/// final, has no recorded counts, or whose failures the ledger or the report cannot tell.
pub(crate) async fn blocking(
    state: &AppState,
    project: &ProjectConfig,
    executions: &[Execution],
) -> Result<Vec<Option<u64>>, AppError> {
    let failed = |e: &Execution| e.counts.filter(|_| e.finished).map(|c| c.failed);
    let mut out: Vec<Option<u64>> = executions
        .iter()
        .map(|e| failed(e).map(|n| u64::try_from(n).unwrap_or(0)))
        .collect();
    let judged: Vec<ExecutionId> = executions
        .iter()
        .filter(|e| failed(e).is_some_and(|n| n > 0))
        .map(|e| e.id)
        .collect();
    if judged.is_empty() {
        return Ok(out);
    }
    let ledger = state.ledger().ledger();
    let mut failures: HashMap<ExecutionId, Vec<String>> = HashMap::new();
    for f in ledger
        .failures_of(project.id.as_str(), &judged)
        .await
        .map_err(ledger_error)?
    {
        failures.entry(f.execution_id).or_default().push(f.test_id);
    }
    let mut rulings = Rulings::read(state, project).await?;
    for (slot, execution) in out.iter_mut().zip(executions) {
        if slot.is_some_and(|n| n > 0) {
            *slot = match failures.get(&execution.id) {
                Some(tests) => count(state, project, &mut rulings, execution, tests).await,
                // Counted failed, but no failed result recorded: nothing to judge by.
                None => None,
            };
        }
    }
    Ok(out)
}

/// How many of `tests` (the failures of `execution`) block; `None` when a headline is
/// needed and the report cannot be read.
async fn count(
    state: &AppState,
    project: &ProjectConfig,
    rulings: &mut Rulings,
    execution: &Execution,
    tests: &[String],
) -> Option<u64> {
    rulings.for_run(execution);
    let unruled = tests.iter().any(|t| !rulings.quarantined(t));
    let headlines = if rulings.headlines_matter() && unruled {
        Some(headlines(state, project, execution).await?)
    } else {
        None
    };
    let blocking = tests
        .iter()
        .filter(|test| {
            let headline = headlines
                .as_ref()
                .map(|h| h.get(test.as_str()).cloned().unwrap_or_default());
            classify(rulings.facts(test, headline)).blocks
        })
        .count();
    Some(blocking as u64)
}

/// Each failed test's error headline in `execution`'s report, read as a verdict reads it
/// (the shared reads, whose cache keeps finished reports' bytes), parsed without being
/// kept (`Triage::report_passing`: a page of 50 would push out the reports verdicts
/// keep). A finished report's headlines are kept instead (in `Triage`, with the answer's
/// `ETag`, so changed bytes are parsed again): a page read again parses none of them.
async fn headlines(
    state: &AppState,
    project: &ProjectConfig,
    execution: &Execution,
) -> Option<Arc<Headlines>> {
    let run = RunId::parse(execution.test_run_id.clone()?).ok()?;
    let answer = reads::test_run(state, project, &run).await.ok()?;
    let triage = state.triage();
    let read = || {
        let report = triage.report_passing(&project.id, &run, &answer)?;
        Ok(Arc::new(failed_headlines(&report)))
    };
    let headlines = if answer.is_finished() {
        let key = (project.id.clone(), run.clone());
        kept_or(&triage.headlines, key, answer.etag(), held_bytes, read)
    } else {
        read()
    };
    headlines.ok()
}

/// Each failed test's headline in `report`.
fn failed_headlines(report: &TestRun) -> Headlines {
    report
        .tests
        .iter()
        .filter(|t| t.status == TestStatus::Failed)
        .map(|t| {
            let headline = t.error.as_ref().map(|e| error_text(e).0);
            (t.id.clone(), headline.unwrap_or_default())
        })
        .collect()
}

/// About what `headlines` holds: its texts and, per entry, the two strings and a slot.
fn held_bytes(headlines: &Headlines) -> usize {
    let entry = size_of::<(String, String)>() + size_of::<u64>();
    headlines
        .iter()
        .map(|(test, headline)| entry + test.len() + headline.len())
        .sum()
}
