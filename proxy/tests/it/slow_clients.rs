//! Slow and stalled clients over real sockets: connections that never finish their
//! headers, idle keep-alive connections and stalled bodies are closed by the server
//! within a bounded time, a normal request still goes through beside hundreds of them,
//! and beyond `server.max_connections` new connections wait instead of being served.
//! The timeouts are set short (1 s) because they are the subject; the deadlines that
//! wait for them are generous.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    common::{self, raw_request, start},
    paths::request_line,
};

/// The request line of a `jobs` call, the request every test here sends.
fn jobs_line() -> String {
    request_line("POST", &common::jobs_path())
}

/// How long the server may take to close what it should close (the timeout is 1 s).
const DEADLINE: Duration = Duration::from_secs(15);

fn short_timeouts(config: &mut runboard_proxy::Config) {
    config.server.header_timeout = Duration::from_secs(1);
    config.server.body_timeout = Duration::from_secs(1);
}

/// Reads until the server closes `stream`; panics if it is still open at the deadline.
async fn closed_by_server(mut stream: TcpStream, what: &str) -> Vec<u8> {
    let mut answer = Vec::new();
    match tokio::time::timeout(DEADLINE, stream.read_to_end(&mut answer)).await {
        Ok(_) => answer,
        Err(_) => panic!("{what}: still open after {DEADLINE:?}"),
    }
}

#[tokio::test]
async fn connections_that_never_finish_their_headers_are_closed() {
    let h = start(short_timeouts).await;
    let addr = h.server.addr();
    let mut stalled = Vec::new();
    for _ in 0..300 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            .await
            .unwrap();
        stalled.push(stream);
    }
    // A normal request goes through beside them.
    let (status, answer) = raw_request(
        addr,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let closing = stalled
        .into_iter()
        .map(|stream| tokio::spawn(closed_by_server(stream, "a stalled head")));
    for answer in futures_join(closing).await {
        let answer = String::from_utf8_lossy(&answer);
        assert!(!answer.contains(" 200 "), "a head never finished: {answer}");
    }
    assert_eq!(h.stats().total, 0);
    h.stop().await;
}

#[tokio::test]
async fn idle_keep_alive_connections_and_stalled_bodies_are_closed() {
    let h = start(short_timeouts).await;
    let addr = h.server.addr();

    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let answer = closed_by_server(idle, "an idle keep-alive connection").await;
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));

    let mut body = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{}\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"jobIds\":",
        jobs_line()
    );
    body.write_all(head.as_bytes()).await.unwrap();
    let answer = closed_by_server(body, "a stalled body").await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    assert_eq!(
        h.stats().total,
        0,
        "a half-sent body never reaches the upstream"
    );
    h.stop().await;
}

#[tokio::test]
async fn beyond_the_connection_cap_new_connections_wait_their_turn() {
    let h = start(|config| {
        short_timeouts(config);
        config.server.max_connections = 2;
    })
    .await;
    let addr = h.server.addr();
    let mut holders = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\n")
            .await
            .unwrap();
        holders.push(stream);
    }
    // The third connection is accepted by the kernel and served once a holder's head
    // times out and frees its place.
    let waiting = tokio::spawn(raw_request(
        addr,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    ));
    let (status, answer) = tokio::time::timeout(DEADLINE, waiting)
        .await
        .expect("served after a place became free")
        .unwrap();
    assert_eq!(status, 200, "{answer}");
    for holder in holders {
        closed_by_server(holder, "a connection holding a place").await;
    }
    h.stop().await;
}

/// A request deadline of 2 s, with pauses of up to 1 s allowed between body pieces (the
/// trickle below pauses 250 ms, so only the overall deadline can stop it).
fn request_deadline(config: &mut runboard_proxy::Config) {
    short_timeouts(config);
    config.server.request_read = Duration::from_secs(2);
}

/// A POST that announces a 1,000-byte body and sends the first bytes of it.
fn trickled_head() -> String {
    format!(
        "{}\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{",
        jobs_line()
    )
}

/// A connection to `addr` that has sent [`trickled_head`].
async fn trickler(addr: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(trickled_head().as_bytes()).await.unwrap();
    stream
}

/// Sends one more body byte every 250 ms (each well within the body timeout) until the
/// server closes the connection; its answer, if any, and how long that took. Panics if
/// the connection is still open at [`DEADLINE`].
async fn trickle(mut stream: TcpStream) -> (String, Duration) {
    let began = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut answer = Vec::new();
    let mut buffer = [0; 4096];
    let closed = async {
        loop {
            tokio::select! {
                read = stream.read(&mut buffer) => match read {
                    Ok(0) | Err(_) => break,
                    Ok(n) => answer.extend_from_slice(&buffer[..n]),
                },
                _ = tick.tick() => {
                    // Once the server has stopped reading, the write may fail; the read
                    // above then sees the close.
                    let _ = stream.write_all(b" ").await;
                }
            }
        }
    };
    if tokio::time::timeout(DEADLINE, closed).await.is_err() {
        panic!("a trickled body: still open after {DEADLINE:?}");
    }
    (
        String::from_utf8_lossy(&answer).into_owned(),
        began.elapsed(),
    )
}

/// Issue 18, finding 5: one body byte within every body timeout held a connection for
/// as long as the client liked. The whole request now has `server.request_read_ms`.
#[tokio::test]
async fn a_trickled_body_is_cut_off_at_the_request_deadline() {
    let h = start(request_deadline).await;
    let (answer, took) = trickle(trickler(h.server.addr()).await).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "{answer}"
    );
    assert!(took >= Duration::from_millis(1500), "cut after {took:?}");
    assert_eq!(
        h.stats().total,
        0,
        "a half-sent body never reaches the upstream"
    );
    h.stop().await;
}

/// Issue 18, finding 5: four trickling clients held all of `max_connections = 4`, and
/// `/healthz` went unanswered. Their places come free at the request deadline.
#[tokio::test]
async fn trickling_clients_give_their_places_back_at_the_deadline() {
    let h = start(|config| {
        request_deadline(config);
        config.server.max_connections = 4;
    })
    .await;
    let addr = h.server.addr();
    let mut tricklers = Vec::new();
    for _ in 0..4 {
        tricklers.push(tokio::spawn(trickle(trickler(addr).await)));
    }
    // Connected after the four, so it waits in the backlog behind them. Its wait ends
    // well before the tricklers give up (at `DEADLINE`), which would free places too.
    let (status, answer) = tokio::time::timeout(
        DEADLINE / 2,
        raw_request(
            addr,
            "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        ),
    )
    .await
    .expect("/healthz answered once the trickling clients were cut off");
    assert_eq!(status, 200, "{answer}");
    for (answer, _) in futures_join(tricklers.into_iter()).await {
        assert!(
            !answer.contains(" 200 "),
            "a trickled body was served: {answer}"
        );
    }
    h.stop().await;
}

/// The deadline is about reading requests: an answer that takes longer than it (a slow
/// platform here; a live stream alike) is not cut, and each request on a keep-alive
/// connection gets the whole deadline again.
#[tokio::test]
async fn slow_answers_and_keep_alive_requests_are_not_cut() {
    let h = start(|config| {
        request_deadline(config);
        config.upstream.timeout = Duration::from_secs(10);
    })
    .await;
    h.sim.sim.set_faults(runboard_sim::Faults {
        latency_ms: 2500,
        ..runboard_sim::Faults::default()
    });
    let (status, body) = h.post(&common::jobs_path(), &serde_json::json!({})).await;
    assert_eq!(status, 200, "an answer slower than the deadline: {body}");
    h.sim.sim.set_faults(runboard_sim::Faults::default());

    // Six requests 600 ms apart on one connection: 3 s together, more than the deadline,
    // each well within it.
    let mut stream = TcpStream::connect(h.server.addr()).await.unwrap();
    let request = format!(
        "{}\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}",
        jobs_line()
    );
    let mut tick = tokio::time::interval(Duration::from_millis(600));
    for i in 0..6 {
        tick.tick().await;
        stream.write_all(request.as_bytes()).await.unwrap();
        let head = tokio::time::timeout(DEADLINE, read_answer(&mut stream))
            .await
            .expect("answered");
        assert!(head.starts_with("HTTP/1.1 200"), "request {i}: {head}");
    }
    h.stop().await;
}

/// Reads one answer with a `content-length` from a keep-alive connection.
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let mut byte = [0; 1];
    loop {
        let n = stream.read(&mut byte).await.unwrap();
        assert_eq!(
            n,
            1,
            "closed mid-answer: {}",
            String::from_utf8_lossy(&answer)
        );
        answer.push(byte[0]);
        let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap());
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await.unwrap();
        return String::from_utf8_lossy(&answer).into_owned();
    }
}

/// Awaits every task, in order.
async fn futures_join<T: Send + 'static>(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}
