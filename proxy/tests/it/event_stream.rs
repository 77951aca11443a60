//! Live streams served outside hyper (`server/event_stream.rs`), over raw sockets: a
//! connection whose first request opens a live stream is answered by Runboard's own
//! writer (chunked, `connection: close`), one whose first request was anything else stays
//! on hyper, and the two give the same events and the same JSON errors (no identity, a
//! foreign Host, over the rate limit, an unknown project). A head that never ends is
//! closed at the header timeout, one over 64 KiB gets 431, and shutdown ends the streams.

use std::time::Duration;

use runboard_proxy::config::AuthMode;
use runboard_shared::{Route, Target};
use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    common::{self, start},
    live::{self, live_run},
    paths::{live_path, request_line},
};

/// How long the server may take to answer or close (the timeouts under test are 1 s).
const DEADLINE: Duration = Duration::from_secs(15);
/// A run id the simulator does not know.
const SOME_RUN: &str = "67f8cb3fe236b8d41b7700ad";

/// A raw HTTP/1.1 connection to Runboard, read as far as the test asks.
struct Raw {
    stream: TcpStream,
    buffer: Vec<u8>,
}

/// An answer's head: status, and its header fields (names in lowercase) in order.
#[derive(Debug)]
struct Head {
    status: u16,
    fields: Vec<(String, String)>,
}

impl Head {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The fields, without those that differ between two answers by their moment or
    /// their connection's framing.
    fn comparable(&self) -> Vec<(String, String)> {
        let framing = ["date", "connection", "transfer-encoding", "retry-after"];
        self.fields
            .iter()
            .filter(|(n, _)| !framing.contains(&n.as_str()))
            .cloned()
            .collect()
    }
}

impl Raw {
    /// A new connection: its first request is the one the test sends next.
    async fn fresh(addr: std::net::SocketAddr) -> Self {
        Self {
            stream: TcpStream::connect(addr).await.unwrap(),
            buffer: Vec::new(),
        }
    }

    /// A connection that has already been answered one `GET /healthz`, kept alive: hyper
    /// serves whatever follows on it.
    async fn on_hyper(addr: std::net::SocketAddr) -> Self {
        let mut raw = Self::fresh(addr).await;
        raw.send(&format!(
            "{}\r\nHost: localhost\r\n\r\n",
            request_line("GET", &Target::Health.path())
        ))
        .await;
        let (head, _) = raw.answer().await;
        assert_eq!(head.status, 200, "{head:?}");
        assert_eq!(head.field("connection"), None, "kept alive: {head:?}");
        raw
    }

    async fn send(&mut self, text: &str) {
        self.stream.write_all(text.as_bytes()).await.unwrap();
    }

    /// Reads more bytes; false once the server closed.
    async fn more(&mut self) -> bool {
        let mut piece = [0u8; 4096];
        let n = tokio::time::timeout(DEADLINE, self.stream.read(&mut piece))
            .await
            .expect("the server answers within the deadline")
            .unwrap_or(0);
        self.buffer.extend_from_slice(&piece[..n]);
        n > 0
    }

    /// The bytes up to and including `delimiter`, once they came.
    async fn until(&mut self, delimiter: &[u8]) -> Vec<u8> {
        loop {
            if let Some(at) = self
                .buffer
                .windows(delimiter.len())
                .position(|w| w == delimiter)
            {
                return self.buffer.drain(..at + delimiter.len()).collect();
            }
            assert!(
                self.more().await,
                "closed before {delimiter:?}: {}",
                String::from_utf8_lossy(&self.buffer)
            );
        }
    }

    async fn exactly(&mut self, n: usize) -> Vec<u8> {
        while self.buffer.len() < n {
            assert!(self.more().await, "closed {n} bytes short");
        }
        self.buffer.drain(..n).collect()
    }

    async fn head(&mut self) -> Head {
        let text = String::from_utf8(self.until(b"\r\n\r\n").await).unwrap();
        let mut lines = text.lines();
        let status = lines.next().unwrap().split(' ').nth(1).unwrap();
        let fields = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Head {
            status: status.parse().unwrap(),
            fields,
        }
    }

    /// One whole answer with a `content-length`: its head and JSON body.
    async fn answer(&mut self) -> (Head, Value) {
        let head = self.head().await;
        let length = head
            .field("content-length")
            .unwrap_or_else(|| panic!("no content-length: {head:?}"))
            .parse()
            .unwrap();
        let body = self.exactly(length).await;
        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
        (head, body)
    }

    /// The next chunk of a chunked body (empty: the last chunk).
    async fn chunk(&mut self) -> Vec<u8> {
        let line = String::from_utf8(self.until(b"\r\n").await).unwrap();
        let size = usize::from_str_radix(line.trim_end(), 16).unwrap();
        let data = self.exactly(size).await;
        assert_eq!(self.exactly(2).await, b"\r\n");
        data
    }

    /// The first event of a chunked event stream (comments skipped), as its text.
    async fn first_event(&mut self) -> String {
        let mut text = String::new();
        loop {
            text.push_str(std::str::from_utf8(&self.chunk().await).unwrap());
            while let Some(end) = text.find("\n\n") {
                let block: String = text.drain(..end + 2).collect();
                if !block.starts_with(':') {
                    return block;
                }
            }
        }
    }

    /// Whether the server ends the body with its last chunk and closes, within the
    /// deadline, after what was read so far (events in between are skipped).
    async fn ends_cleanly(&mut self) -> bool {
        while self.more().await {}
        self.buffer.ends_with(b"0\r\n\r\n")
    }
}

/// `GET path` with `Host: host` and `extra` header lines (each ending in `\r\n`).
fn get(path: &str, host: &str, extra: &str) -> String {
    format!(
        "{}\r\nHost: {host}\r\n{extra}\r\n",
        request_line("GET", path)
    )
}

/// Sends `request` first on a fresh connection (served outside hyper) and then on a
/// kept-alive one (hyper's): both answers, whole.
async fn both_ways(addr: std::net::SocketAddr, request: &str) -> [(Head, Value); 2] {
    let mut ours = Raw::fresh(addr).await;
    ours.send(request).await;
    let ours = ours.answer().await;
    let mut hyper = Raw::on_hyper(addr).await;
    hyper.send(request).await;
    let hyper = hyper.answer().await;
    assert_eq!(ours.0.field("connection"), Some("close"), "{:?}", ours.0);
    assert_eq!(hyper.0.field("connection"), None, "{:?}", hyper.0);
    [ours, hyper]
}

/// The same status, fields and JSON body both ways, with the error `code`.
fn same_error(answers: &[(Head, Value); 2], status: u16, code: &str) {
    let [(ours, ours_body), (hyper, hyper_body)] = answers;
    assert_eq!(
        (ours.status, common::code(ours_body)),
        (status, code),
        "{ours:?} {ours_body}"
    );
    assert_eq!(ours.status, hyper.status);
    assert_eq!(ours_body, hyper_body);
    assert_eq!(ours.comparable(), hyper.comparable());
}

#[tokio::test]
async fn a_stream_opened_first_and_one_after_another_request_carry_the_same_events() {
    let (h, clock) = live::start(3_600_000, |c| c.live.max_streams_per_user = 0).await;
    let run = live_run(&h, &clock).await;
    let request = get(
        &live_path(&run),
        "localhost",
        "Accept: text/event-stream\r\n",
    );
    let mut ours = Raw::fresh(h.server.addr()).await;
    ours.send(&request).await;
    let ours_head = ours.head().await;
    let mut hyper = Raw::on_hyper(h.server.addr()).await;
    hyper.send(&request).await;
    let hyper_head = hyper.head().await;

    assert_eq!(ours_head.status, 200, "{ours_head:?}");
    assert_eq!(ours_head.field("transfer-encoding"), Some("chunked"));
    assert_eq!(ours_head.field("connection"), Some("close"));
    assert_eq!(hyper_head.field("connection"), None, "{hyper_head:?}");
    assert_eq!(ours_head.comparable(), hyper_head.comparable());
    assert_eq!(
        ours_head.field("content-type"),
        Some("text/event-stream"),
        "{ours_head:?}"
    );
    let (ours_event, hyper_event) = (ours.first_event().await, hyper.first_event().await);
    assert!(ours_event.starts_with("event: report\n"), "{ours_event}");
    assert_eq!(ours_event, hyper_event);
    let data = ours_event.lines().find_map(|l| l.strip_prefix("data: "));
    let report: Value = serde_json::from_str(data.unwrap()).unwrap();
    assert_eq!(report["runId"], run.as_str());
    h.stop().await;
}

#[tokio::test]
async fn errors_on_the_live_route_are_the_same_json_either_way() {
    let h = start(|c| c.limits.reads_per_minute = 2).await;
    let addr = h.server.addr();
    let other = Route::Live.fill(&["aaaaaaaaaaaaaaaaaaaaaaaa", SOME_RUN]);
    // A Host that is not Runboard's costs no allowance: it is refused before.
    let answers = both_ways(addr, &get(&other, "rebound.example", "")).await;
    same_error(&answers, 421, "misdirected");
    // Two reads allowed, both an unknown project; then the allowance is spent.
    let answers = both_ways(addr, &get(&other, "localhost", "")).await;
    same_error(&answers, 404, "unknown_project");
    let answers = both_ways(addr, &get(&other, "localhost", "")).await;
    same_error(&answers, 429, "rate_limited");
    assert!(
        answers[0].0.field("retry-after").is_some(),
        "{:?}",
        answers[0].0
    );
    h.stop().await;

    let h = start(|c| {
        c.auth.mode = AuthMode::Header;
        c.auth.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let answers = both_ways(h.server.addr(), &get(&live_path(SOME_RUN), "localhost", "")).await;
    same_error(&answers, 401, "unauthenticated");
    assert_eq!(h.stats().total, 0, "nothing reached the platform");
    h.stop().await;
}

#[tokio::test]
async fn a_live_head_that_never_ends_is_closed_at_the_header_timeout() {
    let h = start(|c| c.server.header_timeout = Duration::from_secs(1)).await;
    let mut raw = Raw::fresh(h.server.addr()).await;
    raw.send(&format!(
        "{}\r\nHost: localhost\r\nX-Slow: ",
        request_line("GET", &live_path(SOME_RUN))
    ))
    .await;
    while raw.more().await {}
    assert!(
        raw.buffer.is_empty(),
        "{}",
        String::from_utf8_lossy(&raw.buffer)
    );
    h.stop().await;
}

#[tokio::test]
async fn a_live_head_over_64_kib_gets_431() {
    let h = start(|_| {}).await;
    let mut raw = Raw::fresh(h.server.addr()).await;
    let big = "a".repeat(70 * 1024);
    raw.send(&format!(
        "{}\r\nHost: localhost\r\nX-Big: {big}\r\n",
        request_line("GET", &live_path(SOME_RUN))
    ))
    .await;
    let head = raw.head().await;
    assert_eq!(head.status, 431, "{head:?}");
    assert_eq!(head.field("content-length"), Some("0"));
    h.stop().await;
}

#[tokio::test]
async fn a_kept_alive_connection_serves_a_normal_get_then_a_stream() {
    let (h, clock) = live::start(3_600_000, |_| {}).await;
    let run = live_run(&h, &clock).await;
    let mut raw = Raw::on_hyper(h.server.addr()).await;
    raw.send(&get(&common::run_path(&run), "localhost", ""))
        .await;
    let (head, report) = raw.answer().await;
    assert_eq!(head.status, 200, "{head:?}");
    assert_eq!(report["runId"], run.as_str());
    raw.send(&get(&live_path(&run), "localhost", "")).await;
    let head = raw.head().await;
    assert_eq!(head.status, 200, "{head:?}");
    assert!(raw.first_event().await.starts_with("event: report\n"));
    h.stop().await;
}

#[tokio::test]
async fn shutdown_ends_the_streams_served_outside_hyper() {
    // A drain period (upstream timeout + 2 s) far longer than the hang check below.
    let (h, clock) = live::start(3_600_000, |c| {
        c.upstream.timeout = Duration::from_secs(60);
        c.live.max_streams_per_user = 0;
    })
    .await;
    let run = live_run(&h, &clock).await;
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut raw = Raw::fresh(h.server.addr()).await;
        raw.send(&get(&live_path(&run), "localhost", "")).await;
        assert_eq!(raw.head().await.status, 200);
        assert!(raw.first_event().await.starts_with("event: report\n"));
        streams.push(raw);
    }
    let common::Harness { sim, server, .. } = h;
    tokio::time::timeout(Duration::from_secs(10), server.shutdown())
        .await
        .expect("shutdown ends the streams instead of waiting for the drain period");
    for mut raw in streams {
        assert!(
            raw.ends_cleanly().await,
            "{}",
            String::from_utf8_lossy(&raw.buffer)
        );
    }
    sim.shutdown().await;
}
