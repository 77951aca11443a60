//! The comparison as a Markdown section: the cost and fan-in tables, memory, the widget,
//! and the goals each marked met or not met with the figure.

use std::{fmt::Write as _, time::Duration};

use crate::{
    Machine,
    compare::{Comparison, CostRow, FanInMode, TARGETS},
};

/// RSS goal at 1,000 stream viewers.
const RSS_GOAL_KIB: u64 = 50 * 1024;
/// Render goal for the 10,000-test report.
const RENDER_GOAL: Duration = Duration::from_secs(1);

impl Comparison {
    /// The dated section for `docs/benchmarks.md`; `chart` is the SVG's file name
    /// beside it.
    pub fn markdown(&self, machine: &Machine, chart: &str) -> String {
        let o = &self.options;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "### Side by side, {}, commit {}\n\n\
             - Machine: {} CPUs ({}), {} memory; {}\n\
             - Command: `./x bench` (`runboard-compare`); wrk {} connections, 2 threads, {} s per \
             cell after a 1 s warm-up; `runboard` as its own process (release) with `[poll] run_ms = {}`, `[server] max_connections = {}` and `[live] max_streams = {}`; \
             fan-in {} s per point, simulator speed {} for live runs; open-file limit {}\n",
            machine.date,
            machine.commit,
            machine.cpus,
            machine.cpu_model,
            machine.memory,
            machine.rustc,
            o.wrk_connections,
            o.wrk_duration.as_secs(),
            o.run_ms,
            super::procs::max_connections(o.most_streams()),
            o.most_streams(),
            o.fan_in_window.as_secs(),
            o.live_speed,
            self.open_files
                .map_or("unlimited".to_owned(), |n| n.to_string()),
        );
        out.push_str(&self.cost_table());
        out.push('\n');
        out.push_str(&self.fan_in_table());
        let _ = writeln!(
            out,
            "\n![Upstream calls per second against viewers]({chart})\n"
        );
        let crowds = super::crowd::render::table(&self.crowds);
        if !crowds.is_empty() {
            let _ = writeln!(
                out,
                "Crowds: stream viewers of one fresh {}-test run from its start to its final \
                 report (`--stream-viewers`):\n\n{crowds}",
                super::crowd::CROWD_RUN_TESTS
            );
        }
        out.push_str(&self.memory_and_widget());
        out.push_str("\nGoals:\n\n");
        for line in self.goals() {
            let _ = writeln!(out, "- {line}");
        }
        out
    }

    fn cost_table(&self) -> String {
        let mut out = String::from(
            "| request | through | req/s | p50 ms | p99 ms | p50 ÷ direct | errors |\n\
             |---|---|--:|--:|--:|--:|--:|\n",
        );
        for row in &self.cost {
            let label = if row.target == TARGETS[0] {
                row.request.as_str()
            } else {
                ""
            };
            match &row.result {
                Ok(f) => {
                    let ratio = self.direct_p50(&row.request).map_or("n/a".to_owned(), |d| {
                        format!("{:.2}×", f.p50.as_secs_f64() / d.as_secs_f64())
                    });
                    let _ = writeln!(
                        out,
                        "| {label} | {} | {:.0} | {} | {} | {ratio} | {} |",
                        row.target,
                        f.per_second,
                        ms(f.p50),
                        ms(f.p99),
                        f.errors
                    );
                }
                Err(e) => {
                    let _ = writeln!(out, "| {label} | {} | failed: {e} | | | | |", row.target);
                }
            }
        }
        out
    }

    fn direct_p50(&self, request: &str) -> Option<Duration> {
        self.cell(request, TARGETS[0])
            .map(|(_, p50)| p50)
            .filter(|d| !d.is_zero())
    }

    /// (req/s, p50) of one cell.
    fn cell(&self, request: &str, target: &str) -> Option<(f64, Duration)> {
        self.cost
            .iter()
            .find(|r: &&CostRow| r.request == request && r.target == target)
            .and_then(|r| r.result.as_ref().ok())
            .map(|f| (f.per_second, f.p50))
    }

    fn fan_in_table(&self) -> String {
        let mut out = String::from(
            "| viewers | following | upstream req/s | freshness p50 ms | p99 ms | samples | runboard RSS MiB | failed viewers |\n\
             |--:|---|--:|--:|--:|--:|--:|--:|\n",
        );
        for row in &self.fan_in {
            match &row.measured {
                Some(m) => {
                    let rss = match (row.mode, m.rss_max_kib) {
                        (FanInMode::NginxCache, _) | (_, None) => "".to_owned(),
                        (_, Some(kib)) => format!("{:.1}", kib as f64 / 1024.0),
                    };
                    let _ = writeln!(
                        out,
                        "| {} | {} | {:.2} | {} | {} | {} | {rss} | {} |",
                        row.viewers,
                        row.mode.label(),
                        m.upstream_per_second,
                        ms0(m.fresh_p50),
                        ms0(m.fresh_p99),
                        m.fresh_samples,
                        m.failed_viewers
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | | | | | |",
                        row.viewers,
                        row.mode.label(),
                        row.note.as_deref().unwrap_or("not available")
                    );
                }
            }
        }
        for row in self.fan_in.iter().filter(|r| r.measured.is_some()) {
            if let Some(note) = &row.note {
                let _ = writeln!(
                    out,
                    "\nFirst viewer failure, {} × {}: {note}",
                    row.viewers,
                    row.mode.label()
                );
            }
        }
        out
    }

    fn memory_and_widget(&self) -> String {
        let mut out = String::new();
        let mib = |kib: Option<u64>| {
            kib.map_or("n/a".to_owned(), |k| {
                format!("{:.1} MiB", k as f64 / 1024.0)
            })
        };
        let _ = writeln!(
            out,
            "Memory (`VmRSS` of the `runboard` process): idle {}; with 1,000 SSE viewers {}; \
             with 1,000 polling viewers {}.\n",
            mib(self.idle_rss_kib),
            mib(self.rss_at(FanInMode::RunboardStream, 1_000)),
            mib(self.rss_at(FanInMode::RunboardPolling, 1_000)),
        );
        match &self.widget {
            Ok(w) => {
                let renders: Vec<String> = w.render.iter().map(|d| ms0(*d)).collect();
                let _ = writeln!(
                    out,
                    "Widget, headless Chromium, {}-test finished report: navigation to rendered \
                     report {} ms (navigations 1–{}: {} ms; the first compiles the wasm); one \
                     keystroke (`{}`) in the search box to the filtered list ({} matches) {} ms.",
                    super::WIDGET_TESTS,
                    ms0(self.best_render().unwrap_or_default()),
                    w.render.len(),
                    renders.join(", "),
                    w.typed,
                    w.matched,
                    ms0(w.keystroke)
                );
            }
            Err(e) => {
                let _ = writeln!(out, "Widget: not measured: {e}");
            }
        }
        out
    }

    /// The median navigation-to-render time.
    fn best_render(&self) -> Option<Duration> {
        let w = self.widget.as_ref().ok()?;
        let mut sorted = w.render.clone();
        sorted.sort_unstable();
        sorted.get(sorted.len() / 2).copied()
    }

    fn rss_at(&self, mode: FanInMode, viewers: usize) -> Option<u64> {
        self.point(mode, viewers)?.rss_max_kib
    }

    fn point(&self, mode: FanInMode, viewers: usize) -> Option<&super::FanInMeasure> {
        self.fan_in
            .iter()
            .find(|r| r.mode == mode && r.viewers == viewers)?
            .measured
            .as_ref()
    }

    /// Viewers that failed in any point of `mode`.
    fn failed_viewers(&self, mode: FanInMode) -> usize {
        self.fan_in
            .iter()
            .filter(|r| r.mode == mode)
            .filter_map(|r| r.measured.as_ref())
            .map(|m| m.failed_viewers)
            .sum()
    }

    /// The goals, each "met" or "not met" with the figure behind it.
    pub fn goals(&self) -> Vec<String> {
        let run_ms = self.options.run_ms;
        let per_run_ms = 1000.0 / run_ms as f64;
        let mut goals = Vec::new();
        for mode in [FanInMode::RunboardPolling, FanInMode::RunboardStream] {
            let rates: Vec<f64> = self
                .fan_in
                .iter()
                .filter(|r| r.mode == mode)
                .filter_map(|r| r.measured.as_ref().map(|m| m.upstream_per_second))
                .collect();
            let failed = self.failed_viewers(mode);
            let verdict = if rates.is_empty() {
                "not measured".to_owned()
            } else {
                let max = rates.iter().copied().fold(0.0, f64::max);
                format!(
                    "{}: {:.2}–{:.2} upstream calls/s from {} to {} viewers{}",
                    met(max <= per_run_ms * 1.5 && failed == 0),
                    rates.iter().copied().fold(f64::INFINITY, f64::min),
                    max,
                    self.options.viewers.first().unwrap_or(&0),
                    self.options.viewers.last().unwrap_or(&0),
                    failures(failed),
                )
            };
            goals.push(format!(
                "Upstream calls for one live run flat at about one per `run_ms` ({per_run_ms:.2}/s), {}: {verdict}",
                mode.label()
            ));
        }
        for mode in [FanInMode::RunboardStream, FanInMode::RunboardPolling] {
            let worst = self
                .fan_in
                .iter()
                .filter(|r| r.mode == mode)
                .filter_map(|r| r.measured.as_ref().filter(|m| m.fresh_samples > 0))
                .map(|m| m.fresh_p99)
                .max();
            let limit = Duration::from_millis(run_ms + 200);
            goals.push(format!(
                "Freshness p99 within `run_ms` + 200 ms ({} ms), {}: {}",
                run_ms + 200,
                mode.label(),
                worst.map_or("not measured".to_owned(), |w| {
                    let failed = self.failed_viewers(mode);
                    format!(
                        "{}: worst p99 {} ms{}",
                        met(w <= limit && failed == 0),
                        ms0(w),
                        failures(failed)
                    )
                })
            ));
        }
        let large = format!("finished report, {} tests", crate::stack::LARGE_RUN_TESTS);
        goals.push(format!(
            "{} ≤ 2× direct latency: {}",
            large,
            match (self.cell(&large, TARGETS[1]), self.direct_p50(&large)) {
                (Some((_, p)), Some(d)) => {
                    let r = p.as_secs_f64() / d.as_secs_f64();
                    format!(
                        "{}: {r:.2}× (p50 {} ms vs {} ms)",
                        met(r <= 2.0),
                        ms(p),
                        ms(d)
                    )
                }
                _ => "not measured".to_owned(),
            }
        ));
        let reports: Vec<String> = self
            .cost
            .iter()
            .filter(|r| r.request.contains("report") && r.target == TARGETS[1])
            .map(|r| r.request.clone())
            .collect();
        for report in reports {
            goals.push(format!(
                "{report} at least at nginx's plain-proxy throughput: {}",
                match (
                    self.cell(&report, TARGETS[1]),
                    self.cell(&report, TARGETS[2])
                ) {
                    (Some((rb, _)), Some((ng, _))) =>
                        format!("{}: {rb:.0} vs {ng:.0} req/s", met(rb >= ng)),
                    _ => "not measured".to_owned(),
                }
            ));
        }
        goals.push(format!(
            "RSS under 50 MB at 1,000 SSE viewers: {}",
            self.rss_at(FanInMode::RunboardStream, 1_000).map_or(
                "not measured (no SSE endpoint)".to_owned(),
                |k| {
                    let failed = self
                        .point(FanInMode::RunboardStream, 1_000)
                        .map_or(0, |m| m.failed_viewers);
                    format!(
                        "{}: {:.1} MiB{}",
                        met(k < RSS_GOAL_KIB && failed == 0),
                        k as f64 / 1024.0,
                        failures(failed)
                    )
                }
            )
        ));
        goals.push(format!(
            "{}-test report rendered in under 1 s: {}",
            super::WIDGET_TESTS,
            self.best_render()
                .map_or("not measured".to_owned(), |d| format!(
                    "{}: {} ms",
                    met(d < RENDER_GOAL),
                    ms0(d)
                ))
        ));
        goals.extend(super::crowd::render::goals(&self.crowds, run_ms));
        goals
    }
}

/// ", but N viewers failed" when some did: a goal is not met on a partial audience.
fn failures(failed: usize) -> String {
    if failed == 0 {
        String::new()
    } else {
        format!(", but {failed} viewers failed")
    }
}

pub(super) fn met(ok: bool) -> &'static str {
    if ok { "**met**" } else { "**not met**" }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

pub(super) fn ms0(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1000.0)
}
