-- The notifications outbox (SQLite): each message is recorded here before it is sent, once
-- per (channel, execution, event) whichever replica saw the run end, then delivered under
-- a lease like the follower's (lease_owner, lease_until) and retried with backoff until it
-- is sent or given up. Times are epoch milliseconds (UTC). The body is the exact bytes
-- sent (already checked for keys and channel secrets); the channel's URL and secret are
-- never stored: they stay in the configuration.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    project TEXT NOT NULL,
    execution_id BIGINT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    run_id TEXT,
    -- started | finished | failed | recovered | new_failure
    event TEXT NOT NULL,
    body TEXT NOT NULL,
    -- pending | sent | gave_up
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    first_attempt_at BIGINT,
    last_attempt_at BIGINT,
    next_attempt_at BIGINT NOT NULL,
    -- Secret-free text: what failed, never the URL.
    last_error TEXT,
    lease_owner TEXT,
    lease_until BIGINT,
    UNIQUE (channel, execution_id, event)
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_project ON outbox (project, id DESC);
CREATE INDEX outbox_by_execution ON outbox (execution_id);
