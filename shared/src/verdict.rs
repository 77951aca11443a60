//! The verdict of a run (issue 21): each failed test classed `new`, `known`, `flaky`,
//! `quarantined` or `failing`, whether it blocks, how many block, and the headline
//! ("✕ 1 blocking · 2 of 36 failed"). One implementation for every surface: the proxy's
//! `GET /runboard/verdict/…` and exports, the widget, and `runboard run` later. The
//! facts (which rule matched, the previous run, the test's recent results) are gathered
//! by the server; deciding from them is here, pure.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{RuleRef, TestResult, TestRun, TestStatus, status::string_enum};

/// A failure is `flaky` with at least this many flips between passed and failed…
pub const FLAKY_FLIPS: u32 = 2;
/// …among its last this many results (this run's included).
pub const FLIP_WINDOW: usize = 10;

string_enum!(
    /// Why a failed test failed, as far as Runboard can tell. On the wire the plain
    /// word; a class a newer server adds reads as `Other`.
    FailureClass {
        /// It passed in the previous run of the same selection: likely a regression.
        New = "new",
        /// A known-issue rule matches its error headline.
        Known = "known",
        /// At least [`FLAKY_FLIPS`] flips in its last [`FLIP_WINDOW`] results.
        Flaky = "flaky",
        /// A quarantine covers it: shown, never blocking.
        Quarantined = "quarantined",
        /// It failed before too and no rule applies.
        Failing = "failing",
    }
);

/// Where a run stands: `failed` once final with blocking failures, `passed` once final
/// without, `running` before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictStatus {
    /// The report may still change.
    Running,
    /// Final, nothing blocks.
    Passed,
    /// Final, at least one failure blocks.
    Failed,
}

impl VerdictStatus {
    /// The wire spelling (also the widget's `data-outcome`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Passed => "passed",
            Self::Failed => "failed",
        }
    }
}

/// A run's counts: tests by status, failures by class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictCounts {
    /// Every test of the report.
    pub total: u64,
    /// Passed tests.
    pub passed: u64,
    /// Failed tests (of every class).
    pub failed: u64,
    /// Skipped tests.
    pub skipped: u64,
    /// Failures classed `new`.
    pub new: u64,
    /// Failures classed `known`.
    pub known: u64,
    /// Failures classed `flaky`.
    pub flaky: u64,
    /// Failures classed `quarantined`.
    pub quarantined: u64,
    /// Failures classed `failing`.
    pub failing: u64,
}

/// `GET /runboard/verdict/{projId}/{runId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    /// The run.
    pub run_id: String,
    /// Running, passed or failed.
    pub status: VerdictStatus,
    /// How many failures block: all but quarantined ones and known ones with
    /// `blocks = false`.
    pub blocking: u64,
    /// Tests by status, failures by class.
    pub counts: VerdictCounts,
    /// Every failed test, in the report's order.
    pub failures: Vec<VerdictFailure>,
}

/// One failed test of a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictFailure {
    /// The test.
    pub test_id: String,
    /// Its title.
    pub title: String,
    /// Its class.
    pub class: FailureClass,
    /// Whether it counts towards `blocking`.
    pub blocks: bool,
    /// The rule that classed it (quarantine or known issue), if any.
    pub rule: Option<RuleRef>,
    /// The teams owning it (`[[projects.owners]]`), in configuration order.
    pub owners: Vec<String>,
}

/// A known-issue rule that matched a failure's error headline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownMatch {
    /// The rule.
    pub rule: RuleRef,
    /// Whether its failures still block (the rule's `blocks`).
    pub blocks: bool,
}

/// What the server knows about one failure, for [`classify`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureFacts {
    /// An active quarantine covering the test.
    pub quarantine: Option<RuleRef>,
    /// The first known-issue rule matching its error headline.
    pub known: Option<KnownMatch>,
    /// It passed in the previous finished run of the same selection.
    pub passed_before: bool,
    /// Flips among its last [`FLIP_WINDOW`] results, this failure included
    /// ([`count_flips`]).
    pub flips: u32,
}

/// A failure's class, whether it blocks, and the rule behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// The class.
    pub class: FailureClass,
    /// Whether it blocks.
    pub blocks: bool,
    /// The rule that decided it, if one did.
    pub rule: Option<RuleRef>,
}

/// Classes one failure. Precedence, first that applies: `quarantined` > `known` > `new` >
/// `flaky` > `failing`.
///
/// - People's decisions come before inference: a quarantine is an explicit "do not block
///   on this", the strongest statement anyone made, so it wins even over a matching known
///   issue (which would otherwise block); a known issue names the ticket, which says more
///   than any guess.
/// - Among guesses, `new` comes before `flaky`: a test that passed last time and fails
///   now is the likeliest regression, and hiding a regression as noise costs more than a
///   second look at a flaky test. `flaky` then only explains failures that were red
///   before too.
/// - `failing` is what is left: red before, red now, nobody said why.
///
/// Everything blocks except a quarantine and a known issue with `blocks = false`.
pub fn classify(facts: FailureFacts) -> Classified {
    if let Some(rule) = facts.quarantine {
        return Classified {
            class: FailureClass::Quarantined,
            blocks: false,
            rule: Some(rule),
        };
    }
    if let Some(known) = facts.known {
        return Classified {
            class: FailureClass::Known,
            blocks: known.blocks,
            rule: Some(known.rule),
        };
    }
    let class = if facts.passed_before {
        FailureClass::New
    } else if facts.flips >= FLAKY_FLIPS {
        FailureClass::Flaky
    } else {
        FailureClass::Failing
    };
    Classified {
        class,
        blocks: true,
        rule: None,
    }
}

/// Changes between `Passed` and `Failed` from one result to the next, among the first
/// [`FLIP_WINDOW`] of `statuses` (newest first); other statuses are skipped, as
/// `GET /runboard/history/…/tests/…` counts them.
pub fn count_flips<'a>(statuses: impl IntoIterator<Item = &'a TestStatus>) -> u32 {
    let mut flips = 0;
    let mut last: Option<&TestStatus> = None;
    for status in statuses.into_iter().take(FLIP_WINDOW) {
        if !matches!(status, TestStatus::Passed | TestStatus::Failed) {
            continue;
        }
        if last.is_some_and(|l| l != status) {
            flips += 1;
        }
        last = Some(status);
    }
    flips
}

impl Verdict {
    /// The verdict of `run`: `finished` says the report is final (its run is not live
    /// and its job, when known, is done); `facts` and `owners` are asked once per
    /// failed test.
    pub fn of_run(
        run: &TestRun,
        finished: bool,
        mut facts: impl FnMut(&TestResult) -> FailureFacts,
        mut owners: impl FnMut(&TestResult) -> Vec<String>,
    ) -> Self {
        let mut counts = VerdictCounts {
            total: run.tests.len() as u64,
            ..VerdictCounts::default()
        };
        let mut failures = Vec::new();
        for test in &run.tests {
            match test.status {
                TestStatus::Passed => counts.passed += 1,
                TestStatus::Skipped => counts.skipped += 1,
                TestStatus::Failed => {
                    counts.failed += 1;
                    let Classified {
                        class,
                        blocks,
                        rule,
                    } = classify(facts(test));
                    *counts.of_class(&class) += 1;
                    failures.push(VerdictFailure {
                        test_id: test.id.clone(),
                        title: test.title.clone(),
                        class,
                        blocks,
                        rule,
                        owners: owners(test),
                    });
                }
                _ => {}
            }
        }
        let blocking = failures.iter().filter(|f| f.blocks).count() as u64;
        let status = match (finished, blocking) {
            (false, _) => VerdictStatus::Running,
            (true, 0) => VerdictStatus::Passed,
            (true, _) => VerdictStatus::Failed,
        };
        Self {
            run_id: run.run_id.clone(),
            status,
            blocking,
            counts,
            failures,
        }
    }

    /// The failure of `test_id`, if it failed.
    pub fn failure(&self, test_id: &str) -> Option<&VerdictFailure> {
        self.failures.iter().find(|f| f.test_id == test_id)
    }

    /// The ids of the failures that block ("Re-run blocking failures").
    pub fn blocking_ids(&self) -> impl Iterator<Item = &str> {
        self.failures
            .iter()
            .filter(|f| f.blocks)
            .map(|f| f.test_id.as_str())
    }

    /// The headline, the largest text of a report and the first line of `runboard run`:
    /// - running: "Running · 12 of 36 done", then " · 1 blocking so far" when one blocks;
    /// - failed: "✕ 1 blocking · 2 of 36 failed";
    /// - passed with failures: "✓ No blocking failures · 1 quarantined · 1 known";
    /// - passed without: "✓ All 36 passed", "✓ 30 of 36 passed · 6 skipped",
    ///   "– No tests ran".
    pub fn headline(&self) -> Headline {
        let VerdictCounts {
            total,
            passed,
            failed,
            skipped,
            ..
        } = self.counts;
        let (icon, text) = match self.status {
            VerdictStatus::Running => {
                let done = passed + failed + skipped;
                let mut text = format!("Running · {done} of {total} done");
                if self.blocking > 0 {
                    text.push_str(&format!(" · {} blocking so far", self.blocking));
                }
                ("●", text)
            }
            VerdictStatus::Failed => (
                "✕",
                format!("{} blocking · {failed} of {total} failed", self.blocking),
            ),
            VerdictStatus::Passed if failed > 0 => {
                let known = self
                    .failures
                    .iter()
                    .filter(|f| f.class == FailureClass::Known)
                    .count() as u64;
                let parts = [(self.counts.quarantined, "quarantined"), (known, "known")];
                let mut text = "No blocking failures".to_owned();
                for (n, word) in parts.into_iter().filter(|(n, _)| *n > 0) {
                    text.push_str(&format!(" · {n} {word}"));
                }
                ("✓", text)
            }
            VerdictStatus::Passed if total == 0 => ("–", "No tests ran".to_owned()),
            VerdictStatus::Passed if passed == total => ("✓", format!("All {total} passed")),
            VerdictStatus::Passed if skipped > 0 => (
                "✓",
                format!("{passed} of {total} passed · {skipped} skipped"),
            ),
            VerdictStatus::Passed => ("✓", format!("{passed} of {total} passed")),
        };
        Headline {
            icon,
            text,
            outcome: self.status,
        }
    }
}

impl VerdictCounts {
    /// The counter of `class` (a class this version does not know counts as `failing`).
    fn of_class(&mut self, class: &FailureClass) -> &mut u64 {
        match class {
            FailureClass::New => &mut self.new,
            FailureClass::Known => &mut self.known,
            FailureClass::Flaky => &mut self.flaky,
            FailureClass::Quarantined => &mut self.quarantined,
            FailureClass::Failing | FailureClass::Other(_) => &mut self.failing,
        }
    }
}

/// A verdict in one line: an icon (never colour alone) and words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headline {
    /// "✕", "✓", "●" or "–".
    pub icon: &'static str,
    /// "1 blocking · 2 of 36 failed".
    pub text: String,
    /// Running, passed or failed.
    pub outcome: VerdictStatus,
}

impl fmt::Display for Headline {
    /// "✕ 1 blocking · 2 of 36 failed".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.icon, self.text)
    }
}

#[cfg(test)]
mod tests;
