//! What a follower publishes after each poll: the latest report, the recent changes,
//! final or failed, each already encoded as its event, and the `ETag` of each report
//! the kept changes start from, so a viewer is placed by the report it holds.

use std::collections::VecDeque;

use axum::{body::Bytes, http::HeaderValue};
use runboard_shared::LiveEventName;

use super::{sse, viewer::EventId};

/// How many changes a follower keeps for viewers resuming with `Last-Event-ID` or
/// `since`.
const KEPT_CHANGES: usize = 64;

/// One kept change: the `change` event that led to `seq`, and the `ETag` of the report
/// it started from (that of `seq - 1`).
#[derive(Debug, Clone)]
pub(crate) struct Kept {
    pub(crate) seq: u64,
    pub(crate) from: HeaderValue,
    pub(crate) event: Bytes,
}

/// The state of one followed run, shared by every viewer (no per-viewer copy). Events are
/// encoded here, once, as the follower publishes: a viewer sends these very bytes.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// The follower that published it.
    pub(crate) epoch: u64,
    /// Bumped with each new report; 0 before the first.
    pub(crate) seq: u64,
    /// Bumped with each poll, whatever it brought: how a viewer waiting for the
    /// follower to read once more knows it did.
    pub(crate) polls: u64,
    /// The latest report as the upstream sent it, as one event: `report`, or `final`
    /// once the run is final.
    pub(crate) report: Option<Bytes>,
    /// The latest report's `ETag`: the very one `GET /api/testRun/…` answers with for
    /// it, since the follower reads through the same shared read (`reads::test_run`).
    tag: Option<HeaderValue>,
    /// The changes that led to each of the last few `seq`s, without a gap up to `seq`
    /// (the first report has none; a report told whole clears them).
    pub(crate) changes: VecDeque<Kept>,
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
            polls: 0,
            report: None,
            tag: None,
            changes: VecDeque::new(),
            is_final: false,
            failure: None,
        }
    }

    /// Takes a new report (its bytes and `ETag`), `final` or not: `change` describes it
    /// against the previous one, `None` when it cannot (then viewers behind get the
    /// whole report).
    pub(crate) fn advance(
        &mut self,
        report: &[u8],
        tag: &HeaderValue,
        change: Option<&[u8]>,
        is_final: bool,
    ) {
        self.seq += 1;
        self.is_final = is_final;
        let id = EventId::new(self.epoch, self.seq).text();
        let name = if is_final {
            LiveEventName::Final
        } else {
            LiveEventName::Report
        };
        self.report = Some(sse::frame(name, Some(&id), report));
        let from = self.tag.replace(tag.clone());
        match (change, from) {
            (Some(change), Some(from)) => {
                if self.changes.len() == KEPT_CHANGES {
                    self.changes.pop_front();
                }
                self.changes.push_back(Kept {
                    seq: self.seq,
                    from,
                    event: sse::frame(LiveEventName::Change, Some(&id), change),
                });
            }
            _ => self.changes.clear(),
        }
    }

    /// The first poll failed with `body` (`{"error":{…}}`).
    pub(crate) fn fail(&mut self, body: &[u8]) {
        self.failure = Some(sse::frame(LiveEventName::Failure, None, body));
    }

    /// Whether `tag` is the latest report's: a poll that brought it changed nothing.
    pub(crate) fn is_at(&self, tag: &HeaderValue) -> bool {
        self.tag.as_ref() == Some(tag)
    }

    /// The `seq` of the report a viewer holds when it names it by `since` (an `ETag`
    /// as `GET /api/testRun/…` gave it, see [`names`]): the latest report's, or one the
    /// kept changes lead on from (the newest such). `None` when no report is published
    /// yet or `since` names none of them.
    pub(crate) fn seq_of(&self, since: &str) -> Option<u64> {
        if self.tag.as_ref().is_some_and(|tag| names(since, tag)) {
            return Some(self.seq);
        }
        self.changes
            .iter()
            .rev()
            .find(|kept| names(since, &kept.from))
            .map(|kept| kept.seq - 1)
    }
}

/// Whether `since` names the report whose tag (of its bytes as the upstream sent them)
/// is `tag`: that tag, weak or strong, or the tag of one of its compressed forms, which
/// `GET` answers with when the browser accepts it and which adds its coding's suffix
/// inside the quotes (`reads/encoded.rs`). The tag is a fixed-length hash, so no other
/// report's tag, with or without a suffix, begins like it.
fn names(since: &str, tag: &HeaderValue) -> bool {
    let since = since.trim();
    let since = since.strip_prefix("W/").unwrap_or(since);
    let Some(open) = tag.as_bytes().strip_suffix(b"\"") else {
        return false;
    };
    since.len() > open.len() && since.as_bytes().starts_with(open) && since.ends_with('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(n: u64) -> HeaderValue {
        HeaderValue::from_str(&format!("\"{n}\"")).unwrap()
    }

    #[test]
    fn resuming_keeps_a_bounded_history() {
        let mut snapshot = Snapshot::new(1);
        snapshot.advance(b"{}", &tag(1), None, false);
        for n in 0..KEPT_CHANGES as u64 + 5 {
            snapshot.advance(b"{}", &tag(n + 2), Some(b"{}"), false);
        }
        assert_eq!(snapshot.changes.len(), KEPT_CHANGES);
        assert_eq!(snapshot.changes.back().map(|c| c.seq), Some(snapshot.seq));
    }

    #[test]
    fn a_report_is_found_by_its_tag_while_changes_lead_on_from_it() {
        let mut snapshot = Snapshot::new(1);
        assert_eq!(snapshot.seq_of("\"1\""), None, "nothing published yet");
        snapshot.advance(b"{}", &tag(1), None, false);
        snapshot.advance(b"{}", &tag(2), Some(b"{}"), false);
        snapshot.advance(b"{}", &tag(3), Some(b"{}"), false);
        assert_eq!(snapshot.seq_of("\"3\""), Some(3), "the latest");
        assert_eq!(
            snapshot.seq_of("W/\"3\""),
            Some(3),
            "weak, as browsers may send"
        );
        assert_eq!(snapshot.seq_of("\"3-br\""), Some(3), "a compressed form's");
        assert_eq!(snapshot.seq_of("\"2\""), Some(2));
        assert_eq!(
            snapshot.seq_of("\"1\""),
            Some(1),
            "the first, before any change"
        );
        assert_eq!(snapshot.seq_of("\"9\""), None, "never published");
        assert_eq!(snapshot.seq_of("3"), None, "a tag is quoted");
        assert_eq!(snapshot.seq_of("\"3"), None, "and closed");

        // A report told whole: nothing leads on from the older ones any more.
        snapshot.advance(b"{}", &tag(4), None, false);
        assert_eq!(snapshot.seq_of("\"3\""), None);
        assert_eq!(snapshot.seq_of("\"4\""), Some(4));

        // The platform's report went back to an earlier one: the newest place wins.
        snapshot.advance(b"{}", &tag(5), Some(b"{}"), false);
        snapshot.advance(b"{}", &tag(4), Some(b"{}"), false);
        snapshot.advance(b"{}", &tag(6), Some(b"{}"), false);
        assert_eq!(snapshot.seq_of("\"4\""), Some(6));
    }
}
