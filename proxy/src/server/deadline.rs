//! The request-read deadline (`server.request_read_ms`): a whole request, head and body,
//! must arrive within it, counted from when its connection began waiting for it (the
//! accept, or the end of the previous answer: the moment hyper's head timer starts too).
//! The per-pause body timeout alone let a client send one byte just before each pause
//! ran out and hold its connection, and its place under `max_connections`, for ever.
//! Only the reading of requests is timed: answers and live streams take what they take.

use std::{
    error::Error,
    fmt,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    task::{Context, Poll},
    time::Duration,
};

use axum::BoxError;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// One connection's clock: when it began waiting for its next request.
#[derive(Clone)]
pub(super) struct RequestClock {
    waiting_since: Arc<Mutex<Instant>>,
    limit: Duration,
}

impl RequestClock {
    /// A clock for a connection accepted now.
    pub(super) fn start(limit: Duration) -> Self {
        Self {
            waiting_since: Arc::new(Mutex::new(Instant::now())),
            limit,
        }
    }

    /// When the request the connection now waits for must be in, head and body: a
    /// first request head read outside hyper (`event_stream.rs`) is held to it too.
    pub(super) fn deadline(&self) -> Instant {
        *self.lock() + self.limit
    }

    /// The body of the request that just arrived, failing once the deadline passes.
    pub(super) fn request_body<B>(&self, body: B) -> DeadlineBody<B> {
        DeadlineBody {
            body,
            deadline: self.deadline(),
            timer: None,
        }
    }

    /// The answer's body, which restarts the clock when hyper is done with it: the
    /// connection then waits for its next request.
    pub(super) fn answer_body<B>(&self, body: B) -> Restarts<B> {
        Restarts {
            body,
            clock: self.clone(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Instant> {
        // An `Instant` cannot be left half-written: a poisoned lock still holds a time.
        self.waiting_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A request body that fails with [`TooSlow`] once the request's deadline has passed.
/// The timer is only set when a body is read, so a request without one costs none.
pub(super) struct DeadlineBody<B> {
    body: B,
    deadline: Instant,
    timer: Option<Pin<Box<Sleep>>>,
}

impl<B> Body for DeadlineBody<B>
where
    B: Body + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        if this.body.is_end_stream() {
            return Poll::Ready(None);
        }
        let deadline = this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(TooSlow))));
        }
        Pin::new(&mut this.body).poll_frame(cx).map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// An answer's body that restarts its connection's [`RequestClock`] when dropped (hyper
/// drops it once the answer is written, or the connection is gone).
pub(super) struct Restarts<B> {
    body: B,
    clock: RequestClock,
}

impl<B: Body + Unpin> Body for Restarts<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl<B> Drop for Restarts<B> {
    fn drop(&mut self) {
        *self.clock.lock() = Instant::now();
    }
}

/// The request did not arrive within `server.request_read_ms`.
#[derive(Debug)]
pub(super) struct TooSlow;

impl fmt::Display for TooSlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the request did not arrive within server.request_read_ms")
    }
}

impl Error for TooSlow {}
