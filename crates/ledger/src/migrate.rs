//! The embedded migrations, one set per backend (`migrations/sqlite`, `migrations/postgres`:
//! the SQL differs only where the dialects do), applied at start-up under sqlx's
//! migration lock (an advisory lock on PostgreSQL, so replicas starting together agree).

use std::borrow::Cow;

use sqlx::{
    AnyPool,
    migrate::{Migration, MigrationType, Migrator},
};

use crate::{Backend, LedgerError};

/// `(version, description, sqlite, postgres)`, in order. Never edit one that shipped:
/// add the next.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[(
    1,
    "ledger",
    include_str!("../migrations/sqlite/0001_ledger.sql"),
    include_str!("../migrations/postgres/0001_ledger.sql"),
)];

/// Applies every migration `pool` lacks.
pub(crate) async fn run(pool: &AnyPool, backend: Backend) -> Result<(), LedgerError> {
    let migrations = MIGRATIONS
        .iter()
        .map(|(version, description, sqlite, postgres)| {
            let sql = match backend {
                Backend::Sqlite => sqlite,
                Backend::Postgres => postgres,
            };
            Migration::new(
                *version,
                Cow::Borrowed(*description),
                MigrationType::Simple,
                Cow::Borrowed(*sql),
                false,
            )
        })
        .collect::<Vec<_>>();
    let migrator = Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    };
    migrator.run(pool).await?;
    Ok(())
}
