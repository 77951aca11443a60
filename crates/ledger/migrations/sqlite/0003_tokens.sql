-- Machine tokens (issue 22, SQLite): a pipeline's credential for one project. Only
-- the SHA-256 of a token's text is stored (lowercase hex), and a request's token is
-- found by that hash; the text itself is shown once, at creation, and kept nowhere.
-- Times are epoch milliseconds (UTC). A revoked token keeps its row (revoked_at), so its
-- name stays in the audit trail; names are unique among tokens not revoked, across the
-- server, so `runboard token revoke NAME` needs no project.
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    -- 1: may start runs (within presets, when any); 0: may only read.
    may_start INTEGER NOT NULL DEFAULT 0,
    -- The preset names it may start, as a JSON array; NULL: any start.
    presets TEXT,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT,
    revoked_by TEXT
);
CREATE UNIQUE INDEX tokens_live_name ON tokens (name) WHERE revoked_at IS NULL;
CREATE INDEX tokens_by_project ON tokens (project, revoked_at);
