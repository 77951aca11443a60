//! Viewers of one live run: each polls the report every `run_ms` (through `runboard` or
//! nginx) or holds one Server-Sent Events stream (the crowd's cheap reader, `crowd/`),
//! and notes when it saw the number of finished tests grow. Memory per polling viewer is
//! a count; a stream viewer keeps `(when, which event)` per event.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use reqwest::{Client, StatusCode, header};
use runboard_shared::TestStatus;
use serde::Deserialize;
use tokio::{task::JoinSet, time::Instant};

use super::crowd;

/// How a viewer follows the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Follow {
    /// `GET` the report every `run_ms`, with `If-None-Match` once it has an `ETag`.
    Poll,
    /// One `text/event-stream` for the whole time.
    Stream,
}

/// One sighting: when (ms since the epoch) the viewer first saw `finished` tests done
/// (passed or failed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Seen {
    pub(crate) at_ms: f64,
    pub(crate) finished: usize,
}

/// What all viewers saw.
#[derive(Debug, Default)]
pub(crate) struct Watched {
    /// Per viewer that got an answer, its sightings (the first is where it started).
    pub(crate) viewers: Vec<Vec<Seen>>,
    /// Viewers that failed, and the first reason.
    pub(crate) failed: usize,
    pub(crate) first_error: Option<String>,
}

impl Watched {
    /// Adds one viewer's outcome.
    fn add(&mut self, outcome: Result<Vec<Seen>, String>) {
        match outcome {
            Ok(seen) => self.viewers.push(seen),
            Err(error) => {
                self.failed += 1;
                self.first_error.get_or_insert(error);
            }
        }
    }
}

/// `count` viewers of `url` until `deadline`.
pub(crate) async fn watch(
    client: &Client,
    url: &str,
    follow: Follow,
    count: usize,
    run_ms: u64,
    deadline: Instant,
) -> Watched {
    match follow {
        Follow::Poll => poll_all(client, url, count, run_ms, deadline).await,
        Follow::Stream => stream_all(url, count, deadline).await,
    }
}

async fn poll_all(
    client: &Client,
    url: &str,
    count: usize,
    run_ms: u64,
    deadline: Instant,
) -> Watched {
    let mut tasks = JoinSet::new();
    let period = Duration::from_millis(run_ms);
    for _ in 0..count {
        let (client, url) = (client.clone(), url.to_owned());
        // Polling viewers opened the page at different moments.
        let offset = period.mul_f64(rand::thread_rng().gen_range(0.0..1.0));
        tasks.spawn(async move { poll(&client, &url, period, offset, deadline).await });
    }
    let mut watched = Watched::default();
    while let Some(joined) = tasks.join_next().await {
        watched.add(joined.map_err(|e| e.to_string()).and_then(|r| r));
    }
    watched
}

/// Stream viewers on the crowd's reader, until `deadline` (or the run's end).
async fn stream_all(url: &str, count: usize, deadline: Instant) -> Watched {
    let mut watched = Watched::default();
    let request = match crowd::StreamRequest::new(url) {
        Ok(request) => request,
        Err(error) => {
            watched.failed = count;
            watched.first_error = Some(error.to_string());
            return watched;
        }
    };
    let crowd = crowd::Crowd::new(request);
    let (outcomes, _) = crowd::follow(&crowd, count, deadline, &|| None).await;
    let finished = crowd.book.finished();
    for outcome in outcomes {
        watched.add(outcome.map(|arrivals| crowd::sightings(&arrivals, &finished)));
    }
    watched
}

/// A widget polling the report: one request every `period`, first after `offset`.
async fn poll(
    client: &Client,
    url: &str,
    period: Duration,
    offset: Duration,
    deadline: Instant,
) -> Result<Vec<Seen>, String> {
    let mut ticks = tokio::time::interval_at(Instant::now() + offset, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seen = Sightings::default();
    let mut etag: Option<header::HeaderValue> = None;
    loop {
        if tokio::time::timeout_at(deadline, ticks.tick())
            .await
            .is_err()
        {
            return Ok(seen.0);
        }
        let mut request = client.get(url);
        if let Some(tag) = &etag {
            request = request.header(header::IF_NONE_MATCH, tag.clone());
        }
        let answer = async {
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            let tag = response.headers().get(header::ETAG).cloned();
            let body = response.bytes().await.map_err(|e| e.to_string())?;
            Ok::<_, String>((status, tag, body))
        };
        let Ok(answer) = tokio::time::timeout_at(deadline, answer).await else {
            return Ok(seen.0);
        };
        let (status, tag, body) = answer?;
        match status {
            StatusCode::NOT_MODIFIED => seen.note(seen.last()),
            s if s.is_success() => {
                etag = tag;
                seen.note(finished(&parse_tests(&body)?));
            }
            s => return Err(format!("{s}: {}", String::from_utf8_lossy(&body))),
        }
    }
}

/// Sightings in order; a new one only when the finished count moved.
#[derive(Default)]
pub(crate) struct Sightings(Vec<Seen>);

impl Sightings {
    fn last(&self) -> usize {
        self.0.last().map_or(0, |s| s.finished)
    }

    fn note(&mut self, finished: usize) {
        self.note_at(now_ms(), finished);
    }

    /// `finished` seen at `at_ms`, kept if the count moved (or it is the first).
    pub(crate) fn note_at(&mut self, at_ms: f64, finished: usize) {
        if self.0.is_empty() || finished != self.last() {
            self.0.push(Seen { at_ms, finished });
        }
    }

    pub(crate) fn into_inner(self) -> Vec<Seen> {
        self.0
    }
}

/// Milliseconds since the epoch, the simulator's clock.
pub(crate) fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// What a viewer reads of each test.
#[derive(Debug, Deserialize)]
pub(crate) struct TestState {
    #[serde(rename = "_id", default)]
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) status: TestStatus,
    #[serde(rename = "startTime", default)]
    pub(crate) start_time: Option<String>,
    #[serde(default)]
    pub(crate) duration: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct Tests {
    #[serde(default)]
    tests: Vec<TestState>,
}

/// The `tests` of a report or of a `change` event (other fields are skipped).
pub(crate) fn parse_tests(body: &[u8]) -> Result<Vec<TestState>, String> {
    serde_json::from_slice::<Tests>(body)
        .map(|t| t.tests)
        .map_err(|e| format!("unreadable report: {e}"))
}

fn finished(tests: &[TestState]) -> usize {
    tests.iter().filter(|t| t.ran()).count()
}

impl TestState {
    /// Whether the test ran to its end (passed or failed). Skipped tests are left out:
    /// the report gives them no start time, so their moment cannot be known.
    pub(crate) fn ran(&self) -> bool {
        matches!(self.status, TestStatus::Passed | TestStatus::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_read_for_finished_tests() {
        let body = br#"{"status":"Running","tests":[{"_id":"a","status":"Passed","duration":5},
            {"_id":"b","status":"Running"},{"_id":"c","status":"Skipped"}],"extra":1}"#;
        let tests = parse_tests(body).expect("readable");
        assert_eq!(finished(&tests), 1, "skipped tests have no moment");
        assert!(parse_tests(b"[").is_err());
    }
}
