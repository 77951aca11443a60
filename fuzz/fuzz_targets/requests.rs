//! Fuzz target: any bytes as the requests Runboard accepts from browsers. Parsing never
//! panics, only valid ids are ever accepted, and accepted requests round-trip.

#![no_main]

use libfuzzer_sys::fuzz_target;
use runboard_shared::{ExecuteRequest, JobsRequest, ProjectId};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(id) = ProjectId::parse(text) {
            let ok = (1..=64).contains(&text.len())
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            assert!(ok, "accepted a bad id {text:?}");
            assert_eq!(id.as_str(), text);
        }
    }
    if let Ok(request) = serde_json::from_slice::<ExecuteRequest>(data) {
        let text = serde_json::to_string(&request).unwrap();
        assert_eq!(
            serde_json::from_str::<ExecuteRequest>(&text).unwrap(),
            request
        );
    }
    if let Ok(request) = serde_json::from_slice::<JobsRequest>(data) {
        let text = serde_json::to_string(&request).unwrap();
        assert_eq!(serde_json::from_str::<JobsRequest>(&text).unwrap(), request);
    }
});
