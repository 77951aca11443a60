//! One viewer's events: what to send, given the follower's latest snapshot and what this
//! viewer has already seen (its last event id, from this stream or `Last-Event-ID`).

use std::{collections::VecDeque, sync::Arc, time::Duration};

use axum::body::Bytes;
use futures_util::{Stream, stream};
use tokio::{sync::watch, time::Instant};

use super::{Seat, snapshot::Snapshot, sse};

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

    pub(crate) fn new(epoch: u64, seq: u64) -> Self {
        Self { epoch, seq }
    }

    fn of(snapshot: &Snapshot) -> Self {
        Self::new(snapshot.epoch, snapshot.seq)
    }

    /// As sent in an event's `id:` field.
    pub(crate) fn text(self) -> String {
        format!("{}.{}", self.epoch, self.seq)
    }
}

/// What one viewer has seen and what it is yet to be sent: frames the follower encoded,
/// shared with every other viewer.
#[derive(Default)]
struct Position {
    seen: Option<EventId>,
    pending: VecDeque<Bytes>,
    ended: bool,
}

/// A viewer: its position in its follower's updates, and when it is due a heartbeat.
struct Viewer {
    updates: watch::Receiver<Arc<Snapshot>>,
    closing: watch::Receiver<bool>,
    position: Position,
    heartbeat: Duration,
    quiet_until: Instant,
    _seat: Seat,
}

/// The viewer's event stream: a `report` (or, for a run already final, only `final`),
/// then `change`s, then `final`, after which it ends; a heartbeat after each `heartbeat`
/// of silence. A failed first poll is one `failure` event with the error body (not
/// `error`, which `EventSource` uses itself).
pub(super) fn events(
    updates: watch::Receiver<Arc<Snapshot>>,
    closing: watch::Receiver<bool>,
    resume: Option<EventId>,
    heartbeat: Duration,
    seat: Seat,
) -> impl Stream<Item = Bytes> {
    let viewer = Viewer {
        updates,
        closing,
        position: Position {
            seen: resume,
            ..Position::default()
        },
        heartbeat,
        quiet_until: Instant::now() + heartbeat,
        _seat: seat,
    };
    stream::unfold(viewer, |mut viewer| async move {
        loop {
            if let Some(frame) = viewer.position.pending.pop_front() {
                viewer.quiet_until = Instant::now() + viewer.heartbeat;
                return Some((frame, viewer));
            }
            if viewer.position.ended || *viewer.closing.borrow() {
                return None;
            }
            let snapshot = Arc::clone(&viewer.updates.borrow_and_update());
            viewer.position.plan(&snapshot);
            if viewer.position.pending.is_empty() && !viewer.position.ended {
                viewer.wait().await;
            }
        }
    })
}

impl Viewer {
    /// Waits for the follower's next snapshot, the server's stop, or the heartbeat.
    async fn wait(&mut self) {
        tokio::select! {
            changed = self.updates.changed() => if changed.is_err() {
                // The follower is gone without a final report: its last word.
                let snapshot = Arc::clone(&self.updates.borrow());
                self.position.plan(&snapshot);
                self.position.ended = true;
            },
            _ = self.closing.changed() => {}
            () = tokio::time::sleep_until(self.quiet_until) => {
                self.position.pending.push_back(sse::heartbeat());
            }
        }
    }
}

impl Position {
    /// Queues what `snapshot` holds that this viewer has not seen.
    fn plan(&mut self, snapshot: &Snapshot) {
        if let Some(failure) = &snapshot.failure {
            self.pending.push_back(failure.clone());
            self.ended = true;
            return;
        }
        let Some(report) = &snapshot.report else {
            return;
        };
        let now = EventId::of(snapshot);
        if snapshot.is_final {
            // The report's event is `final` by now.
            self.pending.push_back(report.clone());
            self.ended = true;
            return;
        }
        match self.seen {
            Some(seen) if seen == now => {}
            Some(seen) if seen.epoch == now.epoch && covered(snapshot, seen.seq) => {
                let missed = snapshot.changes.iter().filter(|(seq, _)| *seq > seen.seq);
                self.pending
                    .extend(missed.map(|(_, change)| change.clone()));
            }
            _ => self.pending.push_back(report.clone()),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the frame's bytes live.
    fn at(frame: &Bytes) -> *const u8 {
        frame.as_ptr()
    }

    #[test]
    fn viewers_send_the_one_encoded_copy_of_each_event() {
        let mut snapshot = Snapshot::new(7);
        snapshot.advance(br#"{"status":"Running","tests":[]}"#, None, false);
        let (mut first, mut second) = (Position::default(), Position::default());
        first.plan(&snapshot);
        second.plan(&snapshot);
        let encoded = snapshot.report.clone().unwrap();
        assert!(encoded.starts_with(b"event: report\nid: 7.1\ndata: {"));
        assert_eq!(first.pending.len(), 1);
        assert_eq!(at(&first.pending[0]), at(&encoded), "no copy for the first");
        assert_eq!(at(&second.pending[0]), at(&encoded), "nor for the second");

        // A change, to a viewer that saw the report and to one resuming at it.
        snapshot.advance(br#"{"status":"Running","tests":[1]}"#, Some(b"{}"), false);
        first.plan(&snapshot);
        let mut resumed = Position {
            seen: Some(EventId::new(7, 1)),
            ..Position::default()
        };
        resumed.plan(&snapshot);
        let change = &snapshot.changes.back().unwrap().1;
        assert!(change.starts_with(b"event: change\nid: 7.2\n"));
        assert_eq!(at(&first.pending[1]), at(change));
        assert_eq!(at(&resumed.pending[0]), at(change));

        // The final report, to both.
        snapshot.advance(br#"{"status":"Completed","tests":[1]}"#, None, true);
        first.plan(&snapshot);
        second.plan(&snapshot);
        let last = snapshot.report.clone().unwrap();
        assert!(last.starts_with(b"event: final\nid: 7.3\n"));
        assert_eq!(at(first.pending.back().unwrap()), at(&last));
        assert_eq!(at(second.pending.back().unwrap()), at(&last));
        assert!(first.ended && second.ended);
    }
}
