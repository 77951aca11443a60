//! The odd shapes ([`Shapes::Odd`](crate::Shapes::Odd)): answers reshaped into what the
//! guide allows but never shows, so clients are tested against them. Each function
//! takes the plain answer as JSON and changes it in place.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

/// A run report: fractional, negative and missing numbers, `null`s where there is
/// nothing, a float count, and in a completed report one `Blocked` test.
pub(super) fn report(run: &mut Value) {
    if let Some(count) = run.get("testsInProjectCount").and_then(Value::as_u64) {
        // serde_json writes a float with a fraction: `36.0`.
        run["testsInProjectCount"] = json!(count as f64);
    }
    let completed = run["status"] == "Completed";
    let Some(tests) = run.get_mut("tests").and_then(Value::as_array_mut) else {
        return;
    };
    tests.iter_mut().for_each(odd_test);
    if let Some(first) = tests.first_mut() {
        first["title"] = Value::Null;
    }
    if let Some(finished) = tests.iter_mut().find(|t| t.get("duration").is_some()) {
        finished["duration"] = json!(-1);
    }
    if completed {
        block_one(run);
    }
}

/// One test: every duration gets half a millisecond, and absent things become `null`
/// or are left out.
fn odd_test(test: &mut Value) {
    if let Some(duration) = test.get("duration").and_then(Value::as_u64) {
        test["duration"] = json!(duration as f64 + 0.5);
    }
    if test["hasVideo"] != true {
        test["videoLink"] = Value::Null;
    }
    match test["status"].as_str() {
        Some("Passed") => {
            if let Some(fields) = test.as_object_mut() {
                fields.remove("timeline");
            }
            test["error"] = Value::Null;
        }
        Some("Scheduled") => test["startTime"] = Value::Null,
        _ => {}
    }
}

/// Gives the last passed test (or the last test) the undocumented status `Blocked`,
/// moving one from its label's count to a `Blocked` entry, so the counts still sum to
/// the tests.
fn block_one(run: &mut Value) {
    let Some(tests) = run.get_mut("tests").and_then(Value::as_array_mut) else {
        return;
    };
    let passed = tests.iter().rposition(|t| t["status"] == "Passed");
    let Some(index) = passed.or(tests.len().checked_sub(1)) else {
        return;
    };
    let was = std::mem::replace(&mut tests[index]["status"], json!("Blocked"));
    let Some(statuses) = run.get_mut("statuses").and_then(Value::as_array_mut) else {
        return;
    };
    if let Some(entry) = statuses.iter_mut().find(|s| s["label"] == was) {
        let count = entry["count"].as_u64().unwrap_or(1);
        entry["count"] = json!(count.saturating_sub(1));
    }
    statuses.push(json!({"label": "Blocked", "count": 1}));
}

/// A jobs answer: `"missingJobIds": null` when empty, `updatedAt` in whole seconds.
pub(super) fn jobs(answer: &mut Value) {
    if answer["missingJobIds"]
        .as_array()
        .is_some_and(|ids| ids.is_empty())
    {
        answer["missingJobIds"] = Value::Null;
    }
    let Some(jobs) = answer.get_mut("jobs").and_then(Value::as_array_mut) else {
        return;
    };
    for job in jobs {
        let whole = job["updatedAt"]
            .as_str()
            .and_then(|at| at.split_once('.'))
            .map(|(seconds, _)| format!("{seconds}Z"));
        if let Some(whole) = whole {
            job["updatedAt"] = json!(whole);
        }
    }
}

/// A start identical to a queued one: a 409 that still names the job to follow.
pub(super) fn duplicate_start(job_id: &str) -> Response {
    let body = json!({
        "success": false,
        "scheduleStatus": "AlreadyExists",
        "jobId": job_id,
        "message": "an identical execution is already queued",
    });
    (StatusCode::CONFLICT, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_completed_report_gets_every_odd_shape_and_still_adds_up() {
        let mut run = json!({
            "status": "Completed", "testsInProjectCount": 36,
            "statuses": [{"label": "Passed", "count": 2}, {"label": "Failed", "count": 1}],
            "tests": [
                {"title": "a", "status": "Passed", "duration": 10, "hasVideo": false,
                 "timeline": [], "startTime": "t"},
                {"title": "b", "status": "Failed", "duration": 20, "hasVideo": true,
                 "videoLink": "v", "timeline": [], "error": "x", "startTime": "t"},
                {"title": "c", "status": "Passed", "duration": 30, "hasVideo": false,
                 "timeline": [], "startTime": "t"},
            ]
        });
        report(&mut run);
        assert_eq!(run["testsInProjectCount"].to_string(), "36.0");
        let tests = &run["tests"];
        assert_eq!(tests[0]["title"], Value::Null);
        assert_eq!(tests[0]["duration"], json!(-1));
        assert_eq!(tests[1]["duration"], json!(20.5));
        assert_eq!(tests[0]["videoLink"], Value::Null);
        assert_eq!(tests[1]["videoLink"], "v");
        assert!(tests[0].get("timeline").is_none() && tests[0]["error"].is_null());
        assert_eq!(tests[2]["status"], "Blocked");
        assert_eq!(
            run["statuses"],
            json!([{"label": "Passed", "count": 1}, {"label": "Failed", "count": 1},
                   {"label": "Blocked", "count": 1}])
        );
    }

    #[test]
    fn jobs_lose_fractions_and_empty_lists() {
        let mut answer = json!({"success": true, "missingJobIds": [],
            "jobs": [{"updatedAt": "2026-04-20T10:15:30.000Z"}]});
        jobs(&mut answer);
        assert_eq!(answer["missingJobIds"], Value::Null);
        assert_eq!(answer["jobs"][0]["updatedAt"], "2026-04-20T10:15:30Z");
    }
}
