//! Runboard's execution ledger: every start through Runboard and every job seen in a
//! project's active-jobs list, followed to the end (status, counts, duration, each
//! test's result), in SQLite (the default, zero setup) or PostgreSQL (shared by replicas).
//!
//! Each backend has its own sqlx driver and pool (`SqlitePool` or `PgPool`, chosen from
//! the URL, behind the private `Pools`), so values are encoded and columns decoded by the
//! driver that owns them. Rows are `#[derive(sqlx::FromRow)]` structs read by column name,
//! each field of the Rust type its column has on both backends: every number is `BIGINT`
//! (`i64`) except `finished`, an `INTEGER` (`i32` on PostgreSQL, which SQLite's driver
//! decodes too). Queries built at run time (history filters and cursor, the claim's
//! project list, multi-row inserts) use `QueryBuilder::push_bind`, which writes each
//! backend's own placeholder; fixed queries use `$N`, which both drivers read.
//!
//! Each query is written once, as the body of `on_pool!`: a `match` over the two pools
//! that repeats the body in each arm, so the compiler checks it against both drivers. We
//! chose that macro over functions generic over `sqlx::Database` because it is clearly
//! smaller: generic functions need higher-ranked bounds on each one
//! (`for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>`, arguments that are
//! `IntoArguments`, encode and decode bounds per column type, `FromRow` per row type), a
//! trait for what sqlx leaves per backend (`rows_affected` is inherent to each driver's
//! result), and still a `match` from the enum to the generic code. Only the helpers that
//! append SQL to a `QueryBuilder<DB>` are generic, with first-order bounds such as
//! `i64: Encode<'a, DB> + Type<DB>`.
//!
//! Triage rules (`rules.rs`) and what a verdict reads (`facts.rs`) live beside the
//! executions, so every replica sees the same rules; machine tokens (`tokens.rs`) too,
//! as hashes only.
//!
//! The SQL differs per backend in two named places: the lease claim (`lease.rs`: a
//! materialised `FOR UPDATE SKIP LOCKED` CTE on PostgreSQL, one atomic `UPDATE` on SQLite)
//! and the migrations (`migrations/sqlite`, `migrations/postgres`), which are embedded and
//! applied by [`Ledger::open`].

mod error;
mod facts;
mod lease;
mod migrate;
mod model;
mod outbox;
mod pool;
mod read;
mod rules;
mod tokens;
mod write;

use std::time::{SystemTime, UNIX_EPOCH};

use pool::Pools;

pub use error::LedgerError;
pub use facts::{Failure, Member, RecentResult};
pub use model::{
    Confirmed, Counts, Execution, ExecutionId, Finish, Held, HistoryQuery, Intent, Origin, Page,
    STARTING, SeenJob, TestOutcome, TestRecord, UNCONFIRMED, selector_columns,
};
pub use outbox::{Backoff, Delivery, Message, NewMessage, OutboxStatus};
pub use rules::{RuleEventRecord, RuleRecord, RulesStamp};
pub use tokens::{Created, NewToken, TOUCH_EVERY_MS, TokenRecord, Unusable};
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

/// The ledger: a pool of its backend's driver. Cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    pool: Pools,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may hold a password.
        f.debug_struct("Ledger")
            .field("backend", &self.backend())
            .finish()
    }
}

impl Ledger {
    /// Opens the ledger at `url` (`sqlite:///path/ledger.db`, `sqlite::memory:`,
    /// `postgres://user@host/db`) and applies the migrations. A SQLite file is created
    /// when missing.
    pub async fn open(url: &str) -> Result<Self, LedgerError> {
        let pool = Pools::connect(url).await?;
        migrate::run(&pool).await?;
        Ok(Self { pool })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.pool.backend()
    }

    /// Closes the pool, waiting for connections in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Now, in epoch milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
