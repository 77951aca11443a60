//! Binding and serving: a listener with `SO_REUSEADDR` (so a restarted server can take
//! the same port at once), HTTP/1 connections served with hyper's header-read timer, a
//! deadline for reading each whole request (`deadline.rs`), a write timeout and a
//! connection cap (slow or stalled clients cannot pile up to the file-descriptor limit),
//! peer addresses for the auth checks, and a graceful shutdown that closes the listener
//! and idle connections, ends live streams and lets requests in flight finish. Each
//! connection's first request head is read here (`event_stream.rs`): a live stream is
//! served without hyper, through the same router, for a socket, one task and a few
//! hundred bytes, its events the bytes every viewer shares (`live/sse.rs`); everything
//! else goes to hyper, whose two buffers (its read buffer and the head it writes, 8 KiB
//! each at most) a connection then costs. The open-file limit that bounds them all is
//! `fds.rs`.

mod deadline;
mod event_stream;
mod fds;
mod rewind;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{
    Router,
    extract::{ConnectInfo, Request},
    response::Response,
};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::{
    net::{TcpListener, TcpSocket, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore, oneshot, watch},
    task::{JoinHandle, JoinSet},
    time::Instant,
};
use tokio_io_timeout::TimeoutStream;
use tower::ServiceExt;

use self::{
    deadline::{DeadlineBody, RequestClock, Restarts},
    event_stream::First,
    rewind::Rewind,
};
use crate::{AppState, Config, app, config::ServerConfig, ledger::Follower};

/// The largest request head (request line and headers) read; larger ones get 431.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The pause after an accept error such as "too many open files", so the loop does not
/// spin while the process is out of descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A running Runboard server.
pub struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    drain: Duration,
    state: AppState,
    follower: Option<Follower>,
}

impl Server {
    /// Binds `config.listen` (port 0 picks a free port) and starts serving. Risky but
    /// valid settings (see [`Config::warnings`]) are logged as warnings first.
    pub async fn start(mut config: Config) -> anyhow::Result<Self> {
        let listen = config.listen;
        let fd_warning = fds::warning(config.server.max_connections, fds::current());
        for warning in config.warnings().into_iter().chain(fd_warning) {
            tracing::warn!("{warning}");
        }
        // In-flight requests are bounded by the upstream timeout; allow a little more.
        let drain = config.upstream.timeout + Duration::from_secs(2);
        let settings = config.server.clone();
        let listener = bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        // The Host check accepts the listen address by its real port, not port 0.
        config.listen = addr;
        let state = AppState::new(config).await?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(
            listener,
            app(state.clone()),
            settings,
            stopped,
            drain,
        ));
        tracing::info!(%addr, "runboard listening");
        let follower = Follower::spawn(state.clone());
        Ok(Self {
            follower,
            addr,
            stop: Some(stop),
            task,
            drain,
            state,
        })
    }

    /// Raises this process's soft open-file limit to its hard limit, so connections
    /// (every live viewer holds one) are bounded by `[server] max_connections`, not by a
    /// default of 1,024 descriptors; returns the limit now (`None`: unlimited or
    /// unknown). For the binary to call before [`Server::start`], which warns when the
    /// limit cannot hold `max_connections`.
    pub fn raise_open_file_limit() -> std::io::Result<Option<u64>> {
        fds::raise_to_hard_limit()
    }

    /// The bound address (the real port when 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The execution ledger it writes, for tools and tests that mint machine tokens
    /// (`tokens::mint`) without the command line.
    pub fn ledger(&self) -> &runboard_ledger::Ledger {
        self.state.ledger().ledger()
    }

    /// Stops accepting (the port is released at once), closes idle connections, lets
    /// requests in flight finish (for at most the drain period), then returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.state.end_live_streams();
        if let Some(follower) = self.follower.take() {
            follower.stop(&self.state).await;
        }
        let grace = self.drain + Duration::from_secs(1);
        match tokio::time::timeout(grace, &mut self.task).await {
            Ok(Ok(())) => tracing::info!("runboard stopped"),
            Ok(Err(err)) => tracing::error!(error = %err, "server task failed"),
            Err(_) => {
                tracing::warn!("the server did not stop within the drain period; aborting");
                self.task.abort();
            }
        }
    }

    /// Waits until the server stops by itself (only if its task fails).
    pub async fn wait(&mut self) -> anyhow::Result<()> {
        (&mut self.task).await?;
        Ok(())
    }
}

/// Accepts connections while fewer than `max_connections` are open (the rest wait in
/// the listen backlog; live streams hold their place like any connection), until
/// `stopped`; then drains: hyper's connections close when idle, heads still on their way
/// are dropped, live streams end (`Server::shutdown` ends their bodies), and every
/// connection task is waited for, up to `drain`.
async fn serve(
    listener: TcpListener,
    router: Router,
    settings: ServerConfig,
    mut stopped: oneshot::Receiver<()>,
    drain: Duration,
) {
    let permits = Arc::new(Semaphore::new(settings.max_connections));
    let graceful = GracefulShutdown::new();
    let (stopping, _) = watch::channel(false);
    let mut connections = JoinSet::new();
    let builder = Arc::new(http1_builder(&settings));
    let settings = Arc::new(settings);
    loop {
        let permit = tokio::select! {
            _ = &mut stopped => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        while connections.try_join_next().is_some() {}
        let connection = Accepted {
            peer,
            router: router.clone(),
            builder: Arc::clone(&builder),
            settings: Arc::clone(&settings),
            graceful: graceful.watcher(),
            stopping: stopping.subscribe(),
            permit,
        };
        connections.spawn(connection.serve(stream));
    }
    drop(listener);
    stopping.send_replace(true);
    let drained = tokio::time::timeout(drain, async {
        graceful.shutdown().await;
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("requests still running after the drain period; closing them");
        connections.abort_all();
    }
}

/// One accepted connection and what serving it takes.
struct Accepted {
    peer: SocketAddr,
    router: Router,
    builder: Arc<http1::Builder>,
    settings: Arc<ServerConfig>,
    graceful: hyper_util::server::graceful::Watcher,
    stopping: watch::Receiver<bool>,
    /// Its place under `max_connections`, given back when the connection ends.
    permit: OwnedSemaphorePermit,
}

impl Accepted {
    /// Serves a live stream here when the first request opens one; anything else with
    /// hyper, which reads the same bytes from the start.
    async fn serve(self, stream: TcpStream) {
        let Self {
            peer,
            router,
            builder,
            settings,
            graceful,
            stopping,
            permit,
        } = self;
        let clock = RequestClock::start(settings.request_read);
        let first = event_stream::Connection {
            peer,
            router: router.clone(),
            head_deadline: clock
                .deadline()
                .min(Instant::now() + settings.header_timeout),
            idle_timeout: settings.idle_timeout,
            stopping,
        };
        // Each step boxed: the task of a live stream, which may be one of 10,000, keeps
        // room only for writing events, not for reading a head or for hyper.
        match Box::pin(event_stream::first_request(stream, first)).await {
            First::Done => {}
            First::Stream(stream, body) => {
                event_stream::stream(stream, body, settings.idle_timeout).await;
            }
            First::Hyper(stream) => {
                let connection =
                    builder.serve_connection(io(stream, &settings), service(router, peer, clock));
                if let Err(err) = Box::pin(graceful.watch(connection)).await {
                    tracing::debug!(%peer, error = %err, "connection closed with an error");
                }
            }
        }
        drop(permit);
    }
}

/// HTTP/1 with hyper's header-read timer: the head must arrive within
/// `header_timeout`, and the same timer closes a keep-alive connection that sends no
/// new request for that long.
fn http1_builder(settings: &ServerConfig) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout)
        .max_header_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    builder
}

/// The socket, with a write timeout: a client that stops reading its answer is dropped
/// after `idle_timeout` instead of holding the connection.
fn io(
    stream: Rewind<TcpStream>,
    settings: &ServerConfig,
) -> TokioIo<std::pin::Pin<Box<TimeoutStream<Rewind<TcpStream>>>>> {
    let mut stream = TimeoutStream::new(stream);
    stream.set_write_timeout(Some(settings.idle_timeout));
    TokioIo::new(Box::pin(stream))
}

/// The router for one connection, with its peer address for the auth checks and its
/// request clock: each request body must be in by the deadline, and each answer, once
/// written, starts the wait for the next request.
fn service(
    router: Router,
    peer: SocketAddr,
    clock: RequestClock,
) -> TowerToHyperService<
    impl tower::Service<
        Request<Incoming>,
        Response = Response<Restarts<axum::body::Body>>,
        Error = std::convert::Infallible,
        Future: Send,
    > + Clone
    + use<>,
> {
    let answers = clock.clone();
    let router = router
        .map_request(move |request: Request<Incoming>| {
            let mut request: Request<DeadlineBody<Incoming>> =
                request.map(|body| clock.request_body(body));
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        })
        .map_response(move |response: Response| response.map(|body| answers.answer_body(body)));
    TowerToHyperService::new(router)
}

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.set_nodelay(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}
