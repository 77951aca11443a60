//! Fuzz target: any bytes as each upstream answer. Parsing never panics, and whatever
//! parses survives our own serialisation unchanged (what the widget re-reads).

#![no_main]

use libfuzzer_sys::fuzz_target;
use runboard_shared::{ExecuteResponse, JobsResponse, TestRun};
use serde::{Serialize, de::DeserializeOwned};

fuzz_target!(|data: &[u8]| {
    round_trip::<TestRun>(data);
    round_trip::<JobsResponse>(data);
    round_trip::<ExecuteResponse>(data);
});

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(data: &[u8]) {
    let Ok(first) = serde_json::from_slice::<T>(data) else {
        return;
    };
    let text = serde_json::to_string(&first).expect("a parsed answer serialises");
    let again: T = serde_json::from_str(&text).expect("our own serialisation parses");
    assert_eq!(first, again, "changed by a round trip through {text}");
}
