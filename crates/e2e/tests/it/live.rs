//! Reports in the browser: a report is read once with a plain `GET`; a finished one is
//! never streamed, a live one then follows the event stream, which carries only changes
//! (never the whole report again). Two tabs on one live run both reach the simulator's
//! final report over the stream (and never poll the report), the stream's changes are
//! never undone by a slow job look-up, and with the stream refused or held back by the
//! proxy in front the widget falls back to polling by itself and still gets there.

use std::{collections::HashMap, time::Duration};

use anyhow::{Context, Result, ensure};
use runboard_e2e::{
    Browser, Stack, StackOptions,
    front_door::LiveStreams,
    scenario::{
        attr, click_preset, open_start, scenario, visible_rows, wait_attr, wait_for_report,
        wait_run_completed,
    },
    stack::{PROJECT, RUN_TIMEOUT, presets},
};
use runboard_shared::{
    Endpoint, LIVE_SINCE, LiveEventName, ProjectId, Route, TestStatus, jobs_path,
};

/// The report route, which the widget reads once, and polls when it has no stream.
const REPORT: Route = Route::Guide(Endpoint::TestRun);

/// At half the usual pace the run stays live long enough for a second tab to join it.
fn half_pace() -> StackOptions {
    StackOptions {
        sim_speed: 20.0,
        ..StackOptions::default()
    }
}

/// Starts the full regression from the start page; returns the run id once its report
/// is open.
async fn start_run(b: &Browser, s: &Stack) -> Result<String> {
    open_start(b, s).await?;
    click_preset(b, presets::FULL).await?;
    wait_for_report(b).await
}

/// The page shows the simulator's final report: every count of the summary and the
/// status of every row, once it also knows the job is over (so nothing it still has
/// under way can move it back). Returns how the page followed the run (the tooltip).
async fn shows_final_report(b: &Browser, s: &Stack, run_id: &str) -> Result<String> {
    wait_run_completed(b).await?;
    wait_attr(
        b,
        "[data-testid=updated-ago]",
        "data-live",
        "0",
        RUN_TIMEOUT,
    )
    .await?;
    wait_run_completed(b).await?;
    let report = s.sim_report(run_id).await?;
    let counts = b
        .js(
            "return Array.from(document.querySelectorAll('[data-testid=summary-count]'))
                .map(c => [c.getAttribute('data-status'), Number(c.getAttribute('data-count'))]);",
            vec![],
        )
        .await?;
    let counts: Vec<(String, u64)> = serde_json::from_value(counts)?;
    ensure!(!counts.is_empty(), "the summary shows counts");
    for (label, shown) in &counts {
        let want = report.count(&TestStatus::parse(label));
        ensure!(*shown == want, "{label}: page {shown}, simulator {want}");
    }
    let by_id: HashMap<&str, &str> = report
        .tests
        .iter()
        .map(|t| (t.id.as_str(), t.status.as_str()))
        .collect();
    let rows = visible_rows(b).await?;
    ensure!(!rows.is_empty(), "the table shows tests");
    for (id, status) in &rows {
        let want = by_id
            .get(id.as_str())
            .with_context(|| format!("row {id} in the report"))?;
        ensure!(want == status, "row {id}: page {status}, simulator {want}");
    }
    attr(b, "[data-testid=updated-ago]", "title").await
}

/// How many requests the browser sent to `route` (one whose first parameter is the
/// project) for [`PROJECT`], whatever the query.
fn requests_to(s: &Stack, route: Route) -> usize {
    s.front
        .sent()
        .iter()
        .filter(|r| {
            let path = r.path.split('?').next().unwrap_or_default();
            route
                .match_path(path)
                .is_some_and(|values| values.first() == Some(&PROJECT))
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_on_one_live_run_reach_the_same_final_report_over_the_stream() {
    scenario("live_two_tabs", half_pace(), async |b, s| {
        let run_id = start_run(b, s).await?;
        let second = Browser::start().await?;
        let outcome = async {
            second
                .open(&s.url(&format!("/p/{PROJECT}/runs/{run_id}")))
                .await?;
            let first_via = shows_final_report(b, s, &run_id).await?;
            let second_via = shows_final_report(&second, s, &run_id).await?;
            ensure!(first_via == "live over a stream", "first tab: {first_via}");
            ensure!(
                second_via == "live over a stream",
                "second tab: {second_via}"
            );
            Ok(())
        }
        .await;
        second.close().await;
        outcome?;
        ensure!(
            requests_to(s, Route::Live) >= 2,
            "each tab opened the stream"
        );
        let reads = requests_to(s, REPORT);
        ensure!(
            reads == 2,
            "{reads} reads of the report: one per tab, and no polls beside the stream"
        );
        Ok(())
    })
    .await;
}

/// What the front door has passed on of `runboard`'s event streams: whether it holds an
/// event named `name`.
fn streamed(s: &Stack, name: LiveEventName) -> bool {
    let recorded = s.front.recorded();
    let line = format!("event: {name}\n");
    recorded
        .windows(line.len())
        .any(|window| window == line.as_bytes())
}

/// Opening a live report: one `GET` of it, then one stream after that report, which never
/// carries the whole report (only changes, then `end`); the page reaches the simulator's
/// final report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_report_is_read_once_then_streamed_as_changes_only() {
    scenario("live_read_then_changes", half_pace(), async |b, s| {
        let run_id = start_run(b, s).await?;
        let via = shows_final_report(b, s, &run_id).await?;
        ensure!(via == "live over a stream", "the tooltip says {via}");
        let (reads, streams) = (requests_to(s, REPORT), requests_to(s, Route::Live));
        ensure!(reads == 1, "{reads} reads of the report");
        ensure!(streams == 1, "{streams} streams");
        let since = s
            .front
            .sent()
            .into_iter()
            .find(|r| {
                Route::Live
                    .match_path(r.path.split('?').next().unwrap_or_default())
                    .is_some()
            })
            .map(|r| r.path)
            .unwrap_or_default();
        ensure!(
            since.contains(&format!("{LIVE_SINCE}=")),
            "the stream starts after the report read: {since}"
        );
        for whole in [LiveEventName::Report, LiveEventName::Final] {
            ensure!(!streamed(s, whole), "the stream carried a whole `{whole}`");
        }
        for event in [LiveEventName::Change, LiveEventName::End] {
            ensure!(streamed(s, event), "the stream carried no `{event}`");
        }
        Ok(())
    })
    .await;
}

/// Opening a finished report: exactly one `GET` of it, and no stream at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_report_is_read_once_and_never_streamed() {
    scenario(
        "finished_read_once",
        StackOptions::default(),
        async |b, s| {
            let run_id = start_run(b, s).await?;
            shows_final_report(b, s, &run_id).await?;
            let (reads, streams) = (requests_to(s, REPORT), requests_to(s, Route::Live));
            b.open(&s.url(&format!("/p/{PROJECT}/runs/{run_id}")))
                .await?;
            // "read once" is set in the same step that would otherwise open the stream.
            let via = shows_final_report(b, s, &run_id).await?;
            ensure!(via == "read once", "the tooltip says {via}");
            let reads = requests_to(s, REPORT) - reads;
            ensure!(reads == 1, "{reads} reads of the finished report");
            let streams = requests_to(s, Route::Live) - streams;
            ensure!(streams == 0, "{streams} streams for a finished report");
            Ok(())
        },
    )
    .await;
}

/// Starts sampling, inside the page, how many tests the summary counts as done (every
/// label but Running and Scheduled), every 50 ms, for [`done_samples`].
async fn sample_done(b: &Browser) -> Result<()> {
    b.js(
        "window.__rbDone = [];
         setInterval(() => {
           const done = Array.from(document.querySelectorAll('[data-testid=summary-count]'))
             .filter(c => !['Running', 'Scheduled'].includes(c.getAttribute('data-status')))
             .reduce((sum, c) => sum + Number(c.getAttribute('data-count')), 0);
           const seen = window.__rbDone;
           if (seen.length === 0 || seen[seen.length - 1] !== done) seen.push(done);
         }, 50);",
        vec![],
    )
    .await?;
    Ok(())
}

/// Every distinct "done" count the page showed since [`sample_done`], in order.
async fn done_samples(b: &Browser) -> Result<Vec<u64>> {
    Ok(serde_json::from_value(
        b.js("return window.__rbDone;", vec![]).await?,
    )?)
}

/// Every job look-up outlasts several poll intervals, so stream events always arrive
/// while one is under way: the page must never show fewer tests done than it already
/// did, and must reach the final report over the stream and stay there. (The view that
/// wrote back the report it held across the look-up undid those events: measured, the
/// done count went 10 → 7 and 16 → 12 on the way, and a final report undone that way
/// froze the page on a live state.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_job_look_ups_never_undo_what_the_stream_brought() {
    // A tenth of the usual pace: the run stays live for about 15 s, long enough for
    // many changes to arrive during look-ups.
    let slow_run = StackOptions {
        sim_speed: 4.0,
        ..StackOptions::default()
    };
    scenario("live_slow_jobs", slow_run, async |b, s| {
        let run_id = start_run(b, s).await?;
        let jobs = jobs_path(&ProjectId::parse(PROJECT)?);
        s.front
            .slow_down(Some((&jobs, Duration::from_millis(1_500))));
        sample_done(b).await?;
        let via = shows_final_report(b, s, &run_id).await?;
        ensure!(via == "live over a stream", "the tooltip says {via}");
        let done = done_samples(b).await?;
        ensure!(done.len() >= 3, "the page followed a live run: {done:?}");
        ensure!(
            done.windows(2).all(|pair| pair[0] <= pair[1]),
            "tests done moved backwards: {done:?}"
        );
        s.front.slow_down(None);
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_stream_refused_the_widget_polls_and_reaches_the_final_report() {
    scenario("live_refused", half_pace(), async |b, s| {
        s.front.live_streams(LiveStreams::Refuse);
        let run_id = start_run(b, s).await?;
        let via = shows_final_report(b, s, &run_id).await?;
        ensure!(via == "live over polling", "the tooltip says {via}");
        ensure!(requests_to(s, REPORT) > 0, "the report was polled");
        Ok(())
    })
    .await;
}

/// A proxy that holds the stream back until it ends (as some corporate proxies do with
/// Server-Sent Events): the stream opens but says nothing, so after twice the server's
/// heartbeat the widget polls by itself and still reaches the final report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_buffering_proxy_the_widget_polls_and_reaches_the_final_report() {
    let options = StackOptions {
        sim_speed: 10.0,
        live_heartbeat_ms: Some(1_000),
        ..StackOptions::default()
    };
    scenario("live_buffered", options, async |b, s| {
        s.front.live_streams(LiveStreams::Buffer);
        let run_id = start_run(b, s).await?;
        let via = shows_final_report(b, s, &run_id).await?;
        ensure!(via == "live over polling", "the tooltip says {via}");
        ensure!(
            requests_to(s, Route::Live) >= 1,
            "the widget tried the stream first"
        );
        ensure!(requests_to(s, REPORT) > 0, "the report was polled");
        Ok(())
    })
    .await;
}
