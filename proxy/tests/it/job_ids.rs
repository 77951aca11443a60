//! A `jobs` request asks for at most 200 distinct job ids: duplicates are dropped before
//! counting, and a longer list is a clear 400 that never reaches the platform.

use serde_json::json;

use crate::common::{self, code, start};

#[tokio::test]
async fn job_ids_are_made_distinct_and_capped_at_200() {
    let h = start(|_| {}).await;
    let path = common::jobs_path();
    let ids = |n: usize| {
        (0..n)
            .map(|i| format!("6804f1d1d2d4e0a1c1a0{i:04}"))
            .collect::<Vec<_>>()
    };

    // 400 ids, 200 distinct: within the cap.
    let twice: Vec<String> = ids(200).into_iter().cycle().take(400).collect();
    let (status, body) = h.post(&path, &json!({ "jobIds": twice })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["missingJobIds"].as_array().unwrap().len(), 200);

    // 201 distinct: refused, and the platform sees nothing.
    let before = h.stats().by_endpoint.jobs;
    let (status, body) = h.post(&path, &json!({ "jobIds": ids(201) })).await;
    assert_eq!((status, code(&body)), (400, "invalid_body"), "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("at most 200 job ids per request"),
        "{message}"
    );
    assert_eq!(h.stats().by_endpoint.jobs, before);
    h.stop().await;
}
