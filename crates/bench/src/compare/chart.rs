//! The fan-in curve as an SVG chart: upstream requests per second against viewers, one
//! line per way of following, readable on light and dark pages.

use std::fmt::Write as _;

use crate::compare::{FanInMode, FanInRow};

/// Chart size and margins.
const W: f64 = 640.0;
const H: f64 = 360.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 200.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 48.0;

/// Upstream requests per second (log scale) against viewers (log scale), one line per
/// way of following, and the one-per-`run_ms` reference. Mid-tone colours and a
/// `prefers-color-scheme` style keep it readable on light and dark pages.
pub fn svg_chart(rows: &[FanInRow], run_ms: u64) -> String {
    let viewers: Vec<usize> = {
        let mut v: Vec<usize> = rows.iter().map(|r| r.viewers.max(1)).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let max_rate = rows
        .iter()
        .filter_map(|r| r.measured.as_ref().map(|m| m.upstream_per_second))
        .fold(10.0, f64::max);
    let y_top = 10f64.powf(max_rate.log10().ceil());
    let y_bottom = 0.1;
    let x_max = viewers.last().copied().unwrap_or(1000).max(10) as f64;
    let x = |v: f64| LEFT + (v.max(1.0).log10() / x_max.log10()) * (W - LEFT - RIGHT);
    let y = |r: f64| {
        let r = r.clamp(y_bottom, y_top);
        TOP + (y_top.log10() - r.log10()) / (y_top.log10() - y_bottom.log10()) * (H - TOP - BOTTOM)
    };
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="12">
<style>
text {{ fill: #6b7280; }} .axis {{ stroke: #9ca3af; }} .grid {{ stroke: #9ca3af; stroke-opacity: 0.25; }}
@media (prefers-color-scheme: dark) {{ text {{ fill: #9ca3af; }} }}
</style>
<title>Upstream requests per second for one live run, by number of viewers</title>
"##
    );
    let mut decade = y_bottom;
    while decade <= y_top * 1.001 {
        let yy = y(decade);
        let _ = writeln!(
            s,
            r#"<line class="grid" x1="{LEFT}" x2="{:.1}" y1="{yy:.1}" y2="{yy:.1}"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0,
            trim(decade)
        );
        decade *= 10.0;
    }
    for &v in &viewers {
        let xx = x(v as f64);
        let _ = writeln!(
            s,
            r#"<line class="grid" x1="{xx:.1}" x2="{xx:.1}" y1="{TOP}" y2="{:.1}"/><text x="{xx:.1}" y="{:.1}" text-anchor="middle">{v}</text>"#,
            H - BOTTOM,
            H - BOTTOM + 16.0
        );
    }
    let _ = writeln!(
        s,
        r#"<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{:.1}"/><line class="axis" x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/>
<text x="{:.1}" y="{:.1}" text-anchor="middle">viewers of one live run</text>
<text transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle">upstream requests/s</text>"#,
        H - BOTTOM,
        W - RIGHT,
        H - BOTTOM,
        H - BOTTOM,
        (LEFT + W - RIGHT) / 2.0,
        H - 8.0,
        (TOP + H - BOTTOM) / 2.0
    );
    let reference = 1000.0 / run_ms as f64;
    let _ = writeln!(
        s,
        r##"<line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#9ca3af" stroke-dasharray="4 4"/>"##,
        W - RIGHT,
        y(reference),
        y(reference)
    );
    let colours = [
        (FanInMode::RunboardPolling, "#e8590c"),
        (FanInMode::RunboardStream, "#1c7ed6"),
        (FanInMode::NginxCache, "#2f9e44"),
    ];
    let mut legend_y = TOP + 8.0;
    for (mode, colour) in colours {
        let points: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r.mode == mode)
            .filter_map(|r| {
                Some((
                    x(r.viewers as f64),
                    y(r.measured.as_ref()?.upstream_per_second),
                ))
            })
            .collect();
        if points.len() > 1 {
            let path: Vec<String> = points
                .iter()
                .map(|(a, b)| format!("{a:.1},{b:.1}"))
                .collect();
            let _ = writeln!(
                s,
                r#"<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{}"/>"#,
                path.join(" ")
            );
        }
        for (a, b) in &points {
            let _ = writeln!(
                s,
                r#"<circle cx="{a:.1}" cy="{b:.1}" r="3.5" fill="{colour}"/>"#
            );
        }
        let label = if points.is_empty() {
            format!("{} (not available)", mode.label())
        } else {
            mode.label().to_owned()
        };
        let lx = W - RIGHT + 14.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx:.1}" x2="{:.1}" y1="{legend_y:.1}" y2="{legend_y:.1}" stroke="{colour}" stroke-width="2.5"/><text x="{:.1}" y="{:.1}">{label}</text>"#,
            lx + 18.0,
            lx + 24.0,
            legend_y + 4.0
        );
        legend_y += 20.0;
    }
    let lx = W - RIGHT + 14.0;
    let _ = writeln!(
        s,
        r##"<line x1="{lx:.1}" x2="{:.1}" y1="{legend_y:.1}" y2="{legend_y:.1}" stroke="#9ca3af" stroke-dasharray="4 4"/><text x="{:.1}" y="{:.1}">one per run_ms ({run_ms} ms)</text>"##,
        lx + 18.0,
        lx + 24.0,
        legend_y + 4.0
    );
    s.push_str("</svg>\n");
    s
}

fn trim(value: f64) -> String {
    if value >= 1.0 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::compare::FanInMeasure;

    fn point(mode: FanInMode, viewers: usize, rate: f64) -> FanInRow {
        FanInRow {
            mode,
            viewers,
            measured: Some(FanInMeasure {
                upstream_per_second: rate,
                fresh_p50: Duration::from_millis(400),
                fresh_p99: Duration::from_millis(900),
                fresh_samples: 10,
                failed_viewers: 0,
                rss_max_kib: Some(20_000),
            }),
            note: None,
        }
    }

    #[test]
    fn the_chart_draws_one_line_per_measured_mode_and_names_the_missing_one() {
        let rows: Vec<FanInRow> = [1, 10, 100, 1_000]
            .into_iter()
            .flat_map(|v| {
                [
                    point(FanInMode::RunboardPolling, v, v as f64),
                    point(FanInMode::NginxCache, v, 0.7),
                    FanInRow {
                        mode: FanInMode::RunboardStream,
                        viewers: v,
                        measured: None,
                        note: Some("not available".to_owned()),
                    },
                ]
            })
            .collect();
        let svg = svg_chart(&rows, 1_000);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2, "{svg}");
        assert_eq!(svg.matches("<circle").count(), 8, "{svg}");
        assert!(svg.contains("runboard, SSE (not available)"), "{svg}");
        assert!(svg.contains("prefers-color-scheme: dark"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }
}
