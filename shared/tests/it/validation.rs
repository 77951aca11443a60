//! User input is refused with a message that names the field and says what is wrong.

use proptest::prelude::*;
use runboard_shared::{
    AgentName, ExecuteRequest, Id, JobId, JobsRequest, MAX_TESTS_PER_LIST, ProjectId, Selector,
};
use serde_json::{Value, json};

/// Asserts that `body` is refused and that the message mentions every word of `expected`.
fn check_rejected(body: Value, expected: &[&str]) {
    let err = serde_json::from_value::<ExecuteRequest>(body.clone())
        .expect_err(&format!("{body} should be refused"))
        .to_string();
    for word in expected {
        assert!(
            err.contains(word),
            "message {err:?} for {body} lacks {word:?}"
        );
    }
}

#[test]
fn bad_execute_requests_name_the_field() {
    let long = "a".repeat(65);
    let cases: Vec<(Value, &[&str])> = vec![
        (json!({"action":"executeTests"}), &["selector", "featureId"]),
        (
            json!({"action":"executeTests","featureId":"f1","testId":"t1"}),
            &["selector", "featureId", "testId"],
        ),
        (
            json!({"action":"executeTests","tests":[]}),
            &["tests", "at least one"],
        ),
        (
            json!({"action":"executeTests","tests":["a","b","a"]}),
            &["tests[2]", "repeats"],
        ),
        (
            json!({"action":"executeTests","featureId":"../x"}),
            &["featureId", "'.'"],
        ),
        (
            json!({"action":"executeTests","testId":""}),
            &["testId", "empty"],
        ),
        (
            json!({"action":"executeTests","testSuiteId": long}),
            &["testSuiteId", "65"],
        ),
        (
            json!({"action":"executeTests","tests":["ok","bad id"]}),
            &["tests[1]", "' '"],
        ),
        (
            json!({"action":"deleteTests","testId":"t1"}),
            &["action", "deleteTests"],
        ),
        (json!({"testId":"t1"}), &["action", "missing"]),
        (
            json!({"action":"executeTests","testId":"t1","agentName":"  "}),
            &["agentName", "empty"],
        ),
        (
            json!({"action":"executeTests","testId":"t1","suiteId":"s"}),
            &["suiteId"],
        ),
    ];
    for (body, expected) in cases {
        check_rejected(body, expected);
    }
}

#[test]
fn custom_lists_are_capped() {
    let ids: Vec<String> = (0..=MAX_TESTS_PER_LIST).map(|i| format!("t{i}")).collect();
    let err = Selector::tests(&ids).unwrap_err();
    assert_eq!(err.field, "tests");
    assert!(err.problem.contains("1001"), "{err}");
    assert!(Selector::tests(&ids[..MAX_TESTS_PER_LIST]).is_ok());
}

#[test]
fn hostile_path_ids_are_refused() {
    for bad in [
        "..",
        "%2e%2e",
        "a%2Fb",
        "a/b",
        "a?b",
        "a#b",
        "a b",
        "é",
        "",
        &"x".repeat(65),
    ] {
        let err = ProjectId::parse(bad).unwrap_err();
        assert_eq!(err.field, "projId", "{bad:?}");
    }
    assert!(JobId::parse("6804f1d1d2d4e0a1c1a0d123").is_ok());
}

#[test]
fn jobs_request_rejects_bad_ids_and_unknown_keys() {
    assert!(serde_json::from_value::<JobsRequest>(json!({"jobIds":["a/b"]})).is_err());
    assert!(serde_json::from_value::<JobsRequest>(json!({"jobIdz":["a"]})).is_err());
}

#[test]
fn agent_names_are_trimmed() {
    assert_eq!(
        AgentName::parse("  my agent ").unwrap().as_str(),
        "my agent"
    );
    assert!(AgentName::parse(&"a".repeat(129)).is_err());
    assert!(AgentName::parse("tab\there").is_err());
}

fn id_strategy() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{1,64}"
}

fn selector_strategy() -> impl Strategy<Value = Selector> {
    prop_oneof![
        id_strategy().prop_map(|id| Selector::Feature(Id::parse("id", id).unwrap())),
        id_strategy().prop_map(|id| Selector::TestSuite(Id::parse("id", id).unwrap())),
        id_strategy().prop_map(|id| Selector::Test(Id::parse("id", id).unwrap())),
        prop::collection::hash_set(id_strategy(), 1..20)
            .prop_map(|ids| Selector::tests(&ids.into_iter().collect::<Vec<_>>()).unwrap()),
    ]
}

proptest! {
    #[test]
    fn valid_ids_are_accepted(id in id_strategy()) {
        prop_assert!(ProjectId::parse(id).is_ok());
    }

    #[test]
    fn ids_with_any_other_character_are_refused(
        prefix in "[A-Za-z0-9]{0,10}",
        bad in "[^A-Za-z0-9_-]",
        suffix in "[A-Za-z0-9]{0,10}",
    ) {
        let id = format!("{prefix}{bad}{suffix}");
        prop_assert!(ProjectId::parse(id).is_err());
    }

    #[test]
    fn execute_requests_survive_serialize_then_parse(
        selector in selector_strategy(),
        agent in proptest::option::of("[a-z][a-z0-9 -]{0,30}[a-z0-9]"),
    ) {
        let req = ExecuteRequest::new(selector, agent.map(|a| AgentName::parse(&a).unwrap()));
        let text = serde_json::to_string(&req).unwrap();
        let back: ExecuteRequest = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(back, req);
    }
}
