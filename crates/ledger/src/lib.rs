//! Runboard's execution ledger: every start through Runboard and every job seen in a
//! project's active-jobs list, followed to the end (status, counts, duration, each
//! test's result), in SQLite (the default, zero setup) or PostgreSQL (shared by replicas).
//!
//! One SQL text per query for both backends through sqlx's `Any` driver (`$N`
//! placeholders work in both); the only backend-specific SQL is the lease claim (a
//! materialised `FOR UPDATE SKIP LOCKED` CTE on PostgreSQL). Migrations are embedded and
//! applied by [`Ledger::open`].

mod error;
mod lease;
mod migrate;
mod model;
mod read;
mod write;

use std::{
    str::FromStr,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use sqlx::{
    AnyPool, Executor,
    any::{AnyConnectOptions, AnyPoolOptions},
};

pub use error::LedgerError;
pub use model::{
    Confirmed, Counts, Execution, ExecutionId, Finish, Held, HistoryQuery, Intent, Origin, Page,
    STARTING, SeenJob, TestOutcome, TestRecord, UNCONFIRMED, selector_columns,
};
pub use write::Seen;

/// The most executions one history page holds.
pub const MAX_PAGE: usize = 500;

/// Which database a ledger lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A file (or memory), one process.
    Sqlite,
    /// A server, shared by any number of replicas.
    Postgres,
}

impl Backend {
    /// The backend a ledger URL names.
    pub fn of(url: &str) -> Result<Self, LedgerError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            let scheme: String = url.chars().take_while(|c| *c != ':').take(16).collect();
            Err(LedgerError::UnsupportedUrl(scheme))
        }
    }
}

/// The ledger: a pool and the backend it talks to. Cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    pool: AnyPool,
    backend: Backend,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may hold a password.
        f.debug_struct("Ledger")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Ledger {
    /// Opens the ledger at `url` (`sqlite:///path/ledger.db`, `sqlite::memory:`,
    /// `postgres://user@host/db`) and applies the migrations. A SQLite file is created
    /// when missing.
    pub async fn open(url: &str) -> Result<Self, LedgerError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of(url)?;
        let memory = backend == Backend::Sqlite && url.contains(":memory:");
        let url = match backend {
            Backend::Sqlite if !memory && !url.contains("mode=") => {
                let joiner = if url.contains('?') { '&' } else { '?' };
                format!("{url}{joiner}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url).map_err(LedgerError::Connect)?;
        let pool = pool_options(backend, memory)
            .connect_with(options)
            .await
            .map_err(LedgerError::Connect)?;
        migrate::run(&pool, backend).await?;
        Ok(Self { pool, backend })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool, waiting for connections in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Pool settings per backend. An in-memory SQLite database lives as long as its one
/// connection (each new connection would be a new, empty database), so that connection
/// is never closed. A SQLite file gets WAL (readers do not block the writer) with
/// `synchronous = NORMAL` (a commit survives the process dying at once; only a power cut
/// may lose the last ones) and a busy timeout, so the follower and the start path wait for
/// each other instead of failing.
fn pool_options(backend: Backend, memory: bool) -> AnyPoolOptions {
    let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
    match backend {
        Backend::Sqlite if memory => options
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None),
        Backend::Sqlite => options.max_connections(4).after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;")
                    .await?;
                Ok(())
            })
        }),
        Backend::Postgres => options.max_connections(8),
    }
}

/// Now, in epoch milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
