//! Binding and serving: a listener with `SO_REUSEADDR` (so a restarted server can take
//! the same port at once), peer addresses for the auth checks, and a graceful shutdown
//! that closes the listener and idle connections and lets requests in flight finish.

use std::{net::SocketAddr, time::Duration};

use anyhow::Context;
use tokio::{net::TcpSocket, sync::oneshot, task::JoinHandle};

use crate::{AppState, Config, app};

/// A running Runboard server.
pub struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    drain: Duration,
}

impl Server {
    /// Binds `config.listen` (port 0 picks a free port) and starts serving.
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let listen = config.listen;
        // In-flight requests are bounded by the upstream timeout; allow a little more.
        let drain = config.upstream.timeout + Duration::from_secs(2);
        let state = AppState::new(config)?;
        let listener = bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
        let task = tokio::spawn(async move {
            axum::serve(listener, service)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        tracing::info!(%addr, "runboard listening");
        Ok(Self {
            addr,
            stop: Some(stop),
            task,
            drain,
        })
    }

    /// The bound address (the real port when 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting (the port is released at once), closes idle connections, lets
    /// requests in flight finish, then returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match tokio::time::timeout(self.drain, &mut self.task).await {
            Ok(Ok(Ok(()))) => tracing::info!("runboard stopped"),
            Ok(Ok(Err(err))) => tracing::error!(error = %err, "server failed while stopping"),
            Ok(Err(err)) => tracing::error!(error = %err, "server task failed"),
            Err(_) => {
                tracing::warn!("requests still running after the drain period; closing them");
                self.task.abort();
            }
        }
    }

    /// Waits until the server stops by itself (it only does on an I/O error).
    pub async fn wait(&mut self) -> anyhow::Result<()> {
        (&mut self.task).await??;
        Ok(())
    }
}

fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
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
