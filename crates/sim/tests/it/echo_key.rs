//! The `echo_key` fault over a real socket: each mode really puts the received key into
//! the answers, in the promised place and spelling, and only after the key check.

use serde_json::json;

use crate::common::{
    self, KEY,
    socket::{
        Raw, client, execute_raw, feature_id, jobs_raw, report_raw, run_id_after, send, set_faults,
        start_manual,
    },
};

/// `KEY` ("test-key-1") as each mode spells it, worked out by hand.
const URLENCODED: &str = "test%2Dkey%2D1";
const BASE64: &str = "dGVzdC1rZXktMQ==";

#[tokio::test]
async fn error_mode_answers_every_request_with_the_key_before_character_500() {
    let (running, _clock) = start_manual().await;
    let (c, url) = (client(), running.url());
    set_faults(&c, &url, json!({"echo_key": "error"})).await;
    let answers = [
        execute_raw(&c, &url, json!({"featureId": feature_id(&running)})).await,
        jobs_raw(&c, &url, &["6804f1d1d2d4e0a1c1a0d123"]).await,
        report_raw(&c, &url, "6804f1e2d2d4e0a1c1a0d456").await,
    ];
    for answer in answers {
        assert_eq!(answer.status, 400, "{}", answer.text);
        let body = answer.json();
        assert_eq!(
            (&body["success"], &body["error"]["code"]),
            (&json!(false), &json!("bad_request"))
        );
        let message = body["error"]["message"].as_str().expect("message");
        let at = message.find(KEY).expect("the message holds the key");
        assert!(
            at < 500 && at + KEY.len() > 480,
            "key at {at} of {}",
            message.len()
        );
    }
    // The requests were refused: nothing was started.
    set_faults(&c, &url, json!({})).await;
    assert_eq!(common::socket::active_jobs(&c, &url).await, json!([]));
    running.shutdown().await;
}

#[tokio::test]
async fn body_modes_put_the_key_into_every_successful_answer() {
    for (mode, spelled) in [
        ("body", KEY),
        ("urlencoded", URLENCODED),
        ("base64", BASE64),
    ] {
        let (running, clock) = start_manual().await;
        let (c, url) = (client(), running.url());
        let started = execute_raw(&c, &url, json!({"featureId": feature_id(&running)})).await;
        let job_id = started.json()["jobId"].as_str().expect("jobId").to_owned();
        let run_id = run_id_after(&c, &url, &job_id, &clock, 3_600_000).await;
        set_faults(&c, &url, json!({"echo_key": mode})).await;

        let execute = execute_raw(&c, &url, json!({"featureId": feature_id(&running)})).await;
        let jobs = jobs_raw(&c, &url, &[&job_id]).await;
        let report = report_raw(&c, &url, &run_id).await;
        for answer in [&execute, &jobs, &report] {
            assert_eq!(answer.status, 200, "{mode}: {}", answer.text);
            assert!(answer.text.contains(spelled), "{mode}: {}", answer.text);
            if spelled != KEY {
                assert!(
                    !answer.text.contains(KEY),
                    "{mode} sends only the encoded key"
                );
            }
        }
        let holds = |raw: &Raw, pointer: &str| {
            raw.json()
                .pointer(pointer)
                .and_then(|v| v.as_str().map(|s| s.contains(spelled)))
                == Some(true)
        };
        assert!(holds(&execute, "/note"), "{mode}: {}", execute.text);
        assert!(holds(&jobs, "/jobs/0/agentName"), "{mode}: {}", jobs.text);
        assert!(holds(&report, "/title"), "{mode}");

        // Errors are left alone, and a wrong key is refused before any echo.
        let missing = report_raw(&c, &url, "6804f1e2d2d4e0a1c1a0d456").await;
        assert_eq!(missing.status, 404);
        assert!(!missing.text.contains(spelled), "{mode}: {}", missing.text);
        let wrong = send(
            c.post(format!("{url}{}", common::jobs_path()))
                .header("x-api-key", "wrong-key")
                .json(&json!({})),
        )
        .await;
        assert_eq!(wrong.status, 401, "{mode}");
        running.shutdown().await;
    }
}

/// `KEY` ("test-key-1") in the escaped mode's spelling, worked out by hand: every other
/// character a `\u` escape, upper- then lower-case hex in turn.
const ESCAPED: &str = r"\u0074e\u0073t\u002Dk\u0065y\u002D1";

#[tokio::test]
async fn escaped_mode_hides_the_key_from_bytes_but_not_from_json_parse() {
    let (running, clock) = start_manual().await;
    let (c, url) = (client(), running.url());
    let started = execute_raw(&c, &url, json!({"featureId": feature_id(&running)})).await;
    let job_id = started.json()["jobId"].as_str().expect("jobId").to_owned();
    let run_id = run_id_after(&c, &url, &job_id, &clock, 3_600_000).await;
    set_faults(&c, &url, json!({"echo_key": "escaped"})).await;
    let answers = [
        (
            execute_raw(&c, &url, json!({"featureId": feature_id(&running)})).await,
            "/note",
        ),
        (jobs_raw(&c, &url, &[&job_id]).await, "/jobs/0/agentName"),
        (report_raw(&c, &url, &run_id).await, "/title"),
    ];
    for (answer, pointer) in answers {
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert!(answer.text.contains(ESCAPED), "{}", answer.text);
        assert!(!answer.text.contains(KEY), "no plain key: {}", answer.text);
        let decoded = answer
            .json()
            .pointer(pointer)
            .and_then(|v| v.as_str().map(str::to_owned));
        assert!(
            decoded.is_some_and(|s| s.contains(KEY)),
            "{pointer}: {}",
            answer.text
        );
    }
    running.shutdown().await;
}
