//! Finished run reports (they never change), least recently used first out, bounded by
//! the total bytes they hold.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use runboard_shared::{ProjectId, RunId};

use super::Answer;

type Key = (ProjectId, RunId);

/// The cache: each report with the tick of its last use, and the keys by tick.
pub(super) struct Finished {
    entries: HashMap<Key, (Arc<Answer>, u64)>,
    by_use: BTreeMap<u64, Key>,
    tick: u64,
    bytes: u64,
    max_bytes: u64,
}

impl Finished {
    pub(super) fn new(max_bytes: u64) -> Self {
        Self {
            entries: HashMap::new(),
            by_use: BTreeMap::new(),
            tick: 0,
            bytes: 0,
            max_bytes,
        }
    }

    /// The report for `key`, now the most recently used.
    pub(super) fn get(&mut self, key: &Key) -> Option<Arc<Answer>> {
        self.tick += 1;
        let (answer, used) = self.entries.get_mut(key)?;
        let key = self.by_use.remove(used)?;
        *used = self.tick;
        let answer = answer.clone();
        self.by_use.insert(self.tick, key);
        Some(answer)
    }

    /// Keeps `answer` for `key`, evicting the least recently used reports until the total
    /// fits. A report larger than the whole bound is not kept.
    pub(super) fn put(&mut self, key: Key, answer: Arc<Answer>) {
        let size = answer.bytes().len() as u64;
        if size > self.max_bytes {
            return;
        }
        self.remove(&key);
        while self.bytes + size > self.max_bytes {
            let Some((_, oldest)) = self.by_use.pop_first() else {
                break;
            };
            if let Some((evicted, _)) = self.entries.remove(&oldest) {
                self.bytes -= evicted.bytes().len() as u64;
            }
        }
        self.tick += 1;
        self.bytes += size;
        self.by_use.insert(self.tick, key.clone());
        self.entries.insert(key, (answer, self.tick));
    }

    fn remove(&mut self, key: &Key) {
        if let Some((answer, used)) = self.entries.remove(key) {
            self.by_use.remove(&used);
            self.bytes -= answer.bytes().len() as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Bytes;

    use super::*;

    fn key(run: &str) -> Key {
        (ProjectId::parse("p1").unwrap(), RunId::parse(run).unwrap())
    }

    fn answer(len: usize) -> Arc<Answer> {
        Arc::new(Answer::new(Bytes::from(vec![b' '; len]), true))
    }

    #[test]
    fn least_recently_used_goes_first_and_the_bound_holds() {
        let mut cache = Finished::new(30);
        cache.put(key("a"), answer(10));
        cache.put(key("b"), answer(10));
        cache.put(key("c"), answer(10));
        assert!(cache.get(&key("a")).is_some(), "a is used again");
        cache.put(key("d"), answer(10));
        assert!(
            cache.get(&key("b")).is_none(),
            "b was the least recently used"
        );
        for kept in ["a", "c", "d"] {
            assert!(cache.get(&key(kept)).is_some(), "{kept}");
        }
        assert_eq!(cache.bytes, 30);
        cache.put(key("huge"), answer(31));
        assert!(cache.get(&key("huge")).is_none(), "larger than the bound");
        cache.put(key("a"), answer(20));
        assert!(cache.bytes <= 30, "{}", cache.bytes);
    }
}
