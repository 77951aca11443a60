//! Serving a simulator on a socket: our own accept loop (rather than `axum::serve`) so
//! that the drop fault closes a connection without any response, and so that shutdown
//! is graceful yet bounded (hung requests are released, stragglers are cut off).

use std::{net::SocketAddr, time::Duration};

use axum::{Router, http::Request, response::Response};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::{rt::TokioIo, server::graceful::GracefulShutdown};
use tokio::{net::TcpListener, sync::watch, task::JoinSet};
use tower::ServiceExt;

use crate::{
    Simulator,
    http::faults::{Interrupted, ShutdownSignal},
};

/// How long shutdown waits for in-flight requests before closing their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// A simulator being served. Dropping it also stops the server.
#[derive(Debug)]
pub struct RunningSim {
    /// Where it listens (the real port when bound to port 0).
    pub addr: SocketAddr,
    /// The simulator, to inspect or steer while it serves.
    pub sim: Simulator,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningSim {
    /// The base URL, `http://HOST:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish (hung ones are released) for up
    /// to a few seconds, then closes everything.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.task.await {
            tracing::warn!(%error, "simulator server task ended abnormally");
        }
    }
}

/// Binds `addr`, spawns the server on the current tokio runtime and returns at once.
pub async fn spawn(sim: Simulator, addr: SocketAddr) -> std::io::Result<RunningSim> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(serve(listener, sim.router(), stopped));
    Ok(RunningSim {
        addr,
        sim,
        stop,
        task,
    })
}

/// Accepts connections until told to stop (or until the [`RunningSim`] is dropped).
async fn serve(listener: TcpListener, router: Router, mut stop: watch::Receiver<bool>) {
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    // Each request gets its own receiver of the stop flag; `stop` itself is polled below.
    let signal = stop.clone();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let (router, signal) = (router.clone(), signal.clone());
                    let service = service_fn(move |req| handle(router.clone(), signal.clone(), req));
                    let connection = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service);
                    connections.spawn(graceful.watch(connection));
                }
                Err(error) => {
                    // Typically out of file descriptors: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("simulator connections still busy after the grace period; closing them");
    }
    connections.abort_all();
}

/// The error that makes hyper close a connection without answering.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by the simulator's drop fault")]
struct DropConnection;

/// Serves one request of a connection: tags it with the stop signal and turns an
/// interrupted response into a closed connection.
async fn handle(
    router: Router,
    stop: watch::Receiver<bool>,
    mut req: Request<Incoming>,
) -> Result<Response, DropConnection> {
    req.extensions_mut().insert(ShutdownSignal(stop));
    let response = match router.oneshot(req).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if response.extensions().get::<Interrupted>().is_some() {
        Err(DropConnection)
    } else {
        Ok(response)
    }
}
