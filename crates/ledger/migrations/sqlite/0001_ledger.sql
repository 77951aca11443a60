-- The execution ledger (SQLite). Times are epoch milliseconds (UTC).
CREATE TABLE executions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    -- NULL while the start is in flight (an intent) or when its answer was lost.
    job_id TEXT,
    user_name TEXT NOT NULL,
    selector_kind TEXT NOT NULL,
    selector_value TEXT NOT NULL,
    agent TEXT,
    preset TEXT,
    origin TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    test_run_id TEXT,
    status TEXT NOT NULL,
    finished INTEGER NOT NULL DEFAULT 0,
    passed BIGINT,
    failed BIGINT,
    skipped BIGINT,
    total BIGINT,
    duration_ms BIGINT,
    finished_at BIGINT,
    lease_owner TEXT,
    lease_until BIGINT,
    UNIQUE (project, job_id)
);
CREATE INDEX executions_history ON executions (project, started_at DESC, id DESC);
CREATE INDEX executions_unfinished ON executions (finished, lease_until);
CREATE INDEX executions_selector ON executions (project, selector_kind, selector_value, started_at DESC);

CREATE TABLE test_results (
    execution_id BIGINT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    project TEXT NOT NULL,
    test_id TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    duration_ms BIGINT,
    started_at BIGINT NOT NULL,
    PRIMARY KEY (execution_id, test_id)
);
CREATE INDEX test_results_by_test ON test_results (project, test_id, started_at DESC);
