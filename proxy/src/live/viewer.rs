//! One viewer's events: what to send, given the follower's latest snapshot and what this
//! viewer has already seen (its last event id, from this stream or `Last-Event-ID`).

use std::{collections::VecDeque, sync::Arc, time::Duration};

use axum::body::Bytes;
use futures_util::{Stream, stream};
use tokio::{
    sync::{Notify, watch},
    time::Instant,
};

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

/// Where a viewer says it is when it connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Start {
    /// Nowhere yet: the whole report first.
    Fresh,
    /// After the event with this id (`Last-Event-ID`, as a browser reconnects).
    After(EventId),
    /// Holding the report with this `ETag` (`?since=`, from `GET /api/testRun/…`).
    Holding(String),
}

/// How many polls a viewer holding a report the follower does not know waits for it to
/// appear before it is sent the whole report: the one its nudge asks for, and one more
/// in case a poll under way when it rang brought an older report.
const POLLS_TO_PLACE: u64 = 2;

/// A viewer holding a report (`since`) that is yet to be found among the follower's.
#[derive(Debug)]
struct Placing {
    since: String,
    /// The follower's poll count when the report was first looked for (and the follower
    /// nudged); `None` before the first report is published.
    asked_at: Option<u64>,
}

/// What one viewer has seen and what it is yet to be sent: frames the follower encoded,
/// shared with every other viewer.
#[derive(Default)]
struct Position {
    seen: Option<EventId>,
    /// The report it holds, until it is found among the follower's (or given up on).
    placing: Option<Placing>,
    /// The follower should poll now: this viewer holds a report it has not published.
    ring: bool,
    pending: VecDeque<Bytes>,
    ended: bool,
}

impl Position {
    fn new(start: Start) -> Self {
        let (seen, placing) = match start {
            Start::Fresh => (None, None),
            Start::After(id) => (Some(id), None),
            Start::Holding(since) => (
                None,
                Some(Placing {
                    since,
                    asked_at: None,
                }),
            ),
        };
        Self {
            seen,
            placing,
            ..Self::default()
        }
    }
}

/// What a viewer is given of its run's follower: the snapshots it publishes, and its
/// bell (see `Follower` in `mod.rs`).
pub(super) struct Followed {
    pub(super) updates: watch::Receiver<Arc<Snapshot>>,
    pub(super) nudge: Arc<Notify>,
}

/// A viewer: its position in its follower's updates, and when it is due a heartbeat.
struct Viewer {
    updates: watch::Receiver<Arc<Snapshot>>,
    nudge: Arc<Notify>,
    closing: watch::Receiver<bool>,
    position: Position,
    heartbeat: Duration,
    quiet_until: Instant,
    _seat: Seat,
}

/// The viewer's event stream: what it is missing of the report (the whole `report`, or
/// only the `change`s after the one it holds), then `change`s, then the end: the whole
/// `final` report, or `end` when the changes already led there. A heartbeat after each
/// `heartbeat` of silence. A failed first poll is one `failure` event with the error
/// body (not `error`, which `EventSource` uses itself).
pub(super) fn events(
    follower: Followed,
    closing: watch::Receiver<bool>,
    start: Start,
    heartbeat: Duration,
    seat: Seat,
) -> impl Stream<Item = Bytes> {
    let viewer = Viewer {
        updates: follower.updates,
        nudge: follower.nudge,
        closing,
        position: Position::new(start),
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
            viewer.position.plan(&snapshot, false);
            if std::mem::take(&mut viewer.position.ring) {
                viewer.nudge.notify_one();
            }
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
                self.position.plan(&snapshot, true);
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
    /// Queues what `snapshot` holds that this viewer has not seen. `last_word`: the
    /// follower is gone, this is all it will say.
    fn plan(&mut self, snapshot: &Snapshot, last_word: bool) {
        if let Some(failure) = &snapshot.failure {
            self.pending.push_back(failure.clone());
            self.ended = true;
            return;
        }
        let Some(report) = &snapshot.report else {
            return;
        };
        if !self.place(snapshot, last_word || snapshot.is_final) {
            return;
        }
        let now = EventId::of(snapshot);
        let up_to_date = match self.seen.and_then(|seen| missed(snapshot, seen)) {
            Some(changes) => {
                self.pending.extend(changes);
                true
            }
            // The report's event is `final` once the run is final.
            None => {
                self.pending.push_back(report.clone());
                false
            }
        };
        if snapshot.is_final {
            if up_to_date {
                self.pending.push_back(sse::end());
            }
            self.ended = true;
        }
        self.seen = Some(now);
    }
}

impl Position {
    /// Places a viewer that holds a report (`since`) once the follower has published one:
    /// where the follower's reports and kept changes name it. A report the follower does
    /// not know may be newer than its last poll (read by a `GET` since): the viewer rings
    /// for a poll now, and waits [`POLLS_TO_PLACE`] polls for it before it is placed
    /// nowhere (it gets the whole report); not when no poll is to come (`no_more`).
    /// Returns `false` while it waits.
    fn place(&mut self, snapshot: &Snapshot, no_more: bool) -> bool {
        let Some(placing) = &mut self.placing else {
            return true;
        };
        if let Some(seq) = snapshot.seq_of(&placing.since) {
            self.seen = Some(EventId::new(snapshot.epoch, seq));
            self.placing = None;
            return true;
        }
        let asked_at = *placing.asked_at.get_or_insert_with(|| {
            self.ring = true;
            snapshot.polls
        });
        if no_more || snapshot.polls >= asked_at + POLLS_TO_PLACE {
            self.placing = None;
            return true;
        }
        false
    }
}

/// The `change` events that lead from the report of `seen` to `snapshot`'s (none when
/// it is that report); `None` when the kept changes do not lead there (another
/// follower's id, or a gap).
fn missed(snapshot: &Snapshot, seen: EventId) -> Option<impl Iterator<Item = Bytes> + '_> {
    let leads =
        seen.epoch == snapshot.epoch && (seen.seq == snapshot.seq || covered(snapshot, seen.seq));
    leads.then(|| {
        snapshot
            .changes
            .iter()
            .filter(move |kept| kept.seq > seen.seq)
            .map(|kept| kept.event.clone())
    })
}

/// Whether the kept changes lead from `seen` to the snapshot without a gap.
fn covered(snapshot: &Snapshot, seen: u64) -> bool {
    seen >= 1
        && seen < snapshot.seq
        && snapshot
            .changes
            .front()
            .is_some_and(|kept| kept.seq <= seen + 1)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    /// Where the frame's bytes live.
    fn at(frame: &Bytes) -> *const u8 {
        frame.as_ptr()
    }

    fn tag(n: u64) -> HeaderValue {
        HeaderValue::from_str(&format!("\"{n}\"")).unwrap()
    }

    /// The event names of what `position` is yet to send.
    fn names(position: &Position) -> Vec<&str> {
        position
            .pending
            .iter()
            .map(|frame| {
                let text = std::str::from_utf8(frame).unwrap();
                let line = text.lines().next().unwrap();
                line.strip_prefix("event: ").unwrap()
            })
            .collect()
    }

    /// A run at `seq` 3 of epoch 7: the first report, then two changes.
    fn three_reports() -> Snapshot {
        let mut snapshot = Snapshot::new(7);
        snapshot.advance(b"{}", &tag(1), None, false);
        snapshot.advance(b"{}", &tag(2), Some(b"{}"), false);
        snapshot.advance(b"{}", &tag(3), Some(b"{}"), false);
        snapshot
    }

    #[test]
    fn viewers_send_the_one_encoded_copy_of_each_event() {
        let mut snapshot = Snapshot::new(7);
        snapshot.advance(br#"{"status":"Running","tests":[]}"#, &tag(1), None, false);
        let (mut first, mut second) = (Position::default(), Position::default());
        first.plan(&snapshot, false);
        second.plan(&snapshot, false);
        let encoded = snapshot.report.clone().unwrap();
        assert!(encoded.starts_with(b"event: report\nid: 7.1\ndata: {"));
        assert_eq!(first.pending.len(), 1);
        assert_eq!(at(&first.pending[0]), at(&encoded), "no copy for the first");
        assert_eq!(at(&second.pending[0]), at(&encoded), "nor for the second");

        // A change, to a viewer that saw the report and to one resuming at it.
        let (report, change) = (br#"{"status":"Running","tests":[1]}"#, b"{}");
        snapshot.advance(report, &tag(2), Some(change), false);
        first.plan(&snapshot, false);
        let mut resumed = Position::new(Start::After(EventId::new(7, 1)));
        resumed.plan(&snapshot, false);
        let change = &snapshot.changes.back().unwrap().event;
        assert!(change.starts_with(b"event: change\nid: 7.2\n"));
        assert_eq!(at(&first.pending[1]), at(change));
        assert_eq!(at(&resumed.pending[0]), at(change));

        // The final report, told whole, to both.
        let report = br#"{"status":"Completed","tests":[1]}"#;
        snapshot.advance(report, &tag(3), None, true);
        first.plan(&snapshot, false);
        second.plan(&snapshot, false);
        let last = snapshot.report.clone().unwrap();
        assert!(last.starts_with(b"event: final\nid: 7.3\n"));
        assert_eq!(at(first.pending.back().unwrap()), at(&last));
        assert_eq!(at(second.pending.back().unwrap()), at(&last));
        assert!(first.ended && second.ended);
    }

    #[test]
    fn a_viewer_holding_a_report_gets_only_what_came_after_it() {
        let snapshot = three_reports();
        let check = |since: &str, expected: &[&str]| {
            let mut viewer = Position::new(Start::Holding(since.to_owned()));
            viewer.plan(&snapshot, false);
            assert_eq!(names(&viewer), expected, "since {since}");
            assert_eq!(viewer.seen, Some(EventId::new(7, 3)), "since {since}");
            assert!(!viewer.ended);
        };
        check("\"3\"", &[]);
        check("\"2\"", &["change"]);
        check("\"1\"", &["change", "change"]);

        // Before the first report, nothing; the tag is read when it comes.
        let mut early = Position::new(Start::Holding("\"1\"".to_owned()));
        let mut waiting = Snapshot::new(8);
        early.plan(&waiting, false);
        assert!(early.pending.is_empty() && early.placing.is_some() && !early.ring);
        waiting.advance(b"{}", &tag(1), None, false);
        early.plan(&waiting, false);
        assert!(early.pending.is_empty(), "it holds the first report");
        waiting.advance(b"{}", &tag(2), Some(b"{}"), false);
        early.plan(&waiting, false);
        assert_eq!(names(&early), ["change"]);
    }

    /// One more poll of the follower, which brought `tag` (a new report when it is
    /// new), published.
    fn poll(snapshot: &mut Snapshot, tag_now: u64) {
        if !snapshot.is_at(&tag(tag_now)) {
            snapshot.advance(b"{}", &tag(tag_now), Some(b"{}"), false);
        }
        snapshot.polls += 1;
    }

    #[test]
    fn a_report_newer_than_the_followers_rings_for_a_poll_and_is_found_by_it() {
        let mut snapshot = three_reports();
        let mut viewer = Position::new(Start::Holding("\"4\"".to_owned()));
        viewer.plan(&snapshot, false);
        assert!(viewer.pending.is_empty(), "it waits");
        assert!(viewer.ring, "and asks the follower to poll now");
        viewer.ring = false;
        poll(&mut snapshot, 4);
        viewer.plan(&snapshot, false);
        assert!(viewer.pending.is_empty(), "the poll brought its report");
        assert!(!viewer.ring, "rung once");
        assert_eq!(viewer.seen, Some(EventId::new(7, 4)));
        poll(&mut snapshot, 5);
        viewer.plan(&snapshot, false);
        assert_eq!(names(&viewer), ["change"]);
    }

    #[test]
    fn a_report_the_follower_never_has_gets_the_whole_report_after_two_polls() {
        let mut snapshot = three_reports();
        let mut viewer = Position::new(Start::Holding("\"9\"".to_owned()));
        viewer.plan(&snapshot, false);
        assert!(viewer.pending.is_empty() && viewer.ring);
        for tag_now in [3, 4] {
            poll(&mut snapshot, tag_now);
            viewer.plan(&snapshot, false);
        }
        assert_eq!(names(&viewer), ["report"], "after {POLLS_TO_PLACE} polls");
        assert_eq!(viewer.seen, Some(EventId::new(7, 4)));

        // No poll is to come: at once.
        let check = |snapshot: &Snapshot, last_word: bool, expected: &str| {
            let mut viewer = Position::new(Start::Holding("\"9\"".to_owned()));
            viewer.plan(snapshot, last_word);
            assert_eq!(names(&viewer), [expected]);
        };
        check(&snapshot, true, "report");
        snapshot.advance(b"{}", &tag(5), Some(b"{}"), true);
        check(&snapshot, false, "final");
    }

    #[test]
    fn an_up_to_date_viewer_ends_with_the_changes_not_the_whole_final_report() {
        let mut snapshot = three_reports();
        let mut following = Position::default();
        following.plan(&snapshot, false);
        let mut holding = Position::new(Start::Holding("\"2\"".to_owned()));
        let mut behind = Position::new(Start::After(EventId::new(6, 3)));
        snapshot.advance(b"{}", &tag(4), Some(b"{}"), true);
        following.plan(&snapshot, false);
        holding.plan(&snapshot, false);
        behind.plan(&snapshot, false);
        assert_eq!(names(&following), ["report", "change", "end"]);
        assert_eq!(names(&holding), ["change", "change", "end"]);
        assert_eq!(names(&behind), ["final"], "another follower's id");
        assert!(following.ended && holding.ended && behind.ended);

        // One that already holds the final report is only told it is final.
        let mut done = Position::new(Start::Holding("\"4\"".to_owned()));
        done.plan(&snapshot, false);
        assert_eq!(names(&done), ["end"]);
    }
}
