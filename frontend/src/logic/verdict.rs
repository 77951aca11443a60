//! The run's verdict as the report shows it (issue 21): how a failure class looks (an
//! icon and a word, never colour alone), when the view reads the verdict again while
//! the report changes (at most once per few seconds while live, once more when final),
//! which headline it shows, and the "Owned by my groups" filter.

use runboard_shared::{FailureClass, Verdict, VerdictFailure, VerdictStatus};

use crate::logic::{
    look::{Look, Tone},
    summary::Verdict as Summarised,
};

/// While the report is live, the verdict is read again at most this often.
pub(crate) const LIVE_EVERY_MS: i64 = 5_000;
/// A final report whose verdict still says `running` (the server had not seen the end
/// yet) is asked again after this long…
pub(crate) const SETTLE_MS: i64 = 2_000;
/// …at most this many times.
pub(crate) const SETTLE_TRIES: u32 = 5;

/// Icon, word and tone of a failure class.
pub(crate) fn class_look(class: &FailureClass) -> Look {
    let (icon, word, tone) = match class {
        FailureClass::New => ("✚", "new", Tone::Failed),
        FailureClass::Known => ("⚑", "known", Tone::Waiting),
        FailureClass::Flaky => ("≈", "flaky", Tone::Other),
        FailureClass::Quarantined => ("⊘", "quarantined", Tone::Skipped),
        FailureClass::Failing => ("✕", "failing", Tone::Failed),
        FailureClass::Other(word) => ("?", word.as_str(), Tone::Other),
    };
    Look {
        icon,
        word: word.to_owned(),
        tone,
    }
}

/// The classes among `failures` with how many each, in the order of
/// [`FailureClass::KNOWN`] (then unknown ones as met): "2 new · 1 quarantined".
pub(crate) fn class_counts<'a>(
    failures: impl IntoIterator<Item = &'a VerdictFailure>,
) -> Vec<(FailureClass, usize)> {
    let mut out: Vec<(FailureClass, usize)> =
        FailureClass::KNOWN.iter().map(|c| (c.clone(), 0)).collect();
    for failure in failures {
        match out.iter_mut().find(|(c, _)| *c == failure.class) {
            Some((_, n)) => *n += 1,
            None => out.push((failure.class.clone(), 1)),
        }
    }
    out.retain(|(_, n)| *n > 0);
    out
}

/// The report header's line: the report's own (`own`, today's wording) until a
/// verdict is known; then the verdict's wording once the run is over, and while the
/// report is live its progress (fresher than a verdict read every few seconds) with
/// " · N blocking so far". A final report whose verdict the server still counts as
/// running keeps its own line until the verdict settles.
pub(crate) fn headline(verdict: Option<&Verdict>, own: Summarised, live: bool) -> Summarised {
    let Some(verdict) = verdict else {
        return own;
    };
    if live {
        if verdict.blocking > 0 {
            return Summarised {
                text: format!("{} · {} blocking so far", own.text, verdict.blocking),
                ..own
            };
        }
        return own;
    }
    if verdict.status == VerdictStatus::Running {
        return own;
    }
    let headline = verdict.headline();
    Summarised {
        icon: headline.icon,
        text: headline.text,
        outcome: verdict.status.as_str(),
    }
}

/// Whether `failure` is owned by one of `teams` (the user's own teams).
pub(crate) fn owned_by(failure: &VerdictFailure, teams: &[String]) -> bool {
    failure.owners.iter().any(|o| teams.contains(o))
}

/// When to read the verdict: a pure schedule the run view drives with the report's
/// changes and the answers. `None` from a step means nothing to do now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Schedule {
    /// When the last read was sent.
    last_sent_ms: Option<i64>,
    /// A read is in flight.
    in_flight: bool,
    /// The report changed since the last read was sent.
    dirty: bool,
    /// The report is final and a verdict of its final state was read.
    settled: bool,
    /// Reads of a final report whose verdict still said `running`.
    settle_tries: u32,
    /// The server has no verdict (an older server: 404) or refused it for good.
    gone: bool,
}

/// What the driver does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// Read now.
    Now,
    /// Ask again at this time (epoch ms).
    At(i64),
}

impl Schedule {
    /// The report changed (or was first read); `live` says whether it may still change.
    pub(crate) fn on_report(&mut self, now_ms: i64, live: bool) -> Option<Read> {
        if self.gone || (self.settled && !live) {
            return None;
        }
        if live {
            self.settled = false;
            self.settle_tries = 0;
        }
        self.dirty = true;
        self.next(now_ms, live)
    }

    /// The rules changed (a quarantine or a known issue was just added here): read
    /// again as soon as no read is out, whatever the interval.
    pub(crate) fn on_rules_changed(&mut self, now_ms: i64) -> Option<Read> {
        if self.gone {
            return None;
        }
        self.settled = false;
        self.settle_tries = 0;
        self.dirty = true;
        self.last_sent_ms = None;
        self.next(now_ms, false)
    }

    /// A timer set by [`Read::At`] fired.
    pub(crate) fn on_timer(&mut self, now_ms: i64, live: bool) -> Option<Read> {
        if self.gone || self.settled {
            return None;
        }
        self.next(now_ms, live)
    }

    /// The read came back: `Some(status)` with a verdict, `None` on a failure that
    /// may pass (`gone` false) or one that will not (`gone`: 404, 403).
    pub(crate) fn on_answer(
        &mut self,
        now_ms: i64,
        live: bool,
        status: Option<VerdictStatus>,
        gone: bool,
    ) -> Option<Read> {
        self.in_flight = false;
        if gone {
            self.gone = true;
            return None;
        }
        match (live, status) {
            (false, Some(VerdictStatus::Running)) if self.settle_tries < SETTLE_TRIES => {
                self.settle_tries += 1;
                self.dirty = true;
                return Some(Read::At(now_ms + SETTLE_MS));
            }
            (false, Some(_)) if !self.dirty => {
                self.settled = true;
                return None;
            }
            _ => {}
        }
        if self.dirty {
            self.next(now_ms, live)
        } else {
            None
        }
    }

    /// Sends a read now if one is due, or says when.
    fn next(&mut self, now_ms: i64, live: bool) -> Option<Read> {
        if self.in_flight || !self.dirty {
            return None;
        }
        let due = match (live, self.last_sent_ms) {
            (true, Some(last)) => last + LIVE_EVERY_MS,
            _ => now_ms,
        };
        if due > now_ms {
            return Some(Read::At(due));
        }
        self.in_flight = true;
        self.dirty = false;
        self.last_sent_ms = Some(now_ms);
        Some(Read::Now)
    }
}

#[cfg(test)]
mod tests {
    use runboard_shared::{RuleKind, RuleRef, VerdictCounts};

    use super::*;

    fn failure(id: &str, class: FailureClass, blocks: bool, owners: &[&str]) -> VerdictFailure {
        VerdictFailure {
            test_id: id.to_owned(),
            title: format!("Test {id}"),
            class,
            blocks,
            rule: None,
            owners: owners.iter().map(|o| (*o).to_owned()).collect(),
        }
    }

    fn verdict(status: VerdictStatus, failures: Vec<VerdictFailure>) -> Verdict {
        let failed = failures.len() as u64;
        Verdict {
            run_id: "r".to_owned(),
            status,
            blocking: failures.iter().filter(|f| f.blocks).count() as u64,
            counts: VerdictCounts {
                total: 36,
                passed: 36 - failed,
                failed,
                quarantined: failures
                    .iter()
                    .filter(|f| f.class == FailureClass::Quarantined)
                    .count() as u64,
                ..VerdictCounts::default()
            },
            failures,
        }
    }

    #[test]
    fn every_class_has_an_icon_and_a_word() {
        for class in FailureClass::KNOWN {
            let look = class_look(class);
            assert!(!look.icon.is_empty(), "{class:?}");
            assert_eq!(look.word, class.as_str());
        }
        let newer = class_look(&FailureClass::Other("regressed".to_owned()));
        assert_eq!((newer.icon, newer.word.as_str()), ("?", "regressed"));
    }

    #[test]
    fn classes_are_counted_in_a_fixed_order() {
        let failures = [
            failure("a", FailureClass::Quarantined, false, &[]),
            failure("b", FailureClass::New, true, &[]),
            failure("c", FailureClass::New, true, &[]),
            failure("d", FailureClass::Other("odd".to_owned()), true, &[]),
        ];
        assert_eq!(
            class_counts(&failures),
            [
                (FailureClass::New, 2),
                (FailureClass::Quarantined, 1),
                (FailureClass::Other("odd".to_owned()), 1)
            ]
        );
        assert!(class_counts(&[]).is_empty());
    }

    fn own(icon: &'static str, text: &str, outcome: &'static str) -> Summarised {
        Summarised {
            icon,
            text: text.to_owned(),
            outcome,
        }
    }

    #[test]
    fn the_headline_is_the_verdicts_once_final_and_progress_while_live() {
        let mut quarantined = failure("a", FailureClass::Quarantined, false, &[]);
        quarantined.rule = Some(RuleRef {
            id: "q1".to_owned(),
            kind: RuleKind::Quarantine,
            reason: "flaky backend".to_owned(),
            link: None,
            until: Some("2026-12-14".to_owned()),
            by: "ana".to_owned(),
        });
        let failed = verdict(
            VerdictStatus::Failed,
            vec![
                quarantined.clone(),
                failure("b", FailureClass::New, true, &[]),
            ],
        );
        let report_says = own("✕", "2 of 36 failed", "failed");
        assert_eq!(
            headline(Some(&failed), report_says.clone(), false),
            own("✕", "1 blocking · 2 of 36 failed", "failed")
        );
        let passed = verdict(VerdictStatus::Passed, vec![quarantined]);
        assert_eq!(
            headline(Some(&passed), own("✕", "1 of 36 failed", "failed"), false),
            own("✓", "No blocking failures · 1 quarantined", "passed")
        );
        // Without a verdict (an older server), the report's own line.
        assert_eq!(headline(None, report_says.clone(), false), report_says);
        // Live: the report's progress, and what blocks so far.
        let progress = own("●", "Running · 12 of 36 done", "running");
        assert_eq!(
            headline(Some(&failed), progress.clone(), true),
            own(
                "●",
                "Running · 12 of 36 done · 1 blocking so far",
                "running"
            )
        );
        assert_eq!(headline(Some(&passed), progress.clone(), true), progress);
        // Final here, still running on the server: the report's line until it settles.
        let behind = verdict(VerdictStatus::Running, vec![]);
        assert_eq!(
            headline(Some(&behind), report_says.clone(), false),
            report_says
        );
    }

    #[test]
    fn ownership_is_any_of_the_users_teams() {
        let f = failure("a", FailureClass::New, true, &["payments", "web"]);
        assert!(owned_by(&f, &["web".to_owned()]));
        assert!(!owned_by(&f, &["search".to_owned()]));
        assert!(!owned_by(
            &failure("b", FailureClass::New, true, &[]),
            &["web".to_owned()]
        ));
    }

    #[test]
    fn a_finished_report_is_read_once() {
        let mut s = Schedule::default();
        assert_eq!(s.on_report(0, false), Some(Read::Now));
        // The same final report again (a refresh): nothing while the read is out…
        assert_eq!(s.on_report(10, false), None);
        // …and one more read after it, since it changed meanwhile.
        assert_eq!(
            s.on_answer(20, false, Some(VerdictStatus::Failed), false),
            Some(Read::Now)
        );
        assert_eq!(
            s.on_answer(30, false, Some(VerdictStatus::Failed), false),
            None
        );
        assert_eq!(s.on_report(40, false), None);
        assert_eq!(s.on_timer(50, false), None);
    }

    #[test]
    fn a_live_report_is_read_at_most_every_few_seconds_and_once_at_final() {
        let mut s = Schedule::default();
        assert_eq!(s.on_report(0, true), Some(Read::Now));
        assert_eq!(
            s.on_answer(100, true, Some(VerdictStatus::Running), false),
            None
        );
        // Changes within the interval wait for it.
        assert_eq!(s.on_report(1_000, true), Some(Read::At(LIVE_EVERY_MS)));
        assert_eq!(s.on_report(2_000, true), Some(Read::At(LIVE_EVERY_MS)));
        assert_eq!(s.on_timer(LIVE_EVERY_MS, true), Some(Read::Now));
        assert_eq!(
            s.on_answer(5_100, true, Some(VerdictStatus::Running), false),
            None
        );
        // Final: read at once, whatever the interval.
        assert_eq!(s.on_report(5_200, false), Some(Read::Now));
        assert_eq!(
            s.on_answer(5_300, false, Some(VerdictStatus::Failed), false),
            None
        );
        assert_eq!(s.on_report(9_000, false), None);
    }

    #[test]
    fn a_final_report_whose_verdict_still_runs_is_asked_again_a_few_times() {
        let mut s = Schedule::default();
        assert_eq!(s.on_report(0, false), Some(Read::Now));
        for i in 0..SETTLE_TRIES {
            let at = i64::from(i) * 10_000;
            assert_eq!(
                s.on_answer(at, false, Some(VerdictStatus::Running), false),
                Some(Read::At(at + SETTLE_MS))
            );
            assert_eq!(s.on_timer(at + SETTLE_MS, false), Some(Read::Now));
        }
        assert_eq!(
            s.on_answer(99_000, false, Some(VerdictStatus::Running), false),
            None
        );
    }

    #[test]
    fn a_rule_change_reads_the_verdict_again_at_once() {
        let mut s = Schedule::default();
        assert_eq!(s.on_report(0, false), Some(Read::Now));
        assert_eq!(
            s.on_answer(10, false, Some(VerdictStatus::Failed), false),
            None
        );
        assert_eq!(s.on_rules_changed(20), Some(Read::Now));
        // While live too, and after the read in flight when there is one.
        let mut s = Schedule::default();
        assert_eq!(s.on_report(0, true), Some(Read::Now));
        assert_eq!(s.on_rules_changed(10), None);
        assert_eq!(
            s.on_answer(20, true, Some(VerdictStatus::Running), false),
            Some(Read::Now)
        );
    }

    #[test]
    fn an_older_server_without_verdicts_is_not_asked_again() {
        let mut s = Schedule::default();
        assert_eq!(s.on_report(0, true), Some(Read::Now));
        assert_eq!(s.on_answer(10, true, None, true), None);
        assert_eq!(s.on_report(20_000, true), None);
        assert_eq!(s.on_report(40_000, false), None);
        // A passing failure (offline) is retried with the next change.
        let mut s = Schedule::default();
        assert_eq!(s.on_report(0, false), Some(Read::Now));
        assert_eq!(s.on_answer(10, false, None, false), None);
        assert_eq!(s.on_report(20, false), Some(Read::Now));
    }
}
