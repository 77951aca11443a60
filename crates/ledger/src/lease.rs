//! Leases: each unfinished job is followed by one instance at a time. A claim is one
//! conditional `UPDATE … RETURNING` (atomic on both backends; PostgreSQL also skips rows
//! another instance is claiming right now), a claim renews the claimer's own leases, and
//! a lease that is not renewed expires, so another instance takes the job over.

use sqlx::Row;

use crate::{Backend, ExecutionId, Held, Ledger, LedgerError};

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
        let takeable = "(lease_owner = $1 OR lease_owner IS NULL OR lease_until < $3)";
        let mine = (0..projects.len())
            .map(|i| format!("${}", i + 5))
            .collect::<Vec<_>>()
            .join(", ");
        let candidates = format!(
            "SELECT id FROM executions \
             WHERE finished = 0 AND job_id IS NOT NULL AND {takeable} AND project IN ({mine}) \
             ORDER BY id DESC LIMIT $4"
        );
        let returning = "RETURNING executions.id, executions.project, executions.job_id, \
             executions.test_run_id, executions.status, executions.started_at";
        let sql = match self.backend {
            // The candidates are locked once, in a materialised CTE (an `IN (subquery)`
            // may be rescanned, locking rows it then does not update), skipping rows
            // another instance is claiming right now.
            Backend::Postgres => format!(
                "WITH picked AS MATERIALIZED ({candidates} FOR UPDATE SKIP LOCKED) \
                 UPDATE executions SET lease_owner = $1, lease_until = $2 \
                 FROM picked WHERE executions.id = picked.id {returning}"
            ),
            // One writer at a time: the statement is atomic as it stands.
            Backend::Sqlite => format!(
                "UPDATE executions SET lease_owner = $1, lease_until = $2 \
                 WHERE id IN ({candidates}) AND finished = 0 AND {takeable} {returning}"
            ),
        };
        let mut query = sqlx::query(&sql)
            .bind(owner)
            .bind(now.saturating_add(ttl_ms))
            .bind(now)
            .bind(limit);
        for project in projects {
            query = query.bind(*project);
        }
        let rows = query.fetch_all(&self.pool).await?;
        let mut held = rows
            .iter()
            .map(|row| {
                Ok(Held {
                    id: ExecutionId(row.try_get(0)?),
                    project: row.try_get(1)?,
                    job_id: row.try_get(2)?,
                    test_run_id: row.try_get(3)?,
                    status: row.try_get(4)?,
                    started_at: row.try_get(5)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        held.sort_by_key(|h| h.id);
        Ok(held)
    }

    /// Lets go of every lease `owner` holds (at shutdown), so another instance takes
    /// the jobs over at once instead of after the lease expires.
    pub async fn release(&self, owner: &str) -> Result<u64, LedgerError> {
        let done = sqlx::query(
            "UPDATE executions SET lease_owner = NULL, lease_until = NULL \
             WHERE lease_owner = $1 AND finished = 0",
        )
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Who holds the lease of `job_id` in `project`, if anyone (for operators and tests).
    pub async fn lease_holder(
        &self,
        project: &str,
        job_id: &str,
    ) -> Result<Option<String>, LedgerError> {
        let row =
            sqlx::query("SELECT lease_owner FROM executions WHERE project = $1 AND job_id = $2")
                .bind(project)
                .bind(job_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some(row) => row.try_get(0)?,
            None => None,
        })
    }
}
