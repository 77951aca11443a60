//! `[ledger]`: where the execution ledger lives (SQLite file by default, PostgreSQL for
//! replicas), how long it keeps executions, and how the follower polls and leases jobs.

use std::{fmt, time::Duration};

use serde::Deserialize;

use super::ConfigError;

/// The ledger of a configuration file without `[ledger] url`: a SQLite file in the
/// working folder, created at first start (zero setup).
pub(crate) const DEFAULT_URL: &str = "sqlite://runboard-ledger.db";
/// The ledger of a configuration built in code (tests, the demo): in memory, gone with
/// the process.
pub(crate) const MEMORY_URL: &str = "sqlite::memory:";
/// Executions older than this are purged; 0 keeps them forever.
pub(crate) const DEFAULT_RETENTION_DAYS: u32 = 90;
/// How often the follower polls the jobs it holds.
pub(crate) const DEFAULT_FOLLOW_MS: u64 = 2_000;
/// How long a lease lasts without renewal: a dead replica's jobs are taken over after it.
pub(crate) const DEFAULT_LEASE_MS: u64 = 30_000;

/// `[ledger]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLedger {
    pub(crate) url: Option<String>,
    pub(crate) url_file: Option<std::path::PathBuf>,
    pub(crate) retention_days: Option<u32>,
    pub(crate) follow_ms: Option<u64>,
    pub(crate) lease_ms: Option<u64>,
}

/// A ledger URL. It may hold a database password, so it never prints.
#[derive(Clone)]
pub struct LedgerUrl(String);

impl LedgerUrl {
    /// The URL, for opening the database only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `sqlite` or `postgres`: all a log line or a message may say about it.
    pub fn scheme(&self) -> &str {
        self.0.split(':').next().unwrap_or("")
    }

    /// Whether the configuration names this database: not memory, and not the default
    /// file in the working folder, which another process (`runboard token`) started
    /// elsewhere would not find.
    pub fn is_named(&self) -> bool {
        self.0 != DEFAULT_URL && !self.0.contains(":memory:") && !self.0.contains("mode=memory")
    }
}

impl fmt::Debug for LedgerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LedgerUrl({}:…)", self.scheme())
    }
}

/// `[ledger]`: the execution ledger.
#[derive(Debug, Clone)]
pub struct LedgerConfig {
    /// The database (`sqlite:///var/lib/runboard/ledger.db`, `postgres://…`).
    pub url: LedgerUrl,
    /// Days executions are kept; 0 keeps them forever.
    pub retention_days: u32,
    /// How often the follower polls the unfinished jobs it holds; `None` (`follow_ms =
    /// 0`): this instance records starts and serves history but follows nothing (another
    /// instance on the same database must).
    pub follow: Option<Duration>,
    /// How long a job's lease lasts unless renewed (each follow renews it).
    pub lease: Duration,
}

impl LedgerConfig {
    /// The in-memory ledger with default timings, for configurations built in code.
    pub fn in_memory() -> Self {
        Self {
            url: LedgerUrl(MEMORY_URL.to_owned()),
            retention_days: DEFAULT_RETENTION_DAYS,
            follow: Some(Duration::from_millis(DEFAULT_FOLLOW_MS)),
            lease: Duration::from_millis(DEFAULT_LEASE_MS),
        }
    }

    /// The ledger at `url` (never validated here: [`runboard_ledger::Ledger::open`]
    /// refuses what it cannot open).
    pub fn at(url: impl Into<String>) -> Self {
        Self {
            url: LedgerUrl(url.into()),
            ..Self::in_memory()
        }
    }
}

/// The ledger's URL, written in the file (`url`) or read from a file of its own
/// (`url_file`: a Kubernetes or Docker secret, since the URL may hold a password), and
/// the setting it came from. Errors name the file, never its contents.
fn url(
    written: Option<String>,
    file: Option<&std::path::Path>,
) -> Result<(String, &'static str), ConfigError> {
    match (written, file) {
        (Some(_), Some(_)) => Err(ConfigError::invalid(
            "ledger.url_file",
            "give either ledger.url or ledger.url_file, not both",
        )),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map(|text| (text.trim().to_owned(), "ledger.url_file"))
            .map_err(|e| {
                ConfigError::invalid(
                    "ledger.url_file",
                    format!("cannot read {}: {e}", path.display()),
                )
            }),
        (Some(url), None) => Ok((url, "ledger.url")),
        (None, None) => Ok((DEFAULT_URL.to_owned(), "ledger.url")),
    }
}

/// Checks `[ledger]`: a SQLite or PostgreSQL URL, a follow interval from 10 ms (tests)
/// to a minute (or 0: no follower here), and a lease at least three follow intervals
/// long, so a live follower always renews in time.
pub(crate) fn ledger(raw: RawLedger) -> Result<LedgerConfig, ConfigError> {
    let (url, setting) = url(raw.url, raw.url_file.as_deref())?;
    if runboard_ledger::Backend::of(url.trim()).is_err() {
        // Not quoted back: it may hold a password.
        return Err(ConfigError::invalid(
            setting,
            "must be a sqlite: URL (sqlite:///var/lib/runboard/ledger.db) or a \
             postgres:// URL",
        ));
    }
    let follow_ms = raw.follow_ms.unwrap_or(DEFAULT_FOLLOW_MS);
    if follow_ms != 0 && !(10..=60_000).contains(&follow_ms) {
        return Err(ConfigError::invalid(
            "ledger.follow_ms",
            format!("{follow_ms} is out of range; use 10 to 60000 milliseconds, or 0"),
        ));
    }
    let lease_ms = raw.lease_ms.unwrap_or(DEFAULT_LEASE_MS.max(3 * follow_ms));
    if lease_ms < 3 * follow_ms {
        return Err(ConfigError::invalid(
            "ledger.lease_ms",
            format!(
                "{lease_ms} is too short; use at least 3 × ledger.follow_ms ({})",
                3 * follow_ms
            ),
        ));
    }
    Ok(LedgerConfig {
        url: LedgerUrl(url.trim().to_owned()),
        retention_days: raw.retention_days.unwrap_or(DEFAULT_RETENTION_DAYS),
        follow: (follow_ms > 0).then(|| Duration::from_millis(follow_ms)),
        lease: Duration::from_millis(lease_ms),
    })
}
