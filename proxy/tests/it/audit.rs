//! The audit trail: every execution attempt, allowed, forbidden or refused by the
//! platform, gives exactly one `runboard::audit` line with every promised field (time,
//! user, project, selector, agent, jobId, outcome; the reason when it did not start).
//! It runs in a process of its own (`common::alone`): it installs the global log
//! subscriber.

use runboard_proxy::config::AuthMode;
use serde_json::{Value, json};

use crate::common::{self, Harness, PROJECT, alone, code, log_capture::Buffer, start};

/// The fields of every audit line written so far by `user`.
fn audit_lines(logs: &Buffer, user: &str) -> Vec<Value> {
    logs.text()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["target"] == "runboard::audit")
        .map(|line| line["fields"].clone())
        .filter(|fields| fields["user"] == user)
        .collect()
}

async fn execute(h: &Harness, user: &str, groups: &str, body: Value) -> (u16, Value) {
    let response = h
        .client
        .post(h.url(&common::execute_path()))
        .header("x-forwarded-email", user)
        .header("x-forwarded-groups", groups)
        .json(&body)
        .send()
        .await
        .unwrap();
    common::read(response).await
}

/// The one audit line of `user`, checked for every promised field.
fn the_line(logs: &Buffer, user: &str, agent: &str, selector: &str) -> Value {
    let lines = audit_lines(logs, user);
    assert_eq!(
        lines.len(),
        1,
        "exactly one audit line for {user}: {lines:?}"
    );
    let line = lines.into_iter().next().unwrap();
    let time = line["time"].as_str().unwrap_or_default();
    assert!(
        chrono::DateTime::parse_from_rfc3339(time).is_ok(),
        "time: {line}"
    );
    assert_eq!(line["project"], PROJECT, "{line}");
    assert_eq!(line["selector"], selector, "{line}");
    assert_eq!(line["agent"], agent, "{line}");
    assert!(line["job_id"].is_string(), "{line}");
    assert!(line["outcome"].is_string(), "{line}");
    assert!(line["reason"].is_string(), "{line}");
    line
}

#[tokio::test]
async fn each_execution_gives_one_complete_audit_line() {
    if !alone::in_own_process("audit::each_execution_gives_one_complete_audit_line").await {
        return;
    }
    let logs = Buffer::capture_json();
    let h = start(|c| {
        c.auth.mode = AuthMode::Header;
        c.auth.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        c.auth.run_groups = vec!["qa".to_owned()];
    })
    .await;
    let feature = h.feature_id();
    let selector = format!("feature {feature}");

    // Allowed: the platform accepts it.
    let (status, body) = execute(
        &h,
        "runner@example.com",
        "qa",
        json!({"action": "executeTests", "featureId": feature, "agentName": "staging-agent"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let line = the_line(&logs, "runner@example.com", "staging-agent", &selector);
    assert_eq!(line["job_id"], body["jobId"], "{line}");
    assert_eq!(line["outcome"], "Success", "{line}");

    // Forbidden: Runboard refuses it, nothing reaches the platform.
    let before = h.stats().by_endpoint.test_execution;
    let (status, body) = execute(
        &h,
        "viewer@example.com",
        "sales",
        json!({"action": "executeTests", "featureId": feature}),
    )
    .await;
    assert_eq!((status, code(&body)), (403, "forbidden"), "{body}");
    assert_eq!(h.stats().by_endpoint.test_execution, before);
    let line = the_line(&logs, "viewer@example.com", "", &selector);
    assert_eq!(
        (&line["job_id"], &line["outcome"]),
        (&json!(""), &json!("refused"))
    );
    assert!(
        line["reason"].as_str().unwrap().contains("not start runs"),
        "{line}"
    );

    // Refused by the platform: its own reason, and never "try again".
    let (status, body) = execute(
        &h,
        "refused@example.com",
        "qa",
        json!({"action": "executeTests", "featureId": feature, "agentName": "refusing-agent"}),
    )
    .await;
    assert_eq!((status, code(&body)), (422, "upstream_refused"), "{body}");
    let line = the_line(&logs, "refused@example.com", "refusing-agent", &selector);
    assert_eq!(line["outcome"], "refused", "{line}");
    let reason = line["reason"].as_str().unwrap();
    assert!(
        reason.contains("agent refusing-agent is disabled for this project"),
        "{line}"
    );
    assert!(!reason.to_lowercase().contains("try again"), "{line}");
    h.stop().await;
}
