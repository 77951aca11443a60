//! A small least-recently-used map, bounded by its number of entries and by the bytes
//! they say they hold: the shared reads keep finished reports' bytes in it (`reads`), and
//! triage their parsed forms and their failures' headlines, so the same report is neither
//! read from the platform nor parsed again for each viewer, verdict or history page.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

/// Values by key; putting one past either bound evicts the least recently used first.
/// A value larger than the whole byte bound is not kept.
pub(crate) struct Kept<K, V> {
    max_entries: usize,
    max_bytes: usize,
    entries: HashMap<K, Entry<V>>,
    /// Each entry's key by its last use, oldest first.
    by_use: BTreeMap<u64, K>,
    tick: u64,
    bytes: usize,
}

struct Entry<V> {
    value: V,
    used: u64,
    bytes: usize,
}

impl<K: Clone + Eq + Hash, V> Kept<K, V> {
    /// Holds at most `max_entries` values, together at most `max_bytes`.
    pub(crate) fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            max_entries,
            max_bytes,
            entries: HashMap::new(),
            by_use: BTreeMap::new(),
            tick: 0,
            bytes: 0,
        }
    }

    /// The value for `key`, now the most recently used.
    pub(crate) fn get(&mut self, key: &K) -> Option<&V> {
        self.tick += 1;
        let entry = self.entries.get_mut(key)?;
        if let Some(key) = self.by_use.remove(&entry.used) {
            self.by_use.insert(self.tick, key);
        }
        entry.used = self.tick;
        Some(&entry.value)
    }

    /// The value for `key`, its place in the order left as it was: for readers of many
    /// values at once, who would otherwise push out the ones used more often.
    pub(crate) fn peek(&self, key: &K) -> Option<&V> {
        self.entries.get(key).map(|e| &e.value)
    }

    /// Keeps `value` (said to hold `bytes`) for `key`, in place of any value kept for it,
    /// then evicts the least recently used until both bounds hold again.
    pub(crate) fn put(&mut self, key: K, value: V, bytes: usize) {
        self.remove(&key);
        if bytes > self.max_bytes || self.max_entries == 0 {
            return;
        }
        self.tick += 1;
        self.bytes += bytes;
        self.by_use.insert(self.tick, key.clone());
        let used = self.tick;
        self.entries
            .insert(key.clone(), Entry { value, used, bytes });
        self.fit(&key);
    }

    /// Counts `key`'s value at `bytes` from now on (it grew or shrank where it is, e.g. a
    /// compressed form was added), its place in the order left as it was; then evicts the
    /// least recently used others until both bounds hold. A value now larger than the
    /// whole byte bound goes itself, and nothing else does.
    pub(crate) fn resize(&mut self, key: &K, bytes: usize) {
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        self.bytes = self.bytes - entry.bytes + bytes;
        entry.bytes = bytes;
        if bytes > self.max_bytes {
            self.remove(key);
            return;
        }
        self.fit(key);
    }

    /// The bytes the kept values say they hold, together.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Evicts the least recently used entries other than `keep` until both bounds hold
    /// (`keep` alone always fits: callers check it first).
    fn fit(&mut self, keep: &K) {
        while self.entries.len() > self.max_entries || self.bytes > self.max_bytes {
            let Some(oldest) = self.by_use.values().find(|k| *k != keep).cloned() else {
                break;
            };
            self.remove(&oldest);
        }
    }

    fn remove(&mut self, key: &K) {
        if let Some(entry) = self.entries.remove(key) {
            self.by_use.remove(&entry.used);
            self.bytes -= entry.bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(kept: &Kept<u32, &str>) -> Vec<u32> {
        let mut keys: Vec<u32> = kept.entries.keys().copied().collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn the_least_recently_used_goes_past_the_entry_bound() {
        let mut kept = Kept::new(2, 1_000);
        kept.put(1, "one", 1);
        kept.put(2, "two", 1);
        assert_eq!(kept.get(&1), Some(&"one"));
        kept.put(3, "three", 1);
        assert_eq!(keys(&kept), [1, 3]);
        // A peek does not save an entry from eviction.
        assert_eq!(kept.peek(&1), Some(&"one"));
        kept.put(4, "four", 1);
        assert_eq!(keys(&kept), [3, 4]);
    }

    #[test]
    fn the_least_recently_used_go_past_the_byte_bound() {
        let mut kept = Kept::new(10, 100);
        kept.put(1, "one", 40);
        kept.put(2, "two", 40);
        kept.put(3, "three", 40);
        assert_eq!((keys(&kept), kept.bytes), (vec![2, 3], 80));
        // One value can push out several.
        kept.put(4, "four", 90);
        assert_eq!((keys(&kept), kept.bytes), (vec![4], 90));
        // Larger than the whole bound: not kept, and what it replaced is gone.
        kept.put(4, "huge", 101);
        assert_eq!((keys(&kept), kept.bytes), (vec![], 0));
    }

    #[test]
    fn a_resized_value_keeps_its_place_and_pushes_out_others() {
        let mut kept = Kept::new(10, 100);
        kept.put(1, "one", 30);
        kept.put(2, "two", 30);
        kept.put(3, "three", 30);
        // 1 grows: the least recently used other than it go, oldest first.
        kept.resize(&1, 60);
        assert_eq!((keys(&kept), kept.bytes()), (vec![1, 3], 90));
        kept.put(4, "four", 10);
        assert_eq!(keys(&kept), [1, 3, 4]);
        // Still the oldest: the next to go when room is needed.
        kept.put(5, "five", 30);
        assert_eq!((keys(&kept), kept.bytes()), (vec![3, 4, 5], 70));
        // Grown past the whole bound: it goes, and only it.
        kept.resize(&4, 101);
        assert_eq!((keys(&kept), kept.bytes()), (vec![3, 5], 60));
        // An unknown key changes nothing.
        kept.resize(&9, 1);
        assert_eq!(kept.bytes(), 60);
    }

    #[test]
    fn putting_a_key_again_replaces_its_value_and_size() {
        let mut kept = Kept::new(10, 100);
        kept.put(1, "old", 60);
        kept.put(1, "new", 30);
        kept.put(2, "two", 70);
        assert_eq!((kept.peek(&1), kept.bytes), (Some(&"new"), 100));
        assert_eq!(kept.by_use.len(), 2);
    }
}
