//! The results: one [`Row`] per request kind, rendered as an aligned table for the
//! terminal or as a dated Markdown section for `docs/benchmarks.md`.

use std::time::Duration;

use crate::{Machine, Options, Summary, ratio};

/// Everything one benchmark run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// The settings it ran with.
    pub options: Options,
    /// `release` or `debug`: debug figures are not comparable with release ones.
    pub profile: &'static str,
    /// One row per request kind, in the order measured.
    pub rows: Vec<Row>,
}

/// One request kind on both paths.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was requested, e.g. `testRun, 2000 tests`.
    pub label: String,
    /// The largest answer body, direct and through the proxy, in bytes.
    pub answer_bytes: [usize; 2],
    /// Straight to the simulator.
    pub direct: Summary,
    /// Through `runboard`.
    pub proxy: Summary,
    /// Requests the simulator received while the proxy path was measured: one per
    /// proxied start; at most one per proxied read (`runboard` shares identical reads
    /// and keeps finished reports).
    pub forwarded: u64,
    /// Whether this kind starts runs (each must reach the simulator exactly once).
    pub is_start: bool,
    /// The first failure on either path, if any.
    pub first_error: Option<String>,
}

impl Row {
    /// Every request succeeded on both paths, each proxied start reached the simulator
    /// exactly once and no proxied read more than once.
    pub fn all_ok(&self) -> bool {
        let sent = self.proxy.sent as u64;
        let forwarded_ok = if self.is_start {
            self.forwarded == sent
        } else {
            self.forwarded <= sent
        };
        self.direct.all_ok() && self.proxy.all_ok() && forwarded_ok
    }
}

const HEADER: [&str; 9] = [
    "request", "path", "answer", "ok/sent", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms",
];

impl Report {
    /// Whether every request of every row succeeded.
    pub fn all_ok(&self) -> bool {
        !self.rows.is_empty() && self.rows.iter().all(Row::all_ok)
    }

    /// An aligned plain-text table with a `proxy ÷ direct` line under each request kind.
    pub fn table(&self) -> String {
        let cells = self.cells();
        let widths: Vec<usize> = (0..HEADER.len())
            .map(|c| {
                cells
                    .iter()
                    .map(|row| row[c].chars().count())
                    .chain([HEADER[c].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |row: &[String]| {
            let padded: Vec<String> = row
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(c, (cell, &w))| match c {
                    0 | 1 => format!("{cell:<w$}"),
                    _ => format!("{cell:>w$}"),
                })
                .collect();
            padded.join("  ").trim_end().to_owned()
        };
        let header: Vec<String> = HEADER.iter().map(|h| (*h).to_owned()).collect();
        let mut out = vec![self.settings(), String::new(), line(&header)];
        out.extend(cells.iter().map(|row| line(row)));
        out.extend(self.errors());
        out.join("\n") + "\n"
    }

    /// A Markdown section (`###`, to sit under a "Results" heading) headed by the date
    /// and commit, with the machine and settings.
    pub fn markdown(&self, machine: &Machine) -> String {
        let mut out = vec![
            format!("### {}, commit {}", machine.date, machine.commit),
            String::new(),
            format!(
                "- Machine: {} CPUs ({}), {} memory; {}",
                machine.cpus, machine.cpu_model, machine.memory, machine.rustc
            ),
            format!("- {}", self.settings()),
            String::new(),
            format!("| {} |", HEADER.join(" | ")),
            "|---|---|--:|--:|--:|--:|--:|--:|--:|".to_owned(),
        ];
        out.extend(
            self.cells()
                .iter()
                .map(|row| format!("| {} |", row.join(" | "))),
        );
        out.extend(self.errors());
        out.join("\n") + "\n"
    }

    fn settings(&self) -> String {
        let o = &self.options;
        format!(
            "Settings: {} requests per kind and path at concurrency {}, {} rounds, \
             warm-up {}, time limit {} s, simulator speed {}, {} build",
            o.requests,
            o.concurrency,
            o.rounds,
            o.warmup,
            o.time_limit.as_secs_f64(),
            o.sim_speed,
            self.profile
        )
    }

    fn cells(&self) -> Vec<Vec<String>> {
        self.rows
            .iter()
            .flat_map(|row| {
                [
                    summary_cells(&row.label, "direct", row.answer_bytes[0], &row.direct),
                    summary_cells("", "proxy", row.answer_bytes[1], &row.proxy),
                    ratio_cells(&row.proxy, &row.direct),
                ]
            })
            .collect()
    }

    fn errors(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter_map(|row| Some((row, row.first_error.as_ref()?)))
            .map(|(row, error)| format!("\nFirst failure of {}: {error}", row.label))
            .collect()
    }
}

fn summary_cells(label: &str, path: &str, bytes: usize, s: &Summary) -> Vec<String> {
    vec![
        label.to_owned(),
        path.to_owned(),
        size(bytes),
        format!("{}/{}", s.ok, s.sent),
        format!("{:.0}", s.per_second),
        ms(s.p50),
        ms(s.p90),
        ms(s.p99),
        ms(s.max),
    ]
}

/// `proxy ÷ direct` for each figure: above 1 for latencies means slower through the
/// proxy; below 1 for req/s means fewer requests per second.
fn ratio_cells(proxy: &Summary, direct: &Summary) -> Vec<String> {
    let slower = |p: Duration, d: Duration| times(ratio(p.as_secs_f64(), d.as_secs_f64()));
    vec![
        String::new(),
        "proxy ÷ direct".to_owned(),
        String::new(),
        String::new(),
        times(ratio(proxy.per_second, direct.per_second)),
        slower(proxy.p50, direct.p50),
        slower(proxy.p90, direct.p90),
        slower(proxy.p99, direct.p99),
        slower(proxy.max, direct.max),
    ]
}

fn times(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}×"))
}

/// A body size for people: bytes, KiB or MiB.
fn size(bytes: usize) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes} B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{:.2} MiB", b / (1024.0 * 1024.0))
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1000.0)
}
