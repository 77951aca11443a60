//! `[live]`: the Server-Sent Events streams of live run reports (how many at once, how
//! often a quiet stream says it is still there), and the warning when `max_streams` asks
//! for more streams than `[server] max_connections` leaves room for.

use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, ServerConfig};

/// Streams open at once per process: the issue-20 goal, measured on 2 cores (10,000
/// viewers of one run in under 100 MB, `docs/benchmarks.md`). Each costs a connection
/// (about 10 KiB with hyper's buffers) and a watch receiver; the frames are shared. At most
/// half of `server.max_connections` (1,024 by default) are streams, so a deployment that
/// wants this many raises that too.
pub(crate) const DEFAULT_MAX_STREAMS: usize = 10_000;
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
    /// `max_streams` was written (not the default): then a `max_connections` too small
    /// for it is worth a warning.
    max_streams_written: bool,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            max_streams: DEFAULT_MAX_STREAMS,
            max_streams_per_user: DEFAULT_MAX_STREAMS_PER_USER,
            heartbeat: Duration::from_millis(DEFAULT_HEARTBEAT_MS),
            max_streams_written: false,
        }
    }
}

impl LiveConfig {
    /// The streams that may really be open at once: `max_streams`, but never more than
    /// half of `server.max_connections`, so pages, polls and starts always find one.
    pub fn stream_cap(&self, server: &ServerConfig) -> usize {
        self.max_streams.min(server.max_connections / 2)
    }
}

/// A written `max_streams` that `server.max_connections` cannot hold: the administrator
/// asked for more viewers than will get a stream (the rest poll).
pub(crate) fn warning(live: &LiveConfig, server: &ServerConfig) -> Option<String> {
    let cap = live.stream_cap(server);
    (live.max_streams_written && cap < live.max_streams).then(|| {
        format!(
            "live.max_streams = {} but at most half of server.max_connections ({}) may be \
             streams, so only {cap} will be open at once; raise server.max_connections to \
             {} or more (and the open-file limit with it)",
            live.max_streams,
            server.max_connections,
            2 * live.max_streams
        )
    })
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
        max_streams_written: raw.max_streams.is_some(),
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

    #[test]
    fn a_written_max_streams_the_connections_cannot_hold_is_warned_about() {
        let server = |max_connections| ServerConfig {
            max_connections,
            ..ServerConfig::default()
        };
        let written = |max_streams| {
            live(RawLive {
                max_streams: Some(max_streams),
                ..RawLive::default()
            })
            .unwrap()
        };
        let default = live(RawLive::default()).unwrap();
        assert_eq!(default.stream_cap(&server(1024)), 512);
        assert_eq!(
            warning(&default, &server(1024)),
            None,
            "the defaults are quiet"
        );
        let text = warning(&written(10_000), &server(1024)).expect("a warning");
        assert!(
            text.contains("only 512") && text.contains("20000"),
            "{text}"
        );
        assert_eq!(warning(&written(10_000), &server(20_000)), None);
        assert_eq!(warning(&written(100), &server(1024)), None);
    }
}
