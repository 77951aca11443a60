//! Live report streams served outside hyper, for their memory: hyper keeps a read buffer
//! and write buffers for every connection, about 8 KiB each however quiet the stream,
//! and ten thousand viewers of one run held 200 MiB that way. Here a connection's first
//! request head is read with a small buffer (`httparse`, with hyper's limits: the header
//! timeout and the request deadline, 431 above 64 KiB); a `GET` of the live route (as
//! `shared`'s [`Route::Live`] matches it) then goes through the same router, every layer
//! included (Host check, identity, rate limit, key scan, metrics, trace), and its answer
//! is written to the socket here: the head by hand, then each event as the shared bytes
//! every viewer sends ([`write`]), until the stream ends or the client leaves. Anything
//! else is hyper's, with the bytes read so far put back in front of the socket
//! ([`Rewind`]). A keep-alive connection whose *later* request is a live stream stays on
//! hyper: only first requests are read here, which is what browsers' `EventSource` sends
//! on a connection of its own in practice.

mod write;

use std::{net::SocketAddr, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{HeaderName, HeaderValue, Method, Request, StatusCode, Version, header},
};
use runboard_shared::Route;
use tokio::{io::AsyncReadExt, net::TcpStream, sync::watch, time::Instant};
use tower::ServiceExt;

use super::{MAX_HEAD_BYTES, rewind::Rewind};

/// Header lines read at most, as hyper's default; a head with more is hyper's to refuse.
const MAX_HEADERS: usize = 100;
/// The first read: a browser's `EventSource` head, cookies and all, fits in most cases.
const FIRST_READ: usize = 2048;
/// Each later read of a head that did not fit.
const MORE_READ: usize = 8192;

/// What came of a connection's first request.
pub(super) enum First {
    /// Answered here (an error written whole), or closed.
    Done,
    /// A live stream, its head written: [`stream`] writes its events next. A separate
    /// step, so the task of each of 10,000 viewers holds only what writing events takes
    /// (the head's reading and the router's call are done and gone).
    Stream(TcpStream, Body),
    /// Not a live stream: hyper's, with the bytes read so far in front of the socket.
    Hyper(Rewind<TcpStream>),
}

/// What reading and serving a first request here needs of its connection.
pub(super) struct Connection {
    pub(super) peer: SocketAddr,
    pub(super) router: Router,
    /// When the head must be in: the header timeout or the request deadline, first due.
    pub(super) head_deadline: Instant,
    /// The write timeout: a client that stops reading is dropped after this long.
    pub(super) idle_timeout: Duration,
    /// Becomes `true` when the server stops: a head still on its way is not waited for.
    pub(super) stopping: watch::Receiver<bool>,
}

/// Reads the first request head of `socket` and answers it when it opens a live stream
/// (the stream's events are [`stream`]'s); anything else is handed back for hyper.
pub(super) async fn first_request(mut socket: TcpStream, mut connection: Connection) -> First {
    let mut buffer = Vec::with_capacity(FIRST_READ);
    let request = loop {
        let want = if buffer.is_empty() {
            FIRST_READ
        } else {
            MORE_READ
        };
        let read = tokio::select! {
            read = tokio::time::timeout_at(connection.head_deadline, read_more(&mut socket, &mut buffer, want)) => read,
            _ = connection.stopping.wait_for(|stopping| *stopping) => return First::Done,
        };
        match read {
            Ok(Ok(0) | Err(_)) | Err(_) => return First::Done,
            Ok(Ok(_)) => {}
        }
        match parse(&buffer, connection.peer) {
            Head::Incomplete if buffer.len() > MAX_HEAD_BYTES => {
                write::too_large(socket, connection.idle_timeout).await;
                return First::Done;
            }
            Head::Incomplete => {}
            Head::Other => return First::Hyper(Rewind::new(buffer, socket)),
            Head::Live(request) => break request,
        }
    };
    drop(buffer);
    let response = match connection.router.oneshot(*request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if response.status() == StatusCode::OK {
        if let Some(body) = write::stream_head(&mut socket, response, connection.idle_timeout).await
        {
            return First::Stream(socket, body);
        }
    } else {
        write::whole(&mut socket, response, connection.idle_timeout).await;
        write::close(socket).await;
    }
    First::Done
}

/// Writes a live stream's events as they come, until it ends or the client leaves; then
/// closes the connection.
pub(super) async fn stream(mut socket: TcpStream, body: Body, idle_timeout: Duration) {
    let (mut reader, mut writer) = socket.split();
    if write::pieces(&mut reader, &mut writer, body, idle_timeout)
        .await
        .is_ok()
    {
        write::close(socket).await;
    }
}

/// Reads up to `want` more bytes onto `buffer`; how many came (0: the client closed).
async fn read_more(
    socket: &mut TcpStream,
    buffer: &mut Vec<u8>,
    want: usize,
) -> std::io::Result<usize> {
    let start = buffer.len();
    buffer.resize(start + want, 0);
    let read = socket.read(&mut buffer[start..]).await;
    buffer.truncate(start + *read.as_ref().unwrap_or(&0));
    read
}

/// A first request head, as far as it came.
enum Head {
    /// Not whole yet.
    Incomplete,
    /// Whole, and anything but a plain `GET` of the live route: hyper serves it (and
    /// answers a broken head as it always has).
    Other,
    /// A `GET` of the live route, ready for the router.
    Live(Box<Request<Body>>),
}

/// Reads `bytes` as a request head. A live stream must be HTTP/1.1 (its answer is
/// chunked), carry no body, and be all the client sent (nothing pipelined after it).
fn parse(bytes: &[u8], peer: SocketAddr) -> Head {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut head = httparse::Request::new(&mut headers);
    match head.parse(bytes) {
        Ok(httparse::Status::Partial) => Head::Incomplete,
        Ok(httparse::Status::Complete(length)) if length == bytes.len() => {
            live_request(&head, peer).map_or(Head::Other, |r| Head::Live(Box::new(r)))
        }
        Ok(httparse::Status::Complete(_)) | Err(_) => Head::Other,
    }
}

/// The request for the router, as hyper would have built it (with the peer address the
/// auth checks read), when `head` is a `GET` of the live route without a body.
fn live_request(head: &httparse::Request<'_, '_>, peer: SocketAddr) -> Option<Request<Body>> {
    if head.method != Some(Method::GET.as_str()) || head.version != Some(1) {
        return None;
    }
    let target = head.path?;
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    Route::Live.match_path(path)?;
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(target)
        .version(Version::HTTP_11)
        .body(Body::empty())
        .ok()?;
    for field in head.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes()).ok()?;
        if name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING {
            return None;
        }
        let value = HeaderValue::from_bytes(field.value).ok()?;
        request.headers_mut().append(name, value);
    }
    request.extensions_mut().insert(ConnectInfo(peer));
    Some(request)
}

#[cfg(test)]
mod tests {
    use runboard_shared::{ProjectId, RunId, Target};

    use super::*;

    fn live_path() -> String {
        Target::Live(
            ProjectId::parse("p1").unwrap(),
            RunId::parse("r1").unwrap(),
            Some("\"tag\"".to_owned()),
        )
        .path()
    }

    fn peer() -> SocketAddr {
        "127.0.0.1:9".parse().unwrap()
    }

    fn kind(head: &str) -> &'static str {
        match parse(head.as_bytes(), peer()) {
            Head::Incomplete => "incomplete",
            Head::Other => "other",
            Head::Live(_) => "live",
        }
    }

    #[test]
    fn only_a_whole_bodiless_http11_get_of_the_live_route_is_served_here() {
        let live = live_path();
        let check = |head: String, expected: &str| assert_eq!(kind(&head), expected, "{head}");
        check(format!("GET {live} HTTP/1.1\r\nHost: a\r\n\r\n"), "live");
        check(format!("GET {live} HTTP/1.1\r\nHost: a\r\n"), "incomplete");
        check(format!("GET {live} HTTP/1.0\r\nHost: a\r\n\r\n"), "other");
        check(format!("HEAD {live} HTTP/1.1\r\nHost: a\r\n\r\n"), "other");
        check(format!("POST {live} HTTP/1.1\r\nHost: a\r\n\r\n"), "other");
        check(
            format!("GET {live} HTTP/1.1\r\nContent-Length: 2\r\n\r\n{{}}"),
            "other",
        );
        check(
            format!("GET {live} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            "other",
        );
        check(
            format!("GET {live} HTTP/1.1\r\n\r\nGET {live} HTTP/1.1\r\n\r\n"),
            "other",
        );
        check(
            format!("GET {} HTTP/1.1\r\n\r\n", Target::Health.path()),
            "other",
        );
        check("NOT HTTP\r\n\r\n".to_owned(), "other");
    }

    #[test]
    fn the_request_keeps_the_target_the_headers_and_the_peer() {
        let live = live_path();
        let head = format!("GET {live} HTTP/1.1\r\nHost: a\r\nLast-Event-ID: 1.2\r\n\r\n");
        let Head::Live(request) = parse(head.as_bytes(), peer()) else {
            panic!("not live");
        };
        assert_eq!(request.uri().to_string(), live);
        assert_eq!(request.headers()["last-event-id"], "1.2");
        assert_eq!(request.headers()["host"], "a");
        let ConnectInfo(addr) = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .unwrap();
        assert_eq!(*addr, peer());
    }
}
