//! The settings of Runboard's edge towards browsers: `public_url`, the listener's
//! timeouts and connection cap (`[server]`), and the per-user rate limits (`[limits]`).

use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;

use super::ConfigError;

/// How long the request head may take to arrive (slow-loris defence).
pub(crate) const DEFAULT_HEADER_TIMEOUT_MS: u64 = 30_000;
/// How long a request body may pause between two pieces.
pub(crate) const DEFAULT_BODY_TIMEOUT_MS: u64 = 30_000;
/// How long a whole request, head and body, may take to arrive.
pub(crate) const DEFAULT_REQUEST_READ_MS: u64 = 60_000;
/// How long an answer may wait for a client that stopped reading it.
pub(crate) const DEFAULT_IDLE_TIMEOUT_MS: u64 = 60_000;
/// Connections served at once; more wait in the listen backlog.
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Starts per user and minute: far above what a person clicks.
pub(crate) const DEFAULT_STARTS_PER_MINUTE: u32 = 60;
/// Reads per user and minute: ten tabs polling jobs every 2 s and a report every 3 s
/// make 500; this leaves room for reloads and bursts.
pub(crate) const DEFAULT_READS_PER_MINUTE: u32 = 1200;

/// `[server]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    pub(crate) header_timeout_ms: Option<u64>,
    pub(crate) body_timeout_ms: Option<u64>,
    pub(crate) request_read_ms: Option<u64>,
    pub(crate) idle_timeout_ms: Option<u64>,
    pub(crate) max_connections: Option<usize>,
}

/// `[limits]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimits {
    pub(crate) starts_per_minute: Option<u32>,
    pub(crate) reads_per_minute: Option<u32>,
}

/// `[server]`: how the listener treats slow or idle clients.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The whole request head must arrive within this; an idle keep-alive connection is
    /// closed after this long without a new request (hyper runs the same timer then).
    pub header_timeout: Duration,
    /// The longest pause between two pieces of a request body.
    pub body_timeout: Duration,
    /// The longest a whole request may take to arrive, head and body together, counted
    /// from when the server starts waiting for it: a body trickled a byte at a time,
    /// each within `body_timeout`, must still end by then.
    pub request_read: Duration,
    /// A connection whose answer the client stops reading is closed after this long.
    pub idle_timeout: Duration,
    /// Connections served at once; further ones wait in the kernel's listen backlog.
    pub max_connections: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_millis(DEFAULT_HEADER_TIMEOUT_MS),
            body_timeout: Duration::from_millis(DEFAULT_BODY_TIMEOUT_MS),
            request_read: Duration::from_millis(DEFAULT_REQUEST_READ_MS),
            idle_timeout: Duration::from_millis(DEFAULT_IDLE_TIMEOUT_MS),
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// `[limits]`: requests per user (per peer address in `auth.mode = "none"`) and minute.
/// 0 turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitsConfig {
    /// `POST /api/testExecution/…` per minute.
    pub starts_per_minute: u32,
    /// Job and report reads and bootstrap loads per minute.
    pub reads_per_minute: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            starts_per_minute: DEFAULT_STARTS_PER_MINUTE,
            reads_per_minute: DEFAULT_READS_PER_MINUTE,
        }
    }
}

pub(crate) fn server(raw: RawServer) -> Result<ServerConfig, ConfigError> {
    let millis = |name: &str, value: Option<u64>, default: u64| {
        let value = value.unwrap_or(default);
        if (100..=3_600_000).contains(&value) {
            Ok(Duration::from_millis(value))
        } else {
            Err(ConfigError::invalid(
                name,
                format!("{value} is out of range; use 100 to 3600000 milliseconds"),
            ))
        }
    };
    let max_connections = raw.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS);
    if !(1..=1_000_000).contains(&max_connections) {
        return Err(ConfigError::invalid(
            "server.max_connections",
            format!("{max_connections} is out of range; use 1 to 1000000"),
        ));
    }
    let header_timeout = millis(
        "server.header_timeout_ms",
        raw.header_timeout_ms,
        DEFAULT_HEADER_TIMEOUT_MS,
    )?;
    // Left out, it is never shorter than the head's own timeout.
    let request_read = millis(
        "server.request_read_ms",
        raw.request_read_ms,
        DEFAULT_REQUEST_READ_MS.max(raw.header_timeout_ms.unwrap_or(DEFAULT_HEADER_TIMEOUT_MS)),
    )?;
    // The whole request cannot have less time than its head alone.
    if request_read < header_timeout {
        return Err(ConfigError::invalid(
            "server.request_read_ms",
            "is shorter than server.header_timeout_ms; the whole request (head and body) \
             needs at least as long as its head",
        ));
    }
    Ok(ServerConfig {
        header_timeout,
        body_timeout: millis(
            "server.body_timeout_ms",
            raw.body_timeout_ms,
            DEFAULT_BODY_TIMEOUT_MS,
        )?,
        request_read,
        idle_timeout: millis(
            "server.idle_timeout_ms",
            raw.idle_timeout_ms,
            DEFAULT_IDLE_TIMEOUT_MS,
        )?,
        max_connections,
    })
}

pub(crate) fn limits(raw: RawLimits) -> LimitsConfig {
    LimitsConfig {
        starts_per_minute: raw.starts_per_minute.unwrap_or(DEFAULT_STARTS_PER_MINUTE),
        reads_per_minute: raw.reads_per_minute.unwrap_or(DEFAULT_READS_PER_MINUTE),
    }
}

/// `public_url`: the one origin browsers use. Only scheme, host and port count.
pub(crate) fn public_url(raw: Option<String>) -> Result<Option<Url>, ConfigError> {
    let Some(text) = raw.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let bad = |problem: &str| ConfigError::invalid("public_url", problem.to_owned());
    let url = Url::parse(&text).map_err(|_| {
        bad("is not a URL; write the address people open, e.g. https://runboard.example.com")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad("must be an http:// or https:// address with a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not hold a user name or password"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "must be an origin only (scheme, host, port): Runboard serves from the root",
        ));
    }
    Ok(Some(url))
}

/// `host[:port]` as a browser sends it in `Host` for `url` (no port when it is the
/// scheme's default).
pub(crate) fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}
