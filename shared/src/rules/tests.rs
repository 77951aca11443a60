//! Tests of the rules: strict requests, stored rules, the window of `until` and links.

use serde_json::{Value, json};

use super::*;

fn parse(body: Value) -> Result<NewRule, String> {
    serde_json::from_value::<NewRule>(body).map_err(|e| e.to_string())
}

/// `body` is refused, naming `field`.
fn refused(body: Value, field: &str) {
    let err = parse(body.clone()).expect_err(&body.to_string());
    assert!(
        err.starts_with(&format!("{field}: ")),
        "{body} gave {err:?}, not naming {field}"
    );
}

fn day(text: &str) -> Day {
    Day::parse("until", text).unwrap()
}

#[test]
fn the_issues_bodies_parse() {
    let rule = parse(json!({
        "kind": "quarantine", "testSuiteId": "s1", "until": "2026-05-01",
        "reason": " flaky login ", "link": "https://jira.example.com/X-1",
    }))
    .unwrap();
    let NewRule::Quarantine(q) = &rule else {
        panic!("{rule:?}")
    };
    assert_eq!(
        q.scope,
        Scope::Suite(Id::parse("testSuiteId", "s1").unwrap())
    );
    assert_eq!(
        (q.until, q.reason.as_str()),
        (day("2026-05-01"), "flaky login")
    );
    assert!(!rule.blocks());
    let rule = parse(json!({
        "kind": "known", "match": "Timeout 30000ms", "regex": false, "testId": "t1",
        "link": "http://t.example/1", "note": "ticketed", "blocks": false,
    }))
    .unwrap();
    let NewRule::Known(k) = &rule else {
        panic!("{rule:?}")
    };
    assert_eq!(k.pattern, "Timeout 30000ms");
    assert_eq!(k.test_id.as_deref(), Some("t1"));
    assert!(!k.blocks);
    let minimal = parse(json!({"kind": "known", "match": "boom"})).unwrap();
    assert!(minimal.blocks(), "known issues block unless they say not");
    assert_eq!((minimal.link(), minimal.until()), (None, None));
}

#[test]
fn bad_bodies_are_refused_naming_the_field() {
    let q = |extra: Value| {
        let mut body =
            json!({"kind": "quarantine", "testId": "t1", "until": "2026-05-01", "reason": "r"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    refused(json!({"testId": "t1"}), "kind");
    refused(json!({"kind": "mute", "testId": "t1"}), "kind");
    refused(
        json!({"kind": "known", "match": "x", "color": "red"}),
        "color",
    );
    refused(q(json!({"testId": "t/1"})), "testId");
    refused(q(json!({"testId": ""})), "testId");
    refused(q(json!({"testSuiteId": "s1"})), "testSuiteId");
    refused(
        json!({"kind": "quarantine", "until": "2026-05-01", "reason": "r"}),
        "testId",
    );
    refused(q(json!({"until": "2026-02-30"})), "until");
    refused(q(json!({"until": "tomorrow"})), "until");
    refused(
        json!({"kind": "quarantine", "testId": "t1", "reason": "r"}),
        "until",
    );
    refused(q(json!({"reason": "  "})), "reason");
    refused(q(json!({"reason": "x".repeat(MAX_TEXT_LEN + 1)})), "reason");
    refused(q(json!({"link": "javascript:alert(1)"})), "link");
    refused(q(json!({"link": "ftp://files.example.com"})), "link");
    refused(q(json!({"link": "https://"})), "link");
    refused(q(json!({"link": "https://a.example/x y"})), "link");
    refused(q(json!({"match": "x"})), "match");
    refused(q(json!({"blocks": false})), "blocks");
    refused(json!({"kind": "known"}), "match");
    refused(json!({"kind": "known", "match": " "}), "match");
    refused(
        json!({"kind": "known", "match": "x".repeat(MAX_PATTERN_LEN + 1)}),
        "match",
    );
    refused(
        json!({"kind": "known", "match": "x", "testId": "a b"}),
        "testId",
    );
    refused(
        json!({"kind": "known", "match": "x", "until": "2026-05-01"}),
        "until",
    );
    refused(
        json!({"kind": "known", "match": "x", "featureId": "f1"}),
        "featureId",
    );
    refused(
        json!({"kind": "known", "match": "x", "link": "www.example.com"}),
        "link",
    );
    assert!(parse(json!({"kind": "known", "match": "x".repeat(MAX_PATTERN_LEN)})).is_ok());
}

#[test]
fn until_is_today_or_later_within_the_maximum() {
    let today = day("2026-04-20");
    let quarantine = |until: &str| {
        parse(json!({"kind": "quarantine", "featureId": "f", "until": until, "reason": "r"}))
            .unwrap()
    };
    assert!(quarantine("2026-04-20").check_until(today, 30).is_ok());
    assert!(quarantine("2026-05-20").check_until(today, 30).is_ok());
    let past = quarantine("2026-04-19").check_until(today, 30).unwrap_err();
    assert_eq!(past.field, "until");
    assert!(past.problem.contains("past"), "{past}");
    let far = quarantine("2026-05-21").check_until(today, 30).unwrap_err();
    assert_eq!(far.field, "until");
    assert!(
        far.problem.contains("at most 30 days (until 2026-05-20)"),
        "{far}"
    );
    let known = parse(json!({"kind": "known", "match": "x"})).unwrap();
    assert!(
        known.check_until(today, 0).is_ok(),
        "known issues have no until"
    );
}

#[test]
fn links_are_absolute_http_urls() {
    for good in [
        "https://jira.example.com/browse/X-1",
        "HTTP://h:8080/?q=1#a",
        "http://h",
    ] {
        assert!(check_link("link", good).is_ok(), "{good}");
    }
    for bad in [
        "",
        "jira/X-1",
        "https:/x",
        "https://@x",
        "https://:80",
        "mailto:a@b",
        "https://a\n",
    ] {
        assert_eq!(
            check_link("link", bad).unwrap_err().field,
            "link",
            "{bad:?}"
        );
    }
}

fn stored(spec: Value) -> Value {
    let mut rule = json!({
        "id": "17", "by": "ann@example.com", "createdAt": "2026-04-20T10:00:00.000Z",
        "state": "active",
        "history": [{"action": "created", "by": "ann@example.com", "at": "2026-04-20T10:00:00.000Z"}],
    });
    for (k, v) in spec.as_object().unwrap() {
        rule[k] = v.clone();
    }
    rule
}

#[test]
fn stored_rules_round_trip_and_tolerate_a_newer_servers_fields() {
    let quarantine =
        stored(json!({"kind": "quarantine", "testId": "t1", "until": "2026-05-01", "reason": "r"}));
    let rule: Rule = serde_json::from_value(quarantine.clone()).unwrap();
    assert_eq!(serde_json::to_value(&rule).unwrap(), quarantine);
    assert_eq!(rule.history[0].action, RuleAction::Created);
    let reference = rule.reference();
    assert_eq!(
        serde_json::to_value(&reference).unwrap(),
        json!({"id": "17", "kind": "quarantine", "reason": "r", "link": null, "until": "2026-05-01", "by": "ann@example.com"})
    );
    let mut newer = stored(
        json!({"kind": "known", "match": "boom", "regex": true, "note": "", "blocks": true}),
    );
    newer["color"] = json!("red");
    let rule: Rule = serde_json::from_value(newer).unwrap();
    assert_eq!(rule.spec.kind(), RuleKind::Known);
    assert_eq!(rule.reference().until, None);
    let page = RulesPage { rules: vec![rule] };
    let text = serde_json::to_string(&page).unwrap();
    assert!(!text.contains("color"));
    assert_eq!(serde_json::from_str::<RulesPage>(&text).unwrap(), page);
}

#[test]
fn a_new_rule_is_written_back_as_it_was_read() {
    for body in [
        json!({"kind": "quarantine", "featureId": "f1", "until": "2026-05-01", "reason": "r", "link": "https://x.example"}),
        json!({"kind": "quarantine", "testId": "t1", "until": "2026-05-01", "reason": "r"}),
        json!({"kind": "known", "testId": "t1", "match": "a.*b", "regex": true, "note": "n", "blocks": false}),
    ] {
        let rule = parse(body.clone()).unwrap();
        assert_eq!(serde_json::to_value(&rule).unwrap(), body);
    }
}

#[test]
fn rule_ids_have_the_id_shape() {
    assert_eq!(RuleId::parse("17").unwrap().as_str(), "17");
    assert_eq!(RuleId::parse("1/2").unwrap_err().field, "ruleId");
}
