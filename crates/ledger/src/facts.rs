//! What a run's verdict reads besides its rules: the recent results of many tests at
//! once (flips), what one execution said of some tests (the previous run), and which tests the latest finished run of a suite or feature held (what
//! a suite or feature quarantine, or an owner's `suites`/`features`, covers: the
//! platform's reports do not say which suite a test belongs to).

use sqlx::QueryBuilder;

use crate::{ExecutionId, Ledger, LedgerError, pool::on_pool};

/// Test ids per query of [`Ledger::results_of`] (far below both backends' limits).
const IDS_PER_QUERY: usize = 500;
/// Tests per query of [`Ledger::recent_results`]: one select each, joined by `UNION ALL`
/// (SQLite refuses more than 500 in one compound select; 4 binds each stays far below
/// both backends' bind limits).
const TESTS_PER_UNION: usize = 200;
/// Selectors per query of [`Ledger::members`].
const SELECTORS_PER_QUERY: usize = 200;

/// One earlier result of a test.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RecentResult {
    /// The test.
    pub test_id: String,
    /// Its status as the platform spelled it.
    pub status: String,
}

/// A failed test of one execution.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Failure {
    /// The execution.
    pub execution_id: ExecutionId,
    /// The test that failed in it.
    pub test_id: String,
}

/// A test the latest finished run of a selector held.
#[derive(Debug, Clone, PartialEq, Eq, Hash, sqlx::FromRow)]
pub struct Member {
    /// The selector's field (`testSuiteId`, `featureId`).
    pub kind: String,
    /// The selector's id.
    pub value: String,
    /// The test.
    pub test_id: String,
}

impl Ledger {
    /// The last `per_test` results of each of `test_ids` in `project`, leaving out
    /// execution `exclude` (the run being judged), newest first within each test, tests
    /// in id order. Bounded by what a verdict needs, not by the retention: each test is
    /// its own `… ORDER BY started_at DESC, execution_id DESC LIMIT per_test` over the
    /// covering index `test_results_recent`, so a test reads at most `per_test + 1`
    /// index entries however many runs the ledger keeps (a window function over every
    /// result of the tests, the earlier form, read them all). The per-test selects are
    /// joined by `UNION ALL`, [`TESTS_PER_UNION`] to a query (SQLite's compound-select
    /// limit is 500), each wrapped as a subquery so its `LIMIT` is its own on both
    /// backends.
    pub async fn recent_results(
        &self,
        project: &str,
        test_ids: &[&str],
        exclude: Option<ExecutionId>,
        per_test: usize,
    ) -> Result<Vec<RecentResult>, LedgerError> {
        let exclude = exclude.map_or(-1, |id| id.0);
        let per_test = i64::try_from(per_test).unwrap_or(i64::MAX);
        let mut out = Vec::new();
        for chunk in test_ids.chunks(TESTS_PER_UNION) {
            let rows: Vec<RecentResult> = on_pool!(&self.pool, |pool| {
                let mut sql = QueryBuilder::new("SELECT test_id, status FROM (");
                for (i, test) in chunk.iter().enumerate() {
                    if i > 0 {
                        sql.push(" UNION ALL ");
                    }
                    sql.push(
                        "SELECT * FROM (SELECT test_id, status, started_at, execution_id \
                         FROM test_results WHERE project = ",
                    )
                    .push_bind(project)
                    .push(" AND test_id = ")
                    .push_bind(*test)
                    .push(" AND execution_id <> ")
                    .push_bind(exclude)
                    .push(" ORDER BY started_at DESC, execution_id DESC LIMIT ")
                    .push_bind(per_test)
                    .push(") one");
                }
                sql.push(") recent ORDER BY test_id, started_at DESC, execution_id DESC");
                sql.build_query_as().fetch_all(pool).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// The results of `test_ids` in execution `id` of `project` (those it has), by test
    /// id: what the previous run said of this run's failures, without reading its every
    /// result.
    pub async fn results_of(
        &self,
        project: &str,
        id: ExecutionId,
        test_ids: &[&str],
    ) -> Result<Vec<RecentResult>, LedgerError> {
        let mut out = Vec::new();
        for chunk in test_ids.chunks(IDS_PER_QUERY) {
            let rows: Vec<RecentResult> = on_pool!(&self.pool, |pool| {
                // Written for the covering index (project, test_id, …, execution_id, status).
                let mut sql =
                    QueryBuilder::new("SELECT test_id, status FROM test_results WHERE project = ");
                sql.push_bind(project).push(" AND test_id IN (");
                let mut ids = sql.separated(", ");
                for test in chunk {
                    ids.push_bind(*test);
                }
                sql.push(") AND execution_id = ")
                    .push_bind(id)
                    .push(" ORDER BY test_id");
                sql.build_query_as().fetch_all(pool).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// The failed tests of each of `executions` of `project`, by execution then test: one
    /// query per 500 executions (the history's blocking line reads a page at once, over
    /// the primary key `(execution_id, test_id)`).
    pub async fn failures_of(
        &self,
        project: &str,
        executions: &[ExecutionId],
    ) -> Result<Vec<Failure>, LedgerError> {
        let mut out = Vec::new();
        for chunk in executions.chunks(IDS_PER_QUERY) {
            let rows: Vec<Failure> = on_pool!(&self.pool, |pool| {
                let mut sql = QueryBuilder::new(
                    "SELECT execution_id, test_id FROM test_results WHERE project = ",
                );
                sql.push_bind(project)
                    .push(" AND status = 'Failed' AND execution_id IN (");
                let mut ids = sql.separated(", ");
                for id in chunk {
                    ids.push_bind(*id);
                }
                sql.push(") ORDER BY execution_id, test_id");
                sql.build_query_as().fetch_all(pool).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// The tests of the latest finished run of each of `selectors` (`(kind, value)`,
    /// such as `("testSuiteId", "s1")`) in `project`.
    pub async fn members(
        &self,
        project: &str,
        selectors: &[(&str, &str)],
    ) -> Result<Vec<Member>, LedgerError> {
        let mut out = Vec::new();
        for chunk in selectors.chunks(SELECTORS_PER_QUERY) {
            let rows: Vec<Member> = on_pool!(&self.pool, |pool| {
                let mut sql = QueryBuilder::new(
                    "SELECT e.selector_kind AS kind, e.selector_value AS value, \
                     r.test_id AS test_id FROM test_results r \
                     JOIN executions e ON e.id = r.execution_id \
                     WHERE r.execution_id IN (SELECT MAX(id) FROM executions \
                     WHERE finished = 1 AND job_id IS NOT NULL AND project = ",
                );
                sql.push_bind(project).push(" AND (");
                for (i, (kind, value)) in chunk.iter().enumerate() {
                    if i > 0 {
                        sql.push(" OR ");
                    }
                    sql.push("(selector_kind = ")
                        .push_bind(*kind)
                        .push(" AND selector_value = ")
                        .push_bind(*value)
                        .push(")");
                }
                sql.push(") GROUP BY selector_kind, selector_value)");
                sql.build_query_as().fetch_all(pool).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }
}
