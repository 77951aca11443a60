//! One viewer's events: what to send, given the follower's latest snapshot and what this
//! viewer has already seen (its last event id, from this stream or `Last-Event-ID`).

use std::{collections::VecDeque, convert::Infallible, sync::Arc};

use axum::response::sse::Event;
use futures_util::{Stream, stream};
use tokio::sync::watch;

use super::{Seat, snapshot::Snapshot};

/// An event id: the follower's epoch and the snapshot's sequence number, `"E.N"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventId {
    epoch: u64,
    seq: u64,
}

impl EventId {
    /// Reads a `Last-Event-ID`; anything else is `None` (the viewer gets a whole report).
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let (epoch, seq) = text.trim().split_once('.')?;
        Some(Self {
            epoch: epoch.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }

    fn of(snapshot: &Snapshot) -> Self {
        Self {
            epoch: snapshot.epoch,
            seq: snapshot.seq,
        }
    }

    fn text(self) -> String {
        format!("{}.{}", self.epoch, self.seq)
    }
}

/// A viewer's position in its follower's updates.
struct Viewer {
    updates: watch::Receiver<Arc<Snapshot>>,
    closing: watch::Receiver<bool>,
    seen: Option<EventId>,
    pending: VecDeque<Event>,
    ended: bool,
    _seat: Seat,
}

/// The viewer's event stream: a `report` (or, for a run already final, only `final`),
/// then `change`s, then `final`, after which it ends. A failed first poll is one
/// `failure` event with the error body (not `error`, which `EventSource` uses itself).
pub(super) fn events(
    updates: watch::Receiver<Arc<Snapshot>>,
    closing: watch::Receiver<bool>,
    resume: Option<EventId>,
    seat: Seat,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let viewer = Viewer {
        updates,
        closing,
        seen: resume,
        pending: VecDeque::new(),
        ended: false,
        _seat: seat,
    };
    stream::unfold(viewer, |mut viewer| async move {
        loop {
            if let Some(event) = viewer.pending.pop_front() {
                return Some((Ok(event), viewer));
            }
            if viewer.ended {
                return None;
            }
            if *viewer.closing.borrow() {
                return None;
            }
            let snapshot = Arc::clone(&viewer.updates.borrow_and_update());
            viewer.plan(&snapshot);
            if viewer.pending.is_empty() && !viewer.ended {
                tokio::select! {
                    changed = viewer.updates.changed() => if changed.is_err() {
                        // The follower is gone without a final report: its last word.
                        let snapshot = Arc::clone(&viewer.updates.borrow());
                        viewer.plan(&snapshot);
                        viewer.ended = true;
                    },
                    _ = viewer.closing.changed() => {}
                }
            }
        }
    })
}

impl Viewer {
    /// Queues what `snapshot` holds that this viewer has not seen.
    fn plan(&mut self, snapshot: &Snapshot) {
        if let Some(failure) = &snapshot.failure {
            self.pending
                .push_back(Event::default().event("failure").data(text(failure)));
            self.ended = true;
            return;
        }
        let Some(report) = &snapshot.report else {
            return;
        };
        let now = EventId::of(snapshot);
        if snapshot.is_final {
            self.pending.push_back(
                Event::default()
                    .event("final")
                    .id(now.text())
                    .data(text(report)),
            );
            self.ended = true;
            return;
        }
        match self.seen {
            Some(seen) if seen == now => {}
            Some(seen) if seen.epoch == now.epoch && covered(snapshot, seen.seq) => {
                for (seq, change) in snapshot.changes.iter().filter(|(seq, _)| *seq > seen.seq) {
                    let id = EventId { seq: *seq, ..now };
                    self.pending.push_back(
                        Event::default()
                            .event("change")
                            .id(id.text())
                            .data(text(change)),
                    );
                }
            }
            _ => self.pending.push_back(
                Event::default()
                    .event("report")
                    .id(now.text())
                    .data(text(report)),
            ),
        }
        self.seen = Some(now);
    }
}

/// Whether the kept changes lead from `seen` to the snapshot without a gap.
fn covered(snapshot: &Snapshot, seen: u64) -> bool {
    seen >= 1
        && seen < snapshot.seq
        && snapshot
            .changes
            .front()
            .is_some_and(|(first, _)| *first <= seen + 1)
}

/// The JSON text of a checked answer (checked answers are UTF-8).
fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or("null")
}
