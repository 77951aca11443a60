//! A preset's trend from its recorded runs: pass rate, duration and blocking failures
//! (issue 21: the server's count, by today's rules) over the last runs,
//! as SVG path data in whole-number coordinates (no float formatting, which would bring
//! core's float tables into the wasm) and as a sentence for people who cannot see it.

use runboard_shared::HistoryExecution;

use crate::logic::format;

/// How many runs a trend shows at most.
pub(crate) const TREND_RUNS: usize = 20;

/// The chart's drawing area, in SVG user units.
pub(crate) const WIDTH: u64 = 600;
/// See [`WIDTH`].
pub(crate) const HEIGHT: u64 = 120;

/// One finished run on the chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Point {
    /// Passed tests in per mille of all tests (0–1000).
    pub(crate) pass_permille: u64,
    /// How long the run took.
    pub(crate) duration_ms: u64,
    /// How many of its failures block, when the server could tell.
    pub(crate) blocking: Option<u64>,
}

/// The trend of the finished runs among `executions` (newest first, as the history
/// answers): at most [`TREND_RUNS`] of them, oldest first. `None` with fewer than two.
pub(crate) fn points(executions: &[HistoryExecution]) -> Option<Vec<Point>> {
    let mut points: Vec<Point> = executions
        .iter()
        .filter_map(|e| {
            let counts = e.counts?;
            (counts.total > 0).then(|| Point {
                pass_permille: counts.passed * 1000 / counts.total,
                duration_ms: e.duration_ms.unwrap_or(0),
                blocking: e.blocking,
            })
        })
        .take(TREND_RUNS)
        .collect();
    points.reverse();
    (points.len() >= 2).then_some(points)
}

/// The x coordinate of point `index` of `count`.
fn x(index: usize, count: usize) -> u64 {
    let last = count.saturating_sub(1).max(1) as u64;
    index as u64 * WIDTH / last
}

/// A polyline's path data through `values`, each scaled by `max` to the chart's height
/// (larger values higher).
fn path(values: &[u64], max: u64) -> String {
    let max = max.max(1);
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let y = HEIGHT - (*v).min(max) * HEIGHT / max;
            format!(
                "{}{},{}",
                if i == 0 { "M" } else { " L" },
                x(i, values.len()),
                y
            )
        })
        .collect()
}

/// The pass-rate line (0 % at the bottom, 100 % at the top).
pub(crate) fn pass_path(points: &[Point]) -> String {
    let values: Vec<u64> = points.iter().map(|p| p.pass_permille).collect();
    path(&values, 1000)
}

/// The duration line, scaled to the longest run.
pub(crate) fn duration_path(points: &[Point]) -> String {
    let values: Vec<u64> = points.iter().map(|p| p.duration_ms).collect();
    path(&values, longest(points))
}

/// The blocking-failure line, scaled to the most blocking failures of a run (at least
/// one, so a trend of zeros lies on the bottom): a run whose count is unknown leaves a
/// gap. `None` when no run's count is known.
pub(crate) fn blocking_path(points: &[Point]) -> Option<String> {
    let max = most_blocking(points)?.max(1);
    let mut out = String::new();
    let mut drawing = false;
    for (i, point) in points.iter().enumerate() {
        let Some(blocking) = point.blocking else {
            drawing = false;
            continue;
        };
        let y = HEIGHT - blocking.min(max) * HEIGHT / max;
        let step = if drawing {
            " L"
        } else if out.is_empty() {
            "M"
        } else {
            " M"
        };
        out.push_str(&format!("{step}{},{y}", x(i, points.len())));
        drawing = true;
    }
    Some(out)
}

/// The most blocking failures of a run whose count is known.
pub(crate) fn most_blocking(points: &[Point]) -> Option<u64> {
    points.iter().filter_map(|p| p.blocking).max()
}

/// The longest run's duration (the duration line's top).
pub(crate) fn longest(points: &[Point]) -> u64 {
    points.iter().map(|p| p.duration_ms).max().unwrap_or(0)
}

/// A percentage in whole per cent, rounded down: "97 %".
fn percent(permille: u64) -> String {
    format!("{} %", permille / 10)
}

/// What the chart shows, in words: "Last 5 runs: pass rate from 80 % to 100 % (lowest
/// 80 %); duration from 1.2 s to 1.4 s (longest 2.0 s); blocking failures from 3 to 0
/// (most 4)." The blocking part counts the runs whose count is known, and is left out
/// when none is.
pub(crate) fn describe(points: &[Point]) -> String {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return String::new();
    };
    let lowest = points.iter().map(|p| p.pass_permille).min().unwrap_or(0);
    let known: Vec<u64> = points.iter().filter_map(|p| p.blocking).collect();
    let blocking = match (known.first(), known.last(), most_blocking(points)) {
        (Some(first), Some(last), Some(most)) => {
            format!("; blocking failures from {first} to {last} (most {most})")
        }
        _ => String::new(),
    };
    format!(
        "Last {} runs: pass rate from {} to {} (lowest {}); duration from {} to {} (longest {}){blocking}.",
        points.len(),
        percent(first.pass_permille),
        percent(last.pass_permille),
        percent(lowest),
        format::duration(first.duration_ms),
        format::duration(last.duration_ms),
        format::duration(longest(points)),
    )
}

#[cfg(test)]
mod tests {
    use runboard_shared::{HistoryCounts, Origin};

    use super::*;

    fn run(passed: u64, total: u64, duration_ms: Option<u64>) -> HistoryExecution {
        HistoryExecution {
            job_id: Some("j".to_owned()),
            test_run_id: Some("r".to_owned()),
            user: "ana@corp".to_owned(),
            started_at: "2026-12-06T10:00:00Z".to_owned(),
            status: "Success".to_owned(),
            finished: true,
            counts: Some(HistoryCounts {
                passed,
                failed: total - passed,
                skipped: 0,
                total,
            }),
            duration_ms,
            preset: Some("Smoke".to_owned()),
            origin: Origin::Runboard,
            selector: Some("testSuiteId".to_owned()),
            selector_value: Some("s".to_owned()),
            agent: None,
            finished_at: None,
            blocking: None,
        }
    }

    #[test]
    fn points_are_the_finished_runs_oldest_first() {
        let mut unfinished = run(0, 1, None);
        unfinished.counts = None;
        // Newest first, as the history answers.
        let history = [
            run(36, 36, Some(4_000)),
            unfinished,
            run(18, 36, Some(2_000)),
        ];
        let points = points(&history).unwrap();
        assert_eq!(
            points,
            [
                Point {
                    pass_permille: 500,
                    duration_ms: 2_000,
                    blocking: None,
                },
                Point {
                    pass_permille: 1000,
                    duration_ms: 4_000,
                    blocking: None,
                },
            ]
        );
        assert_eq!(pass_path(&points), "M0,60 L600,0");
        assert_eq!(blocking_path(&points), None, "no count known: no line");
        assert_eq!(duration_path(&points), "M0,60 L600,0");
        assert_eq!(
            describe(&points),
            "Last 2 runs: pass rate from 50 % to 100 % (lowest 50 %); duration from 2.0 s to 4.0 s (longest 4.0 s)."
        );
    }

    #[test]
    fn the_blocking_line_follows_the_known_counts_with_gaps() {
        let counted = |blocking: Option<u64>| HistoryExecution {
            blocking,
            ..run(30, 36, Some(1_000))
        };
        // Newest first: 0, unknown (a run whose count the server could not tell), 1, 4.
        let history = [
            counted(Some(0)),
            counted(None),
            counted(Some(1)),
            counted(Some(4)),
        ];
        let points = points(&history).unwrap();
        let blocking: Vec<_> = points.iter().map(|p| p.blocking).collect();
        assert_eq!(blocking, [Some(4), Some(1), None, Some(0)]);
        assert_eq!(most_blocking(&points), Some(4));
        // 4 at the top, 1 a quarter up, a gap, 0 at the bottom.
        assert_eq!(blocking_path(&points).unwrap(), "M0,0 L200,90 M600,120");
        assert!(
            describe(&points).ends_with("; blocking failures from 4 to 0 (most 4)."),
            "{}",
            describe(&points)
        );
        // All zeros lie on the bottom line.
        let zeros = [counted(Some(0)), counted(Some(0))];
        let zeros = super::points(&zeros).unwrap();
        assert_eq!(blocking_path(&zeros).unwrap(), "M0,120 L600,120");
    }

    #[test]
    fn one_run_or_empty_runs_make_no_trend() {
        assert_eq!(points(&[run(1, 1, Some(1))]), None);
        assert_eq!(points(&[run(0, 0, Some(1)), run(0, 0, Some(1))]), None);
    }

    #[test]
    fn at_most_the_last_runs_and_lines_stay_in_the_box() {
        let history: Vec<_> = (0..30)
            .map(|i| HistoryExecution {
                blocking: Some(i % 4),
                ..run(i % 3, 2, Some(i * 100))
            })
            .collect();
        let points = points(&history).unwrap();
        assert_eq!(points.len(), TREND_RUNS);
        let blocking = blocking_path(&points).unwrap();
        for path in [pass_path(&points), duration_path(&points), blocking] {
            for pair in path
                .split(['M', 'L'])
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                let (x, y) = pair.split_once(',').unwrap();
                assert!(x.parse::<u64>().unwrap() <= WIDTH, "{path}");
                assert!(y.parse::<u64>().unwrap() <= HEIGHT, "{path}");
            }
        }
    }
}
