//! Serving a small axum app on a free loopback port for the length of a test.

use std::net::SocketAddr;

use axum::Router;
use tokio::{net::TcpListener, sync::oneshot};

/// A server that stops when dropped.
pub struct Served {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

/// Binds `127.0.0.1:0` and serves `app` on the current runtime.
pub async fn serve(app: Router) -> std::io::Result<Served> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(Served {
        addr,
        stop: Some(stop),
    })
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
