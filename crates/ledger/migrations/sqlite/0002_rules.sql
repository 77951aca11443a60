-- Triage rules (SQLite): quarantines and known issues, and each rule's history. Times
-- are epoch milliseconds (UTC); `until_day` is a quarantine's last day, YYYY-MM-DD, so
-- comparing it with today's as text orders it as a date. A deleted rule keeps its row
-- (deleted_at, deleted_by) for its history.
CREATE TABLE rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    -- quarantine | known
    kind TEXT NOT NULL,
    -- testId | testSuiteId | featureId (a quarantine's scope, a known issue's test), or NULL.
    scope_kind TEXT,
    scope_value TEXT,
    -- A known issue's text or regex.
    pattern TEXT,
    regex INTEGER NOT NULL DEFAULT 0,
    until_day TEXT,
    -- A quarantine's reason, a known issue's note.
    reason TEXT NOT NULL,
    link TEXT,
    blocks INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    deleted_by TEXT,
    deleted_at BIGINT
);
CREATE INDEX rules_by_project ON rules (project, deleted_at);

CREATE TABLE rule_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id BIGINT NOT NULL REFERENCES rules (id) ON DELETE CASCADE,
    -- created | edited | deleted (an expiry is read from until_day, never written)
    action TEXT NOT NULL,
    by_user TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX rule_events_by_rule ON rule_events (rule_id, at);

-- The verdict finds a run's execution by its run id.
CREATE INDEX executions_by_run ON executions (project, test_run_id);
-- ...and reads its failures' last results and what the previous run said of them from
-- this index alone (covering: no table row is read).
CREATE INDEX test_results_recent ON test_results (project, test_id, started_at DESC, execution_id DESC, status);
