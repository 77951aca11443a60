//! One stream viewer on a bare TCP socket: it sends the `EventSource` request, reads the
//! answer's head, then reads the body into one buffer per worker thread (not per viewer)
//! and notes `(when, which event)` for each event; only the first viewer to see an event
//! keeps its data, for the [`EventBook`].

use std::{cell::RefCell, net::SocketAddr, sync::Arc, time::Duration};

use runboard_shared::LiveEventName;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::Semaphore,
    time::Instant,
};

use super::{
    book::{Entry, EventBook},
    scan::{Dechunk, Event, Events, Reader, ScanError},
};
use crate::{BenchError, compare::viewers::now_ms};

/// The longest answer head read.
const MAX_HEAD: usize = 16 * 1024;
/// How long connecting and reading the head may take once a viewer's turn came.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// Connections being opened at once: the rest wait their turn in the client, so
/// `runboard`'s listen backlog never overflows.
const OPENING_AT_ONCE: usize = 128;
/// The read buffer each worker thread lends its viewers.
const READ_BUFFER: usize = 64 * 1024;

thread_local! {
    static BUFFER: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_BUFFER].into_boxed_slice());
}

/// Where viewers connect and the request they send, built once for all of them.
#[derive(Debug)]
pub(crate) struct StreamRequest {
    addr: SocketAddr,
    bytes: Box<[u8]>,
}

impl StreamRequest {
    /// `GET` of `url` (`http://IP:PORT/PATH`) as a browser's `EventSource` sends it.
    pub(crate) fn new(url: &str) -> Result<Self, BenchError> {
        let invalid = || BenchError::Options(format!("{url} is not http://IP:PORT/PATH"));
        let rest = url.strip_prefix("http://").ok_or_else(invalid)?;
        let (host, path) = rest.split_at(rest.find('/').ok_or_else(invalid)?);
        let addr = host.parse().map_err(|_| invalid())?;
        let bytes = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\
             Cache-Control: no-cache\r\n\r\n"
        );
        Ok(Self {
            addr,
            bytes: bytes.into_bytes().into_boxed_slice(),
        })
    }
}

/// One event a viewer received.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Arrival {
    /// Milliseconds since the epoch.
    pub(crate) at_ms: f64,
    pub(crate) entry: Entry,
    pub(crate) is_final: bool,
}

/// What the whole crowd shares: the book, and the gate that bounds connections being
/// opened at once (the rest wait their turn, not in the server's listen backlog).
#[derive(Debug)]
pub(crate) struct Crowd {
    pub(crate) request: StreamRequest,
    pub(crate) book: EventBook,
    pub(crate) opening: Semaphore,
}

impl Crowd {
    /// A crowd for `request`, opening at most [`OPENING_AT_ONCE`] connections at a time.
    pub(crate) fn new(request: StreamRequest) -> Arc<Self> {
        Arc::new(Self {
            request,
            book: EventBook::default(),
            opening: Semaphore::new(OPENING_AT_ONCE),
        })
    }
}

/// One viewer: reads until the run is final (a whole `final` report, or `end` after the
/// `change` that made it final), the end of the stream or `deadline`; every event it
/// received, in order (`end` as a final arrival of the entry before it).
pub(crate) async fn watch(crowd: &Crowd, deadline: Instant) -> Result<Vec<Arrival>, String> {
    let opened = tokio::time::timeout_at(deadline, open(crowd)).await;
    let Ok(opened) = opened else {
        return Ok(Vec::new());
    };
    let (stream, chunked, early) = opened?;
    let mut viewer = Viewer {
        book: &crowd.book,
        arrivals: Vec::new(),
        entry: None,
        ended: false,
    };
    let mut dechunk = Dechunk::new(chunked);
    let mut events = Events::default();
    let mut feed = |bytes: &[u8], viewer: &mut Viewer<'_>| {
        dechunk.feed(bytes, |body| events.feed(body, viewer))?;
        Ok::<_, ScanError>(dechunk.is_done())
    };
    let mut over = feed(&early, &mut viewer).map_err(|e| e.to_string())?;
    while !over && !viewer.ended {
        match tokio::time::timeout_at(deadline, stream.readable()).await {
            Err(_) => break,
            Ok(ready) => ready.map_err(|e| e.to_string())?,
        }
        over = BUFFER.with_borrow_mut(|buffer| match stream.try_read(buffer) {
            Ok(0) => Ok(true),
            Ok(n) => feed(&buffer[..n], &mut viewer).map_err(|e| e.to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(e.to_string()),
        })?;
    }
    Ok(viewer.arrivals)
}

/// Connects (when its turn comes), sends the request and reads the head: the socket,
/// whether the body is chunked, and the body bytes that came with the head.
async fn open(crowd: &Crowd) -> Result<(TcpStream, bool, Vec<u8>), String> {
    let _turn = crowd.opening.acquire().await.map_err(|e| e.to_string())?;
    let opened = tokio::time::timeout(CONNECT_TIMEOUT, async {
        let mut stream = TcpStream::connect(crowd.request.addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        stream
            .write_all(&crowd.request.bytes)
            .await
            .map_err(|e| format!("send: {e}"))?;
        let (chunked, early) = read_head(&mut stream).await?;
        Ok::<_, String>((stream, chunked, early))
    })
    .await;
    opened.unwrap_or_else(|_| Err(format!("no answer head within {CONNECT_TIMEOUT:?}")))
}

/// Reads up to the blank line after the headers; a status other than 200 is an error.
async fn read_head(stream: &mut TcpStream) -> Result<(bool, Vec<u8>), String> {
    let mut head = Vec::with_capacity(1024);
    let end = loop {
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if head.len() > MAX_HEAD {
            return Err("an answer head over 16 KiB".to_owned());
        }
        let mut piece = [0u8; 1024];
        let n = stream
            .read(&mut piece)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("closed before the answer head".to_owned());
        }
        head.extend_from_slice(&piece[..n]);
    };
    let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    let status = text.split_whitespace().nth(1).unwrap_or_default();
    if status != "200" {
        let body = String::from_utf8_lossy(&head[end..]);
        return Err(format!("stream answered {status}: {}", body.trim()));
    }
    let chunked = text
        .lines()
        .any(|l| l.starts_with("transfer-encoding:") && l.contains("chunked"));
    Ok((chunked, head[end..].to_vec()))
}

/// One viewer's side of the scan: notes arrivals, hands first sightings to the book.
struct Viewer<'a> {
    book: &'a EventBook,
    arrivals: Vec<Arrival>,
    /// The current event's entry, once its id is read.
    entry: Option<Entry>,
    ended: bool,
}

impl Reader for Viewer<'_> {
    fn wants_data(&mut self, name: Option<LiveEventName>, id: Option<&str>) -> bool {
        match (name, id) {
            (Some(LiveEventName::Failure), _) => true,
            (
                Some(name @ (LiveEventName::Report | LiveEventName::Change | LiveEventName::Final)),
                Some(id),
            ) => {
                let claimed = self.book.claim(name, id);
                self.entry = claimed.map(|(entry, _)| entry);
                claimed.is_some_and(|(_, first)| first)
            }
            _ => false,
        }
    }

    fn event(&mut self, event: Event<'_>) -> Result<(), ScanError> {
        let entry = self.entry.take();
        match event.name {
            Some(LiveEventName::Failure) => Err(ScanError::Failure(
                String::from_utf8_lossy(event.data.unwrap_or_default()).into_owned(),
            )),
            // The report this viewer holds is the final one (it came as a `change`).
            Some(LiveEventName::End) => {
                if let Some(&last) = self.arrivals.last() {
                    self.arrivals.push(Arrival {
                        at_ms: now_ms(),
                        is_final: true,
                        ..last
                    });
                }
                self.ended = true;
                Ok(())
            }
            Some(name @ (LiveEventName::Report | LiveEventName::Change | LiveEventName::Final)) => {
                let Some(entry) = entry else {
                    return Ok(());
                };
                if let Some(data) = event.data {
                    self.book.read(entry, name, data);
                }
                let is_final = name == LiveEventName::Final;
                self.arrivals.push(Arrival {
                    at_ms: now_ms(),
                    entry,
                    is_final,
                });
                self.ended = is_final;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
