//! Triage (issue 21): the verdict of a run (`verdict.rs`), the rules that class its
//! failures (`rules.rs`: list, create, delete; stored in the ledger, so every replica
//! shares them) and the known-issue matcher (`matcher.rs`). Each project's rules are
//! read and compiled once per change: a verdict asks the ledger only for the rules'
//! stamp (one small query) and compiles again when another request or replica changed
//! them.

mod matcher;
mod rules;
mod verdict;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, SecondsFormat, Utc};
use runboard_ledger::{Ledger, RuleRecord, RulesStamp};
use runboard_shared::{Day, NewRule, ProjectId};

pub(crate) use rules::{create, delete, list};
pub(crate) use verdict::{compute, verdict};

use crate::{AppError, ledger::ledger_error};

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

/// Every project's compiled rules, kept until their stamp changes.
#[derive(Default)]
pub(crate) struct Triage {
    compiled: Mutex<HashMap<ProjectId, Arc<Compiled>>>,
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
