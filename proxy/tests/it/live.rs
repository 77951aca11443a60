//! Live run reports over Server-Sent Events, on real sockets: many viewers share one
//! follower (counted at the simulator), every viewer gets the report then what changed
//! until the final one, quiet streams carry heartbeats, `Last-Event-ID` resumes, and the
//! usual checks apply (stream limit, unknown project, header-mode identity). The run
//! helpers here serve `resume.rs` and `event_stream.rs` too; the viewer is `common::sse`.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use runboard_proxy::{Config, Server, config::AuthMode};
use runboard_shared::Route;
use runboard_sim::{ManualClock, SimConfig, SimProject, Simulator};
use serde_json::{Value, json};

use crate::{
    common::{
        self, Harness, PROJECT,
        sse::{Frame, Viewer, event_soon, live_request},
        wait_for,
    },
    paths,
};

/// A run id the simulator does not know (for the checks made before any upstream call).
const SOME_RUN: &str = "67f8cb3fe236b8d41b7700ad";

/// A simulator on a manual clock (runs move only when the test says) and Runboard in
/// front of it, polling followed runs every `run_ms`.
pub(crate) async fn start(
    run_ms: u64,
    adjust: impl FnOnce(&mut Config),
) -> (Harness, Arc<ManualClock>) {
    let sim_config = SimConfig {
        tests_per_project: 6,
        projects: vec![SimProject::new(PROJECT, common::KEY)],
        ..SimConfig::default()
    };
    let (sim, clock) = common::manual_sim(sim_config).await;
    let mut config = common::config_for(&sim.url(), common::KEY);
    config.poll.run_ms = run_ms;
    adjust(&mut config);
    let server = Server::start(config).await.unwrap();
    let h = Harness {
        sim,
        server,
        client: reqwest::Client::new(),
    };
    (h, clock)
}

/// Starts a run and moves the clock until it is running; returns its id.
pub(crate) async fn live_run(h: &Harness, clock: &ManualClock) -> String {
    let body = json!({"action": "executeTests", "featureId": h.feature_id(), "agentName": "staging-agent"});
    // Started at the simulator itself, so suites in header mode need no identity here.
    let started = direct(h, &common::execute_path(), Some(body)).await;
    let job = started["jobId"].as_str().unwrap().to_owned();
    // Asked of the simulator itself: Runboard would reuse a live answer for a moment,
    // and its first read of the run is the follower's.
    let run: String = wait_for(Duration::from_secs(10), || async {
        clock.advance(Duration::from_millis(500));
        let jobs = direct(h, &common::jobs_path(), Some(json!({"jobIds": [job]}))).await;
        jobs["jobs"][0]["testRunId"].as_str().map(str::to_owned)
    })
    .await;
    let report = direct(h, &common::run_path(&run), None).await;
    assert!(
        matches!(report["status"].as_str(), Some("Running" | "Scheduled")),
        "{report}"
    );
    run
}

/// A request straight to the simulator, with the key: GET, or POST with `body`.
pub(crate) async fn direct(h: &Harness, path: &str, body: Option<Value>) -> Value {
    let url = format!("{}{path}", h.sim.url());
    let request = match body {
        Some(body) => h.client.post(url).json(&body),
        None => h.client.get(url),
    };
    let response = request
        .header("x-api-key", common::KEY)
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

async fn metric(h: &Harness, name: &str) -> Option<u64> {
    let text = h
        .client
        .get(h.url("/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines().find_map(|line| {
        line.strip_prefix(name)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

#[tokio::test]
async fn fifty_viewers_of_a_live_run_share_one_upstream_read() {
    // An hour between polls: the one follower polls once while the test runs. Fifty
    // people, all one loopback peer here, so without the per-user stream limit.
    let (h, clock) = start(3_600_000, |c| c.live.max_streams_per_user = 0).await;
    let run = live_run(&h, &clock).await;
    h.sim.sim.reset_stats();
    let mut viewers = Vec::new();
    for _ in 0..50 {
        viewers.push(Viewer::open(&h, &run, None).await);
    }
    for viewer in &mut viewers {
        let first = viewer.next_event().await.unwrap();
        assert_eq!(first.event, "report");
        let report: Value = serde_json::from_str(&first.data).unwrap();
        assert_eq!(report["runId"], run.as_str());
    }
    assert_eq!(h.stats().by_endpoint.test_run, 1, "{:?}", h.stats());
    assert_eq!(metric(&h, "runboard_runs_followed").await, Some(1));
    assert_eq!(metric(&h, "runboard_live_streams").await, Some(50));
    drop(viewers);
    // The last viewer gone, nobody follows the run any more.
    wait_for(Duration::from_secs(10), || async {
        (metric(&h, "runboard_runs_followed").await == Some(0)
            && metric(&h, "runboard_live_streams").await == Some(0))
        .then_some(())
    })
    .await;
    h.stop().await;
}

#[tokio::test]
async fn every_viewer_gets_the_report_then_the_same_final_report_as_the_platform() {
    let run_ms = 200;
    // Fifty people, all one loopback peer here: no per-user stream limit.
    let (h, clock) = start(run_ms, |c| c.live.max_streams_per_user = 0).await;
    let run = live_run(&h, &clock).await;
    h.sim.sim.reset_stats();
    let began = Instant::now();
    let mut viewers = Vec::new();
    for _ in 0..50 {
        viewers.push(Viewer::open(&h, &run, None).await);
    }
    let mut finals = Vec::new();
    for viewer in &mut viewers {
        let first = viewer.next_event().await.unwrap();
        assert_eq!(first.event, "report");
        finals.push(serde_json::from_str::<Value>(&first.data).unwrap());
    }
    // Let the run finish.
    clock.advance(Duration::from_secs(3600));
    for (viewer, held) in viewers.iter_mut().zip(&mut finals) {
        loop {
            let event = viewer.next_event().await.expect("a last word");
            assert!(
                matches!(event.event.as_str(), "change" | "final" | "end"),
                "{event:?}"
            );
            if take(held, &event) {
                break;
            }
        }
        assert!(
            viewer.next().await.is_none(),
            "the stream ends after its last word"
        );
    }
    let polls = h.stats().by_endpoint.test_run;
    let elapsed_ms = u64::try_from(began.elapsed().as_millis()).unwrap();
    // At most one poll per run_ms whatever the number of viewers (50 polling tabs
    // would make 50 per run_ms).
    assert!(
        polls <= elapsed_ms / run_ms + 2,
        "{polls} polls in {elapsed_ms} ms"
    );
    let direct = direct(&h, &common::run_path(&run), None).await;
    assert_eq!(direct["status"], "Completed");
    for report in finals {
        assert_eq!(report, direct);
    }
    h.stop().await;
}

#[tokio::test]
async fn quiet_streams_carry_heartbeats_and_last_event_id_resumes_without_a_report() {
    let (h, clock) = start(3_600_000, |c| {
        c.live.heartbeat = Duration::from_millis(20);
    })
    .await;
    let run = live_run(&h, &clock).await;
    let mut first = Viewer::open(&h, &run, None).await;
    let report = first.next_event().await.unwrap();
    assert_eq!(report.event, "report");
    assert!(first.next().await.unwrap().comment, "a heartbeat follows");

    // Resuming at the report it had: heartbeats, no second report.
    let mut resumed = Viewer::open(&h, &run, Some(&report.id)).await;
    for _ in 0..3 {
        let frame = resumed.next().await.unwrap();
        assert!(frame.comment, "only heartbeats: {frame:?}");
    }
    // An id this follower never gave: the whole report.
    let mut stranger = Viewer::open(&h, &run, Some("999999.1")).await;
    assert_eq!(stranger.next_event().await.unwrap().event, "report");
    h.stop().await;
}

/// A viewer whose stream broke because runboard restarted (or whose next connection
/// reaches another replica) resumes with an id of the old process: it must get the whole
/// report, never "only the changes since", which it would apply to the wrong report.
#[tokio::test]
async fn an_id_from_another_runboard_process_gets_the_whole_report() {
    let (h, clock) = start(3_600_000, |_| {}).await;
    let run = live_run(&h, &clock).await;
    let mut first = Viewer::open(&h, &run, None).await;
    let report = first.next_event().await.unwrap();
    assert_eq!(report.event, "report");
    drop(first);

    // A second runboard in front of the same platform; the harness's own simulator is
    // only there to fill the struct.
    let mut config = common::config_for(&h.sim.url(), common::KEY);
    config.poll.run_ms = 3_600_000;
    let restarted = Harness {
        sim: runboard_sim::spawn(
            Simulator::new(SimConfig::default()),
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap(),
        server: Server::start(config).await.unwrap(),
        client: reqwest::Client::new(),
    };
    let mut resumed = Viewer::open(&restarted, &run, Some(&report.id)).await;
    assert_eq!(resumed.next_event().await.unwrap().event, "report");
    restarted.stop().await;
    h.stop().await;
}

#[tokio::test]
async fn streams_beyond_the_limit_are_refused_with_503() {
    let (h, clock) = start(3_600_000, |c| c.live.max_streams = 1).await;
    let run = live_run(&h, &clock).await;
    let mut open = Viewer::open(&h, &run, None).await;
    assert_eq!(open.next_event().await.unwrap().event, "report");
    let (status, body) = h.get(&paths::live_path(&run)).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(common::code(&body), "too_many_streams");
    drop(open);
    wait_for(Duration::from_secs(10), || async {
        (metric(&h, "runboard_live_streams").await == Some(0)).then_some(())
    })
    .await;
    let mut again = Viewer::open(&h, &run, None).await;
    assert_eq!(again.next_event().await.unwrap().event, "report");
    h.stop().await;

    // Streams never take more than half the connections, whatever max_streams says.
    let (h, clock) = start(3_600_000, |c| {
        c.live.max_streams = 100;
        c.server.max_connections = 4;
    })
    .await;
    let run = live_run(&h, &clock).await;
    let mut open = Vec::new();
    for _ in 0..2 {
        let mut viewer = Viewer::open(&h, &run, None).await;
        assert_eq!(viewer.next_event().await.unwrap().event, "report");
        open.push(viewer);
    }
    let (status, body) = h.get(&paths::live_path(&run)).await;
    assert_eq!(
        (status, common::code(&body)),
        (503, "too_many_streams"),
        "{body}"
    );
    drop(open);
    h.stop().await;
}

#[tokio::test]
async fn another_project_is_unknown_and_header_mode_needs_an_identity() {
    let (h, _) = start(3_600_000, |_| {}).await;
    let other = "aaaaaaaaaaaaaaaaaaaaaaaa";
    let (status, body) = h.get(&Route::Live.fill(&[other, SOME_RUN])).await;
    assert_eq!(
        (status, common::code(&body)),
        (404, "unknown_project"),
        "{body}"
    );
    h.stop().await;

    let (h, _) = start(3_600_000, |c| {
        c.auth.mode = AuthMode::Header;
        c.auth.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let (status, body) = h.get(&paths::live_path(SOME_RUN)).await;
    assert_eq!(
        (status, common::code(&body)),
        (401, "unauthenticated"),
        "{body}"
    );
    assert_eq!(h.stats().total, 0, "nothing reached the platform");
    h.stop().await;
}

/// Takes `event` into the report `held` as the widget does: a `report` or `final`
/// replaces it, a `change` is applied, `end` leaves it; says whether that was the last
/// word (`final` or `end`).
pub(crate) fn take(held: &mut Value, event: &Frame) -> bool {
    let data = || serde_json::from_str::<Value>(&event.data).unwrap();
    match event.event.as_str() {
        "report" => *held = data(),
        "change" => apply(held, &data()),
        "final" => {
            *held = data();
            return true;
        }
        "end" => return true,
        other => panic!("unexpected event {other}: {event:?}"),
    }
    false
}

/// Applies a `change` event's data to `report` as the widget does: changed tests
/// replace theirs by `_id`, new ones are appended, counts and status are taken.
pub(crate) fn apply(report: &mut Value, change: &Value) {
    report["status"] = change["status"].clone();
    report["statuses"] = change["statuses"].clone();
    let tests = report["tests"].as_array_mut().unwrap();
    for test in change["tests"].as_array().unwrap() {
        match tests.iter_mut().find(|t| t["_id"] == test["_id"]) {
            Some(old) => *old = test.clone(),
            None => tests.push(test.clone()),
        }
    }
}

#[tokio::test]
async fn changes_carry_only_the_changed_tests_and_lead_to_the_platforms_report() {
    let (h, clock) = start(200, |_| {}).await;
    let run = live_run(&h, &clock).await;
    let path = common::run_path(&run);
    let mut viewer = Viewer::open(&h, &run, None).await;
    let first = viewer.next_event().await.unwrap();
    assert_eq!(first.event, "report");
    let mut held: Value = serde_json::from_str(&first.data).unwrap();
    // Move the run on until the platform's report differs, still running; then hold
    // the clock, so that report is where the stream must lead.
    let target = wait_for(Duration::from_secs(10), || async {
        clock.advance(Duration::from_millis(300));
        let now = direct(&h, &path, None).await;
        (now != held).then_some(now)
    })
    .await;
    assert_eq!(target["status"], "Running", "{target}");
    while held != target {
        let event = viewer.next_event().await.unwrap();
        assert_eq!(event.event, "change", "{event:?}");
        let change: Value = serde_json::from_str(&event.data).unwrap();
        let changed = change["tests"].as_array().unwrap().len();
        assert!(
            changed < target["tests"].as_array().unwrap().len(),
            "{change}"
        );
        apply(&mut held, &change);
    }
    h.stop().await;
}

/// Viewers come and go while the run advances: each round every viewer leaves (so the
/// follower may be dropped) and a new one resumes with the last event id it saw. The
/// run must never stall for them: every round's viewer gets what changed, and the
/// report they build up by applying events is the platform's final one.
#[tokio::test]
async fn viewers_coming_and_going_while_the_run_advances_reach_the_final_report() {
    let (h, clock) = start(20, |c| {
        c.live.heartbeat = Duration::from_millis(20);
        c.cache.live_reuse = Duration::ZERO;
    })
    .await;
    let run = live_run(&h, &clock).await;
    let mut held = Value::Null;
    let mut last_id: Option<String> = None;
    let mut rounds = 0;
    let finished = loop {
        rounds += 1;
        assert!(rounds < 500, "the run never reached its final report");
        let mut viewer = Viewer::open(&h, &run, last_id.as_deref()).await;
        if rounds % 2 == 0 {
            // Half the rounds keep a second viewer joining and leaving at once.
            drop(Viewer::open(&h, &run, None).await);
        }
        clock.advance(Duration::from_millis(700));
        let mut quiet = 0;
        let mut done = false;
        while quiet < 5 {
            let frame = viewer
                .next()
                .await
                .expect("the stream stays open while live");
            if frame.comment {
                quiet += 1;
                continue;
            }
            if take(&mut held, &frame) {
                done = true;
                break;
            }
            last_id = Some(frame.id);
        }
        drop(viewer);
        if done {
            break held;
        }
    };
    let direct = direct(&h, &common::run_path(&run), None).await;
    assert_eq!(finished, direct, "after {rounds} rounds");
    h.stop().await;
}

/// One user holds at most `[live] max_streams_per_user` streams (6 by default): the next
/// is 429 with `Retry-After` and a message saying what to do; closing one makes room
/// again, and another user is unaffected.
#[tokio::test]
async fn one_user_holds_at_most_max_streams_per_user() {
    let (h, clock) = start(3_600_000, |c| {
        c.auth.mode = AuthMode::Header;
        c.auth.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let run = live_run(&h, &clock).await;
    let mut mine = Vec::new();
    for _ in 0..6 {
        let mut viewer = Viewer::open_as(&h, &run, "alice@example.com").await;
        assert_eq!(viewer.next_event().await.unwrap().event, "report");
        mine.push(viewer);
    }
    // The same user however the SSO proxy spells her.
    let refused = live_request(&h, &run, "Alice@Example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(common::code(&body), "too_many_user_streams", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("close other Runboard tabs"), "{message}");

    let mut other = Viewer::open_as(&h, &run, "bob@example.com").await;
    assert_eq!(other.next_event().await.unwrap().event, "report");

    drop(mine.pop());
    let response = wait_for(Duration::from_secs(10), || async {
        let response = live_request(&h, &run, "alice@example.com")
            .send()
            .await
            .unwrap();
        (response.status() == 200).then_some(response)
    })
    .await;
    let mut again = Viewer::reading(response);
    assert_eq!(again.next_event().await.unwrap().event, "report");
    drop(mine);
    h.stop().await;
}

/// The sequence number of an event id `"E.N"`, and its epoch.
fn seq_of(id: &str) -> (u64, u64) {
    let (epoch, seq) = id.split_once('.').expect("an id E.N");
    (epoch.parse().unwrap(), seq.parse().unwrap())
}

/// Moves the run on until the platform's report differs from `held`, then holds the
/// clock there; returns that report, which must still be running.
pub(crate) async fn move_on(h: &Harness, clock: &ManualClock, run: &str, held: &Value) -> Value {
    let path = common::run_path(run);
    let target = wait_for(Duration::from_secs(10), || async {
        clock.advance(Duration::from_millis(300));
        let now = direct(h, &path, None).await;
        (now != *held).then_some(now)
    })
    .await;
    assert_eq!(
        target["status"], "Running",
        "the run ended too soon: {target}"
    );
    target
}

/// Reads `viewer`'s `change` events, applying them to `held`, until they lead to
/// `target`; returns them. Each must carry the id right after `last` (same epoch, next
/// sequence number): none skipped, none sent twice. `last` moves along.
async fn changes_until(
    viewer: &mut Viewer,
    held: &mut Value,
    last: &mut String,
    target: &Value,
) -> Vec<Frame> {
    let mut events = Vec::new();
    while held != target {
        let event = event_soon(viewer).await;
        assert_eq!(event.event, "change", "{event:?}");
        let (epoch, seq) = seq_of(last);
        assert_eq!(
            seq_of(&event.id),
            (epoch, seq + 1),
            "after {last}: {event:?}"
        );
        apply(held, &serde_json::from_str(&event.data).unwrap());
        last.clone_from(&event.id);
        events.push(event);
    }
    events
}

/// A viewer leaves after a change, misses several more, and comes back with its
/// `Last-Event-ID`: it gets exactly the changes it missed, each once, in order, and no
/// whole report; applied to what it held, they give the platform's report of now, while
/// the run is still running (no `final` has been sent). A witness stays connected
/// throughout, so the follower (and its epoch) lives on and says what was missed.
#[tokio::test]
async fn a_resumed_viewer_gets_each_missed_change_once_before_the_final_report() {
    let (h, clock) = start(20, |c| {
        c.live.heartbeat = Duration::from_millis(50);
        c.cache.live_reuse = Duration::ZERO;
    })
    .await;
    let run = live_run(&h, &clock).await;
    let mut witness = Viewer::open(&h, &run, None).await;
    let mut leaving = Viewer::open(&h, &run, None).await;
    let (mut seen_by_witness, mut witness_at) = (Value::Null, String::new());
    let (mut held, mut leaving_at) = (Value::Null, String::new());
    for (viewer, report, at) in [
        (&mut witness, &mut seen_by_witness, &mut witness_at),
        (&mut leaving, &mut held, &mut leaving_at),
    ] {
        let first = event_soon(viewer).await;
        assert_eq!(first.event, "report", "{first:?}");
        *report = serde_json::from_str(&first.data).unwrap();
        *at = first.id;
    }
    // A step both see; the leaving viewer's last id is then a change's, not a report's.
    let target = move_on(&h, &clock, &run, &held).await;
    changes_until(&mut leaving, &mut held, &mut leaving_at, &target).await;
    changes_until(&mut witness, &mut seen_by_witness, &mut witness_at, &target).await;
    assert_eq!(witness_at, leaving_at, "both saw the same changes");
    let left_at = leaving_at;
    drop(leaving);

    // Three more steps while it is away, as the witness sees them.
    let mut missed = Vec::new();
    for _ in 0..3 {
        let target = move_on(&h, &clock, &run, &seen_by_witness).await;
        let seen = changes_until(&mut witness, &mut seen_by_witness, &mut witness_at, &target);
        missed.extend(seen.await);
    }

    // Everything the resumed viewer is sent until its stream goes quiet: the clock stands
    // still, so nothing new can come, and a change sent twice would be among these.
    let mut resumed = Viewer::open(&h, &run, Some(&left_at)).await;
    let mut got = Vec::new();
    let mut quiet = 0;
    while quiet < 3 {
        let frame = tokio::time::timeout(Duration::from_secs(10), resumed.next())
            .await
            .expect("not even a heartbeat for 10 s")
            .expect("the stream ended");
        if frame.comment {
            quiet += 1;
            continue;
        }
        assert_eq!(
            frame.event, "change",
            "a resumed viewer gets the changes, not a report: {frame:?}"
        );
        got.push(frame);
    }
    let ids = |events: &[Frame]| events.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(&got),
        ids(&missed),
        "the changes the witness saw, once each"
    );
    let (epoch, left_seq) = seq_of(&left_at);
    let expected: Vec<(u64, u64)> = (1..=got.len() as u64)
        .map(|n| (epoch, left_seq + n))
        .collect();
    let seqs: Vec<(u64, u64)> = got.iter().map(|e| seq_of(&e.id)).collect();
    assert_eq!(seqs, expected, "none skipped, none twice");
    for (event, witnessed) in got.iter().zip(&missed) {
        assert_eq!(event.data, witnessed.data);
    }
    for event in &got {
        apply(&mut held, &serde_json::from_str(&event.data).unwrap());
    }
    let now = direct(&h, &common::run_path(&run), None).await;
    assert_eq!(now["status"], "Running", "checked before the final report");
    assert_eq!(
        held, now,
        "the missed changes lead to the platform's report"
    );

    // The run ends: the resumed viewer, up to date, gets the last changes and `end`, not
    // the whole final report again; what it holds then is the platform's final report.
    clock.advance(Duration::from_secs(3600));
    loop {
        let event = event_soon(&mut resumed).await;
        assert!(
            matches!(event.event.as_str(), "change" | "end"),
            "{event:?}"
        );
        if take(&mut held, &event) {
            break;
        }
    }
    assert!(
        resumed.next().await.is_none(),
        "the stream ends after `end`"
    );
    let direct = direct(&h, &common::run_path(&run), None).await;
    assert_eq!(held, direct);
    h.stop().await;
}
