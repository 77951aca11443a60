//! Triage (issue 21): the verdict of a run (`verdict.rs`, from the facts `facts.rs`
//! gathers), the rules that class its failures (`rules.rs`: list, create, edit, delete; stored
//! in the ledger, so every replica shares them) and the known-issue matcher
//! (`matcher.rs`). Each project's rules are read and compiled once per change: a verdict
//! asks the ledger only for the rules' stamp (one small query) and compiles again when
//! another request or replica changed them. A finished report is parsed for verdicts
//! once and kept (a few, slimmed to what a verdict reads), as its bytes are kept by the
//! shared reads; the history keeps only its failed tests' headlines (`blocking.rs`). Both
//! are kept in a [`Kept`], each with the `ETag` of the answer it was read from.

mod blocking;
mod facts;
mod matcher;
mod rules;
mod verdict;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::http::HeaderValue;
use chrono::{DateTime, SecondsFormat, Utc};
use runboard_ledger::{Ledger, RuleRecord, RulesStamp};
use runboard_shared::{
    Day, NewRule, ProjectId, RawJson, RunId, TestRun, TestStatus, Timeline, error_text,
};

pub(crate) use blocking::blocking;
pub(crate) use rules::{create, delete, edit, list};
pub(crate) use verdict::{compute, verdict};

use crate::kept::Kept;
use crate::{AppError, ledger::ledger_error, reads::Answer};

/// Finished reports kept parsed for verdicts (a handful: each is a whole report).
const KEPT_REPORTS: usize = 16;

/// Finished runs whose failed tests' headlines the history keeps: many pages of 50, of
/// several projects.
const KEPT_HEADLINES: usize = 1_024;

/// The most those headlines hold together (a 10,000-test run with 1,000 failures holds
/// about 150 kB).
const KEPT_HEADLINE_BYTES: usize = 8 * 1024 * 1024;

/// A finished report's run, in its project: a run id is only unique within one.
type RunKey = (ProjectId, RunId);

/// What was read from a finished report, with the `ETag` of the answer it was read from:
/// served again only for an answer with the same tag.
type Tagged<V> = (HeaderValue, Arc<V>);

/// A project's rules as last read, with the known issues compiled.
pub(crate) struct Compiled {
    stamp: RulesStamp,
    /// Every rule not deleted (expired quarantines too: expiry is checked per verdict),
    /// oldest first, which is also the known issues' precedence.
    rules: Vec<RuleRecord>,
    /// Indices into `rules` of the known issues, in the matcher's order.
    known: Vec<usize>,
    matcher: matcher::Matcher,
}

impl Compiled {
    fn new(stamp: RulesStamp, mut rules: Vec<RuleRecord>) -> Self {
        rules.sort_by_key(|r| r.id);
        let known: Vec<usize> = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r.spec, NewRule::Known(_)))
            .map(|(i, _)| i)
            .collect();
        let matcher = matcher::Matcher::new(known.iter().filter_map(|&i| match &rules[i].spec {
            NewRule::Known(k) => Some(k),
            NewRule::Quarantine(_) => None,
        }));
        Self {
            stamp,
            rules,
            known,
            matcher,
        }
    }

    /// The first known-issue rule matching a failure of `test_id` with `headline`.
    pub(crate) fn known_match(&self, test_id: &str, headline: &str) -> Option<&RuleRecord> {
        let index = self.matcher.first(test_id, headline)?;
        Some(&self.rules[self.known[index]])
    }

    /// The quarantines that apply on `today` (their last day not passed), oldest
    /// first, with their index in `rules`.
    pub(crate) fn quarantines(&self, today: Day) -> impl Iterator<Item = (usize, &RuleRecord)> {
        self.rules
            .iter()
            .enumerate()
            .filter(move |(_, r)| match &r.spec {
                NewRule::Quarantine(q) => q.until >= today,
                NewRule::Known(_) => false,
            })
    }
}

/// Every project's compiled rules, kept until their stamp changes, the last finished
/// reports verdicts were asked of, parsed, and the last finished runs' failed tests'
/// headlines the history's blocking counts read.
pub(crate) struct Triage {
    compiled: Mutex<HashMap<ProjectId, Arc<Compiled>>>,
    /// The last [`KEPT_REPORTS`] used (a report's size is not counted: the count bounds it).
    reports: Mutex<Kept<RunKey, Tagged<TestRun>>>,
    /// Test id to error headline of each failed test, by run: the last [`KEPT_HEADLINES`]
    /// used, at most [`KEPT_HEADLINE_BYTES`] together.
    headlines: Mutex<Kept<RunKey, Tagged<blocking::Headlines>>>,
}

impl Default for Triage {
    fn default() -> Self {
        Self {
            compiled: Mutex::default(),
            reports: Mutex::new(Kept::new(KEPT_REPORTS, usize::MAX)),
            headlines: Mutex::new(Kept::new(KEPT_HEADLINES, KEPT_HEADLINE_BYTES)),
        }
    }
}

impl Triage {
    /// `project`'s rules, compiled: the kept ones when the ledger's stamp is unchanged,
    /// else read and compiled again.
    pub(crate) async fn rules(
        &self,
        ledger: &Ledger,
        project: &ProjectId,
    ) -> Result<Arc<Compiled>, AppError> {
        let stamp = ledger
            .rules_stamp(project.as_str())
            .await
            .map_err(ledger_error)?;
        if let Some(kept) = self.kept(project).filter(|c| c.stamp == stamp) {
            return Ok(kept);
        }
        let rules = ledger
            .rules(project.as_str(), None)
            .await
            .map_err(ledger_error)?;
        let compiled = Arc::new(Compiled::new(stamp, rules));
        let mut all = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        all.insert(project.clone(), compiled.clone());
        Ok(compiled)
    }

    fn kept(&self, project: &ProjectId) -> Option<Arc<Compiled>> {
        let all = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        all.get(project).cloned()
    }

    /// The report `answer` holds, parsed, without keeping it: a kept one when there is,
    /// else parsed for this once. For readers of many reports at a time (the history's
    /// blocking line), which would otherwise push out the few reports verdicts keep.
    pub(crate) fn report_passing(
        &self,
        project: &ProjectId,
        run: &RunId,
        answer: &Answer,
    ) -> Result<Arc<TestRun>, AppError> {
        let reports = self.reports.lock().unwrap_or_else(|p| p.into_inner());
        let kept = reports
            .peek(&(project.clone(), run.clone()))
            .filter(|(etag, _)| etag == answer.etag())
            .map(|(_, report)| report.clone());
        drop(reports);
        kept.map_or_else(|| parse(answer), Ok)
    }

    /// The report `answer` holds, parsed: a finished one once (then kept while it is
    /// among the last [`KEPT_REPORTS`] used), a live one each time.
    pub(crate) fn report(
        &self,
        project: &ProjectId,
        run: &RunId,
        answer: &Answer,
    ) -> Result<Arc<TestRun>, AppError> {
        if !answer.is_finished() {
            return parse(answer);
        }
        let key = (project.clone(), run.clone());
        kept_or(&self.reports, key, answer.etag(), |_| 0, || parse(answer))
    }
}

/// What was read from the finished report tagged `etag` of `key`: the value kept for it
/// when it was read from the same answer, else `read` (outside the lock: parsing a big
/// report takes a while) and kept, said to hold `size` bytes. Two readers of a report
/// not kept yet may both read it; the second one's value is the one kept.
fn kept_or<V>(
    kept: &Mutex<Kept<RunKey, Tagged<V>>>,
    key: RunKey,
    etag: &HeaderValue,
    size: impl FnOnce(&V) -> usize,
    read: impl FnOnce() -> Result<Arc<V>, AppError>,
) -> Result<Arc<V>, AppError> {
    let lock = || kept.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((tag, value)) = lock().get(&key)
        && tag == etag
    {
        return Ok(value.clone());
    }
    let value = read()?;
    let bytes = size(&value);
    lock().put(key, (etag.clone(), value.clone()), bytes);
    Ok(value)
}

/// The report `answer` holds, parsed and slimmed.
fn parse(answer: &Answer) -> Result<Arc<TestRun>, AppError> {
    let report: TestRun =
        serde_json::from_slice(answer.bytes()).map_err(|_| AppError::UpstreamInvalid)?;
    Ok(Arc::new(slim(report)))
}

/// A report with only what a verdict reads: no timelines, no errors but those of failed
/// tests, each reduced to its headline when that reads back as the same headline (the
/// known issues match the headline; reading a whole error object for it costs more than
/// everything else a kept report's verdict does).
fn slim(mut report: TestRun) -> TestRun {
    for test in &mut report.tests {
        test.timeline = Timeline::default();
        if test.status != TestStatus::Failed {
            test.error = None;
        }
        if let Some(error) = &test.error {
            let headline = error_text(error).0;
            let plain = !headline.contains('\n') && headline.trim() == headline;
            if plain && !headline.is_empty() {
                test.error = Some(RawJson::from(serde_json::Value::String(headline)));
            }
        }
    }
    report
}

/// Today (UTC), the day expiry is judged against.
fn today() -> Day {
    Day::from_epoch_ms(runboard_ledger::now_ms())
}

/// Epoch milliseconds as RFC 3339 UTC, as the history shows times.
fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// A kept report reads as the same headlines, statuses and ids as the report.
    #[test]
    fn a_slimmed_report_keeps_every_headline() {
        let errors = [
            json!("Timed out after 10000 ms\nat step 3"),
            json!("  padded  "),
            json!({"message": "expected \"Declined\", got \"Approved\"", "step": 4}),
            json!({"message": "  spaced message \nsecond line"}),
            json!({"title": "no message"}),
            json!(null),
            json!(42),
            json!(""),
        ];
        let tests: Vec<Value> = errors
            .iter()
            .enumerate()
            .map(|(i, e)| {
                json!({"_id": format!("t{i}"), "status": "Failed", "error": e,
                "timeline": [{"step": 1}]})
            })
            .chain([json!({"_id": "p", "status": "Passed", "error": "odd", "timeline": []})])
            .collect();
        let report: TestRun =
            serde_json::from_value(json!({"runId": "r", "tests": tests})).unwrap();
        let slimmed = slim(report.clone());
        for (full, slim) in report.tests.iter().zip(&slimmed.tests) {
            assert_eq!((&full.id, &full.status), (&slim.id, &slim.status));
            assert!(slim.timeline.is_empty());
            let headline =
                |t: &runboard_shared::TestResult| t.error.as_ref().map(|e| error_text(e).0);
            if full.status == TestStatus::Failed {
                assert_eq!(headline(full), headline(slim), "{}", full.id);
            } else {
                assert_eq!(slim.error, None);
            }
        }
    }

    /// A value read again once its report's `ETag` changed, and kept in place of the old.
    #[test]
    fn a_changed_etag_is_read_again() {
        let kept = Mutex::new(Kept::new(4, 1_000));
        let key = || (ProjectId::parse("p1").unwrap(), RunId::parse("r1").unwrap());
        let reads = std::cell::Cell::new(0);
        let read = |etag: &'static str| {
            let tag = HeaderValue::from_static(etag);
            let value = kept_or(
                &kept,
                key(),
                &tag,
                |_| 1,
                || {
                    reads.set(reads.get() + 1);
                    Ok(Arc::new(etag))
                },
            );
            *value.unwrap()
        };
        assert_eq!(read("\"a\""), "\"a\"");
        assert_eq!(read("\"a\""), "\"a\"");
        assert_eq!(reads.get(), 1, "the same tag is served from the cache");
        assert_eq!(read("\"b\""), "\"b\"");
        assert_eq!(read("\"b\""), "\"b\"");
        assert_eq!(reads.get(), 2, "a new tag is read once, then kept");
        assert_eq!(read("\"a\""), "\"a\"");
        assert_eq!(reads.get(), 3);
    }
}
