//! Hand-written HTTP/1.1 upstreams for faults the simulator cannot play: an answer that
//! streams without end, a front that passes a start on and loses its answer, an upstream
//! that counts the calls in flight. One request per connection, always on 127.0.0.1:0.

use std::{future::Future, net::SocketAddr, sync::Arc};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// One request as received: the request line and the whole raw bytes.
pub struct RawRequest {
    pub line: String,
    pub bytes: Vec<u8>,
}

/// Reads one request (head, then a `Content-Length` body) or `None` if the peer closed.
pub async fn read_request(stream: &mut TcpStream) -> Option<RawRequest> {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut buf).await.ok().filter(|n| *n > 0)?;
        bytes.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while bytes.len() < head_end + length {
        let n = stream.read(&mut buf).await.ok().filter(|n| *n > 0)?;
        bytes.extend_from_slice(&buf[..n]);
    }
    let line = head.lines().next().unwrap_or_default().to_owned();
    Some(RawRequest { line, bytes })
}

/// Serves every connection to a fresh `127.0.0.1:0` listener with `handle`, each in its
/// own task, and returns the address.
pub async fn serve<F, Fut>(handle: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = Arc::new(handle);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(handle(stream));
        }
    });
    addr
}

/// `request` with `Connection: close` added after the request line, so one exchange
/// uses one connection.
fn closing(bytes: &[u8]) -> Vec<u8> {
    let line_end = bytes.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    let mut out = bytes[..line_end].to_vec();
    out.extend_from_slice(b"connection: close\r\n");
    out.extend_from_slice(&bytes[line_end..]);
    out
}

/// Sends `request` to `target` on a new connection and returns the whole answer.
pub async fn forward(target: SocketAddr, request: &RawRequest) -> Vec<u8> {
    let mut upstream = TcpStream::connect(target).await.unwrap();
    upstream.write_all(&closing(&request.bytes)).await.unwrap();
    let mut answer = Vec::new();
    // The answer ends when the upstream closes (the request asked it to).
    let _ = upstream.read_to_end(&mut answer).await;
    answer
}

/// Writes `answer` (a whole HTTP response) marked `Connection: close`, then closes.
pub async fn reply(mut stream: TcpStream, answer: &[u8]) {
    let _ = stream.write_all(&closing(answer)).await;
    let _ = stream.shutdown().await;
}

/// A complete `200` JSON answer.
pub fn json_answer(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
