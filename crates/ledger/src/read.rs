//! Reads: history pages (newest first, filtered, with an opaque cursor), one execution,
//! the previous finished run of the same selector (for comparison), an execution's test
//! results and one test's last results (for flaky hints).

use sqlx::{Row, any::AnyRow};

use crate::{
    Counts, Execution, ExecutionId, HistoryQuery, Ledger, LedgerError, MAX_PAGE, Origin, Page,
    TestOutcome, TestRecord,
};

const COLUMNS: &str = "id, project, job_id, test_run_id, user_name, selector_kind, \
    selector_value, agent, preset, origin, started_at, status, finished, passed, failed, \
    skipped, total, duration_ms, finished_at";

/// A query's conditions with `$N` placeholders numbered as values are bound, and the
/// values, in order.
#[derive(Default)]
struct Conditions {
    sql: Vec<String>,
    binds: Vec<Bind>,
}

enum Bind {
    Text(String),
    Int(i64),
}

impl Conditions {
    /// The placeholder for `value`, bound next.
    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    /// `column = value`.
    fn equals(&mut self, column: &str, value: &str) {
        let p = self.bind(Bind::Text(value.to_owned()));
        self.sql.push(format!("{column} = {p}"));
    }
}

impl Ledger {
    /// One page of `project`'s history, newest first.
    pub async fn history(&self, project: &str, query: &HistoryQuery) -> Result<Page, LedgerError> {
        let limit = query.limit.clamp(1, MAX_PAGE);
        let mut c = Conditions::default();
        c.equals("project", project);
        if let Some(user) = &query.user {
            c.equals("user_name", user);
        }
        if let Some(preset) = &query.preset {
            c.equals("preset", preset);
        }
        if let Some(status) = &query.status {
            c.equals("status", status);
        }
        if let Some(origin) = query.origin {
            c.equals("origin", origin.as_str());
        }
        if let Some(from) = query.from {
            let p = c.bind(Bind::Int(from));
            c.sql.push(format!("started_at >= {p}"));
        }
        if let Some(to) = query.to {
            let p = c.bind(Bind::Int(to));
            c.sql.push(format!("started_at < {p}"));
        }
        if let Some(cursor) = &query.cursor {
            let (at, id) = parse_cursor(cursor)?;
            let at = c.bind(Bind::Int(at));
            let id = c.bind(Bind::Int(id));
            // A row-value comparison: both backends walk the history index from there.
            c.sql.push(format!("(started_at, id) < ({at}, {id})"));
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM executions WHERE {} \
             ORDER BY started_at DESC, id DESC LIMIT {}",
            c.sql.join(" AND "),
            limit + 1
        );
        let mut q = sqlx::query(&sql);
        for bind in c.binds {
            q = match bind {
                Bind::Text(text) => q.bind(text),
                Bind::Int(int) => q.bind(int),
            };
        }
        let rows = q.fetch_all(&self.pool).await?;
        let mut executions = rows.iter().map(execution).collect::<Result<Vec<_>, _>>()?;
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
        let row = sqlx::query(&sql)
            .bind(project)
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(execution).transpose().map_err(Into::into)
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
        let row = sqlx::query(&sql)
            .bind(&of.project)
            .bind(&of.selector_kind)
            .bind(&of.selector_value)
            .bind(of.started_at)
            .bind(of.id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(execution).transpose().map_err(Into::into)
    }

    /// Every test result recorded for execution `id`, by test id.
    pub async fn results(&self, id: ExecutionId) -> Result<Vec<TestOutcome>, LedgerError> {
        let rows = sqlx::query(
            "SELECT test_id, title, status, duration_ms FROM test_results \
             WHERE execution_id = $1 ORDER BY test_id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TestOutcome {
                    test_id: row.try_get(0)?,
                    title: row.try_get(1)?,
                    status: row.try_get(2)?,
                    duration_ms: row.try_get(3)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// The last `limit` results of test `test_id` in `project`, newest first.
    pub async fn test_history(
        &self,
        project: &str,
        test_id: &str,
        limit: usize,
    ) -> Result<Vec<TestRecord>, LedgerError> {
        let limit = i64::try_from(limit.clamp(1, MAX_PAGE)).unwrap_or(1);
        let rows = sqlx::query(
            "SELECT r.execution_id, e.job_id, r.status, r.duration_ms, r.started_at \
             FROM test_results r JOIN executions e ON e.id = r.execution_id \
             WHERE r.project = $1 AND r.test_id = $2 \
             ORDER BY r.started_at DESC, r.execution_id DESC LIMIT $3",
        )
        .bind(project)
        .bind(test_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TestRecord {
                    execution: ExecutionId(row.try_get(0)?),
                    job_id: row.try_get(1)?,
                    status: row.try_get(2)?,
                    duration_ms: row.try_get(3)?,
                    started_at: row.try_get(4)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }
}

fn execution(row: &AnyRow) -> Result<Execution, sqlx::Error> {
    let counts = match (
        row.try_get::<Option<i64>, _>("passed")?,
        row.try_get::<Option<i64>, _>("failed")?,
        row.try_get::<Option<i64>, _>("skipped")?,
        row.try_get::<Option<i64>, _>("total")?,
    ) {
        (Some(passed), Some(failed), Some(skipped), Some(total)) => Some(Counts {
            passed,
            failed,
            skipped,
            total,
        }),
        _ => None,
    };
    // `finished` is INTEGER: 32 bits on PostgreSQL, 64 on SQLite.
    let finished = match row.try_get::<i64, _>("finished") {
        Ok(value) => value != 0,
        Err(_) => row.try_get::<i32, _>("finished")? != 0,
    };
    Ok(Execution {
        id: ExecutionId(row.try_get("id")?),
        project: row.try_get("project")?,
        job_id: row.try_get("job_id")?,
        test_run_id: row.try_get("test_run_id")?,
        user: row.try_get("user_name")?,
        selector_kind: row.try_get("selector_kind")?,
        selector_value: row.try_get("selector_value")?,
        agent: row.try_get("agent")?,
        preset: row.try_get("preset")?,
        origin: Origin::parse(&row.try_get::<String, _>("origin")?),
        started_at: row.try_get("started_at")?,
        status: row.try_get("status")?,
        finished,
        counts,
        duration_ms: row.try_get("duration_ms")?,
        finished_at: row.try_get("finished_at")?,
    })
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
