//! Leases: each unfinished job is followed by one instance at a time. A claim is one
//! conditional `UPDATE … RETURNING` (atomic on both backends; PostgreSQL also skips rows
//! another instance is claiming right now), a claim renews the claimer's own leases, and
//! a lease that is not renewed expires, so another instance takes the job over.

use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::{
    Held, Ledger, LedgerError,
    pool::{Pools, on_pool},
};

/// The columns of [`Held`], as the claim returns them.
const RETURNING: &str = " RETURNING executions.id AS id, executions.project AS project, \
    executions.job_id AS job_id, executions.test_run_id AS test_run_id, \
    executions.status AS status, executions.started_at AS started_at";

/// What one claim asks for.
struct Claim<'a> {
    owner: &'a str,
    projects: &'a [&'a str],
    now: i64,
    until: i64,
    limit: i64,
}

impl Ledger {
    /// Takes or renews the leases of at most `limit` unfinished jobs of `projects` for
    /// `owner`, until `now + ttl_ms`: its own, free ones and expired ones. Returns every
    /// job `owner` holds afterwards (among those `limit`). Only the caller's projects, so
    /// an instance never holds a job it cannot follow. Newest first: a job the platform
    /// never finishes cannot crowd out the ones started after it.
    pub async fn claim(
        &self,
        owner: &str,
        projects: &[&str],
        now: i64,
        ttl_ms: i64,
        limit: i64,
    ) -> Result<Vec<Held>, LedgerError> {
        if projects.is_empty() {
            return Ok(Vec::new());
        }
        let claim = Claim {
            owner,
            projects,
            now,
            until: now.saturating_add(ttl_ms),
            limit,
        };
        // The one statement whose SQL differs per backend.
        let mut held: Vec<Held> = match &self.pool {
            // The candidates are locked once, in a materialised CTE (an `IN (subquery)`
            // may be rescanned, locking rows it then does not update), skipping rows
            // another instance is claiming right now.
            Pools::Postgres(pool) => {
                let mut sql = QueryBuilder::new("WITH picked AS MATERIALIZED (");
                push_candidates(&mut sql, &claim);
                sql.push(" FOR UPDATE SKIP LOCKED) UPDATE executions");
                push_set_lease(&mut sql, &claim);
                sql.push(" FROM picked WHERE executions.id = picked.id")
                    .push(RETURNING);
                sql.build_query_as().fetch_all(pool).await?
            }
            // One writer at a time: the statement is atomic as it stands.
            Pools::Sqlite(pool) => {
                let mut sql = QueryBuilder::new("UPDATE executions");
                push_set_lease(&mut sql, &claim);
                sql.push(" WHERE id IN (");
                push_candidates(&mut sql, &claim);
                sql.push(") AND finished = 0 AND ");
                push_takeable(&mut sql, &claim);
                sql.push(RETURNING);
                sql.build_query_as().fetch_all(pool).await?
            }
        };
        held.sort_by_key(|h| h.id);
        Ok(held)
    }

    /// Lets go of every lease `owner` holds (at shutdown), so another instance takes
    /// the jobs over at once instead of after the lease expires.
    pub async fn release(&self, owner: &str) -> Result<u64, LedgerError> {
        let sql = "UPDATE executions SET lease_owner = NULL, lease_until = NULL \
             WHERE lease_owner = $1 AND finished = 0";
        Ok(on_pool!(&self.pool, |pool| {
            sqlx::query(sql)
                .bind(owner)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    /// Who holds the lease of `job_id` in `project`, if anyone (for operators and tests).
    pub async fn lease_holder(
        &self,
        project: &str,
        job_id: &str,
    ) -> Result<Option<String>, LedgerError> {
        let sql = "SELECT lease_owner FROM executions WHERE project = $1 AND job_id = $2";
        let owner: Option<Option<String>> = on_pool!(&self.pool, |pool| {
            sqlx::query_scalar(sql)
                .bind(project)
                .bind(job_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(owner.flatten())
    }
}

/// Appends the ids of the jobs `claim` may take, newest first.
fn push_candidates<'a, DB: Database>(sql: &mut QueryBuilder<'a, DB>, claim: &Claim<'a>)
where
    &'a str: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    sql.push("SELECT id FROM executions WHERE finished = 0 AND job_id IS NOT NULL AND ");
    push_takeable(sql, claim);
    sql.push(" AND project IN (");
    let mut projects = sql.separated(", ");
    for project in claim.projects {
        projects.push_bind(*project);
    }
    sql.push(") ORDER BY id DESC LIMIT ").push_bind(claim.limit);
}

/// Appends the `SET` clause that gives the leases to `claim`'s owner.
fn push_set_lease<'a, DB: Database>(sql: &mut QueryBuilder<'a, DB>, claim: &Claim<'a>)
where
    &'a str: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    sql.push(" SET lease_owner = ")
        .push_bind(claim.owner)
        .push(", lease_until = ")
        .push_bind(claim.until);
}

/// Appends the condition on a row that `claim`'s owner may take: its own lease, no
/// lease, or an expired one.
fn push_takeable<'a, DB: Database>(sql: &mut QueryBuilder<'a, DB>, claim: &Claim<'a>)
where
    &'a str: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    sql.push("(lease_owner = ")
        .push_bind(claim.owner)
        .push(" OR lease_owner IS NULL OR lease_until < ")
        .push_bind(claim.now)
        .push(")");
}
