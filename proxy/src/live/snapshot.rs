//! What a follower publishes after each poll (the latest report, the recent changes, final
//! or failed, each already encoded as its event), and how two reports differ: by each
//! test's raw text, so a report is never parsed into a tree.

use std::{
    collections::{HashMap, VecDeque, hash_map::DefaultHasher},
    hash::{Hash, Hasher},
};

use axum::body::Bytes;
use runboard_shared::LiveEventName;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{sse, viewer::EventId};

/// How many changes a follower keeps for viewers resuming with `Last-Event-ID`.
const KEPT_CHANGES: usize = 64;

/// The state of one followed run, shared by every viewer (no per-viewer copy). Events are
/// encoded here, once, as the follower publishes: a viewer sends these very bytes.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// The follower that published it.
    pub(crate) epoch: u64,
    /// Bumped with each new report; 0 before the first.
    pub(crate) seq: u64,
    /// The latest report as the upstream sent it, as one event: `report`, or `final`
    /// once the run is final.
    pub(crate) report: Option<Bytes>,
    /// The `change` event that led to each of the last few `seq`s (the first report has
    /// none).
    pub(crate) changes: VecDeque<(u64, Bytes)>,
    /// The report is final: it will not change any more.
    pub(crate) is_final: bool,
    /// The first poll failed: the `failure` event with the error body (`{"error":{…}}`);
    /// the follower stopped.
    pub(crate) failure: Option<Bytes>,
}

impl Snapshot {
    pub(crate) fn new(epoch: u64) -> Self {
        Self {
            epoch,
            seq: 0,
            report: None,
            changes: VecDeque::new(),
            is_final: false,
            failure: None,
        }
    }

    /// Takes a new report, `final` or not: `change` describes it against the previous
    /// one, `None` when it cannot (then viewers behind get the whole report).
    pub(crate) fn advance(&mut self, report: &[u8], change: Option<&[u8]>, is_final: bool) {
        self.seq += 1;
        self.is_final = is_final;
        let id = EventId::new(self.epoch, self.seq).text();
        let name = if is_final {
            LiveEventName::Final
        } else {
            LiveEventName::Report
        };
        self.report = Some(sse::frame(name, Some(&id), report));
        match change {
            Some(change) => {
                if self.changes.len() == KEPT_CHANGES {
                    self.changes.pop_front();
                }
                let change = sse::frame(LiveEventName::Change, Some(&id), change);
                self.changes.push_back((self.seq, change));
            }
            None => self.changes.clear(),
        }
    }

    /// The first poll failed with `body` (`{"error":{…}}`).
    pub(crate) fn fail(&mut self, body: &[u8]) {
        self.failure = Some(sse::frame(LiveEventName::Failure, None, body));
    }
}

/// A report's fingerprint: each test's id and a hash of its raw text.
#[derive(Debug, Default)]
pub(crate) struct Digest {
    tests: HashMap<String, u64>,
    whole: u64,
}

#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(borrow, default)]
    status: Option<&'a RawValue>,
    #[serde(borrow, default)]
    statuses: Option<&'a RawValue>,
    #[serde(borrow, default)]
    tests: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct TestKey<'a> {
    #[serde(rename = "_id", borrow, default)]
    id: Option<&'a RawValue>,
}

fn hash(bytes: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// A test's identity: its `_id` as written; `None` when it has none.
fn key_of(test: &RawValue) -> Option<String> {
    serde_json::from_str::<TestKey<'_>>(test.get())
        .ok()
        .and_then(|key| key.id)
        .map(|id| id.get().to_owned())
}

impl Digest {
    /// The fingerprint of `report`, and the `change` event's data from `previous` to it:
    /// `{"statuses":…,"status":…,"tests":[changed tests]}`. No change data when the
    /// report is the same, or when it cannot be told as changed tests (a test vanished,
    /// a test without an `_id` or with a repeated one, the report is not the usual
    /// shape): `Err(())` then asks for the whole report.
    pub(crate) fn of(
        report: &[u8],
        previous: Option<&Digest>,
    ) -> (Self, Result<Option<Bytes>, ()>) {
        let whole = hash(report);
        let Ok(frame) = serde_json::from_slice::<Frame<'_>>(report) else {
            let same = previous.is_some_and(|p| p.whole == whole);
            let digest = Self {
                tests: HashMap::new(),
                whole,
            };
            return (digest, if same { Ok(None) } else { Err(()) });
        };
        let tests = frame.tests.unwrap_or_default();
        let mut digest = Self {
            tests: HashMap::with_capacity(tests.len()),
            whole,
        };
        let mut changed = Vec::new();
        // A change names tests by id: without one, or with one twice, only the whole
        // report says what changed.
        let mut by_id = true;
        for test in &tests {
            let Some(key) = key_of(test) else {
                by_id = false;
                continue;
            };
            let fingerprint = hash(test.get().as_bytes());
            if previous.and_then(|p| p.tests.get(&key)) != Some(&fingerprint) {
                changed.push(test.get());
            }
            by_id &= digest.tests.insert(key, fingerprint).is_none();
        }
        let Some(previous) = previous else {
            return (digest, Err(()));
        };
        if previous.whole == whole {
            return (digest, Ok(None));
        }
        if !by_id
            || previous
                .tests
                .keys()
                .any(|key| !digest.tests.contains_key(key))
        {
            return (digest, Err(()));
        }
        let raw = |value: Option<&RawValue>| value.map_or("null", RawValue::get).to_owned();
        let data = format!(
            r#"{{"statuses":{},"status":{},"tests":[{}]}}"#,
            raw(frame.statuses),
            raw(frame.status),
            changed.join(",")
        );
        (digest, Ok(Some(Bytes::from(data))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(status: &str, tests: &[(&str, &str)]) -> String {
        let tests: Vec<String> = tests
            .iter()
            .map(|(id, s)| format!(r#"{{"_id":"{id}","status":"{s}"}}"#))
            .collect();
        format!(
            r#"{{"status":"{status}","statuses":[{{"status":"Passed","count":1}}],"tests":[{}]}}"#,
            tests.join(",")
        )
    }

    #[test]
    fn a_change_holds_only_the_changed_tests_and_the_counts() {
        let first = report("Running", &[("a", "Running"), ("b", "Queued")]);
        let (digest, change) = Digest::of(first.as_bytes(), None);
        assert!(
            change.is_err(),
            "the first report has nothing to differ from"
        );
        let (_, same) = Digest::of(first.as_bytes(), Some(&digest));
        assert_eq!(same, Ok(None));
        let second = report("Running", &[("a", "Passed"), ("b", "Queued")]);
        let (_, change) = Digest::of(second.as_bytes(), Some(&digest));
        let change: serde_json::Value = serde_json::from_slice(&change.unwrap().unwrap()).unwrap();
        assert_eq!(change["status"], "Running");
        assert_eq!(change["statuses"][0]["count"], 1);
        assert_eq!(
            change["tests"],
            serde_json::json!([{"_id": "a", "status": "Passed"}])
        );
    }

    #[test]
    fn a_vanished_test_asks_for_the_whole_report() {
        let first = report("Running", &[("a", "Running"), ("b", "Queued")]);
        let (digest, _) = Digest::of(first.as_bytes(), None);
        let second = report("Running", &[("a", "Passed")]);
        assert_eq!(Digest::of(second.as_bytes(), Some(&digest)).1, Err(()));
    }

    #[test]
    fn tests_without_distinct_ids_ask_for_the_whole_report() {
        let first = report("Running", &[("a", "Running"), ("a", "Queued")]);
        let (digest, _) = Digest::of(first.as_bytes(), None);
        let second = report("Running", &[("a", "Passed"), ("a", "Queued")]);
        assert_eq!(Digest::of(second.as_bytes(), Some(&digest)).1, Err(()));
        let nameless = r#"{"status":"Running","tests":[{"status":"Passed"}]}"#;
        assert_eq!(Digest::of(nameless.as_bytes(), Some(&digest)).1, Err(()));
    }

    #[test]
    fn resuming_keeps_a_bounded_history() {
        let mut snapshot = Snapshot::new(1);
        snapshot.advance(b"{}", None, false);
        for _ in 0..KEPT_CHANGES + 5 {
            snapshot.advance(b"{}", Some(b"{}"), false);
        }
        assert_eq!(snapshot.changes.len(), KEPT_CHANGES);
        assert_eq!(snapshot.changes.back().map(|c| c.0), Some(snapshot.seq));
    }
}
