//! `[live]`: the Server-Sent Events streams of live run reports (how many at once, how
//! often a quiet stream says it is still there).

use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;

/// Streams open at once per process: each costs a connection and a few hundred bytes.
pub(crate) const DEFAULT_MAX_STREAMS: usize = 2000;
/// Streams one user may hold at once: a few tabs of live reports, not a script's hundreds.
pub(crate) const DEFAULT_MAX_STREAMS_PER_USER: usize = 6;
/// A comment line at least this often, so proxies and browsers keep a quiet stream open
/// (the issue asks for one every 15 s at least).
pub(crate) const DEFAULT_HEARTBEAT_MS: u64 = 15_000;

/// `[live]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLive {
    pub(crate) max_streams: Option<usize>,
    pub(crate) max_streams_per_user: Option<usize>,
    pub(crate) heartbeat_ms: Option<u64>,
}

/// `[live]`: limits of the live report streams.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// Streams open at once; one more is answered 503 `too_many_streams`. At most half
    /// of `server.max_connections` are ever used for streams, whatever this says.
    pub max_streams: usize,
    /// Streams one user (signed-in user, or peer address without one: the same key as
    /// the rate limits) may hold at once; one more is answered 429
    /// `too_many_user_streams`, so one user's tabs or script cannot take every stream.
    /// 0 turns this limit off, as in `[limits]`.
    pub max_streams_per_user: usize,
    /// The longest silence on a stream before a `: keep-alive` comment.
    pub heartbeat: Duration,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            max_streams: DEFAULT_MAX_STREAMS,
            max_streams_per_user: DEFAULT_MAX_STREAMS_PER_USER,
            heartbeat: Duration::from_millis(DEFAULT_HEARTBEAT_MS),
        }
    }
}

/// Checks `[live]`: a heartbeat from 10 ms (tests) to the 15 s the browsers are promised.
pub(crate) fn live(raw: RawLive) -> Result<LiveConfig, ConfigError> {
    let heartbeat_ms = raw.heartbeat_ms.unwrap_or(DEFAULT_HEARTBEAT_MS);
    if !(10..=DEFAULT_HEARTBEAT_MS).contains(&heartbeat_ms) {
        return Err(ConfigError::invalid(
            "live.heartbeat_ms",
            format!(
                "{heartbeat_ms} is out of range; use 10 to {DEFAULT_HEARTBEAT_MS} milliseconds"
            ),
        ));
    }
    Ok(LiveConfig {
        max_streams: raw.max_streams.unwrap_or(DEFAULT_MAX_STREAMS),
        max_streams_per_user: raw
            .max_streams_per_user
            .unwrap_or(DEFAULT_MAX_STREAMS_PER_USER),
        heartbeat: Duration::from_millis(heartbeat_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_streams_per_user_unless_set() {
        let config = live(RawLive::default()).unwrap();
        assert_eq!(config.max_streams_per_user, 6);
        let set = RawLive {
            max_streams_per_user: Some(0),
            ..RawLive::default()
        };
        assert_eq!(live(set).unwrap().max_streams_per_user, 0, "off");
    }
}
