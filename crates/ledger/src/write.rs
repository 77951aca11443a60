//! Writes: a start's intent and its confirmation, jobs seen elsewhere, a job's progress
//! and its end with every test's result, and the retention purge.
//!
//! The start path writes twice on purpose: the intent before the start is sent, the job
//! id after. If the process dies between the upstream's acceptance and the second write,
//! the intent stays `Starting` without a job id, and the job itself appears in the
//! project's active-jobs list, which the sweep records ([`Ledger::saw_job`]), adopting the
//! orphaned intent when it is the only candidate, so the user is kept. An accepted start
//! is therefore never missing, at worst it is marked "started elsewhere".

use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::{
    Confirmed, ExecutionId, Finish, Intent, Ledger, LedgerError, STARTING, SeenJob, TestOutcome,
    UNCONFIRMED,
    pool::{Pools, on_pool},
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
        let sql = "INSERT INTO executions (project, user_name, selector_kind, selector_value, \
             agent, preset, origin, started_at, status) \
             VALUES ($1, $2, $3, $4, $5, $6, 'runboard', $7, $8) RETURNING id";
        Ok(on_pool!(&self.pool, |pool| {
            sqlx::query_scalar(sql)
                .bind(intent.project.as_str())
                .bind(&intent.user)
                .bind(&intent.selector_kind)
                .bind(&intent.selector_value)
                .bind(intent.agent.as_deref())
                .bind(intent.preset.as_deref())
                .bind(intent.started_at)
                .bind(STARTING)
                .fetch_one(pool)
                .await?
        }))
    }

    /// Gives the intent `id` the job id the platform answered. When the job is recorded
    /// already (`AlreadyExists`, or the sweep saw it first) the intent is dropped, and a
    /// row that was marked "elsewhere" takes the intent's user, selector and preset.
    pub async fn confirm_start(
        &self,
        id: ExecutionId,
        job_id: &str,
    ) -> Result<Confirmed, LedgerError> {
        let sql = "UPDATE executions SET job_id = $1, status = 'Pending' \
             WHERE id = $2 AND job_id IS NULL";
        let update = on_pool!(&self.pool, |pool| {
            sqlx::query(sql)
                .bind(job_id)
                .bind(id)
                .execute(pool)
                .await
                .map(|_| ())
        });
        match update {
            Ok(()) => Ok(Confirmed::Recorded(id)),
            Err(sqlx::Error::Database(err)) if err.is_unique_violation() => {
                let existing = merge_intent(&self.pool, id, job_id).await?;
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
        if unconfirmed {
            let sql = "UPDATE executions SET status = $1, finished = 1 \
                 WHERE id = $2 AND job_id IS NULL";
            on_pool!(&self.pool, |pool| {
                sqlx::query(sql)
                    .bind(UNCONFIRMED)
                    .bind(id)
                    .execute(pool)
                    .await?;
            });
        } else {
            let sql = "DELETE FROM executions WHERE id = $1 AND job_id IS NULL";
            on_pool!(&self.pool, |pool| {
                sqlx::query(sql).bind(id).execute(pool).await?;
            });
        }
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
        let sql = "INSERT INTO executions (project, job_id, user_name, selector_kind, \
             selector_value, agent, origin, started_at, status, test_run_id) \
             VALUES ($1, $2, '', '', '', $3, 'elsewhere', $4, $5, $6) \
             ON CONFLICT (project, job_id) DO NOTHING RETURNING id";
        let inserted = on_pool!(&self.pool, |pool| {
            sqlx::query_scalar(sql)
                .bind(job.project.as_str())
                .bind(&job.job_id)
                .bind(job.agent.as_deref())
                .bind(now)
                .bind(&job.status)
                .bind(job.test_run_id.as_deref())
                .fetch_optional(pool)
                .await?
        });
        Ok(inserted.map_or(Seen::Known, Seen::Recorded))
    }

    /// The one orphaned intent `job` can be, given that id.
    async fn adopt(
        &self,
        job: &SeenJob,
        orphan_before: i64,
    ) -> Result<Option<ExecutionId>, LedgerError> {
        let sql = "SELECT id, agent FROM executions WHERE project = $1 AND job_id IS NULL \
             AND status = $2 AND started_at < $3";
        let orphans: Vec<Orphan> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(sql)
                .bind(job.project.as_str())
                .bind(STARTING)
                .bind(orphan_before)
                .fetch_all(pool)
                .await?
        });
        let matching: Vec<ExecutionId> = orphans
            .into_iter()
            .filter(|orphan| orphan.agent.is_none() || orphan.agent == job.agent)
            .map(|orphan| orphan.id)
            .collect();
        let [id] = matching[..] else {
            return Ok(None);
        };
        let sql = "UPDATE executions SET job_id = $1, status = $2, test_run_id = $3 \
             WHERE id = $4 AND job_id IS NULL";
        let adopted = on_pool!(&self.pool, |pool| {
            sqlx::query(sql)
                .bind(&job.job_id)
                .bind(&job.status)
                .bind(job.test_run_id.as_deref())
                .bind(id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        });
        match adopted {
            Ok(1) => Ok(Some(id)),
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
        let sql = "UPDATE executions SET status = $1, test_run_id = COALESCE($2, test_run_id) \
             WHERE id = $3 AND lease_owner = $4 AND finished = 0";
        let updated = on_pool!(&self.pool, |pool| {
            sqlx::query(sql)
                .bind(status)
                .bind(test_run_id)
                .bind(id)
                .bind(owner)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(updated > 0)
    }

    /// Records the job's end, its counts and each test's result, and lets go of the
    /// lease, in one transaction. False when `owner` no longer holds the lease.
    pub async fn finish(
        &self,
        id: ExecutionId,
        owner: &str,
        end: &Finish,
    ) -> Result<bool, LedgerError> {
        let counts = end.counts;
        let sql = "UPDATE executions SET status = $1, test_run_id = COALESCE($2, test_run_id), \
             finished = 1, passed = $3, failed = $4, skipped = $5, total = $6, \
             duration_ms = $7, finished_at = $8, lease_owner = NULL, lease_until = NULL \
             WHERE id = $9 AND lease_owner = $10 AND finished = 0 \
             RETURNING project, started_at";
        on_pool!(&self.pool, |pool| {
            let mut tx = pool.begin().await?;
            let ended: Option<Ended> = sqlx::query_as(sql)
                .bind(&end.status)
                .bind(end.test_run_id.as_deref())
                .bind(counts.map(|c| c.passed))
                .bind(counts.map(|c| c.failed))
                .bind(counts.map(|c| c.skipped))
                .bind(counts.map(|c| c.total))
                .bind(end.duration_ms)
                .bind(end.finished_at)
                .bind(id)
                .bind(owner)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(ended) = ended else {
                return Ok(false);
            };
            for chunk in end.results.chunks(RESULTS_PER_INSERT) {
                let mut insert = QueryBuilder::new("");
                push_results(&mut insert, id, &ended, chunk);
                insert.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(true)
    }

    /// Deletes executions (and their test results) started before `before`; returns
    /// how many executions went.
    pub async fn purge(&self, before: i64) -> Result<u64, LedgerError> {
        let results = "DELETE FROM test_results WHERE execution_id IN \
             (SELECT id FROM executions WHERE started_at < $1)";
        let executions = "DELETE FROM executions WHERE started_at < $1";
        Ok(on_pool!(&self.pool, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(results).bind(before).execute(&mut *tx).await?;
            let done = sqlx::query(executions)
                .bind(before)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            done.rows_affected()
        }))
    }

    /// Refreshes the query planner's statistics (after the purge, and after a bulk load),
    /// so history filters keep using the right index as the ledger grows.
    pub async fn analyze(&self) -> Result<(), LedgerError> {
        on_pool!(&self.pool, |pool| {
            sqlx::query("ANALYZE").execute(pool).await?;
        });
        Ok(())
    }

    /// The row of `job_id` in `project`, if recorded.
    pub(crate) async fn id_of(
        &self,
        project: &str,
        job_id: &str,
    ) -> Result<Option<ExecutionId>, LedgerError> {
        let sql = "SELECT id FROM executions WHERE project = $1 AND job_id = $2";
        Ok(on_pool!(&self.pool, |pool| {
            sqlx::query_scalar(sql)
                .bind(project)
                .bind(job_id)
                .fetch_optional(pool)
                .await?
        }))
    }
}

/// An intent left without a job id, as the sweep sees it.
#[derive(sqlx::FromRow)]
struct Orphan {
    id: ExecutionId,
    agent: Option<String>,
}

/// What a finished job's row says that its test results repeat.
#[derive(sqlx::FromRow)]
struct Ended {
    project: String,
    started_at: i64,
}

/// The intent `id` lost the race for `job_id`: in one transaction, the recorded row
/// takes what the intent knew if it was marked "elsewhere", and the intent goes.
/// Returns the recorded row.
async fn merge_intent(
    pools: &Pools,
    id: ExecutionId,
    job_id: &str,
) -> Result<ExecutionId, LedgerError> {
    let find = "SELECT e.id FROM executions e, executions i \
         WHERE i.id = $1 AND e.project = i.project AND e.job_id = $2";
    let take = "UPDATE executions SET origin = 'runboard', \
         user_name = (SELECT user_name FROM executions WHERE id = $1), \
         selector_kind = (SELECT selector_kind FROM executions WHERE id = $1), \
         selector_value = (SELECT selector_value FROM executions WHERE id = $1), \
         agent = (SELECT agent FROM executions WHERE id = $1), \
         preset = (SELECT preset FROM executions WHERE id = $1), \
         started_at = (SELECT started_at FROM executions WHERE id = $1) \
         WHERE id = $2 AND origin = 'elsewhere'";
    let drop_intent = "DELETE FROM executions WHERE id = $1";
    Ok(on_pool!(pools, |pool| {
        let mut tx = pool.begin().await?;
        let existing: ExecutionId = sqlx::query_scalar(find)
            .bind(id)
            .bind(job_id)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(take)
            .bind(id)
            .bind(existing)
            .execute(&mut *tx)
            .await?;
        sqlx::query(drop_intent).bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        existing
    }))
}

/// Appends one multi-row insert of `results`, the tests of execution `id` (their
/// project and start time repeated from `ended`, for the per-test history index). A
/// repeated test id in one report keeps its first result.
fn push_results<'a, DB: Database>(
    sql: &mut QueryBuilder<'a, DB>,
    id: ExecutionId,
    ended: &'a Ended,
    results: &'a [TestOutcome],
) where
    &'a str: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
    Option<i64>: Encode<'a, DB>,
{
    sql.push(
        "INSERT INTO test_results (execution_id, project, test_id, title, status, \
         duration_ms, started_at) ",
    );
    sql.push_values(results, |mut row, result| {
        row.push_bind(id)
            .push_bind(ended.project.as_str())
            .push_bind(result.test_id.as_str())
            .push_bind(result.title.as_str())
            .push_bind(result.status.as_str())
            .push_bind(result.duration_ms)
            .push_bind(ended.started_at);
    });
    sql.push(" ON CONFLICT (execution_id, test_id) DO NOTHING");
}
