//! Viewers of one live run: each polls the report every `run_ms` (through `runboard` or
//! nginx) or holds one Server-Sent Events stream, and notes when it saw the number of
//! finished tests grow. Memory per viewer is a count and, for a stream, one status per test.

use std::{
    collections::HashMap,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use rand::Rng;
use reqwest::{Client, StatusCode, header};
use runboard_shared::TestStatus;
use serde::Deserialize;
use tokio::{task::JoinSet, time::Instant};

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

/// `count` viewers of `url` until `deadline`.
pub(crate) async fn watch(
    client: &Client,
    url: &str,
    follow: Follow,
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
        tasks.spawn(async move {
            match follow {
                Follow::Poll => poll(&client, &url, period, offset, deadline).await,
                Follow::Stream => stream(&client, &url, deadline).await,
            }
        });
    }
    let mut watched = Watched::default();
    while let Some(joined) = tasks.join_next().await {
        match joined.map_err(|e| e.to_string()).and_then(|r| r) {
            Ok(seen) => watched.viewers.push(seen),
            Err(error) => {
                watched.failed += 1;
                watched.first_error.get_or_insert(error);
            }
        }
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

/// An `EventSource`: the whole report first, then changes, until the deadline or `final`.
async fn stream(client: &Client, url: &str, deadline: Instant) -> Result<Vec<Seen>, String> {
    let send = client
        .get(url)
        .header(header::ACCEPT, "text/event-stream")
        .send();
    let Ok(response) = tokio::time::timeout_at(deadline, send).await else {
        return Ok(Vec::new());
    };
    let mut response = response.map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        return Err(format!("stream answered {status}: {body}"));
    }
    let mut seen = Sightings::default();
    let mut statuses: HashMap<String, bool> = HashMap::new();
    let mut buffer: Vec<u8> = Vec::new();
    loop {
        let chunk = match tokio::time::timeout_at(deadline, response.chunk()).await {
            Err(_) | Ok(Ok(None)) => return Ok(seen.0),
            Ok(chunk) => chunk.map_err(|e| e.to_string())?.unwrap_or_default(),
        };
        buffer.extend_from_slice(&chunk);
        while let Some(end) = find(&buffer, b"\n\n") {
            let event: Vec<u8> = buffer.drain(..end + 2).collect();
            let (name, data) = sse_event(&String::from_utf8_lossy(&event));
            match name.as_str() {
                "report" | "final" => {
                    statuses = parse_tests(data.as_bytes())?
                        .into_iter()
                        .map(|t| {
                            let ran = t.ran();
                            (t.id, ran)
                        })
                        .collect();
                }
                "change" => {
                    for test in parse_tests(data.as_bytes())? {
                        let ran = test.ran();
                        statuses.insert(test.id, ran);
                    }
                }
                _ => continue,
            }
            seen.note(statuses.values().filter(|done| **done).count());
        }
    }
}

/// Sightings in order; a new one only when the finished count moved.
#[derive(Default)]
struct Sightings(Vec<Seen>);

impl Sightings {
    fn last(&self) -> usize {
        self.0.last().map_or(0, |s| s.finished)
    }

    fn note(&mut self, finished: usize) {
        if self.0.is_empty() || finished != self.last() {
            self.0.push(Seen {
                at_ms: now_ms(),
                finished,
            });
        }
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

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The `event:` name (default `message`) and the joined `data:` lines of one event.
fn sse_event(text: &str) -> (String, String) {
    let mut name = "message".to_owned();
    let mut data: Vec<&str> = Vec::new();
    for line in text.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => name = value.to_owned(),
            "data" => data.push(value),
            _ => {}
        }
    }
    (name, data.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_sent_events_are_split_into_name_and_data() {
        let (name, data) = sse_event("event: change\nid: 3\ndata: {\"tests\":[]}\n\n");
        assert_eq!((name.as_str(), data.as_str()), ("change", "{\"tests\":[]}"));
        let (name, data) = sse_event(": keep-alive\n\n");
        assert_eq!((name.as_str(), data.as_str()), ("message", ""));
        let (_, data) = sse_event("data:a\ndata: b\n\n");
        assert_eq!(data, "a\nb");
    }

    #[test]
    fn a_report_is_read_for_finished_tests() {
        let body = br#"{"status":"Running","tests":[{"_id":"a","status":"Passed","duration":5},
            {"_id":"b","status":"Running"},{"_id":"c","status":"Skipped"}],"extra":1}"#;
        let tests = parse_tests(body).expect("readable");
        assert_eq!(finished(&tests), 1, "skipped tests have no moment");
        assert!(parse_tests(b"[").is_err());
    }
}
