//! Tests of the verdict: every class, the precedence and the headline wording.

use super::*;
use crate::{RuleKind, RunStatus};

fn rule(kind: RuleKind) -> RuleRef {
    RuleRef {
        id: "7".into(),
        kind,
        reason: "JIRA-1".into(),
        link: Some("https://jira.example.com/JIRA-1".into()),
        until: (kind == RuleKind::Quarantine).then(|| "2026-05-01".into()),
        by: "ann@example.com".into(),
    }
}

fn known(blocks: bool) -> Option<KnownMatch> {
    Some(KnownMatch {
        rule: rule(RuleKind::Known),
        blocks,
    })
}

/// The class and blocking of one failure with `facts`.
fn check(facts: FailureFacts, class: FailureClass, blocks: bool) {
    let classified = classify(facts.clone());
    assert_eq!(
        (classified.class.clone(), classified.blocks),
        (class, blocks),
        "{facts:?}"
    );
    let expected_rule = match classified.class {
        FailureClass::Quarantined => facts.quarantine,
        FailureClass::Known => facts.known.map(|k| k.rule),
        _ => None,
    };
    assert_eq!(classified.rule, expected_rule);
}

#[test]
fn each_class_and_whether_it_blocks() {
    let q = || Some(rule(RuleKind::Quarantine));
    let base = FailureFacts::default();
    check(base.clone(), FailureClass::Failing, true);
    let failing_once = FailureFacts {
        flips: 1,
        ..base.clone()
    };
    check(failing_once, FailureClass::Failing, true);
    let flaky = FailureFacts {
        flips: FLAKY_FLIPS,
        ..base.clone()
    };
    check(flaky, FailureClass::Flaky, true);
    let new = FailureFacts {
        passed_before: true,
        ..base.clone()
    };
    check(new, FailureClass::New, true);
    let known_blocking = FailureFacts {
        known: known(true),
        ..base.clone()
    };
    check(known_blocking, FailureClass::Known, true);
    let known_quiet = FailureFacts {
        known: known(false),
        ..base.clone()
    };
    check(known_quiet, FailureClass::Known, false);
    let quarantined = FailureFacts {
        quarantine: q(),
        ..base
    };
    check(quarantined, FailureClass::Quarantined, false);
}

#[test]
fn precedence_is_quarantined_known_new_flaky_failing() {
    let all = FailureFacts {
        quarantine: Some(rule(RuleKind::Quarantine)),
        known: known(true),
        passed_before: true,
        flips: 9,
    };
    check(all.clone(), FailureClass::Quarantined, false);
    let no_quarantine = FailureFacts {
        quarantine: None,
        ..all
    };
    check(no_quarantine.clone(), FailureClass::Known, true);
    let no_rule = FailureFacts {
        known: None,
        ..no_quarantine
    };
    check(no_rule.clone(), FailureClass::New, true);
    let red_before = FailureFacts {
        passed_before: false,
        ..no_rule
    };
    check(red_before, FailureClass::Flaky, true);
}

#[test]
fn flips_count_changes_between_passed_and_failed_in_the_last_ten() {
    use TestStatus::{Failed as F, Passed as P, Skipped as S};
    let flips = |statuses: &[TestStatus]| count_flips(statuses);
    assert_eq!(flips(&[]), 0);
    assert_eq!(flips(&[F, F, F]), 0);
    assert_eq!(flips(&[F, P]), 1);
    assert_eq!(flips(&[F, S, P, S, F]), 2, "others are skipped");
    assert_eq!(flips(&[F, P, F, P, F, P, F, P, F, P]), 9);
    let old_flips = [F, F, F, F, F, F, F, F, F, F, P, F, P];
    assert_eq!(flips(&old_flips), 0, "only the last ten count");
}

fn test(id: &str, status: TestStatus) -> TestResult {
    serde_json::from_value(serde_json::json!({
        "_id": id, "title": format!("title {id}"), "status": status.as_str(),
    }))
    .unwrap()
}

/// A report of 36 tests: 34 passed and two failed, `t1` and `t2`.
fn report() -> TestRun {
    let mut tests: Vec<TestResult> = (3..=36)
        .map(|i| test(&format!("t{i}"), TestStatus::Passed))
        .collect();
    tests.insert(0, test("t1", TestStatus::Failed));
    tests.insert(5, test("t2", TestStatus::Failed));
    TestRun {
        run_id: "r1".into(),
        project_id: "p1".into(),
        status: RunStatus::Completed,
        start_time: None,
        tests_in_project_count: 36,
        title: "Full regression".into(),
        statuses: Vec::new(),
        tests,
    }
}

/// The verdict of [`report`] where `t1` has `t1` facts and `t2` has `t2` facts.
fn verdict(finished: bool, t1: FailureFacts, t2: FailureFacts) -> Verdict {
    Verdict::of_run(
        &report(),
        finished,
        |t| if t.id == "t1" { t1.clone() } else { t2.clone() },
        |t| vec![format!("team of {}", t.id)],
    )
}

#[test]
fn a_verdict_counts_classes_and_blocking_and_reads_as_the_issue_writes_it() {
    let quarantined = FailureFacts {
        quarantine: Some(rule(RuleKind::Quarantine)),
        ..FailureFacts::default()
    };
    let new = FailureFacts {
        passed_before: true,
        ..FailureFacts::default()
    };
    let v = verdict(true, new.clone(), quarantined.clone());
    assert_eq!(v.status, VerdictStatus::Failed);
    assert_eq!(v.blocking, 1);
    assert_eq!(
        (
            v.counts.total,
            v.counts.passed,
            v.counts.failed,
            v.counts.new,
            v.counts.quarantined
        ),
        (36, 34, 2, 1, 1)
    );
    assert_eq!(v.headline().to_string(), "✕ 1 blocking · 2 of 36 failed");
    assert_eq!(v.blocking_ids().collect::<Vec<_>>(), ["t1"]);
    let t2 = v.failure("t2").unwrap();
    assert_eq!((t2.title.as_str(), t2.blocks), ("title t2", false));
    assert_eq!(t2.owners, ["team of t2"]);
    assert_eq!(v.failures[0].test_id, "t1", "in the report's order");

    let quiet = FailureFacts {
        known: known(false),
        ..FailureFacts::default()
    };
    let v = verdict(true, quiet, quarantined.clone());
    assert_eq!((v.status, v.blocking), (VerdictStatus::Passed, 0));
    assert_eq!(
        v.headline().to_string(),
        "✓ No blocking failures · 1 quarantined · 1 known"
    );
    let v = verdict(true, quarantined.clone(), quarantined);
    assert_eq!(
        v.headline().to_string(),
        "✓ No blocking failures · 2 quarantined"
    );

    let v = verdict(false, new, FailureFacts::default());
    assert_eq!(v.status, VerdictStatus::Running, "never final while live");
    assert_eq!(
        v.headline().to_string(),
        "● Running · 36 of 36 done · 2 blocking so far"
    );
}

#[test]
fn a_run_without_failures_reads_as_before() {
    let headline = |tests: Vec<TestResult>| {
        let run = TestRun { tests, ..report() };
        let v = Verdict::of_run(&run, true, |_| FailureFacts::default(), |_| Vec::new());
        assert_eq!(v.status, VerdictStatus::Passed);
        v.headline().to_string()
    };
    let passed = |n: usize| (0..n).map(|i| test(&format!("p{i}"), TestStatus::Passed));
    assert_eq!(headline(passed(3).collect()), "✓ All 3 passed");
    let mut some_skipped: Vec<_> = passed(2).collect();
    some_skipped.push(test("s", TestStatus::Skipped));
    assert_eq!(headline(some_skipped), "✓ 2 of 3 passed · 1 skipped");
    assert_eq!(headline(Vec::new()), "– No tests ran");
    let run = TestRun {
        tests: passed(2).collect(),
        ..report()
    };
    let live = Verdict::of_run(&run, false, |_| FailureFacts::default(), |_| Vec::new());
    assert_eq!(live.headline().to_string(), "● Running · 2 of 2 done");
}

#[test]
fn the_wire_shape_is_the_issues() {
    let v = verdict(
        true,
        FailureFacts {
            known: known(true),
            ..FailureFacts::default()
        },
        FailureFacts::default(),
    );
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["runId"], "r1");
    assert_eq!(json["status"], "failed");
    assert_eq!(json["blocking"], 2);
    assert_eq!(json["counts"]["passed"], 34);
    assert_eq!(json["counts"]["failed"], 2);
    assert_eq!(json["counts"]["skipped"], 0);
    let failure = &json["failures"][0];
    let keys: Vec<&str> = failure
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = ["testId", "title", "class", "blocks", "rule", "owners"];
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(failure["class"], "known");
    assert_eq!(failure["rule"]["kind"], "known");
    assert_eq!(failure["rule"]["until"], serde_json::Value::Null);
    assert_eq!(json["failures"][1]["rule"], serde_json::Value::Null);
    assert_eq!(json["failures"][1]["class"], "failing");
    let back: Verdict = serde_json::from_value(json).unwrap();
    assert_eq!(back, v);
    let other: FailureClass = serde_json::from_str("\"ignored\"").unwrap();
    assert_eq!(other, FailureClass::Other("ignored".into()));
}
