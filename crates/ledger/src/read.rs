//! Reads: history pages (newest first, filtered, with an opaque cursor), one execution
//! (by job or by run), the previous finished run of the same selector (for comparison), an execution's test
//! results and one test's last results (for flaky hints).

use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::{
    Counts, Execution, ExecutionId, HistoryQuery, Ledger, LedgerError, MAX_PAGE, Origin, Page,
    TestOutcome, TestRecord, pool::on_pool,
};

/// The columns of [`ExecutionRow`].
const COLUMNS: &str = "id, project, job_id, test_run_id, user_name, selector_kind, \
    selector_value, agent, preset, origin, started_at, status, finished, passed, failed, \
    skipped, total, duration_ms, finished_at";

/// One `executions` row as both backends return it; [`Execution`] is what callers see.
#[derive(sqlx::FromRow)]
struct ExecutionRow {
    id: ExecutionId,
    project: String,
    job_id: Option<String>,
    test_run_id: Option<String>,
    user_name: String,
    selector_kind: String,
    selector_value: String,
    agent: Option<String>,
    preset: Option<String>,
    origin: String,
    started_at: i64,
    status: String,
    /// 0 or 1 in an `INTEGER` column: 32 bits on PostgreSQL, which SQLite decodes too.
    finished: i32,
    passed: Option<i64>,
    failed: Option<i64>,
    skipped: Option<i64>,
    total: Option<i64>,
    duration_ms: Option<i64>,
    finished_at: Option<i64>,
}

impl From<ExecutionRow> for Execution {
    fn from(row: ExecutionRow) -> Self {
        let counts = match (row.passed, row.failed, row.skipped, row.total) {
            (Some(passed), Some(failed), Some(skipped), Some(total)) => Some(Counts {
                passed,
                failed,
                skipped,
                total,
            }),
            _ => None,
        };
        Self {
            id: row.id,
            project: row.project,
            job_id: row.job_id,
            test_run_id: row.test_run_id,
            user: row.user_name,
            selector_kind: row.selector_kind,
            selector_value: row.selector_value,
            agent: row.agent,
            preset: row.preset,
            origin: Origin::parse(&row.origin),
            started_at: row.started_at,
            status: row.status,
            finished: row.finished != 0,
            counts,
            duration_ms: row.duration_ms,
            finished_at: row.finished_at,
        }
    }
}

impl Ledger {
    /// One page of `project`'s history, newest first.
    pub async fn history(&self, project: &str, query: &HistoryQuery) -> Result<Page, LedgerError> {
        let limit = query.limit.clamp(1, MAX_PAGE);
        let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
        let rows: Vec<ExecutionRow> = on_pool!(&self.pool, |pool| {
            let mut sql = QueryBuilder::new("");
            push_history(&mut sql, project, query, after, limit);
            sql.build_query_as().fetch_all(pool).await?
        });
        let mut executions: Vec<Execution> = rows.into_iter().map(Execution::from).collect();
        let next = if executions.len() > limit {
            executions.truncate(limit);
            executions.last().map(|e| cursor(e.started_at, e.id))
        } else {
            None
        };
        Ok(Page { executions, next })
    }

    /// The execution of `job_id` in `project`, if recorded.
    pub async fn execution(
        &self,
        project: &str,
        job_id: &str,
    ) -> Result<Option<Execution>, LedgerError> {
        let sql = format!("SELECT {COLUMNS} FROM executions WHERE project = $1 AND job_id = $2");
        let row: Option<ExecutionRow> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(&sql)
                .bind(project)
                .bind(job_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(Execution::from))
    }

    /// The newest execution of `project` whose run record is `run_id`, if recorded (what
    /// a run's verdict compares from).
    pub async fn execution_of_run(
        &self,
        project: &str,
        run_id: &str,
    ) -> Result<Option<Execution>, LedgerError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM executions WHERE project = $1 AND test_run_id = $2 \
             ORDER BY id DESC LIMIT 1"
        );
        let row: Option<ExecutionRow> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(&sql)
                .bind(project)
                .bind(run_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(Execution::from))
    }

    /// The newest finished execution of the same project and selector that started
    /// before `of`: what a run is compared with. None for jobs started elsewhere (the
    /// platform does not say what they ran).
    pub async fn previous(&self, of: &Execution) -> Result<Option<Execution>, LedgerError> {
        if of.selector_kind.is_empty() {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM executions WHERE project = $1 AND selector_kind = $2 \
             AND selector_value = $3 AND finished = 1 AND job_id IS NOT NULL \
             AND (started_at < $4 OR (started_at = $4 AND id < $5)) \
             ORDER BY started_at DESC, id DESC LIMIT 1"
        );
        let row: Option<ExecutionRow> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(&sql)
                .bind(&of.project)
                .bind(&of.selector_kind)
                .bind(&of.selector_value)
                .bind(of.started_at)
                .bind(of.id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(Execution::from))
    }

    /// Every test result recorded for execution `id`, by test id.
    pub async fn results(&self, id: ExecutionId) -> Result<Vec<TestOutcome>, LedgerError> {
        let sql = "SELECT test_id, title, status, duration_ms FROM test_results \
             WHERE execution_id = $1 ORDER BY test_id";
        Ok(on_pool!(&self.pool, |pool| {
            sqlx::query_as(sql).bind(id).fetch_all(pool).await?
        }))
    }

    /// The last `limit` results of test `test_id` in `project`, newest first.
    pub async fn test_history(
        &self,
        project: &str,
        test_id: &str,
        limit: usize,
    ) -> Result<Vec<TestRecord>, LedgerError> {
        let limit = i64::try_from(limit.clamp(1, MAX_PAGE)).unwrap_or(1);
        let sql = "SELECT r.execution_id AS execution, e.job_id AS job_id, r.status AS status, \
             r.duration_ms AS duration_ms, r.started_at AS started_at \
             FROM test_results r JOIN executions e ON e.id = r.execution_id \
             WHERE r.project = $1 AND r.test_id = $2 \
             ORDER BY r.started_at DESC, r.execution_id DESC LIMIT $3";
        Ok(on_pool!(&self.pool, |pool| {
            sqlx::query_as(sql)
                .bind(project)
                .bind(test_id)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }
}

/// Appends to `sql` the query of one history page: `project`'s executions that pass
/// `query`'s filters, after the cursor `after`, newest first, one more than `limit` (so
/// the caller knows whether a next page exists).
fn push_history<'a, DB: Database>(
    sql: &mut QueryBuilder<'a, DB>,
    project: &'a str,
    query: &'a HistoryQuery,
    after: Option<(i64, i64)>,
    limit: usize,
) where
    &'a str: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    sql.push("SELECT ")
        .push(COLUMNS)
        .push(" FROM executions WHERE project = ")
        .push_bind(project);
    let origin = query.origin.map(Origin::as_str);
    let text = [
        ("user_name", query.user.as_deref()),
        ("preset", query.preset.as_deref()),
        ("status", query.status.as_deref()),
        ("origin", origin),
    ];
    for (column, value) in text {
        if let Some(value) = value {
            sql.push(format_args!(" AND {column} = ")).push_bind(value);
        }
    }
    if let Some(from) = query.from {
        sql.push(" AND started_at >= ").push_bind(from);
    }
    if let Some(to) = query.to {
        sql.push(" AND started_at < ").push_bind(to);
    }
    if let Some((at, id)) = after {
        // A row-value comparison: both backends walk the history index from there.
        sql.push(" AND (started_at, id) < (")
            .push_bind(at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
    sql.push(" ORDER BY started_at DESC, id DESC LIMIT ")
        .push_bind(fetch);
}

/// The cursor after an execution: opaque to clients, `<started_at>.<id>` in hex.
fn cursor(started_at: i64, id: ExecutionId) -> String {
    format!("{started_at:x}.{:x}", id.0)
}

fn parse_cursor(text: &str) -> Result<(i64, i64), LedgerError> {
    let (at, id) = text.split_once('.').ok_or(LedgerError::InvalidCursor)?;
    let parse = |part: &str| {
        if part.is_empty() || part.len() > 16 {
            return Err(LedgerError::InvalidCursor);
        }
        i64::from_str_radix(part, 16).map_err(|_| LedgerError::InvalidCursor)
    };
    Ok((parse(at)?, parse(id)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_strangers_are_refused() {
        let text = cursor(1_765_000_000_123, ExecutionId(42));
        assert_eq!(parse_cursor(&text).unwrap(), (1_765_000_000_123, 42));
        for bad in [
            "",
            ".",
            "1.",
            ".2",
            "x.1",
            "1-2",
            "11111111111111111.1",
            "1.2.3",
        ] {
            assert!(parse_cursor(bad).is_err(), "{bad:?}");
        }
    }
}
