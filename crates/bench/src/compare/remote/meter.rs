//! The wire meter: a TCP relay between the browser and `runboard` that counts every byte
//! each way. It counts what the page's resource timing cannot: an event stream still
//! open (resource entries appear only once a response ends), and each response's
//! headers as sent, compressed or not.

use std::{
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    task::{JoinHandle, JoinSet},
};

use crate::{BenchError, stack::start_error};

/// Bytes that crossed the relay since the last [`Meter::reset`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Wire {
    /// From `runboard` to the browser: what a slow downlink has to carry.
    pub(crate) down: u64,
    /// From the browser to `runboard`.
    pub(crate) up: u64,
}

#[derive(Debug, Default)]
struct Counts {
    down: AtomicU64,
    up: AtomicU64,
}

/// A relay on `127.0.0.1:0` in front of `runboard`; stops (with every connection it
/// holds) when dropped or stopped.
pub(crate) struct Meter {
    url: String,
    counts: Arc<Counts>,
    task: JoinHandle<()>,
}

impl Meter {
    /// Listens on a port of its own and relays each connection to `upstream`
    /// (`http://127.0.0.1:PORT`).
    pub(crate) async fn start(upstream: &str) -> Result<Self, BenchError> {
        let target = upstream
            .strip_prefix("http://")
            .ok_or_else(|| start_error("the wire meter", format!("not an http URL: {upstream}")))?
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let counts = Arc::new(Counts::default());
        let task = tokio::spawn(relay_all(listener, target, Arc::clone(&counts)));
        Ok(Self { url, counts, task })
    }

    /// `http://127.0.0.1:PORT`: where the browser goes instead of `runboard`.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Starts counting from zero.
    pub(crate) fn reset(&self) {
        self.counts.down.store(0, Ordering::Relaxed);
        self.counts.up.store(0, Ordering::Relaxed);
    }

    /// What crossed since the last reset.
    pub(crate) fn wire(&self) -> Wire {
        Wire {
            down: self.counts.down.load(Ordering::Relaxed),
            up: self.counts.up.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        // The connection tasks live in the accept task's `JoinSet`, so they end with it.
        self.task.abort();
    }
}

async fn relay_all(listener: TcpListener, target: String, counts: Arc<Counts>) {
    let mut connections = JoinSet::new();
    while let Ok((browser, _)) = listener.accept().await {
        // Reap the connections that ended, so the set holds only open ones.
        while connections.try_join_next().is_some() {}
        let counts = Arc::clone(&counts);
        let target = target.clone();
        connections.spawn(async move {
            let Ok(server) = TcpStream::connect(&target).await else {
                return;
            };
            let mut browser = Counted {
                stream: browser,
                counts: Arc::clone(&counts),
                way: Way::Up,
            };
            let mut server = Counted {
                stream: server,
                counts,
                way: Way::Down,
            };
            // Either side closing ends the relay; its error is the browser's to see.
            let _ = tokio::io::copy_bidirectional(&mut browser, &mut server).await;
        });
    }
}

/// Which counter the bytes read from a stream go to.
#[derive(Debug, Clone, Copy)]
enum Way {
    /// Read from the browser's socket.
    Up,
    /// Read from `runboard`'s socket.
    Down,
}

/// A socket that counts what is read from it.
struct Counted {
    stream: TcpStream,
    counts: Arc<Counts>,
    way: Way,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        let read = (buf.filled().len() - before) as u64;
        let counter = match self.way {
            Way::Up => &self.counts.up,
            Way::Down => &self.counts.down,
        };
        counter.fetch_add(read, Ordering::Relaxed);
        polled
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// An echo server behind the meter: what goes up comes back down, byte for byte, and
    /// both ways are counted; a reset starts again from zero.
    #[tokio::test]
    async fn counts_each_way_and_resets() {
        let echo = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let upstream = format!("http://{}", echo.local_addr().expect("addr"));
        tokio::spawn(async move {
            let (mut socket, _) = echo.accept().await.expect("accept");
            let (mut read, mut write) = socket.split();
            let _ = tokio::io::copy(&mut read, &mut write).await;
        });
        let meter = Meter::start(&upstream).await.expect("meter");
        let mut client = TcpStream::connect(meter.url().trim_start_matches("http://"))
            .await
            .expect("connect");
        let sent = vec![7u8; 10_000];
        client.write_all(&sent).await.expect("write");
        let mut back = vec![0u8; sent.len()];
        client.read_exact(&mut back).await.expect("read");
        assert_eq!(back, sent);
        assert_eq!(
            meter.wire(),
            Wire {
                down: 10_000,
                up: 10_000
            }
        );
        meter.reset();
        assert_eq!(meter.wire(), Wire::default());
    }
}
