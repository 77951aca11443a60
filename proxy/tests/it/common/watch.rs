//! Watching a live run the ways several suites do, over the one SSE reader
//! (`super::sse::Viewer`): a stream that starts at the whole report, and one placed by
//! `?since=` and read until it goes quiet.

use serde_json::Value;

use super::Harness;
use super::sse::{Frame, Viewer, event_soon};

/// Opens a stream for `run` with no `Last-Event-ID`, so its first event must be the whole
/// `report`; returns the viewer, still open, and that report.
pub async fn from_the_report(h: &Harness, run: &str) -> (Viewer, Value) {
    let mut viewer = Viewer::open(h, run, None).await;
    let first = event_soon(&mut viewer).await;
    assert_eq!(first.event, "report", "{first:?}");
    let report = serde_json::from_str(&first.data).unwrap();
    (viewer, report)
}

/// Opens a stream placed at the report whose `ETag` is `since` (`?since=`) and reads it
/// until it has sent `beats` heartbeats ([`until_quiet`]); returns the viewer, still
/// open, and the events it sent.
pub async fn quiet_since(
    h: &Harness,
    run: &str,
    since: &str,
    beats: usize,
) -> (Viewer, Vec<Frame>) {
    let mut viewer = Viewer::open_since(h, run, since).await;
    let said = until_quiet(&mut viewer, beats).await;
    (viewer, said)
}

/// Every event `viewer` sends until it has sent `beats` heartbeats: with the clock
/// standing still nothing new can come, so an event sent twice would be among these.
pub async fn until_quiet(viewer: &mut Viewer, beats: usize) -> Vec<Frame> {
    let mut events = Vec::new();
    let mut quiet = 0;
    while quiet < beats {
        let frame = viewer.next().await.expect("the stream ended");
        if frame.comment {
            quiet += 1;
        } else {
            events.push(frame);
        }
    }
    events
}
