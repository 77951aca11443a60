//! A live stream opened after a plain `GET` of the report, as the widget opens it: placed
//! by the report's `ETag` (`?since=`), it sends only what came after that report (nothing
//! while the report is current, the later changes when it is an older one the follower
//! kept, or one read after the follower's last poll, which the follower is asked to poll
//! for) and the whole report only for a tag it does not know; the report built from the
//! `GET` and the changes is the platform's final one, ended by `end`, not a whole `final`.

use std::time::Duration;

use serde_json::Value;

use crate::{
    common::{
        self, Harness,
        sse::{Frame, Viewer, event_soon},
        watch::{from_the_report, quiet_since, until_quiet},
    },
    live::{self, direct, live_run, move_on, take},
};

/// `GET /api/testRun/…` through Runboard: the report and its `ETag`.
async fn read_report(h: &Harness, run: &str) -> (Value, String) {
    let response = h
        .client
        .get(h.url(&common::run_path(run)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let tag = response.headers()["etag"].to_str().unwrap().to_owned();
    (response.json().await.unwrap(), tag)
}

/// The `ETag` `GET /api/testRun/…` gives a browser that accepts `coding`: that of the
/// compressed form it is sent.
async fn tag_in(h: &Harness, run: &str, coding: &str) -> String {
    let response = h
        .client
        .get(h.url(&common::run_path(run)))
        .header("accept-encoding", coding)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.headers()["etag"].to_str().unwrap().to_owned()
}

/// Reads `viewer`'s events into `held` until the report is `target`; each must be a
/// `change`. Returns them.
async fn changes_to(viewer: &mut Viewer, held: &mut Value, target: &Value) -> Vec<Frame> {
    let mut events = Vec::new();
    while held != target {
        let event = event_soon(viewer).await;
        assert_eq!(event.event, "change", "only changes: {event:?}");
        take(held, &event);
        events.push(event);
    }
    events
}

/// A follower polling every `run_ms`, quick heartbeats, and every read its own upstream
/// call (so the platform's report is the follower's as soon as it polls).
async fn quick(run_ms: u64) -> (Harness, std::sync::Arc<runboard_sim::ManualClock>) {
    live::start(run_ms, |c| {
        c.live.heartbeat = Duration::from_millis(50);
        c.cache.live_reuse = Duration::ZERO;
    })
    .await
}

#[tokio::test]
async fn a_stream_at_the_current_report_sends_only_changes_up_to_the_platforms_final_report() {
    let (h, clock) = quick(20).await;
    let run = live_run(&h, &clock).await;
    let (mut held, tag) = read_report(&h, &run).await;
    let (mut viewer, said) = quiet_since(&h, &run, &tag, 3).await;
    assert!(said.is_empty(), "nothing new, nothing sent: {said:?}");
    for _ in 0..2 {
        let target = move_on(&h, &clock, &run, &held).await;
        changes_to(&mut viewer, &mut held, &target).await;
    }
    // The run ends: the last changes, then `end`, never the whole report.
    clock.advance(Duration::from_secs(3600));
    loop {
        let event = event_soon(&mut viewer).await;
        assert!(
            matches!(event.event.as_str(), "change" | "end"),
            "{event:?}"
        );
        if take(&mut held, &event) {
            break;
        }
    }
    assert!(viewer.next().await.is_none(), "the stream ends after `end`");
    let platform = direct(&h, &common::run_path(&run), None).await;
    assert_eq!(platform["status"], "Completed");
    assert_eq!(held, platform, "the platform's own final report");
    assert_eq!(
        held,
        read_report(&h, &run).await.0,
        "and Runboard's GET of it"
    );
    h.stop().await;
}

#[tokio::test]
async fn a_stream_at_an_older_kept_report_sends_the_changes_after_it() {
    let (h, clock) = quick(20).await;
    let run = live_run(&h, &clock).await;
    let (first, old_tag) = read_report(&h, &run).await;
    // A witness keeps the follower, and the changes it keeps, alive.
    let (mut witness, mut seen) = from_the_report(&h, &run).await;
    assert_eq!(seen, first, "the follower starts at the report read");
    let mut witnessed = Vec::new();
    for _ in 0..2 {
        let target = move_on(&h, &clock, &run, &seen).await;
        witnessed.extend(changes_to(&mut witness, &mut seen, &target).await);
    }

    // A viewer that read the first report and only now opens its stream.
    let (_late, got) = quiet_since(&h, &run, &old_tag, 3).await;
    let ids = |events: &[Frame]| events.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&got), ids(&witnessed), "the later changes, once each");
    let mut held = first;
    for event in &got {
        assert_eq!(event.event, "change", "no whole report: {event:?}");
        take(&mut held, event);
    }
    let platform = direct(&h, &common::run_path(&run), None).await;
    assert_eq!(held, platform, "they lead to the platform's report");
    h.stop().await;
}

/// A `GET` after the follower's last poll reads a report the follower has not published:
/// the viewer asks it to poll now, the poll brings that report, and the viewer is sent
/// nothing it holds.
#[tokio::test]
async fn a_report_read_after_the_followers_last_poll_is_found_by_the_poll_it_asks_for() {
    let (h, clock) = quick(3_600_000).await;
    let run = live_run(&h, &clock).await;
    let (mut witness, mut seen) = from_the_report(&h, &run).await;
    // The run moves on; the follower, polling hourly, has not seen it.
    let target = move_on(&h, &clock, &run, &seen).await;
    let (read, tag) = read_report(&h, &run).await;
    assert_eq!(read, target);
    h.sim.sim.reset_stats();
    let mut viewer = Viewer::open_since(&h, &run, &tag).await;
    changes_to(&mut witness, &mut seen, &target).await;
    let said = until_quiet(&mut viewer, 3).await;
    assert!(said.is_empty(), "it holds that report: {said:?}");
    assert_eq!(h.stats().by_endpoint.test_run, 1, "one poll, asked for");
    h.stop().await;
}

/// Tags the follower does not know cannot make it poll at will: one poll asked for per
/// `poll.run_ms`, however many viewers ask.
#[tokio::test]
async fn unknown_tags_ask_for_at_most_one_extra_poll_per_run_ms() {
    let (h, clock) = quick(3_600_000).await;
    let run = live_run(&h, &clock).await;
    let (_witness, _) = from_the_report(&h, &run).await;
    h.sim.sim.reset_stats();
    let mut asking = Vec::new();
    for n in 0..5 {
        let (viewer, _) = quiet_since(&h, &run, &format!("\"unknown-{n}\""), 2).await;
        asking.push(viewer);
    }
    assert_eq!(h.stats().by_endpoint.test_run, 1, "{:?}", h.stats());
    h.stop().await;
}

/// The widget's `GET` is compressed when the browser accepts it, and the form's own tag
/// names the same report.
#[tokio::test]
async fn the_tag_of_a_compressed_form_places_the_viewer_as_well() {
    let (h, clock) = quick(20).await;
    let run = live_run(&h, &clock).await;
    for coding in ["br", "zstd", "gzip"] {
        let tag = tag_in(&h, &run, coding).await;
        let (_viewer, said) = quiet_since(&h, &run, &tag, 2).await;
        assert!(said.is_empty(), "{coding} ({tag}): {said:?}");
    }
    h.stop().await;
}

#[tokio::test]
async fn a_stream_at_an_unknown_report_starts_with_the_whole_report() {
    let (h, clock) = quick(20).await;
    let run = live_run(&h, &clock).await;
    let (now, tag) = read_report(&h, &run).await;
    let unknown = format!("\"{}\"", "0".repeat(32));
    assert_ne!(tag, unknown);
    for since in [unknown.as_str(), "not a tag", ""] {
        let mut viewer = Viewer::open_since(&h, &run, since).await;
        let first = event_soon(&mut viewer).await;
        assert_eq!(first.event, "report", "since {since:?}");
        assert_eq!(serde_json::from_str::<Value>(&first.data).unwrap(), now);
    }
    h.stop().await;
}

/// The widget's way in (one `GET`, then the stream) costs the platform one read of the
/// report: the follower's first poll reuses the `GET`'s live answer.
#[tokio::test]
async fn the_get_and_the_stream_after_it_cost_one_upstream_read() {
    let (h, clock) = live::start(3_600_000, |c| {
        c.live.heartbeat = Duration::from_millis(50);
    })
    .await;
    let run = live_run(&h, &clock).await;
    h.sim.sim.reset_stats();
    let (_, tag) = read_report(&h, &run).await;
    let (_viewer, said) = quiet_since(&h, &run, &tag, 2).await;
    assert!(said.is_empty(), "{said:?}");
    assert_eq!(h.stats().by_endpoint.test_run, 1, "{:?}", h.stats());
    h.stop().await;
}
