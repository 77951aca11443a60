//! Live report streams served without hyper. A viewer holds its connection for the whole
//! run; under hyper each connection keeps two 8 KiB buffers and its state (about 15 KiB
//! resident), which at 10,000 viewers would be most of the process. A connection whose
//! first bytes are `GET` of the live route is read here instead: its head parsed by
//! `httparse` (hyper's own parser) within the header timeout, answered by the same router
//! (every layer: Host check, identity, limits, headers), and the answer written as it
//! comes, chunked, on a connection that closes after it. A viewer then costs its socket,
//! this task and its answer's body; it keeps its place under `max_connections` as any
//! connection does. Anything else (and a head that comes too slowly to be looked at) goes
//! to hyper, which reads the same bytes: they are only peeked at here.

use std::{io, net::SocketAddr, sync::LazyLock, time::Duration};

use axum::{
    Router,
    body::{Body, HttpBody},
    extract::ConnectInfo,
    http::{
        HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, Version, header,
    },
};
use futures_util::StreamExt;
use hyper::body::Buf;
use runboard_shared::Route;
use tokio::{io::AsyncWriteExt, net::TcpStream, time::Instant};
use tower::ServiceExt;

/// Headers read at most, as hyper's default.
const MAX_HEADERS: usize = 100;
/// How long the first bytes are waited for before the connection goes to hyper anyway
/// (whose own header timer then starts): browsers send their request at once.
const SNIFF_WAIT: Duration = Duration::from_secs(1);

/// `GET ` and the live route's fixed start (`/runboard/live/`), from the route table.
static LIVE_GET: LazyLock<String> = LazyLock::new(|| {
    let template = Route::Live.template();
    let fixed = template.split('{').next().unwrap_or(template);
    format!("GET {fixed}")
});

/// Whether the connection's first bytes, looked at without taking them, are a `GET` of
/// the live route. `false` also when they do not come within [`SNIFF_WAIT`] (or
/// `header_timeout`, if shorter): hyper then serves the connection.
pub(super) async fn is_live_get(stream: &TcpStream, header_timeout: Duration) -> bool {
    let wanted = LIVE_GET.as_bytes();
    let mut first = [0u8; 64];
    let peeked = tokio::time::timeout(SNIFF_WAIT.min(header_timeout), stream.peek(&mut first));
    match peeked.await {
        Ok(Ok(n)) => first[..n].starts_with(wanted),
        _ => false,
    }
}

/// What the server's settings say about one stream connection.
#[derive(Clone, Copy)]
pub(super) struct Limits {
    /// The whole head must be in by then.
    pub(super) head_deadline: Instant,
    /// A write that takes longer (a client that stopped reading) closes the connection.
    pub(super) write_timeout: Duration,
    /// The largest head read; a larger one gets 431.
    pub(super) max_head: usize,
}

/// Serves the one request of a connection [`is_live_get`] chose, then closes it.
///
/// Reading the request and asking the router happen in a box of their own, so the task
/// that lives as long as the stream holds only the writing of the body.
pub(super) async fn serve(mut stream: TcpStream, router: Router, peer: SocketAddr, limits: Limits) {
    let Some(response) = Box::pin(answer(&mut stream, router, peer, limits)).await else {
        return;
    };
    if let Err(error) = write_response(&mut stream, response, limits).await {
        tracing::debug!(%peer, %error, "a live stream connection ended");
    }
    let _ = stream.shutdown().await;
}

/// The router's answer to the connection's request, with the request's version; `None`
/// when there is none to give (the head was refused, and that answered, or never came).
async fn answer(
    stream: &mut TcpStream,
    router: Router,
    peer: SocketAddr,
    limits: Limits,
) -> Option<(Response<Body>, Version)> {
    let mut request = match read_request(stream, limits).await {
        Ok(request) => request,
        Err(Refusal::Gone) => return None,
        Err(Refusal::Answer(status)) => {
            let _ = write_refusal(stream, status, limits.write_timeout).await;
            return None;
        }
    };
    let version = request.version();
    request.extensions_mut().insert(ConnectInfo(peer));
    let Ok(response) = router.oneshot(request).await;
    Some((response, version))
}

/// Why no request came out of a head.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// Closed, failed or too slow: nothing to answer.
    Gone,
    /// Answered with this status (and an empty body), then closed.
    Answer(StatusCode),
}

/// Reads and parses the head; a `GET` without a body becomes the router's request.
async fn read_request(stream: &mut TcpStream, limits: Limits) -> Result<Request<Body>, Refusal> {
    let mut head = Vec::new();
    loop {
        let read = tokio::time::timeout_at(limits.head_deadline, read_more(stream, &mut head));
        match read.await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return Err(Refusal::Gone),
            Ok(Ok(_)) => {}
        }
        if let Some(request) = parse(&head)? {
            return Ok(request);
        }
        if head.len() >= limits.max_head {
            return Err(Refusal::Answer(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
        }
    }
}

/// Appends what the socket has next (up to 4 KiB more); the count, 0 at its end.
async fn read_more(stream: &mut TcpStream, head: &mut Vec<u8>) -> io::Result<usize> {
    head.reserve(4096);
    loop {
        stream.readable().await?;
        match stream.try_read_buf(head) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            read => return read,
        }
    }
}

/// The request in `head`, `None` while it is incomplete. Only a `GET` of HTTP/1.x with
/// no body is taken (a viewer sends nothing else); what follows the head is ignored, as
/// the connection closes after one answer.
fn parse(head: &[u8]) -> Result<Option<Request<Body>>, Refusal> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    match parsed.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Refusal::Answer(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
        }
        Err(_) => return Err(bad_request()),
    }
    let version = match parsed.version {
        Some(0) => Version::HTTP_10,
        Some(1) => Version::HTTP_11,
        _ => return Err(bad_request()),
    };
    if parsed.method != Some(Method::GET.as_str()) {
        return Err(bad_request());
    }
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(parsed.path.unwrap_or_default())
        .version(version);
    for field in parsed.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes()).map_err(|_| bad_request())?;
        let has_body = name == header::TRANSFER_ENCODING
            || (name == header::CONTENT_LENGTH && field.value != b"0");
        if has_body {
            return Err(bad_request());
        }
        let value = HeaderValue::from_bytes(field.value).map_err(|_| bad_request())?;
        request = request.header(name, value);
    }
    request
        .body(Body::empty())
        .map(Some)
        .map_err(|_| bad_request())
}

fn bad_request() -> Refusal {
    Refusal::Answer(StatusCode::BAD_REQUEST)
}

/// How the body is framed on the wire.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// `Content-Length`: the size is known.
    Length,
    /// HTTP/1.1 with a body of unknown size (an event stream).
    Chunked,
    /// HTTP/1.0 with a body of unknown size: it ends with the connection.
    UntilClose,
}

/// Writes the head, then each piece of the body as it comes, until it ends, the client
/// closes the connection (noticed at once, so its stream's place frees at once) or a
/// write stalls past the write timeout.
async fn write_response(
    stream: &mut TcpStream,
    (response, version): (Response<Body>, Version),
    limits: Limits,
) -> io::Result<()> {
    let (parts, body) = response.into_parts();
    let length = body.size_hint().exact();
    let framing = match (length, version) {
        (Some(_), _) => Framing::Length,
        (None, Version::HTTP_10) => Framing::UntilClose,
        (None, _) => Framing::Chunked,
    };
    // The head and the answer's headers are dropped once written: a stream lives long.
    let head = head(parts.status, &parts.headers, length, framing, version);
    drop(parts);
    Box::pin(write(stream, head.as_slice(), limits.write_timeout)).await?;
    drop(head);
    let mut pieces = body.into_data_stream();
    loop {
        let piece = tokio::select! {
            piece = pieces.next() => piece,
            closed = client_closed(stream) => {
                return closed;
            }
        };
        let Some(piece) = piece else { break };
        let piece = piece.map_err(io::Error::other)?;
        if piece.is_empty() {
            continue;
        }
        // The piece is the one copy every viewer shares (`live/sse.rs`): it is written
        // from where it is, between its chunk's size line and end.
        let size = match framing {
            Framing::Chunked => format!("{:x}\r\n", piece.len()),
            Framing::Length | Framing::UntilClose => String::new(),
        };
        let end: &[u8] = if framing == Framing::Chunked {
            b"\r\n"
        } else {
            b""
        };
        let chunk = size.as_bytes().chain(piece).chain(end);
        write(stream, chunk, limits.write_timeout).await?;
    }
    if framing == Framing::Chunked {
        write(stream, &b"0\r\n\r\n"[..], limits.write_timeout).await?;
    }
    Ok(())
}

/// Resolves once the client has closed its side (anything it sends meanwhile is dropped:
/// one request per connection here).
async fn client_closed(stream: &TcpStream) -> io::Result<()> {
    let mut sink = [0u8; 64];
    loop {
        stream.readable().await?;
        match stream.try_read(&mut sink) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
}

/// The status line and headers: the router's, less the hop-by-hop ones this connection
/// decides (`connection`, `keep-alive`, framing), plus `date` as hyper writes it.
fn head(
    status: StatusCode,
    headers: &HeaderMap,
    length: Option<u64>,
    framing: Framing,
    version: Version,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    let version = if version == Version::HTTP_10 {
        "HTTP/1.0"
    } else {
        "HTTP/1.1"
    };
    out.extend_from_slice(
        format!(
            "{version} {} {}\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )
        .as_bytes(),
    );
    let hop_by_hop = [
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::CONTENT_LENGTH,
        HeaderName::from_static("keep-alive"),
    ];
    for (name, value) in headers.iter().filter(|(n, _)| !hop_by_hop.contains(n)) {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !headers.contains_key(header::DATE) {
        let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT");
        out.extend_from_slice(format!("date: {date}\r\n").as_bytes());
    }
    match framing {
        Framing::Length => {
            let length = length.unwrap_or(0);
            out.extend_from_slice(format!("content-length: {length}\r\n").as_bytes());
        }
        Framing::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        Framing::UntilClose => {}
    }
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out
}

/// A refused head's answer: the status, no body.
async fn write_refusal(
    stream: &mut TcpStream,
    status: StatusCode,
    timeout: Duration,
) -> io::Result<()> {
    let head = head(
        status,
        &HeaderMap::new(),
        Some(0),
        Framing::Length,
        Version::HTTP_11,
    );
    write(stream, head.as_slice(), timeout).await?;
    stream.shutdown().await
}

/// Writes all of `bytes` (in as few system calls as the pieces allow), or fails once
/// `timeout` passes without it: a client that stopped reading.
async fn write(stream: &mut TcpStream, mut bytes: impl Buf, timeout: Duration) -> io::Result<()> {
    match tokio::time::timeout(timeout, stream.write_all_buf(&mut bytes)).await {
        Ok(written) => written,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client stopped reading",
        )),
    }
}
#[cfg(test)]
mod size_probe {
    use super::*;
    #[tokio::test]
    async fn probe() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (mut server, peer) = listener.accept().await.unwrap();
        let limits = Limits { head_deadline: Instant::now(), write_timeout: Duration::from_secs(1), max_head: 10 };
        let fut = serve(client, Router::new(), peer, limits);
        eprintln!("PROBE serve {}", std::mem::size_of_val(&fut));
        let response = Response::new(Body::empty());
        let w = write_response(&mut server, (response, Version::HTTP_11), limits);
        eprintln!("PROBE write_response {}", std::mem::size_of_val(&w));
        drop(w);
        let mut s2 = TcpStream::connect(addr).await.unwrap();
        let r = read_request(&mut s2, limits);
        eprintln!("PROBE read_request {}", std::mem::size_of_val(&r));
        drop(r);
        let p = is_live_get(&s2, Duration::from_secs(1));
        eprintln!("PROBE is_live_get {}", std::mem::size_of_val(&p));
        let c = client_closed(&s2);
        eprintln!("PROBE client_closed {}", std::mem::size_of_val(&c));
        let wr = write(&mut server, &b"x"[..], Duration::from_secs(1));
        eprintln!("PROBE write {}", std::mem::size_of_val(&wr));
    }
}
