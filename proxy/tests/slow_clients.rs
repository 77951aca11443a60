//! Slow and stalled clients over real sockets: connections that never finish their
//! headers, idle keep-alive connections and stalled bodies are closed by the server
//! within a bounded time, a normal request still goes through beside hundreds of them,
//! and beyond `server.max_connections` new connections wait instead of being served.
//! The timeouts are set short (1 s) because they are the subject; the deadlines that
//! wait for them are generous.

mod common;

use std::time::Duration;

use common::{PROJECT, raw_request, start};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

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
        "POST /api/jobs/{PROJECT} HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"jobIds\":"
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
