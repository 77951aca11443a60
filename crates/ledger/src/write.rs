//! Writes: a start's intent and its confirmation, jobs seen elsewhere, a job's progress
//! and its end with every test's result, and the retention purge.
//!
//! The start path writes twice on purpose: the intent before the start is sent, the job
//! id after. If the process dies between the upstream's acceptance and the second write,
//! the intent stays `Starting` without a job id, and the job itself appears in the
//! project's active-jobs list, which the sweep records ([`Ledger::saw_job`]), adopting the
//! orphaned intent when it is the only candidate, so the user is kept. An accepted start
//! is therefore never missing, at worst it is marked "started elsewhere".

use sqlx::{Any, Row, Transaction, any::AnyQueryResult};

use crate::{
    Confirmed, ExecutionId, Finish, Intent, Ledger, LedgerError, STARTING, SeenJob, UNCONFIRMED,
};

/// Rows per multi-row insert of test results (7 parameters each, far below both
/// backends' parameter limits).
const RESULTS_PER_INSERT: usize = 500;

/// What the sweep did with a job from the active-jobs list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The ledger had it already.
    Known,
    /// It matched an orphaned intent (a start whose confirmation was never written).
    Adopted(ExecutionId),
    /// It is new: recorded as started elsewhere.
    Recorded(ExecutionId),
}

impl Ledger {
    /// Records that a start is about to be sent. Call before sending it.
    pub async fn record_intent(&self, intent: &Intent) -> Result<ExecutionId, LedgerError> {
        let row = sqlx::query(
            "INSERT INTO executions (project, user_name, selector_kind, selector_value, agent, \
             preset, origin, started_at, status) \
             VALUES ($1, $2, $3, $4, $5, $6, 'runboard', $7, $8) RETURNING id",
        )
        .bind(intent.project.as_str())
        .bind(&intent.user)
        .bind(&intent.selector_kind)
        .bind(&intent.selector_value)
        .bind(intent.agent.as_deref())
        .bind(intent.preset.as_deref())
        .bind(intent.started_at)
        .bind(STARTING)
        .fetch_one(&self.pool)
        .await?;
        Ok(ExecutionId(row.try_get(0)?))
    }

    /// Gives the intent `id` the job id the platform answered. When the job is recorded
    /// already (`AlreadyExists`, or the sweep saw it first) the intent is dropped, and a
    /// row that was marked "elsewhere" takes the intent's user, selector and preset.
    pub async fn confirm_start(
        &self,
        id: ExecutionId,
        job_id: &str,
    ) -> Result<Confirmed, LedgerError> {
        let update = sqlx::query(
            "UPDATE executions SET job_id = $1, status = 'Pending' WHERE id = $2 AND job_id IS NULL",
        )
        .bind(job_id)
        .bind(id.0)
        .execute(&self.pool)
        .await;
        match update {
            Ok(_) => Ok(Confirmed::Recorded(id)),
            Err(sqlx::Error::Database(err)) if err.is_unique_violation() => {
                let mut tx = self.pool.begin().await?;
                let existing = merge_intent(&mut tx, id, job_id).await?;
                tx.commit().await?;
                Ok(Confirmed::AlreadyRecorded(existing))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// The start of intent `id` did not happen: the row goes. When `unconfirmed`, its
    /// answer was lost instead, so the row stays, marked [`UNCONFIRMED`] and finished.
    pub async fn abandon_intent(
        &self,
        id: ExecutionId,
        unconfirmed: bool,
    ) -> Result<(), LedgerError> {
        let query = if unconfirmed {
            sqlx::query(
                "UPDATE executions SET status = $2, finished = 1 WHERE id = $1 AND job_id IS NULL",
            )
            .bind(id.0)
            .bind(UNCONFIRMED)
        } else {
            sqlx::query("DELETE FROM executions WHERE id = $1 AND job_id IS NULL").bind(id.0)
        };
        query.execute(&self.pool).await?;
        Ok(())
    }

    /// Records `job` from the active-jobs list unless the ledger has it: it adopts the
    /// newest intent of the project left without a job id since before `orphan_before`
    /// (when exactly one such intent has the job's agent, or none was asked for), else
    /// records it as started elsewhere, first seen at `now`. Idempotent; safe when
    /// several replicas sweep at once.
    pub async fn saw_job(
        &self,
        job: &SeenJob,
        now: i64,
        orphan_before: i64,
    ) -> Result<Seen, LedgerError> {
        if self
            .id_of(job.project.as_str(), &job.job_id)
            .await?
            .is_some()
        {
            return Ok(Seen::Known);
        }
        if let Some(id) = self.adopt(job, orphan_before).await? {
            return Ok(Seen::Adopted(id));
        }
        let inserted = sqlx::query(
            "INSERT INTO executions (project, job_id, user_name, selector_kind, selector_value, \
             agent, origin, started_at, status, test_run_id) \
             VALUES ($1, $2, '', '', '', $3, 'elsewhere', $4, $5, $6) \
             ON CONFLICT (project, job_id) DO NOTHING RETURNING id",
        )
        .bind(job.project.as_str())
        .bind(&job.job_id)
        .bind(job.agent.as_deref())
        .bind(now)
        .bind(&job.status)
        .bind(job.test_run_id.as_deref())
        .fetch_optional(&self.pool)
        .await?;
        match inserted {
            Some(row) => Ok(Seen::Recorded(ExecutionId(row.try_get(0)?))),
            None => Ok(Seen::Known),
        }
    }

    /// The one orphaned intent `job` can be, given that id.
    async fn adopt(
        &self,
        job: &SeenJob,
        orphan_before: i64,
    ) -> Result<Option<ExecutionId>, LedgerError> {
        let candidates = sqlx::query(
            "SELECT id, agent FROM executions WHERE project = $1 AND job_id IS NULL \
             AND status = $2 AND started_at < $3",
        )
        .bind(job.project.as_str())
        .bind(STARTING)
        .bind(orphan_before)
        .fetch_all(&self.pool)
        .await?;
        let matching: Vec<i64> = candidates
            .iter()
            .filter(|row| {
                let agent: Option<String> = row.try_get(1).unwrap_or(None);
                agent.is_none() || agent == job.agent
            })
            .filter_map(|row| row.try_get(0).ok())
            .collect();
        let [id] = matching[..] else {
            return Ok(None);
        };
        let adopted = sqlx::query(
            "UPDATE executions SET job_id = $1, status = $2, test_run_id = $3 \
             WHERE id = $4 AND job_id IS NULL",
        )
        .bind(&job.job_id)
        .bind(&job.status)
        .bind(job.test_run_id.as_deref())
        .bind(id)
        .execute(&self.pool)
        .await;
        match adopted {
            Ok(done) if done.rows_affected() == 1 => Ok(Some(ExecutionId(id))),
            Ok(_) => Ok(None),
            // Another replica recorded the job meanwhile.
            Err(sqlx::Error::Database(err)) if err.is_unique_violation() => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// Records the job's latest `status` and run id while it runs. False when `owner`
    /// no longer holds the lease (another instance follows it now).
    pub async fn update_job(
        &self,
        id: ExecutionId,
        owner: &str,
        status: &str,
        test_run_id: Option<&str>,
    ) -> Result<bool, LedgerError> {
        let done = sqlx::query(
            "UPDATE executions SET status = $1, test_run_id = COALESCE($2, test_run_id) \
             WHERE id = $3 AND lease_owner = $4 AND finished = 0",
        )
        .bind(status)
        .bind(test_run_id)
        .bind(id.0)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(affected(&done))
    }

    /// Records the job's end, its counts and each test's result, and lets go of the
    /// lease, in one transaction. False when `owner` no longer holds the lease.
    pub async fn finish(
        &self,
        id: ExecutionId,
        owner: &str,
        end: &Finish,
    ) -> Result<bool, LedgerError> {
        let mut tx = self.pool.begin().await?;
        let counts = end.counts;
        let row = sqlx::query(
            "UPDATE executions SET status = $1, test_run_id = COALESCE($2, test_run_id), \
             finished = 1, passed = $3, failed = $4, skipped = $5, total = $6, \
             duration_ms = $7, finished_at = $8, lease_owner = NULL, lease_until = NULL \
             WHERE id = $9 AND lease_owner = $10 AND finished = 0 \
             RETURNING project, started_at",
        )
        .bind(&end.status)
        .bind(end.test_run_id.as_deref())
        .bind(counts.map(|c| c.passed))
        .bind(counts.map(|c| c.failed))
        .bind(counts.map(|c| c.skipped))
        .bind(counts.map(|c| c.total))
        .bind(end.duration_ms)
        .bind(end.finished_at)
        .bind(id.0)
        .bind(owner)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(false);
        };
        let project: String = row.try_get(0)?;
        let started_at: i64 = row.try_get(1)?;
        for chunk in end.results.chunks(RESULTS_PER_INSERT) {
            let mut sql = String::from(
                "INSERT INTO test_results (execution_id, project, test_id, title, status, \
                 duration_ms, started_at) VALUES ",
            );
            for i in 0..chunk.len() {
                let p = i * 7;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6,
                    p + 7
                ));
            }
            // A repeated test id in one report keeps its first result.
            sql.push_str(" ON CONFLICT (execution_id, test_id) DO NOTHING");
            let mut query = sqlx::query(&sql);
            for result in chunk {
                query = query
                    .bind(id.0)
                    .bind(&project)
                    .bind(&result.test_id)
                    .bind(&result.title)
                    .bind(&result.status)
                    .bind(result.duration_ms)
                    .bind(started_at);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes executions (and their test results) started before `before`; returns
    /// how many executions went.
    pub async fn purge(&self, before: i64) -> Result<u64, LedgerError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM test_results WHERE execution_id IN \
             (SELECT id FROM executions WHERE started_at < $1)",
        )
        .bind(before)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM executions WHERE started_at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// Refreshes the query planner's statistics (after the purge, and after a bulk load),
    /// so history filters keep using the right index as the ledger grows.
    pub async fn analyze(&self) -> Result<(), LedgerError> {
        sqlx::query("ANALYZE").execute(&self.pool).await?;
        Ok(())
    }

    /// The row of `job_id` in `project`, if recorded.
    pub(crate) async fn id_of(
        &self,
        project: &str,
        job_id: &str,
    ) -> Result<Option<ExecutionId>, LedgerError> {
        let row = sqlx::query("SELECT id FROM executions WHERE project = $1 AND job_id = $2")
            .bind(project)
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => Some(ExecutionId(row.try_get(0)?)),
            None => None,
        })
    }
}

/// The intent `id` lost the race for `job_id`: the recorded row takes what the intent
/// knew if it was marked "elsewhere", and the intent goes. Returns the recorded row.
async fn merge_intent(
    tx: &mut Transaction<'_, Any>,
    id: ExecutionId,
    job_id: &str,
) -> Result<ExecutionId, LedgerError> {
    let existing: i64 = sqlx::query(
        "SELECT e.id FROM executions e, executions i \
         WHERE i.id = $1 AND e.project = i.project AND e.job_id = $2",
    )
    .bind(id.0)
    .bind(job_id)
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    sqlx::query(
        "UPDATE executions SET origin = 'runboard', \
         user_name = (SELECT user_name FROM executions WHERE id = $1), \
         selector_kind = (SELECT selector_kind FROM executions WHERE id = $1), \
         selector_value = (SELECT selector_value FROM executions WHERE id = $1), \
         agent = (SELECT agent FROM executions WHERE id = $1), \
         preset = (SELECT preset FROM executions WHERE id = $1), \
         started_at = (SELECT started_at FROM executions WHERE id = $1) \
         WHERE id = $2 AND origin = 'elsewhere'",
    )
    .bind(id.0)
    .bind(existing)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM executions WHERE id = $1")
        .bind(id.0)
        .execute(&mut **tx)
        .await?;
    Ok(ExecutionId(existing))
}

fn affected(done: &AnyQueryResult) -> bool {
    done.rows_affected() > 0
}
