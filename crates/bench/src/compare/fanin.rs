//! Fan-in: many viewers on one live run. What the simulator received meanwhile (upstream
//! requests per second) and how late each viewer saw each test finish (freshness), the
//! moment of finishing taken from the report itself (start time + duration, which the
//! simulator derives from the same clock).

use std::time::Duration;

use chrono::DateTime;

use crate::{
    compare::viewers::{Seen, TestState},
    percentile,
};

/// One way of following a live run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FanInMode {
    /// Viewers poll `runboard`'s `/api/testRun` every `run_ms`.
    RunboardPolling,
    /// Viewers hold `runboard`'s `/runboard/live/…` stream.
    RunboardStream,
    /// Viewers poll nginx's micro-cache every `run_ms`.
    NginxCache,
}

impl FanInMode {
    /// In the order measured.
    pub const ALL: [FanInMode; 3] = [
        Self::NginxCache,
        Self::RunboardPolling,
        Self::RunboardStream,
    ];

    /// How tables and the chart name it.
    pub fn label(self) -> &'static str {
        match self {
            Self::RunboardPolling => "runboard, polling",
            Self::RunboardStream => "runboard, SSE",
            Self::NginxCache => "nginx micro-cache, polling",
        }
    }
}

/// One point of the fan-in curve.
#[derive(Debug, Clone, PartialEq)]
pub struct FanInRow {
    pub mode: FanInMode,
    pub viewers: usize,
    /// `None` when this mode is not available (no SSE endpoint yet).
    pub measured: Option<FanInMeasure>,
    /// Why it is missing or what went wrong first.
    pub note: Option<String>,
}

/// What one point measured.
#[derive(Debug, Clone, PartialEq)]
pub struct FanInMeasure {
    /// `GET /api/testRun` calls the simulator received per second.
    pub upstream_per_second: f64,
    /// Delay from a test finishing to a viewer seeing it: p50 and p99, and how many.
    pub fresh_p50: Duration,
    pub fresh_p99: Duration,
    pub fresh_samples: usize,
    /// Viewers that failed (an error answer or a broken stream).
    pub failed_viewers: usize,
    /// The highest resident memory of `runboard` seen meanwhile, KiB.
    pub rss_max_kib: Option<u64>,
}

/// When each finished test finished (ms since the epoch), sorted: the k-th finish is
/// the moment the finished count reached k.
pub(crate) fn finish_times(tests: &[TestState]) -> Vec<f64> {
    let mut times: Vec<f64> = tests
        .iter()
        .filter(|t| t.ran())
        .filter_map(|t| {
            let start = DateTime::parse_from_rfc3339(t.start_time.as_deref()?).ok()?;
            Some(start.timestamp_millis() as f64 + t.duration.unwrap_or(0.0).max(0.0))
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times
}

/// Every delay between a finish and a viewer seeing it, for finishes after the viewer's
/// first sighting.
pub(crate) fn delays(viewers: &[Vec<Seen>], finishes: &[f64]) -> Vec<Duration> {
    let mut out = Vec::new();
    for seen in viewers {
        let Some(first) = seen.first() else { continue };
        let mut known = first.finished;
        for sighting in &seen[1..] {
            for k in known + 1..=sighting.finished {
                let Some(&finished_at) = finishes.get(k - 1) else {
                    break;
                };
                if finished_at > first.at_ms {
                    let ms = (sighting.at_ms - finished_at).max(0.0);
                    out.push(Duration::from_secs_f64(ms / 1000.0));
                }
            }
            known = known.max(sighting.finished);
        }
    }
    out.sort_unstable();
    out
}

/// p50 and p99 of sorted delays.
pub(crate) fn freshness(sorted: &[Duration]) -> (Duration, Duration) {
    (percentile(sorted, 50.0), percentile(sorted, 99.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(at_ms: f64, finished: usize) -> Seen {
        Seen { at_ms, finished }
    }

    #[test]
    fn each_finish_after_the_first_sighting_gives_one_delay() {
        let finishes = [100.0, 1_000.0, 1_500.0, 2_000.0];
        let viewers = vec![
            // Saw one done at 500, then three at 1,700 (two finishes), four at 2,100.
            vec![seen(500.0, 1), seen(1_700.0, 3), seen(2_100.0, 4)],
            // Started after everything finished: no delay to count.
            vec![seen(3_000.0, 4)],
        ];
        let got: Vec<u64> = delays(&viewers, &finishes)
            .iter()
            .map(|d| d.as_millis() as u64)
            .collect();
        assert_eq!(got, [100, 200, 700]);
    }

    #[test]
    fn finish_times_come_from_start_and_duration() {
        let tests = crate::compare::viewers::parse_tests(
            br#"{"tests":[
              {"_id":"a","status":"Passed","startTime":"2026-01-01T00:00:01.000Z","duration":500},
              {"_id":"b","status":"Running","startTime":"2026-01-01T00:00:00.000Z"},
              {"_id":"c","status":"Skipped","startTime":"2026-01-01T00:00:00.250Z","duration":0}]}"#,
        )
        .expect("readable");
        let base = 1_767_225_600_000.0;
        assert_eq!(finish_times(&tests), [base + 1_500.0]);
    }
}
