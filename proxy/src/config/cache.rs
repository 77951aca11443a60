//! `[cache]`: how long a live answer is shared between readers, and how many bytes of
//! finished run reports are kept.

use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;

/// A live report or `jobs` answer is handed to every reader within this window after it
/// came: about one upstream call per second per run, whatever the number of tabs.
pub(crate) const DEFAULT_LIVE_REUSE_MS: u64 = 1000;
/// Finished run reports kept in memory: about 45 reports of 2,000 tests.
pub(crate) const DEFAULT_FINISHED_BYTES: u64 = 64 * 1024 * 1024;
/// The longest reuse window accepted: beyond it a live view looks frozen.
const MAX_LIVE_REUSE_MS: u64 = 60_000;

/// `[cache]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCache {
    pub(crate) live_reuse_ms: Option<u64>,
    pub(crate) finished_bytes: Option<u64>,
}

/// `[cache]`: shared reads and the finished-report cache.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// How long a live answer is reused for further readers; 0 still shares concurrent
    /// calls but reuses nothing.
    pub live_reuse: Duration,
    /// The total bytes of finished reports kept (least recently used out first); 0 keeps
    /// none. A report counts its identity bytes plus every compressed form (br, zstd,
    /// gzip) made of it since, so the budget is what the cache really holds.
    pub finished_bytes: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            live_reuse: Duration::from_millis(DEFAULT_LIVE_REUSE_MS),
            finished_bytes: DEFAULT_FINISHED_BYTES,
        }
    }
}

/// Checks `[cache]`: a reuse window of at most a minute.
pub(crate) fn cache(raw: RawCache) -> Result<CacheConfig, ConfigError> {
    let live_reuse_ms = raw.live_reuse_ms.unwrap_or(DEFAULT_LIVE_REUSE_MS);
    if live_reuse_ms > MAX_LIVE_REUSE_MS {
        return Err(ConfigError::invalid(
            "cache.live_reuse_ms",
            format!("{live_reuse_ms} is out of range; use 0 to {MAX_LIVE_REUSE_MS} milliseconds"),
        ));
    }
    Ok(CacheConfig {
        live_reuse: Duration::from_millis(live_reuse_ms),
        finished_bytes: raw.finished_bytes.unwrap_or(DEFAULT_FINISHED_BYTES),
    })
}
