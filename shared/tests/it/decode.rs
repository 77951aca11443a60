//! The widget reads Runboard's own answers with `FromJson` (`shared/src/decode.rs`),
//! the proxy and the tests with serde: both readers accept the same answers with the
//! same values and refuse the same broken ones. (The upstream answers are held to the
//! same in `lenient.rs`, whose every case is read both ways.)

use std::fmt::Debug;

use proptest::prelude::*;
use runboard_shared::{
    ApiError, Bootstrap, ExecutionDetail, FromJson, HistoryPage, RulesPage, TestHistory, Verdict,
    from_json,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Both readers accept `text` with equal values, or both refuse it.
fn same<T: DeserializeOwned + FromJson + PartialEq + Debug>(text: &str) -> bool {
    let theirs = serde_json::from_str::<T>(text);
    let ours = from_json::<T>(text);
    match (&theirs, &ours) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
        (Err(_), Err(_)) => {}
        _ => panic!("{text}: serde {theirs:?}, FromJson {ours:?}"),
    }
    theirs.is_ok()
}

fn bootstrap() -> Value {
    json!({
        "version": "0.2.0", "user": "ada", "liveHeartbeatMs": 15000, "openAccess": false,
        "poll": {"jobsMs": 2000, "runMs": 3000},
        "projects": [{"id": "p1", "name": "Shop", "canRun": true, "mayTriage": true,
            "teams": ["payments"], "presets": [
            {"name": "Smoke", "testSuiteId": "s1", "agentName": "a1"},
            {"name": "List", "description": "two", "tests": ["t1", "t2"]}
        ]}]
    })
}

fn execution() -> Value {
    json!({
        "jobId": "j1", "testRunId": "r1", "user": "ada", "startedAt": "2026-12-07T10:00:00Z",
        "status": "Success", "finished": true,
        "counts": {"passed": 3, "failed": 1, "skipped": 0, "total": 4},
        "durationMs": 1234, "preset": "Smoke", "origin": "runboard", "selector": "testSuiteId",
        "selectorValue": "s1", "agent": "a1", "finishedAt": "2026-12-07T10:01:00Z"
    })
}

fn history_page() -> Value {
    json!({"executions": [execution(), execution()], "next": "c1"})
}

fn detail() -> Value {
    let result = json!({"testId": "t1", "title": "Login", "status": "Passed", "durationMs": 5});
    json!({
        "execution": execution(), "results": [result.clone()],
        "previous": execution(), "previousResults": [result]
    })
}

fn test_history() -> Value {
    json!({
        "testId": "t1", "flips": 2,
        "results": [{"jobId": "j1", "status": "Failed", "durationMs": 7, "startedAt": "x"}]
    })
}

fn verdict() -> Value {
    let rule = json!({"id": "7", "kind": "quarantine", "reason": "flaky", "link": null,
        "until": "2026-05-01", "by": "ada"});
    json!({
        "runId": "r1", "status": "failed", "blocking": 1,
        "counts": {"total": 36, "passed": 34, "failed": 2, "skipped": 0, "new": 1, "known": 0,
            "flaky": 0, "quarantined": 1, "failing": 0},
        "failures": [
            {"testId": "t1", "title": "Login", "class": "new", "blocks": true, "rule": null,
                "owners": ["payments"]},
            {"testId": "t2", "title": "Pay", "class": "quarantined", "blocks": false,
                "rule": rule, "owners": []}
        ]
    })
}

fn rules_page() -> Value {
    let created = json!({"action": "created", "by": "ada", "at": "2026-04-20T10:00:00.000Z"});
    json!({"rules": [
        {"id": "8", "kind": "known", "testId": "t1", "match": "Timeout", "regex": false,
            "note": "JIRA-1", "link": "https://jira.example.com/JIRA-1", "blocks": true,
            "by": "ada", "createdAt": "2026-04-20T10:00:00.000Z", "state": "active",
            "history": [created.clone()]},
        {"id": "7", "kind": "quarantine", "featureId": "f1", "until": "2026-05-01",
            "reason": "flaky", "by": "ada", "createdAt": "2026-04-20T10:00:00.000Z",
            "state": "expired", "history": [created]}
    ]})
}

fn api_error() -> Value {
    json!({"error": {"code": "rate_limited", "message": "slow down"}})
}

/// Reads a text both ways (`same::<T>` for one answer type).
type Check = fn(&str) -> bool;

/// Every example of a Runboard answer, with the reader that checks it.
fn examples() -> Vec<(Value, Check)> {
    vec![
        (bootstrap(), same::<Bootstrap>),
        (history_page(), same::<HistoryPage>),
        (detail(), same::<ExecutionDetail>),
        (test_history(), same::<TestHistory>),
        (api_error(), same::<ApiError>),
        (verdict(), same::<Verdict>),
        (rules_page(), same::<RulesPage>),
    ]
}

#[test]
fn runboard_s_answers_read_alike() {
    for (doc, same) in examples() {
        assert!(same(&doc.to_string()), "{doc} is an answer");
        assert!(same(&serde_json::to_string_pretty(&doc).unwrap()));
    }
    // Defaults, `null` for an `Option`, an unknown code, unknown fields.
    assert!(same::<Bootstrap>(
        r#"{"version":"1","user":null,"poll":{"jobsMs":1,"runMs":2},"projects":[],"extra":[1]}"#
    ));
    assert!(same::<ApiError>(
        r#"{"error":{"code":"quota_exceeded","message":"wait"}}"#
    ));
    assert!(same::<ApiError>(
        r#"{"error":{"code":null,"message":"wait"}}"#
    ));
    assert!(same::<HistoryPage>(r#"{"executions":[],"next":null}"#));
    assert!(same::<RulesPage>(
        r#"{"rules":[{"id":"1","kind":"known","match":"x","by":"a","createdAt":"t","state":"active","color":1}]}"#
    ));
}

#[test]
fn broken_answers_are_refused_alike() {
    for text in [
        "",
        "[]",
        "null",
        "{}",
        r#"{"version":"1"}"#,
        r#"{"version":1,"poll":{"jobsMs":1,"runMs":2},"projects":[]}"#,
        r#"{"version":"1","version":"2","poll":{"jobsMs":1,"runMs":2},"projects":[]}"#,
        r#"{"version":"1","poll":{"jobsMs":1.5,"runMs":2},"projects":[]}"#,
        r#"{"version":"1","poll":{"jobsMs":-1,"runMs":2},"projects":[]}"#,
        r#"{"version":"1","poll":{"jobsMs":1,"runMs":2},"projects":[],"liveHeartbeatMs":null}"#,
        r#"{"version":"1","poll":{"jobsMs":1,"runMs":2},"projects":[{"id":"bad id","name":"x","canRun":true}]}"#,
        r#"{"version":"1","poll":{"jobsMs":1,"runMs":2},"projects":[{"id":"p","name":"x","canRun":true,"presets":[{"name":"n"}]}]}"#,
        r#"{"version":"1","poll":{"jobsMs":1,"runMs":2},"projects":[{"id":"p","name":"x","canRun":true,"presets":[{"name":" ","testId":"t"}]}]}"#,
        r#"{"version":"1","poll":{"jobsMs":1,"runMs":2},"projects":[{"id":"p","name":"x","canRun":true,"presets":[{"name":"n","testId":"t","featureId":"f"}]}]}"#,
        r#"{"version":"1","poll":{"jobsMs":1,"runMs":2},"projects":[]} x"#,
    ] {
        assert!(!same::<Bootstrap>(text), "{text} is refused");
    }
    assert!(!same::<ApiError>(r#"{"error":{"message":"no code"}}"#));
    assert!(!same::<TestHistory>(
        r#"{"testId":"t","results":[],"flips":4294967296}"#
    ));
    assert!(!same::<HistoryPage>(
        &json!({"executions": [{"origin": "mars"}]}).to_string()
    ));
    let rule = |extra: Value| {
        let mut rule = json!({"id": "1", "kind": "known", "match": "x", "by": "a",
            "createdAt": "t", "state": "active"});
        for (k, v) in extra.as_object().unwrap() {
            rule[k] = v.clone();
        }
        json!({"rules": [rule]}).to_string()
    };
    for extra in [
        json!({"kind": "mute"}),
        json!({"state": "sleeping"}),
        json!({"id": "a b"}),
        json!({"match": null}),
        json!({"regex": "yes"}),
        json!({"kind": "quarantine", "testId": "t", "reason": "r", "until": "2026-02-30"}),
        json!({"history": [{"action": "paused", "by": "a", "at": "t"}]}),
    ] {
        assert!(
            !same::<RulesPage>(&rule(extra.clone())),
            "{extra} is refused"
        );
    }
    assert!(!same::<Verdict>(
        &json!({"runId": "r", "status": "done", "blocking": 0, "counts": {}, "failures": []})
            .to_string()
    ));
}

/// Every JSON pointer inside `doc` except the root.
fn pointers(doc: &Value, at: &str, out: &mut Vec<String>) {
    let children: Vec<(String, &Value)> = match doc {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => Vec::new(),
    };
    for (key, child) in children {
        let pointer = format!("{at}/{key}");
        out.push(pointer.clone());
        pointers(child, &pointer, out);
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e20f64..1e20).prop_map(Value::from),
        "[a-z0-9 ._-]{0,10}".prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any value in place of any field or element of any answer: read alike. (Except
    /// an array where a record was: serde reads it as the record's fields by position,
    /// `FromJson` refuses it; Runboard never writes one, see `decode.rs`.)
    #[test]
    fn any_value_anywhere_reads_alike(which in 0usize..7, slot in any::<prop::sample::Index>(), value in any_json()) {
        let (doc, same) = &examples()[which];
        let mut all = Vec::new();
        pointers(doc, "", &mut all);
        let pointer = slot.get(&all).as_str();
        let mut odd = doc.clone();
        let old = odd.pointer_mut(pointer).expect("pointer exists");
        prop_assume!(!(old.is_object() && value.is_array()));
        *old = value;
        same(&odd.to_string());
    }

    /// The one difference: a record given as an array is refused, where serde reads
    /// it by position.
    #[test]
    fn a_record_given_as_an_array_is_refused(message in "[a-z ]{0,8}") {
        let text = json!({"error": ["rate_limited", message]}).to_string();
        prop_assert!(serde_json::from_str::<ApiError>(&text).is_ok());
        prop_assert!(from_json::<ApiError>(&text).is_err());
    }
}
