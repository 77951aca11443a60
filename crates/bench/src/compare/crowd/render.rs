//! The crowds as Markdown: one row per crowd size, and issue 20's three goals for them
//! (memory at 10,000, upstream calls flat, nobody starved), each met or not with the figure.

use std::{fmt::Write as _, time::Duration};

use super::{CrowdRow, STARVED_AFTER};
use crate::compare::render::{met, ms0};

/// The crowd whose memory the goal is about.
const GOAL_VIEWERS: usize = 10_000;
/// `runboard`'s memory goal with [`GOAL_VIEWERS`] streams: 100 MB (10⁸ bytes), in KiB.
const RSS_GOAL_KIB: u64 = 100_000_000 / 1024;
/// "Flat": no more than this many upstream calls per `run_ms`.
const FLAT: f64 = 1.1;

/// The table, or nothing when no crowd was asked for.
pub(crate) fn table(rows: &[CrowdRow]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "| stream viewers | all connected s | runboard RSS MiB | upstream calls/s | \
         freshness p50 ms | p99 ms | final after the platform, p50 ms | worst viewer ms | \
         starved | failed |\n|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for row in rows {
        match &row.measured {
            Ok(m) => {
                let rss = m
                    .rss_max_kib
                    .map_or(String::new(), |kib| format!("{:.1}", kib as f64 / 1024.0));
                let _ = writeln!(
                    out,
                    "| {} | {:.1} | {rss} | {:.2} | {} | {} | {} | {} | {} | {} |",
                    row.viewers,
                    m.connected_in.as_secs_f64(),
                    m.upstream_per_second(),
                    ms0(m.fresh_p50),
                    ms0(m.fresh_p99),
                    ms0(m.final_p50),
                    ms0(m.final_worst),
                    m.starved,
                    m.failed,
                );
            }
            Err(e) => {
                let _ = writeln!(out, "| {} | failed: {e} | | | | | | | | |", row.viewers);
            }
        }
    }
    for row in rows {
        if let Ok(m) = &row.measured
            && let Some(error) = &m.first_error
        {
            let _ = writeln!(
                out,
                "\nFirst viewer failure, crowd of {}: {error}",
                row.viewers
            );
        }
    }
    out
}

/// Issue 20's goals for the crowds, with `run_ms` the follower's period.
pub(crate) fn goals(rows: &[CrowdRow], run_ms: u64) -> Vec<String> {
    if rows.is_empty() {
        return Vec::new();
    }
    let measured: Vec<(usize, &super::CrowdMeasure)> = rows
        .iter()
        .filter_map(|r| r.measured.as_ref().ok().map(|m| (r.viewers, m)))
        .collect();
    let failed_points = rows.len() - measured.len();
    let incomplete = if failed_points == 0 {
        String::new()
    } else {
        format!(", but {failed_points} crowds could not be measured")
    };
    let memory = match measured.iter().find(|(n, _)| *n == GOAL_VIEWERS) {
        Some((_, m)) => match m.rss_max_kib {
            Some(kib) => format!(
                "{}: {:.1} MiB",
                met(kib < RSS_GOAL_KIB && m.failed == 0),
                kib as f64 / 1024.0
            ),
            None => "not measured (runboard in process)".to_owned(),
        },
        None => format!("not measured (no crowd of {GOAL_VIEWERS})"),
    };
    let per_run_ms = 1000.0 / run_ms as f64;
    let rates: Vec<f64> = measured
        .iter()
        .map(|(_, m)| m.upstream_per_second())
        .collect();
    let max_rate = rates.iter().copied().fold(0.0, f64::max);
    let min_rate = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let largest = measured.iter().map(|(n, _)| *n).max().unwrap_or(0);
    let starved: usize = measured.iter().map(|(_, m)| m.starved).sum();
    let worst = measured
        .iter()
        .map(|(_, m)| m.final_worst)
        .max()
        .unwrap_or_default();
    let limit = Duration::from_millis(run_ms) + STARVED_AFTER;
    vec![
        format!("`runboard` RSS under 100 MB with {GOAL_VIEWERS} SSE viewers: {memory}"),
        format!(
            "Upstream calls flat at one per `run_ms` ({per_run_ms:.2}/s) with crowds of up to \
             {largest} SSE viewers: {}: {min_rate:.2}–{max_rate:.2}/s{incomplete}",
            met(!measured.is_empty() && max_rate <= per_run_ms * FLAT && failed_points == 0),
        ),
        format!(
            "No viewer starved (the final report within `run_ms` + 1 s = {} ms of the \
             platform): {}: {starved} starved, worst viewer {} ms{incomplete}",
            ms0(limit),
            met(!measured.is_empty() && starved == 0 && failed_points == 0),
            ms0(worst),
        ),
    ]
}
