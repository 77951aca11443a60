//! The concrete connection pools behind one [`Pools`] value, how each is opened from a
//! ledger URL, and [`on_pool!`], the one place where a query meets its backend.

use std::{str::FromStr, time::Duration};

use sqlx::{
    PgPool, SqlitePool,
    pool::PoolOptions,
    postgres::PgConnectOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};

use crate::{Backend, LedgerError};

/// How long a query waits for a free connection (and SQLite for a lock) before failing.
const WAIT: Duration = Duration::from_secs(10);

/// A pool of one backend's own driver: each query is checked and decoded by that driver
/// (its own column types, its own placeholders), not through a lowest common denominator.
#[derive(Clone)]
pub(crate) enum Pools {
    /// A SQLite file or memory database.
    Sqlite(SqlitePool),
    /// A PostgreSQL server.
    Postgres(PgPool),
}

/// Evaluates `$body` with `$pool` bound to the ledger's concrete pool (`&SqlitePool` or
/// `&PgPool`). The body is written once and compiled once per backend, so each copy is
/// type-checked against that backend's driver. It looks like a closure so that rustfmt
/// formats it, but it is not one: `?` and `return` act on the enclosing function.
macro_rules! on_pool {
    ($pools:expr, |$pool:ident| $body:expr) => {
        match $pools {
            $crate::pool::Pools::Sqlite($pool) => $body,
            $crate::pool::Pools::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

impl Pools {
    /// Opens a pool of the backend `url` names.
    pub(crate) async fn connect(url: &str) -> Result<Self, LedgerError> {
        let pools = match Backend::of(url)? {
            Backend::Sqlite => Self::Sqlite(sqlite(url).await?),
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(url).map_err(LedgerError::Connect)?;
                let pool = PoolOptions::new()
                    .acquire_timeout(WAIT)
                    .max_connections(8)
                    .connect_with(options)
                    .await
                    .map_err(LedgerError::Connect)?;
                Self::Postgres(pool)
            }
        };
        Ok(pools)
    }

    /// Which database the pool talks to.
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes the pool, waiting for connections in use.
    pub(crate) async fn close(&self) {
        on_pool!(self, |pool| pool.close().await);
    }
}

/// A SQLite pool. A file is created when missing (unless the URL names a `mode`). An
/// in-memory database lives as long as its one connection (it is gone once no
/// connection holds it), so that connection is never closed. A file gets WAL (readers do
/// not block the writer) with `synchronous = NORMAL` (a commit survives the process dying
/// at once; only a power cut may lose the last ones) and a busy timeout, so the follower
/// and the start path wait for each other instead of failing.
async fn sqlite(url: &str) -> Result<SqlitePool, LedgerError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(LedgerError::Connect)?
        .foreign_keys(true)
        .busy_timeout(WAIT);
    let pool = PoolOptions::new().acquire_timeout(WAIT);
    let connecting = if url.contains(":memory:") || url.contains("mode=memory") {
        pool.max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
    } else {
        let options = options
            .create_if_missing(!url.contains("mode="))
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        pool.max_connections(4).connect_with(options)
    };
    connecting.await.map_err(LedgerError::Connect)
}
