//! Upstream answers in shapes the guide allows but never shows (`null` for any field,
//! fractions, negatives, missing arrays, undocumented labels) parse, keep what can be
//! kept and show the rest as unknown; only a top level that is not an object fails.

use std::fmt::Debug;

use proptest::prelude::*;
use runboard_shared::{
    ExecuteResponse, FromJson, Job, JobStatus, JobsResponse, RunStatus, ScheduleStatus,
    StatusCount, TestResult, TestRun, TestRunShape, TestStatus, Timeline, from_json,
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

/// Parses `json` from its text, as the proxy does (serde) and as the widget does
/// (`FromJson`), and compares both with `expected`.
fn check<T: DeserializeOwned + FromJson + PartialEq + Debug>(json: Value, expected: T) {
    let text = json.to_string();
    let parsed: T =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text} did not parse: {e}"));
    assert_eq!(parsed, expected, "{text}");
    assert_eq!(
        from_json::<T>(&text),
        Ok(expected),
        "{text}, read by the widget"
    );
}

/// `doc` with `key` set to `value` (`None` removes the key).
fn with(mut doc: Value, key: &str, value: Option<Value>) -> Value {
    let object = doc.as_object_mut().expect("an object");
    match value {
        Some(value) => object.insert(key.to_owned(), value),
        None => object.remove(key),
    };
    doc
}

fn guide_test_json() -> Value {
    json!({
        "_id": "6804f1f1d2d4e0a1c1a0d789",
        "title": "Login works for valid users",
        "status": "Passed",
        "duration": 1240,
        "hasVideo": true,
        "videoLink": "https://example.com/videos/run-1",
        "startTime": "2026-04-20T10:15:40.000Z",
        "timeline": [],
        "error": "boom"
    })
}

fn guide_test() -> TestResult {
    TestResult {
        id: "6804f1f1d2d4e0a1c1a0d789".into(),
        title: "Login works for valid users".into(),
        status: TestStatus::Passed,
        duration: Some(1240),
        has_video: true,
        video_link: Some("https://example.com/videos/run-1".into()),
        start_time: Some("2026-04-20T10:15:40.000Z".into()),
        timeline: Timeline::default(),
        error: Some(json!("boom").into()),
    }
}

fn guide_run_json() -> Value {
    json!({
        "runId": "6804f1e2d2d4e0a1c1a0d456",
        "projectId": "67f8cb3fe236b8d41b7700ac",
        "status": "Completed",
        "startTime": "2026-04-20T10:15:31.000Z",
        "testsInProjectCount": 24,
        "title": "Regression run",
        "statuses": [{ "label": "Passed", "count": 18 }, { "label": "Failed", "count": 2 }],
        "tests": [guide_test_json()]
    })
}

fn guide_run() -> TestRun {
    TestRun {
        run_id: "6804f1e2d2d4e0a1c1a0d456".into(),
        project_id: "67f8cb3fe236b8d41b7700ac".into(),
        status: RunStatus::Completed,
        start_time: Some("2026-04-20T10:15:31.000Z".into()),
        tests_in_project_count: 24,
        title: "Regression run".into(),
        statuses: vec![count("Passed", 18), count("Failed", 2)],
        tests: vec![guide_test()],
    }
}

fn count(label: &str, count: u64) -> StatusCount {
    StatusCount {
        label: TestStatus::parse(label),
        count,
    }
}

fn guide_job_json() -> Value {
    json!({
        "jobId": "6804f1d1d2d4e0a1c1a0d123",
        "status": "InProgress",
        "updatedAt": "2026-04-20T10:15:30.000Z",
        "testRunId": "6804f1e2d2d4e0a1c1a0d456",
        "agentName": "staging-agent"
    })
}

fn guide_job() -> Job {
    Job {
        job_id: "6804f1d1d2d4e0a1c1a0d123".into(),
        status: JobStatus::InProgress,
        updated_at: Some("2026-04-20T10:15:30.000Z".into()),
        test_run_id: Some("6804f1e2d2d4e0a1c1a0d456".into()),
        agent_name: Some("staging-agent".into()),
    }
}

fn guide_jobs_json() -> Value {
    json!({ "success": true, "jobs": [guide_job_json()], "missingJobIds": ["nope"] })
}

fn guide_jobs() -> JobsResponse {
    JobsResponse {
        success: true,
        jobs: vec![guide_job()],
        missing_job_ids: vec!["nope".into()],
    }
}

fn guide_execute_json() -> Value {
    json!({ "success": true, "scheduleStatus": "Success", "jobId": "6804f1d1d2d4e0a1c1a0d123" })
}

fn guide_execute() -> ExecuteResponse {
    ExecuteResponse {
        success: true,
        schedule_status: ScheduleStatus::Success,
        job_id: "6804f1d1d2d4e0a1c1a0d123".into(),
    }
}

/// One case: a field of a guide example set to a value (`None`: removed), and how that
/// changes what the example parses to.
type Case<T> = (&'static str, Option<Value>, fn(&mut T));

fn check_cases<T: DeserializeOwned + FromJson + PartialEq + Debug>(
    example: fn() -> Value,
    parsed: fn() -> T,
    cases: &[Case<T>],
) {
    for (key, value, edit) in cases {
        let mut expected = parsed();
        edit(&mut expected);
        check(with(example(), key, value.clone()), expected);
    }
}

fn null() -> Option<Value> {
    Some(Value::Null)
}

#[test]
fn test_results_keep_what_can_be_kept() {
    check_cases::<TestResult>(
        guide_test_json,
        guide_test,
        &[
            ("_id", null(), |t| t.id = String::new()),
            ("_id", None, |t| t.id = String::new()),
            ("_id", Some(json!(12345)), |t| t.id = "12345".into()),
            ("title", null(), |t| t.title = String::new()),
            ("title", Some(json!({"en": "x"})), |t| {
                t.title = String::new()
            }),
            ("status", null(), |t| t.status = TestStatus::parse("")),
            ("status", None, |t| t.status = TestStatus::parse("")),
            ("status", Some(json!("Blocked")), |t| {
                t.status = TestStatus::parse("Blocked")
            }),
            ("status", Some(json!(3)), |t| {
                t.status = TestStatus::parse("3")
            }),
            ("status", Some(json!(["Passed"])), |t| {
                t.status = TestStatus::parse("")
            }),
            ("duration", null(), |t| t.duration = None),
            ("duration", Some(json!(1240.5)), |t| t.duration = Some(1241)),
            ("duration", Some(json!(1240.4)), |t| t.duration = Some(1240)),
            ("duration", Some(json!(-1)), |t| t.duration = None),
            ("duration", Some(json!(-0.5)), |t| t.duration = None),
            ("duration", Some(json!(1e300)), |t| {
                t.duration = Some(u64::MAX)
            }),
            ("duration", Some(json!("1240")), |t| t.duration = Some(1240)),
            ("duration", Some(json!("soon")), |t| t.duration = None),
            ("duration", Some(json!({"ms": 5})), |t| t.duration = None),
            ("hasVideo", null(), |t| t.has_video = false),
            ("hasVideo", Some(json!("yes")), |t| t.has_video = false),
            ("videoLink", null(), |t| t.video_link = None),
            ("videoLink", Some(json!("")), |t| t.video_link = None),
            ("startTime", null(), |t| t.start_time = None),
            ("startTime", Some(json!(false)), |t| {
                t.start_time = Some("false".into())
            }),
            ("timeline", null(), |t| t.timeline = Timeline::default()),
            ("timeline", None, |t| t.timeline = Timeline::default()),
            ("timeline", Some(json!({"step": 1})), |t| {
                t.timeline = Timeline::from_steps(&[json!({"step": 1})])
            }),
            ("timeline", Some(json!([null, 2])), |t| {
                t.timeline = Timeline::from_steps(&[json!(null), json!(2)])
            }),
            ("error", null(), |t| t.error = None),
            ("error", None, |t| t.error = None),
            ("error", Some(json!({"code": 7})), |t| {
                t.error = Some(json!({"code": 7}).into())
            }),
        ],
    );
}

#[test]
fn run_reports_keep_what_can_be_kept() {
    let odd_statuses = json!([
        {"label": null, "count": 2.0}, {"label": "Failed", "count": -1},
        {"label": "Skipped", "count": null}, {"label": "Running"}
    ]);
    let mixed_tests = json!([null, guide_test_json(), "x", 5, [], {}]);
    check_cases::<TestRun>(
        guide_run_json,
        guide_run,
        &[
            ("runId", null(), |r| r.run_id = String::new()),
            ("projectId", null(), |r| r.project_id = String::new()),
            ("status", null(), |r| r.status = RunStatus::parse("")),
            ("status", Some(json!("Paused")), |r| {
                r.status = RunStatus::parse("Paused")
            }),
            ("startTime", null(), |r| r.start_time = None),
            ("testsInProjectCount", Some(json!(36.0)), |r| {
                r.tests_in_project_count = 36
            }),
            ("testsInProjectCount", Some(json!(35.5)), |r| {
                r.tests_in_project_count = 36
            }),
            ("testsInProjectCount", Some(json!(-3)), |r| {
                r.tests_in_project_count = 0
            }),
            ("testsInProjectCount", null(), |r| {
                r.tests_in_project_count = 0
            }),
            ("title", null(), |r| r.title = String::new()),
            ("title", None, |r| r.title = String::new()),
            ("statuses", null(), |r| r.statuses = vec![]),
            ("statuses", None, |r| r.statuses = vec![]),
            ("statuses", Some(json!({"Passed": 18})), |r| {
                r.statuses = vec![]
            }),
            (
                "statuses",
                Some(json!([null, {"label": "Blocked", "count": 1}, "Passed", 3])),
                |r| r.statuses = vec![count("Blocked", 1)],
            ),
            ("statuses", Some(odd_statuses), |r| {
                r.statuses = vec![
                    count("", 2),
                    count("Failed", 0),
                    count("Skipped", 0),
                    count("Running", 0),
                ];
            }),
            ("tests", null(), |r| r.tests = vec![]),
            ("tests", None, |r| r.tests = vec![]),
            ("tests", Some(json!("none")), |r| r.tests = vec![]),
            ("tests", Some(mixed_tests), |r| {
                r.tests = vec![guide_test(), empty_test()]
            }),
        ],
    );
}

/// What `{}` in a list of tests reads as: nothing known.
fn empty_test() -> TestResult {
    TestResult {
        id: String::new(),
        title: String::new(),
        status: TestStatus::default(),
        duration: None,
        has_video: false,
        video_link: None,
        start_time: None,
        timeline: Timeline::default(),
        error: None,
    }
}

#[test]
fn jobs_keep_what_can_be_kept() {
    check_cases::<Job>(
        guide_job_json,
        guide_job,
        &[
            ("jobId", null(), |j| j.job_id = String::new()),
            ("status", null(), |j| j.status = JobStatus::parse("")),
            ("status", None, |j| j.status = JobStatus::parse("")),
            ("status", Some(json!("Cancelled")), |j| {
                j.status = JobStatus::parse("Cancelled")
            }),
            ("updatedAt", null(), |j| j.updated_at = None),
            ("updatedAt", Some(json!("2026-04-20T10:15:30Z")), |j| {
                j.updated_at = Some("2026-04-20T10:15:30Z".into());
            }),
            ("testRunId", null(), |j| j.test_run_id = None),
            ("testRunId", Some(json!("")), |j| j.test_run_id = None),
            ("agentName", null(), |j| j.agent_name = None),
        ],
    );
    check_cases::<JobsResponse>(
        guide_jobs_json,
        guide_jobs,
        &[
            ("success", null(), |l| l.success = false),
            ("success", Some(json!("true")), |l| l.success = false),
            ("jobs", null(), |l| l.jobs = vec![]),
            ("jobs", None, |l| l.jobs = vec![]),
            ("jobs", Some(json!([null, guide_job_json(), 7, "j"])), |l| {
                l.jobs = vec![guide_job()]
            }),
            ("missingJobIds", null(), |l| l.missing_job_ids = vec![]),
            ("missingJobIds", None, |l| l.missing_job_ids = vec![]),
            (
                "missingJobIds",
                Some(json!(["a", null, 5, {"id": "b"}])),
                |l| {
                    l.missing_job_ids = vec!["a".into(), "5".into()];
                },
            ),
        ],
    );
}

#[test]
fn execute_answers_keep_what_can_be_kept() {
    let refused = ExecuteResponse {
        success: false,
        schedule_status: ScheduleStatus::parse(""),
        job_id: String::new(),
    };
    check(
        json!({"success": false, "message": "agent refusing-agent is disabled for this project"}),
        refused.clone(),
    );
    check(
        json!({"success": false, "jobId": null, "scheduleStatus": null}),
        refused,
    );
    check(
        json!({"success": false, "scheduleStatus": "AlreadyExists", "jobId": "j1",
               "message": "an identical execution is already queued"}),
        ExecuteResponse {
            success: false,
            schedule_status: ScheduleStatus::AlreadyExists,
            job_id: "j1".into(),
        },
    );
    check_cases::<ExecuteResponse>(
        guide_execute_json,
        guide_execute,
        &[
            ("success", null(), |e| e.success = false),
            ("scheduleStatus", Some(json!("Queued")), |e| {
                e.schedule_status = ScheduleStatus::parse("Queued");
            }),
            ("scheduleStatus", null(), |e| {
                e.schedule_status = ScheduleStatus::parse("")
            }),
            ("jobId", null(), |e| e.job_id = String::new()),
        ],
    );
}

#[test]
fn only_a_top_level_that_is_not_an_object_fails() {
    fn refused<T: DeserializeOwned + FromJson + Debug>(text: &str) {
        let result = serde_json::from_str::<T>(text);
        assert!(result.is_err(), "{text} parsed as {result:?}");
        let result = from_json::<T>(text);
        assert!(result.is_err(), "{text} read by the widget as {result:?}");
    }
    for text in ["null", "[]", "[\"r1\"]", "\"report\"", "3", "true"] {
        refused::<TestRun>(text);
        refused::<JobsResponse>(text);
        refused::<ExecuteResponse>(text);
    }
    check(json!({}), JobsResponse::default());
}

#[test]
fn timelines_and_errors_are_passed_on_as_sent_and_read_on_demand() {
    // Spacing, key order and number spelling survive a read and a write unchanged.
    let text =
        r#"{"_id":"t1","timeline":[ {"b":1.50,"a":[null]} , "two" ],"error":{"z":1,"a":"x"}}"#;
    let test: TestResult = serde_json::from_str(text).expect("parses");
    assert_eq!(from_json::<TestResult>(text).as_ref(), Ok(&test));
    assert_eq!(test.timeline.json(), r#"[ {"b":1.50,"a":[null]} , "two" ]"#);
    assert_eq!(test.timeline.len(), 2);
    assert_eq!(
        test.timeline.steps(),
        vec![json!({"a": [null], "b": 1.5}), json!("two")]
    );
    let error = test.error.as_ref().expect("an error");
    assert_eq!(error.json(), r#"{"z":1,"a":"x"}"#);
    assert_eq!(error.value(), json!({"a": "x", "z": 1}));
    let written = serde_json::to_string(&test).expect("serializes");
    assert!(
        written.contains(r#""timeline":[ {"b":1.50,"a":[null]} , "two" ]"#),
        "{written}"
    );
    assert!(written.contains(r#""error":{"z":1,"a":"x"}"#), "{written}");
    // A timeline that is one value is a list of it; an empty one has no steps.
    let one: TestResult = serde_json::from_str(r#"{"timeline":"boot"}"#).expect("parses");
    assert_eq!(
        (one.timeline.json(), one.timeline.len()),
        (r#"["boot"]"#, 1)
    );
    assert!(empty_test().timeline.is_empty());
}

/// The proxy's cheap check of a run report accepts exactly what `TestRun` reads, with
/// the same status.
fn same_verdict(text: &str) {
    let full = serde_json::from_str::<TestRun>(text);
    match (&full, from_json::<TestRun>(text)) {
        (Ok(run), Ok(read)) => assert_eq!(run, &read, "{text}, read by the widget"),
        (Err(_), Err(_)) => {}
        (_, read) => panic!("{text}: serde {full:?}, the widget {read:?}"),
    }
    let shape = serde_json::from_str::<TestRunShape>(text);
    match (&full, &shape) {
        (Ok(run), Ok(shape)) => assert_eq!(run.status, shape.status, "{text}"),
        (Err(_), Err(_)) => {}
        _ => panic!("{text}: TestRun {full:?}, shape {shape:?}"),
    }
}

#[test]
fn the_cheap_check_refuses_exactly_what_a_report_refuses() {
    let guide = guide_run_json().to_string();
    same_verdict(&guide);
    assert_eq!(
        serde_json::from_str::<TestRunShape>(&guide)
            .expect("the guide's report passes")
            .status,
        RunStatus::Completed
    );
    let refused = [
        "null",
        "[]",
        "\"report\"",
        r#"{"runId":"r1","runId":"r2"}"#,
        r#"{"status":"Running","tests":[{"_id":"a","_id":"b"}]}"#,
        r#"{"statuses":[{"label":"Passed","label":"Failed","count":1}]}"#,
        r#"{"tests":[{"timeline":[],"timeline":[]}]}"#,
        r#"{"tests":[{"title":"x"}"#,
        r#"{"tests":[{"timeline":[1,]}]}"#,
    ];
    for text in refused {
        same_verdict(text);
        assert!(
            serde_json::from_str::<TestRunShape>(text).is_err(),
            "{text} passed the check"
        );
    }
    // Inside the free-form parts and unknown fields, a repeated key is no error.
    for text in [
        r#"{"tests":[{"timeline":[{"a":1,"a":2}],"error":{"m":1,"m":2}}]}"#,
        r#"{"extra":{"x":1,"x":2},"tests":[null,{"other":1,"other":2}]}"#,
    ] {
        same_verdict(text);
        assert!(serde_json::from_str::<TestRunShape>(text).is_ok(), "{text}");
    }
}

#[test]
fn odd_answers_serialize_in_the_guides_shapes() {
    // What the proxy or a test re-sends after reading an odd answer is a clean document.
    let run: TestRun = serde_json::from_value(with(
        guide_run_json(),
        "testsInProjectCount",
        Some(json!(36.0)),
    ))
    .expect("parses");
    assert_eq!(
        serde_json::to_value(&run).expect("serializes")["testsInProjectCount"],
        json!(36)
    );
}

/// Every JSON value, finite numbers only (JSON has no NaN).
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e20f64..1e20).prop_map(Value::from),
        "[a-zA-Z0-9 _.:-]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer inside `doc` except the root: each field and each list element.
fn pointers(doc: &Value, at: String, out: &mut Vec<String>) {
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
        pointers(child, pointer, out);
    }
}

/// Replaces the value at `pointer` with `value`, parses the text, and checks that every
/// top-level field the replacement did not touch reads exactly as in the original.
fn substituted_parses<T: Serialize + DeserializeOwned + FromJson + PartialEq + Debug>(
    doc: &Value,
    pointer: &str,
    value: Value,
) {
    let mut odd = doc.clone();
    *odd.pointer_mut(pointer).expect("pointer exists") = value;
    let text = odd.to_string();
    let parsed: T = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{text} did not parse ({pointer}): {e}"));
    assert_eq!(
        from_json::<T>(&text).as_ref(),
        Ok(&parsed),
        "{text}, read by the widget"
    );
    let clean: T = serde_json::from_value(doc.clone()).expect("example parses");
    let (parsed, clean) = (
        serde_json::to_value(parsed).expect("serializes"),
        serde_json::to_value(clean).expect("serializes"),
    );
    let touched = pointer.split('/').nth(1).expect("not the root");
    for (key, kept) in clean.as_object().expect("object") {
        if key != touched {
            assert_eq!(
                parsed.get(key),
                Some(kept),
                "{key} lost after changing {pointer}"
            );
        }
    }
}

/// The guide's examples, with the fields it shows but that its examples leave out.
fn examples() -> Vec<(&'static str, Value)> {
    vec![
        ("run", guide_run_json()),
        ("jobs", guide_jobs_json()),
        ("execute", guide_execute_json()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// No field is structurally essential: ANY value in place of any field or list
    /// element of the guide's examples parses, and the untouched fields are kept.
    #[test]
    fn any_value_for_any_field_parses(which in 0usize..3, slot in any::<prop::sample::Index>(), value in any_json()) {
        let (kind, doc) = &examples()[which];
        let mut all = Vec::new();
        pointers(doc, String::new(), &mut all);
        let pointer = slot.get(&all);
        match *kind {
            "run" => {
                let mut odd = doc.clone();
                *odd.pointer_mut(pointer).expect("pointer exists") = value.clone();
                same_verdict(&odd.to_string());
                substituted_parses::<TestRun>(doc, pointer, value)
            }
            "jobs" => substituted_parses::<JobsResponse>(doc, pointer, value),
            _ => substituted_parses::<ExecuteResponse>(doc, pointer, value),
        }
    }
}
