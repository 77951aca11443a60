//! Latency statistics: nearest-rank percentiles and throughput of one measurement.

use std::time::Duration;

/// What one measurement (one request kind on one path) came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Requests sent.
    pub sent: usize,
    /// Requests answered with a 2xx status and a complete body.
    pub ok: usize,
    /// Successful requests per second of wall time.
    pub per_second: f64,
    /// Median latency of the successful requests.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// The slowest successful request.
    pub max: Duration,
}

impl Summary {
    /// Summarises `latencies` (successful requests only) out of `sent`, measured over
    /// `wall` time. An empty list gives zero rates and latencies.
    pub fn new(mut latencies: Vec<Duration>, sent: usize, wall: Duration) -> Self {
        latencies.sort_unstable();
        let ok = latencies.len();
        let seconds = wall.as_secs_f64();
        let per_second = if seconds > 0.0 {
            ok as f64 / seconds
        } else {
            0.0
        };
        Self {
            sent,
            ok,
            per_second,
            p50: percentile(&latencies, 50.0),
            p90: percentile(&latencies, 90.0),
            p99: percentile(&latencies, 99.0),
            max: latencies.last().copied().unwrap_or_default(),
        }
    }

    /// Whether every request sent succeeded.
    pub fn all_ok(&self) -> bool {
        self.sent > 0 && self.ok == self.sent
    }
}

/// The nearest-rank percentile `p` (0..=100) of `sorted`: the smallest value with at
/// least `p`% of the values at or below it. Zero for an empty slice.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let p = p.clamp(0.0, 100.0);
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `numerator / denominator`, or `None` when the denominator is zero.
pub fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator > 0.0).then(|| numerator / denominator)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().copied().map(Duration::from_millis).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let hundred: Vec<u64> = (1..=100).collect();
        let check = |values: &[u64], p: f64, expected: u64| {
            let mut sorted = ms(values);
            sorted.sort_unstable();
            assert_eq!(
                percentile(&sorted, p),
                Duration::from_millis(expected),
                "p{p} of {values:?}"
            );
        };
        check(&hundred, 50.0, 50);
        check(&hundred, 90.0, 90);
        check(&hundred, 99.0, 99);
        check(&hundred, 100.0, 100);
        check(&hundred, 0.0, 1);
        check(&[7], 50.0, 7);
        check(&[7], 99.0, 7);
        check(&[1, 2, 3, 4], 50.0, 2);
        check(&[1, 2, 3, 4], 51.0, 3);
        check(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99.0, 10);
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn summary_sorts_counts_and_rates() {
        let summary = Summary::new(ms(&[30, 10, 20, 40]), 5, Duration::from_secs(2));
        assert_eq!(summary.ok, 4);
        assert_eq!(summary.sent, 5);
        assert!(!summary.all_ok());
        assert!((summary.per_second - 2.0).abs() < 1e-9);
        assert_eq!(summary.p50, Duration::from_millis(20));
        assert_eq!(summary.p99, Duration::from_millis(40));
        assert_eq!(summary.max, Duration::from_millis(40));

        let empty = Summary::new(Vec::new(), 0, Duration::ZERO);
        assert_eq!(empty.per_second, 0.0);
        assert_eq!(empty.max, Duration::ZERO);
        assert!(!empty.all_ok());
    }

    #[test]
    fn ratio_refuses_zero_denominators() {
        assert_eq!(ratio(3.0, 2.0), Some(1.5));
        assert_eq!(ratio(3.0, 0.0), None);
    }
}
