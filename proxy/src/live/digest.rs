//! How two reports of one run differ, told from each test's raw text (a report is never
//! parsed into a tree): the fingerprint a follower keeps of its last report, and the
//! `change` event's data from it to the next. A change is only given when applying it
//! as the widget does (`frontend/src/logic/patch.rs`: tests replaced by `_id`, new ones
//! appended, status and counts taken) yields exactly the new report; otherwise viewers
//! get the whole report.

use std::{
    collections::{BTreeMap, HashMap, hash_map::DefaultHasher},
    hash::{Hash, Hasher},
};

use axum::body::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

/// A report's fingerprint: each test's id and a hash of its raw text, the order of the
/// ids, and a hash of the members a change does not carry.
#[derive(Debug, Default)]
pub(crate) struct Digest {
    tests: HashMap<String, u64>,
    /// Every test has an `_id`, each a different one.
    by_id: bool,
    /// A hash of the test ids in their order.
    order: u64,
    /// A hash of every member but `status`, `statuses` and `tests` (title, start time,
    /// members the guide does not name), which a change leaves as they were.
    head: u64,
    whole: u64,
}

/// A report's members as written: the three a change carries, and the hash of the rest.
struct Frame<'a> {
    status: Option<&'a RawValue>,
    statuses: Option<&'a RawValue>,
    tests: Vec<&'a RawValue>,
    head: u64,
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

impl<'a> Frame<'a> {
    /// The report's members; `None` when it is not an object, or its `tests` is neither
    /// an array nor `null`.
    fn read(report: &'a [u8]) -> Option<Self> {
        // Sorted, so the head hashes the same however the members are ordered.
        let members: BTreeMap<String, &'a RawValue> = serde_json::from_slice(report).ok()?;
        let mut head = DefaultHasher::new();
        let mut frame = Frame {
            status: None,
            statuses: None,
            tests: Vec::new(),
            head: 0,
        };
        for (name, value) in members {
            match name.as_str() {
                "status" => frame.status = Some(value),
                "statuses" => frame.statuses = Some(value),
                "tests" => {
                    let tests: Option<Vec<&'a RawValue>> =
                        serde_json::from_str(value.get()).ok()?;
                    frame.tests = tests.unwrap_or_default();
                }
                _ => (name, value.get()).hash(&mut head),
            }
        }
        frame.head = head.finish();
        Some(frame)
    }

    /// The `change` event's data: `{"statuses":…,"status":…,"tests":[changed tests]}`.
    fn change(&self, changed: &[&str]) -> Bytes {
        let raw = |value: Option<&RawValue>| value.map_or("null", RawValue::get).to_owned();
        let data = format!(
            r#"{{"statuses":{},"status":{},"tests":[{}]}}"#,
            raw(self.statuses),
            raw(self.status),
            changed.join(",")
        );
        Bytes::from(data)
    }
}

impl Digest {
    /// The fingerprint of `report`, and the `change` event's data from `previous` to it.
    /// No change data (`Ok(None)`) when the report is the same; `Err(())`, which asks for
    /// the whole report, when it cannot be told as changed tests: the first report, a
    /// test vanished or moved, a test without an `_id` or with a repeated one (now or
    /// before), another member than the status and counts changed, or the report is not
    /// the usual shape.
    pub(crate) fn of(
        report: &[u8],
        previous: Option<&Digest>,
    ) -> (Self, Result<Option<Bytes>, ()>) {
        let whole = hash(report);
        let same = previous.is_some_and(|p| p.whole == whole);
        let Some(frame) = Frame::read(report) else {
            let digest = Self {
                whole,
                ..Self::default()
            };
            return (digest, if same { Ok(None) } else { Err(()) });
        };
        let mut digest = Self {
            tests: HashMap::with_capacity(frame.tests.len()),
            by_id: true,
            order: 0,
            head: frame.head,
            whole,
        };
        // The order of the ids the previous report had, as far as it goes here: the
        // widget appends new tests, so the old ones must come first, in their order.
        let before = previous.map(|p| p.tests.len());
        let mut order = DefaultHasher::new();
        let mut prefix = (before == Some(0)).then(|| order.finish());
        let mut changed = Vec::new();
        for test in &frame.tests {
            let Some(key) = key_of(test) else {
                digest.by_id = false;
                continue;
            };
            key.hash(&mut order);
            let fingerprint = hash(test.get().as_bytes());
            if previous.and_then(|p| p.tests.get(&key)) != Some(&fingerprint) {
                changed.push(test.get());
            }
            digest.by_id &= digest.tests.insert(key, fingerprint).is_none();
            if Some(digest.tests.len()) == before {
                prefix = Some(order.finish());
            }
        }
        digest.order = order.finish();
        let Some(previous) = previous else {
            return (digest, Err(()));
        };
        if same {
            return (digest, Ok(None));
        }
        let follows = digest.by_id
            && previous.by_id
            && previous.head == digest.head
            && prefix == Some(previous.order)
            && previous
                .tests
                .keys()
                .all(|key| digest.tests.contains_key(key));
        if !follows {
            return (digest, Err(()));
        }
        (digest, Ok(Some(frame.change(&changed))))
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
            r#"{{"title":"T","status":"{status}","statuses":[{{"status":"Passed","count":1}}],"tests":[{}]}}"#,
            tests.join(",")
        )
    }

    /// The change from `first` to `second`.
    fn change(first: &str, second: &str) -> Result<Option<Bytes>, ()> {
        let (digest, _) = Digest::of(first.as_bytes(), None);
        Digest::of(second.as_bytes(), Some(&digest)).1
    }

    #[test]
    fn a_change_holds_only_the_changed_tests_and_the_counts() {
        let first = report("Running", &[("a", "Running"), ("b", "Queued")]);
        let (_, change_of_first) = Digest::of(first.as_bytes(), None);
        assert!(
            change_of_first.is_err(),
            "the first report has nothing to differ from"
        );
        assert_eq!(change(&first, &first), Ok(None));
        let second = report("Running", &[("a", "Passed"), ("b", "Queued")]);
        let data = change(&first, &second).unwrap().unwrap();
        let data: serde_json::Value = serde_json::from_slice(&data).unwrap();
        assert_eq!(data["status"], "Running");
        assert_eq!(data["statuses"][0]["count"], 1);
        assert_eq!(
            data["tests"],
            serde_json::json!([{"_id": "a", "status": "Passed"}])
        );
        let third = report(
            "Running",
            &[("a", "Passed"), ("b", "Queued"), ("c", "Queued")],
        );
        let data = change(&second, &third).unwrap().unwrap();
        assert!(data.ends_with(br#""tests":[{"_id":"c","status":"Queued"}]}"#));
    }

    #[test]
    fn what_a_change_cannot_say_asks_for_the_whole_report() {
        let first = report("Running", &[("a", "Running"), ("b", "Queued")]);
        let check = |second: &str, why: &str| {
            assert_eq!(change(&first, second), Err(()), "{why}");
        };
        check(&report("Running", &[("a", "Passed")]), "a test vanished");
        check(
            &report("Running", &[("b", "Queued"), ("a", "Passed")]),
            "tests moved",
        );
        check(
            &report(
                "Running",
                &[("c", "Queued"), ("a", "Passed"), ("b", "Queued")],
            ),
            "a new test before the old ones",
        );
        check(
            &first.replace(r#""title":"T""#, r#""title":"Renamed""#),
            "another member changed",
        );
        check(
            &first.replace(
                r#""title":"T","#,
                r#""title":"T","startTime":"2026-01-01","#,
            ),
            "a member appeared",
        );
        check(
            r#"{"status":"Running","tests":"none"}"#,
            "not the usual shape",
        );
        check("[]", "not an object");
    }

    #[test]
    fn members_in_another_order_are_the_same_head() {
        let first = r#"{"title":"T","runId":"r","status":"Running","tests":[{"_id":"a"}]}"#;
        let second = r#"{"runId":"r","title":"T","status":"Running","tests":[{"_id":"a","status":"Passed"}]}"#;
        assert!(matches!(change(first, second), Ok(Some(_))));
    }

    #[test]
    fn tests_without_distinct_ids_ask_for_the_whole_report() {
        let twice = report("Running", &[("a", "Running"), ("a", "Queued")]);
        let later = report("Running", &[("a", "Passed"), ("a", "Queued")]);
        assert_eq!(change(&twice, &later), Err(()));
        let nameless = r#"{"status":"Running","tests":[{"status":"Passed"}]}"#;
        let first = report("Running", &[("a", "Running")]);
        assert_eq!(change(&first, nameless), Err(()));
        // Before, a test without an id the widget holds; now it is gone.
        let with_nameless = r#"{"status":"Running","tests":[{"_id":"a"},{"status":"Queued"}]}"#;
        let without = r#"{"status":"Running","tests":[{"_id":"a","status":"Passed"}]}"#;
        assert_eq!(change(with_nameless, without), Err(()));
    }
}
