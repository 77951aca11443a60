//! Writing an answer to a live-stream connection without hyper: the head by hand, then
//! the event stream as HTTP/1.1 chunks (each chunk the very bytes every viewer shares,
//! framed by a size line, in one vectored write), or an error answer whole with its
//! `Content-Length`. Each write has the write timeout; the connection closes after the
//! answer.

use std::{
    io::{self, IoSlice},
    time::Duration,
};

use axum::{
    body::{Body, to_bytes},
    http::{HeaderMap, StatusCode, header},
    response::Response,
};
use futures_util::StreamExt;
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::TcpStream,
};

/// The largest error answer written whole (Runboard's JSON errors are far smaller).
const WHOLE_LIMIT: usize = 64 * 1024;
/// After a 431, how long and how much of the rest of the head is read and dropped, so
/// the close does not reset the connection before the client reads the answer.
const LINGER: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 256 * 1024;

/// How the body after a head is delimited.
enum Framing {
    Chunked,
    Length(usize),
}

/// Writes the head of a `200` answer whose body is sent in chunks ([`pieces`]); the body,
/// unless the client is gone. The response's headers are dropped here, not held by the
/// stream.
pub(super) async fn stream_head(
    socket: &mut TcpStream,
    response: Response,
    timeout: Duration,
) -> Option<Body> {
    let (parts, body) = response.into_parts();
    let head = head(parts.status, &parts.headers, &Framing::Chunked);
    write_all(socket, &mut [IoSlice::new(&head)], timeout)
        .await
        .ok()
        .map(|()| body)
}

/// The body's pieces as chunks as they come while the client stays, and the last chunk
/// when the body ends: `Ok` then, `Err` when the client closed its side (a browser tab
/// closed), stopped reading for `timeout`, or the body failed.
pub(super) async fn pieces<R, W>(
    reader: &mut R,
    writer: &mut W,
    body: Body,
    timeout: Duration,
) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut frames = body.into_data_stream();
    // A live stream's client sends nothing more: a read that ends is the client gone.
    let mut ignored = [0u8; 16];
    loop {
        let frame = tokio::select! {
            frame = frames.next() => frame,
            read = reader.read(&mut ignored) => match read {
                Ok(0) | Err(_) => return Err(io::ErrorKind::ConnectionAborted.into()),
                Ok(_) => continue,
            },
        };
        match frame {
            Some(Ok(bytes)) if bytes.is_empty() => {}
            Some(Ok(bytes)) => {
                let size = format!("{:x}\r\n", bytes.len());
                let mut parts = [
                    IoSlice::new(size.as_bytes()),
                    IoSlice::new(&bytes),
                    IoSlice::new(b"\r\n"),
                ];
                write_all(writer, &mut parts, timeout).await?;
            }
            Some(Err(_)) => return Err(io::ErrorKind::Other.into()),
            None => return write_all(writer, &mut [IoSlice::new(b"0\r\n\r\n")], timeout).await,
        }
    }
}

/// Writes an answer whole, with its `Content-Length` (the client learns the connection
/// closes after it).
pub(super) async fn whole(socket: &mut TcpStream, response: Response, timeout: Duration) {
    let (parts, body) = response.into_parts();
    let Ok(body) = to_bytes(body, WHOLE_LIMIT).await else {
        return;
    };
    let head = head(parts.status, &parts.headers, &Framing::Length(body.len()));
    let mut all = [IoSlice::new(&head), IoSlice::new(&body)];
    let _ = write_all(socket, &mut all, timeout).await;
}

/// Answers a head over the limit with 431, as hyper does, and closes.
pub(super) async fn too_large(mut socket: TcpStream, timeout: Duration) {
    let head = head(
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        &HeaderMap::new(),
        &Framing::Length(0),
    );
    if write_all(&mut socket, &mut [IoSlice::new(&head)], timeout)
        .await
        .is_err()
    {
        return;
    }
    let _ = socket.shutdown().await;
    // The client may still be sending its head; closing with it unread would reset the
    // connection, and the client could lose the 431 before it read it.
    let mut drained = 0;
    // On the heap: an array here would make every connection's task this much larger.
    let mut sink = vec![0u8; 4096];
    let _ = tokio::time::timeout(LINGER, async {
        while drained < LINGER_BYTES {
            match socket.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    })
    .await;
}

/// Ends the connection: the client reads the end of the answer, then the close.
pub(super) async fn close(mut socket: TcpStream) {
    let _ = socket.shutdown().await;
}

/// The answer's head: status line, the router's headers (framing ones left out), `date`,
/// the framing and `connection: close`.
fn head(status: StatusCode, headers: &HeaderMap, framing: &Framing) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        if name == header::CONTENT_LENGTH
            || name == header::TRANSFER_ENCODING
            || name == header::CONNECTION
        {
            continue;
        }
        field(&mut out, name.as_str(), value.as_bytes());
    }
    if !headers.contains_key(header::DATE) {
        let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT");
        field(&mut out, "date", date.to_string().as_bytes());
    }
    match framing {
        Framing::Chunked => field(&mut out, "transfer-encoding", b"chunked"),
        Framing::Length(length) => field(&mut out, "content-length", length.to_string().as_bytes()),
    }
    field(&mut out, "connection", b"close");
    out.extend_from_slice(b"\r\n");
    out
}

fn field(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Writes every byte of `parts` (vectored: one system call for a chunk and its framing
/// when the socket takes it all), failing after `timeout`.
async fn write_all<W: AsyncWrite + Unpin>(
    writer: &mut W,
    mut parts: &mut [IoSlice<'_>],
    timeout: Duration,
) -> io::Result<()> {
    let written = tokio::time::timeout(timeout, async {
        while !parts.is_empty() {
            let n = writer.write_vectored(parts).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            IoSlice::advance_slices(&mut parts, n);
        }
        Ok(())
    })
    .await;
    written.unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn a_head_names_its_framing_and_leaves_out_the_routers() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("99"));
        headers.insert(header::DATE, HeaderValue::from_static("then"));
        let text = String::from_utf8(head(StatusCode::OK, &headers, &Framing::Chunked)).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ndate: then\r\n\
             transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        );
        let text = String::from_utf8(head(
            StatusCode::TOO_MANY_REQUESTS,
            &HeaderMap::new(),
            &Framing::Length(12),
        ))
        .unwrap();
        assert!(
            text.starts_with("HTTP/1.1 429 Too Many Requests\r\ndate: "),
            "{text}"
        );
        assert!(
            text.ends_with(" GMT\r\ncontent-length: 12\r\nconnection: close\r\n\r\n"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn each_piece_is_one_chunk_and_the_body_ends_with_the_last_chunk() {
        let (client, server) = tokio::io::duplex(1024);
        let (mut server_read, mut server_write) = tokio::io::split(server);
        let pieces_of = Body::from_stream(futures_util::stream::iter([
            Ok::<_, io::Error>(axum::body::Bytes::from_static(b"event: a\n\n")),
            Ok(axum::body::Bytes::new()),
            Ok(axum::body::Bytes::from_static(b"data: {}\n\n")),
        ]));
        let (mut client_read, _client_write) = tokio::io::split(client);
        pieces(
            &mut server_read,
            &mut server_write,
            pieces_of,
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        drop(server_write);
        drop(server_read);
        let mut out = String::new();
        client_read.read_to_string(&mut out).await.unwrap();
        assert_eq!(out, "a\r\nevent: a\n\n\r\na\r\ndata: {}\n\n\r\n0\r\n\r\n");
    }
}
