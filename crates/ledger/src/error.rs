//! The ledger's one error type: what went wrong, worded for an operator, never quoting
//! a connection URL (it may hold a password).

/// Why a ledger operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// `[ledger] url` names neither SQLite nor PostgreSQL.
    #[error("the ledger URL must start with sqlite: or postgres:// (it starts with {0:?})")]
    UnsupportedUrl(String),
    /// The database could not be opened or reached.
    #[error("cannot open the ledger database: {0}")]
    Connect(#[source] sqlx::Error),
    /// The migrations could not be applied at start-up.
    #[error("cannot apply the ledger's migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed (the database went away, a constraint, a full disk).
    #[error("ledger query failed: {0}")]
    Query(#[from] sqlx::Error),
    /// A stored row this version cannot read (a rule written by a newer Runboard).
    #[error("the ledger holds a row this Runboard cannot read: {0}")]
    InvalidRow(String),
    /// A history cursor that this ledger did not hand out.
    #[error("the history cursor is not one Runboard handed out; start from the first page")]
    InvalidCursor,
}
