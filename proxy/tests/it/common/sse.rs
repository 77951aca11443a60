//! A viewer of Runboard's live stream for the tests: reads Server-Sent Events frame by
//! frame off a real response, so a test sees exactly the frames a browser's
//! `EventSource` would (events, ids, multi-line data, comments).

use std::time::Duration;

use crate::{common::Harness, paths};

/// One frame of an event stream: an event, or a comment (`: keep-alive`).
#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) event: String,
    pub(crate) id: String,
    pub(crate) data: String,
    pub(crate) comment: bool,
}

/// A viewer reading an event stream frame by frame.
pub(crate) struct Viewer {
    response: reqwest::Response,
    buffer: String,
}

impl Viewer {
    pub(crate) async fn open(h: &Harness, run: &str, last_event_id: Option<&str>) -> Self {
        let mut request = h.client.get(h.url(&paths::live_path(run)));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        Self::connect(request).await
    }

    /// [`Self::open`] holding the report whose `ETag` is `since` (`?since=`).
    pub(crate) async fn open_since(h: &Harness, run: &str, since: &str) -> Self {
        Self::connect(h.client.get(h.url(&paths::live_path_since(run, since)))).await
    }

    /// [`Self::open`] as `user` (header mode).
    pub(crate) async fn open_as(h: &Harness, run: &str, user: &str) -> Self {
        Self::connect(live_request(h, run, user)).await
    }

    async fn connect(request: reqwest::RequestBuilder) -> Self {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        let kind = response.headers()["content-type"].to_str().unwrap();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        Self::reading(response)
    }

    /// A viewer of a stream already answered (its status checked by the caller).
    pub(crate) fn reading(response: reqwest::Response) -> Self {
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next frame, or `None` once the stream ended.
    pub(crate) async fn next(&mut self) -> Option<Frame> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                return Some(parse(&block));
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.response.chunk())
                .await
                .expect("the stream goes quiet for 10 s")
                .unwrap()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next event, skipping comments.
    pub(crate) async fn next_event(&mut self) -> Option<Frame> {
        loop {
            let frame = self.next().await?;
            if !frame.comment {
                return Some(frame);
            }
        }
    }
}

/// `GET /runboard/live/…` for `run` as `user` (header mode), not sent yet.
pub(crate) fn live_request(h: &Harness, run: &str, user: &str) -> reqwest::RequestBuilder {
    h.client
        .get(h.url(&paths::live_path(run)))
        .header("x-forwarded-email", user)
}

fn parse(block: &str) -> Frame {
    let mut frame = Frame {
        event: String::new(),
        id: String::new(),
        data: String::new(),
        comment: false,
    };
    let mut data = Vec::new();
    for line in block.lines() {
        if line.starts_with(':') {
            frame.comment = true;
            continue;
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match name {
            "event" => frame.event = value.to_owned(),
            "id" => frame.id = value.to_owned(),
            "data" => data.push(value),
            _ => {}
        }
    }
    frame.data = data.join("\n");
    frame
}

/// The next event within 10 s (heartbeats do not count, so a quick heartbeat cannot keep
/// a test waiting for an event that never comes).
pub(crate) async fn event_soon(viewer: &mut Viewer) -> Frame {
    tokio::time::timeout(Duration::from_secs(10), viewer.next_event())
        .await
        .expect("no event for 10 s")
        .expect("the stream ended")
}
