//! The event-stream wire format, written once per event: the follower encodes each event
//! as it publishes it, and every viewer sends those same `Bytes` (a reference count, no
//! copy of a report per viewer). Also the heartbeat, the `end` event and the streaming
//! response.

use std::{convert::Infallible, sync::LazyLock};

use axum::{
    body::{Body, Bytes},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use futures_util::{Stream, StreamExt};
use runboard_shared::LiveEventName;

/// The heartbeat, encoded once.
static HEARTBEAT: LazyLock<Bytes> = LazyLock::new(|| {
    let mut out = b": keep-alive\n".to_vec();
    out.extend_from_slice(&frame(LiveEventName::Ping, None, b"{}"));
    Bytes::from(out)
});

/// The `end` event, encoded once.
static END: LazyLock<Bytes> = LazyLock::new(|| frame(LiveEventName::End, None, b"{}"));

/// Sent after `[live] heartbeat_ms` of silence. The comment keeps proxies from closing a
/// quiet stream; the `ping` event beside it lets the widget tell a quiet stream from a
/// stuck one (comments never reach it). A reference to one copy, like every event.
pub(super) fn heartbeat() -> Bytes {
    HEARTBEAT.clone()
}

/// The last word to a viewer that is up to date when the run turns final: the report it
/// holds is the final one, so the whole `final` report is not sent again.
pub(super) fn end() -> Bytes {
    END.clone()
}

/// One event: `event: {name}`, `id: {id}` when there is one, and `data` (JSON text) as
/// `data:` lines. `id` is Runboard's own (numbers), never a line break.
pub(super) fn frame(name: LiveEventName, id: Option<&str>, data: &[u8]) -> Bytes {
    let name = name.as_str();
    let mut out = Vec::with_capacity(data.len() + name.len() + 48);
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    if let Some(id) = id {
        out.extend_from_slice(b"\nid: ");
        out.extend_from_slice(id.as_bytes());
    }
    out.extend_from_slice(b"\ndata: ");
    // A stream ends a line at `\r\n`, `\r` or `\n`. JSON has them only as whitespace
    // between tokens, so each starts a new `data:` line and the browser, which joins
    // the lines with `\n`, reads the same JSON.
    let mut rest = data;
    while let Some(at) = rest.iter().position(|b| matches!(b, b'\r' | b'\n')) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(b"\ndata: ");
        let crlf = rest[at] == b'\r' && rest.get(at + 1) == Some(&b'\n');
        rest = &rest[at + if crlf { 2 } else { 1 }..];
    }
    out.extend_from_slice(rest);
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

/// The streaming answer: each item of `frames` is sent as it comes. Compression leaves
/// `text/event-stream` alone (it would hold events back), and nginx and similar proxies
/// pass the stream on as it comes instead of buffering it.
pub(super) fn response(frames: impl Stream<Item = Bytes> + Send + 'static) -> Response {
    let body = Body::from_stream(frames.map(Ok::<_, Infallible>));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::HeaderName::from_static("x-accel-buffering"),
                HeaderValue::from_static("no"),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_line_of_the_data_is_a_data_line() {
        let check = |data: &str, expected: &str| {
            let frame = frame(LiveEventName::Report, Some("3.1"), data.as_bytes());
            assert_eq!(std::str::from_utf8(&frame).unwrap(), expected, "{data:?}");
        };
        check("{}", "event: report\nid: 3.1\ndata: {}\n\n");
        check("{\n}", "event: report\nid: 3.1\ndata: {\ndata: }\n\n");
        check("{\r\n}", "event: report\nid: 3.1\ndata: {\ndata: }\n\n");
        check("{\r}", "event: report\nid: 3.1\ndata: {\ndata: }\n\n");
        check(
            "{\n\n}",
            "event: report\nid: 3.1\ndata: {\ndata: \ndata: }\n\n",
        );
        assert_eq!(
            &frame(LiveEventName::Failure, None, b"{}")[..],
            b"event: failure\ndata: {}\n\n"
        );
        assert_eq!(&heartbeat()[..], b": keep-alive\nevent: ping\ndata: {}\n\n");
        assert_eq!(&end()[..], b"event: end\ndata: {}\n\n");
    }
}
