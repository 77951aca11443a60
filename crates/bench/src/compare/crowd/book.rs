//! The crowd's one copy of what the stream said: every viewer of a run receives the same
//! events, so each event's data is kept and parsed once (by the first viewer to see it)
//! and the viewers keep only `(when, which event)`. Afterwards the book tells how many
//! tests had finished at each event: a `report` or `final` says it whole, a `change`
//! adds to the event just before it (`seq` − 1 of the same follower).

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use runboard_shared::LiveEventName;

use crate::compare::viewers::parse_tests;

/// An entry of the book: one event id (`EPOCH.SEQ`).
pub(crate) type Entry = u32;

/// What the book holds of one kind of event at one id.
#[derive(Debug, Default)]
enum Slot {
    /// Nobody has seen it yet.
    #[default]
    Unseen,
    /// A viewer is reading its data.
    Claimed,
    /// Each test it names, and whether it ran to its end; `None` if unreadable.
    Read(Option<Vec<(String, bool)>>),
}

#[derive(Debug)]
struct Page {
    epoch: u64,
    seq: u64,
    /// The whole report (`report` or `final`).
    whole: Slot,
    /// The `change` that led here.
    change: Slot,
}

impl Page {
    fn slot(&mut self, name: LiveEventName) -> &mut Slot {
        if name == LiveEventName::Change {
            &mut self.change
        } else {
            &mut self.whole
        }
    }
}

#[derive(Debug, Default)]
struct Pages {
    by_id: HashMap<Box<str>, Entry>,
    pages: Vec<Page>,
}

/// Shared by every viewer of one run.
#[derive(Debug, Default)]
pub(crate) struct EventBook(Mutex<Pages>);

impl EventBook {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pages> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The entry of `id` (`EPOCH.SEQ`; `None` for another shape), and whether this viewer
    /// is the first to see its `name` event and so must hand its data to [`Self::read`].
    pub(crate) fn claim(&self, name: LiveEventName, id: &str) -> Option<(Entry, bool)> {
        let (epoch, seq) = id.split_once('.')?;
        let (epoch, seq) = (epoch.parse().ok()?, seq.parse().ok()?);
        let mut book = self.lock();
        let entry = match book.by_id.get(id) {
            Some(&entry) => entry,
            None => {
                let entry = Entry::try_from(book.pages.len()).ok()?;
                book.by_id.insert(id.into(), entry);
                book.pages.push(Page {
                    epoch,
                    seq,
                    whole: Slot::Unseen,
                    change: Slot::Unseen,
                });
                entry
            }
        };
        let slot = book.pages[entry as usize].slot(name);
        let first = matches!(slot, Slot::Unseen);
        if first {
            *slot = Slot::Claimed;
        }
        Some((entry, first))
    }

    /// The data of `entry`'s `name` event, from the viewer that claimed it.
    pub(crate) fn read(&self, entry: Entry, name: LiveEventName, data: &[u8]) {
        let tests = parse_tests(data).ok().map(|tests| {
            tests
                .into_iter()
                .map(|t| {
                    let ran = t.ran();
                    (t.id, ran)
                })
                .collect()
        });
        if let Some(page) = self.lock().pages.get_mut(entry as usize) {
            *page.slot(name) = Slot::Read(tests);
        }
    }

    /// How many tests had run to their end at each entry (`None` where the book cannot
    /// tell: an unreadable event, or a change after one).
    pub(crate) fn finished(&self) -> Vec<Option<usize>> {
        let book = self.lock();
        let mut order: Vec<usize> = (0..book.pages.len()).collect();
        order.sort_by_key(|&i| (book.pages[i].epoch, book.pages[i].seq));
        let mut out = vec![None; book.pages.len()];
        let mut state: Option<(u64, u64, HashMap<&str, bool>)> = None;
        for i in order {
            let page = &book.pages[i];
            state = match (&page.whole, &page.change, state) {
                (Slot::Read(Some(tests)), _, _) => Some((
                    page.epoch,
                    page.seq,
                    tests.iter().map(|(id, ran)| (id.as_str(), *ran)).collect(),
                )),
                (_, Slot::Read(Some(changed)), Some((epoch, seq, mut tests)))
                    if epoch == page.epoch && seq + 1 == page.seq =>
                {
                    tests.extend(changed.iter().map(|(id, ran)| (id.as_str(), *ran)));
                    Some((epoch, page.seq, tests))
                }
                _ => None,
            };
            out[i] = state
                .as_ref()
                .map(|(_, _, tests)| tests.values().filter(|ran| **ran).count());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &[u8] = br#"{"tests":[{"_id":"a","status":"Passed"},{"_id":"b","status":"Running"},{"_id":"c","status":"Running"}]}"#;

    #[test]
    fn each_event_is_read_once_and_changes_build_on_the_event_before() {
        let book = EventBook::default();
        let (report, first) = book.claim(LiveEventName::Report, "9.1").expect("an id");
        assert!(first);
        assert_eq!(
            book.claim(LiveEventName::Report, "9.1"),
            Some((report, false)),
            "the second viewer only notes it"
        );
        book.read(report, LiveEventName::Report, REPORT);
        let (change, first) = book.claim(LiveEventName::Change, "9.2").expect("an id");
        assert!(first);
        book.read(
            change,
            LiveEventName::Change,
            br#"{"tests":[{"_id":"b","status":"Failed"}]}"#,
        );
        // A late viewer gets the whole report at 9.2: the same page.
        assert_eq!(
            book.claim(LiveEventName::Report, "9.2"),
            Some((change, true))
        );
        // A change whose predecessor the book never read cannot be told.
        let (gap, _) = book.claim(LiveEventName::Change, "9.4").expect("an id");
        book.read(gap, LiveEventName::Change, br#"{"tests":[]}"#);
        let (last, _) = book.claim(LiveEventName::Final, "9.5").expect("an id");
        book.read(
            last,
            LiveEventName::Final,
            br#"{"tests":[{"_id":"a","status":"Passed"}]}"#,
        );
        assert_eq!(book.claim(LiveEventName::Report, "not-an-id"), None);

        let finished = book.finished();
        assert_eq!(finished[report as usize], Some(1));
        assert_eq!(finished[change as usize], Some(2));
        assert_eq!(finished[gap as usize], None);
        assert_eq!(finished[last as usize], Some(1));
    }
}
