//! `RUNBOARD_*` environment variables that override settings of the file, so a container
//! can be configured without rewriting it. Lists are comma-separated.

use super::{ConfigError, raw::RawConfig};

/// Every override, with the setting it replaces (listed in `runboard.example.toml`).
pub(crate) const OVERRIDES: &[(&str, &str)] = &[
    ("RUNBOARD_LISTEN", "listen"),
    ("RUNBOARD_PUBLIC_URL", "public_url"),
    ("RUNBOARD_WIDGET_DIR", "widget_dir"),
    (
        "RUNBOARD_SERVER_HEADER_TIMEOUT_MS",
        "server.header_timeout_ms",
    ),
    ("RUNBOARD_SERVER_BODY_TIMEOUT_MS", "server.body_timeout_ms"),
    ("RUNBOARD_SERVER_REQUEST_READ_MS", "server.request_read_ms"),
    ("RUNBOARD_SERVER_IDLE_TIMEOUT_MS", "server.idle_timeout_ms"),
    ("RUNBOARD_SERVER_MAX_CONNECTIONS", "server.max_connections"),
    (
        "RUNBOARD_LIMITS_STARTS_PER_MINUTE",
        "limits.starts_per_minute",
    ),
    (
        "RUNBOARD_LIMITS_READS_PER_MINUTE",
        "limits.reads_per_minute",
    ),
    ("RUNBOARD_UPSTREAM_URL", "upstream.url"),
    ("RUNBOARD_UPSTREAM_TIMEOUT_MS", "upstream.timeout_ms"),
    ("RUNBOARD_POLL_JOBS_MS", "poll.jobs_ms"),
    ("RUNBOARD_POLL_RUN_MS", "poll.run_ms"),
    ("RUNBOARD_CACHE_LIVE_REUSE_MS", "cache.live_reuse_ms"),
    ("RUNBOARD_CACHE_FINISHED_BYTES", "cache.finished_bytes"),
    ("RUNBOARD_LEDGER_URL", "ledger.url"),
    ("RUNBOARD_LEDGER_URL_FILE", "ledger.url_file"),
    ("RUNBOARD_LEDGER_RETENTION_DAYS", "ledger.retention_days"),
    ("RUNBOARD_LEDGER_FOLLOW_MS", "ledger.follow_ms"),
    ("RUNBOARD_LEDGER_LEASE_MS", "ledger.lease_ms"),
    ("RUNBOARD_AUTH_MODE", "auth.mode"),
    ("RUNBOARD_AUTH_USER_HEADER", "auth.user_header"),
    ("RUNBOARD_AUTH_GROUPS_HEADER", "auth.groups_header"),
    ("RUNBOARD_AUTH_TRUSTED_PROXIES", "auth.trusted_proxies"),
    ("RUNBOARD_AUTH_RUN_USERS", "auth.run_users"),
    ("RUNBOARD_AUTH_RUN_GROUPS", "auth.run_groups"),
    ("RUNBOARD_AUTH_RUN_EVERYONE", "auth.run_everyone"),
    ("RUNBOARD_AUTH_TRIAGE_USERS", "auth.triage_users"),
    ("RUNBOARD_AUTH_TRIAGE_GROUPS", "auth.triage_groups"),
    ("RUNBOARD_AUTH_ADMIN_USERS", "auth.admin_users"),
    ("RUNBOARD_AUTH_ADMIN_GROUPS", "auth.admin_groups"),
    (
        "RUNBOARD_TRIAGE_MAX_QUARANTINE_DAYS",
        "triage.max_quarantine_days",
    ),
    ("RUNBOARD_EMBED_FRAME_ANCESTORS", "embed.frame_ancestors"),
];

/// Replaces settings of `raw` with the overrides `env` knows.
pub(crate) fn apply_overrides(
    raw: &mut RawConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    for (var, _) in OVERRIDES {
        if let Some(value) = env(var) {
            apply(raw, var, value)?;
        }
    }
    Ok(())
}

fn apply(raw: &mut RawConfig, var: &str, value: String) -> Result<(), ConfigError> {
    match var {
        "RUNBOARD_LISTEN" => raw.listen = Some(value),
        "RUNBOARD_PUBLIC_URL" => raw.public_url = Some(value),
        "RUNBOARD_SERVER_HEADER_TIMEOUT_MS" => {
            raw.server.header_timeout_ms = Some(number(var, &value)?);
        }
        "RUNBOARD_SERVER_BODY_TIMEOUT_MS" => {
            raw.server.body_timeout_ms = Some(number(var, &value)?)
        }
        "RUNBOARD_SERVER_REQUEST_READ_MS" => {
            raw.server.request_read_ms = Some(number(var, &value)?);
        }
        "RUNBOARD_SERVER_IDLE_TIMEOUT_MS" => {
            raw.server.idle_timeout_ms = Some(number(var, &value)?)
        }
        "RUNBOARD_SERVER_MAX_CONNECTIONS" => {
            raw.server.max_connections = Some(number(var, &value)?)
        }
        "RUNBOARD_LIMITS_STARTS_PER_MINUTE" => {
            raw.limits.starts_per_minute = Some(number(var, &value)?);
        }
        "RUNBOARD_LIMITS_READS_PER_MINUTE" => {
            raw.limits.reads_per_minute = Some(number(var, &value)?);
        }
        "RUNBOARD_WIDGET_DIR" => raw.widget_dir = Some(value),
        "RUNBOARD_UPSTREAM_URL" => raw.upstream.url = Some(value),
        "RUNBOARD_UPSTREAM_TIMEOUT_MS" => raw.upstream.timeout_ms = Some(number(var, &value)?),
        "RUNBOARD_POLL_JOBS_MS" => raw.poll.jobs_ms = Some(number(var, &value)?),
        "RUNBOARD_POLL_RUN_MS" => raw.poll.run_ms = Some(number(var, &value)?),
        "RUNBOARD_CACHE_LIVE_REUSE_MS" => raw.cache.live_reuse_ms = Some(number(var, &value)?),
        "RUNBOARD_CACHE_FINISHED_BYTES" => raw.cache.finished_bytes = Some(number(var, &value)?),
        // Either override replaces the file's URL however the file gave it.
        "RUNBOARD_LEDGER_URL" => {
            raw.ledger.url = Some(value);
            raw.ledger.url_file = None;
        }
        "RUNBOARD_LEDGER_URL_FILE" => {
            raw.ledger.url_file = Some(value.into());
            raw.ledger.url = None;
        }
        "RUNBOARD_LEDGER_RETENTION_DAYS" => {
            raw.ledger.retention_days = Some(number(var, &value)?);
        }
        "RUNBOARD_LEDGER_FOLLOW_MS" => raw.ledger.follow_ms = Some(number(var, &value)?),
        "RUNBOARD_LEDGER_LEASE_MS" => raw.ledger.lease_ms = Some(number(var, &value)?),
        "RUNBOARD_AUTH_MODE" => raw.auth.mode = Some(value),
        "RUNBOARD_AUTH_USER_HEADER" => raw.auth.user_header = Some(value),
        "RUNBOARD_AUTH_GROUPS_HEADER" => raw.auth.groups_header = Some(value),
        "RUNBOARD_AUTH_TRUSTED_PROXIES" => raw.auth.trusted_proxies = Some(list(&value)),
        "RUNBOARD_AUTH_RUN_USERS" => raw.auth.run_users = Some(list(&value)),
        "RUNBOARD_AUTH_RUN_GROUPS" => raw.auth.run_groups = Some(list(&value)),
        "RUNBOARD_AUTH_RUN_EVERYONE" => raw.auth.run_everyone = Some(flag(var, &value)?),
        "RUNBOARD_AUTH_TRIAGE_USERS" => raw.auth.triage_users = Some(list(&value)),
        "RUNBOARD_AUTH_TRIAGE_GROUPS" => raw.auth.triage_groups = Some(list(&value)),
        "RUNBOARD_AUTH_ADMIN_USERS" => raw.auth.admin_users = Some(list(&value)),
        "RUNBOARD_AUTH_ADMIN_GROUPS" => raw.auth.admin_groups = Some(list(&value)),
        "RUNBOARD_TRIAGE_MAX_QUARANTINE_DAYS" => {
            raw.triage.max_quarantine_days = Some(number(var, &value)?);
        }
        "RUNBOARD_EMBED_FRAME_ANCESTORS" => raw.embed.frame_ancestors = Some(list(&value)),
        _ => {}
    }
    Ok(())
}

fn number<T: std::str::FromStr>(var: &str, value: &str) -> Result<T, ConfigError> {
    value
        .trim()
        .parse()
        // The value is not quoted back: a variable set by mistake may hold a secret.
        .map_err(|_| ConfigError::invalid(var, "is not a whole number"))
}

/// `true` or `false`, as in the file.
fn flag(var: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ConfigError::invalid(var, "is neither true nor false")),
    }
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}
