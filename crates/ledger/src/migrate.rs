//! The embedded migrations, one set per backend (`migrations/sqlite`, `migrations/postgres`:
//! the SQL differs only where the dialects do), applied at start-up under sqlx's
//! migration lock (an advisory lock on PostgreSQL, so replicas starting together agree).

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::{
    Backend, LedgerError,
    pool::{Pools, on_pool},
};

/// `(version, description, sqlite, postgres)`, in order. Never edit one that shipped:
/// add the next.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "ledger",
        include_str!("../migrations/sqlite/0001_ledger.sql"),
        include_str!("../migrations/postgres/0001_ledger.sql"),
    ),
    (
        2,
        "rules",
        include_str!("../migrations/sqlite/0002_rules.sql"),
        include_str!("../migrations/postgres/0002_rules.sql"),
    ),
    (
        3,
        "tokens",
        include_str!("../migrations/sqlite/0003_tokens.sql"),
        include_str!("../migrations/postgres/0003_tokens.sql"),
    ),
    (
        4,
        "outbox",
        include_str!("../migrations/sqlite/0004_outbox.sql"),
        include_str!("../migrations/postgres/0004_outbox.sql"),
    ),
];

/// Applies every migration the database lacks.
pub(crate) async fn run(pools: &Pools) -> Result<(), LedgerError> {
    let migrations = MIGRATIONS
        .iter()
        .map(|(version, description, sqlite, postgres)| {
            let sql = match pools.backend() {
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
    on_pool!(pools, |pool| migrator.run(pool).await?);
    Ok(())
}
