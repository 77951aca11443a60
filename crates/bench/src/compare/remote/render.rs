//! The remote viewer as a Markdown section: one row per page (who opened it and which of
//! the widget's pages they got, the verdict's and the widget's median with the fastest
//! and slowest visit, bytes each way), and the goals met or not.

use std::{fmt::Write as _, time::Duration};

use super::{PageRow, RemoteReport, VisitFigures, Visitor, builds::Build};
use crate::{Machine, compare::procs::USER_HEADER};

impl RemoteReport {
    /// The dated section for `docs/benchmarks.md`; `measured` says what was measured
    /// (the commit, or which build).
    pub fn markdown(&self, machine: &Machine, measured: &str) -> String {
        let o = &self.options;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "### Remote viewer, {}, {measured}\n\n\
             - Machine: {} CPUs ({}), {} memory; {}\n\
             - Command: `./x bench` (`runboard-remote`); `runboard` as its own process \
             (release) serving the widget from `{}`; headless Chromium, each visit with the \
             cache disabled and cleared and the origin's storage cleared, on a link of {} \
             kbit/s down, {} kbit/s up and {} ms latency (`Network.emulateNetworkConditions`); \
             {} visits per page, median (fastest–slowest); the live run at simulator speed {}\n\
             - {}\n\
             - Verdict visible: navigation start to the first frame showing the final verdict \
             (the start page: its start button; the live report: its first, running verdict). \
             Widget ready: to the first frame with the widget mounted (its root in the page; \
             a report's verdict can show before, written into the page by the server). \
             Widget bytes: the page, its CSS, JS and wasm as transferred (Resource Timing), \
             headers included. Bytes down and up: what crossed a relay in front of \
             `runboard` until the verdict and the widget were both there (the live report: \
             until its final verdict), headers included\n\
             - Load average (1 min) before and after: {}\n",
            machine.date,
            machine.cpus,
            machine.cpu_model,
            machine.memory,
            machine.rustc,
            o.widget_dir.display(),
            o.link.down_kbps,
            o.link.up_kbps,
            o.link.latency.as_millis(),
            o.visits,
            o.live_speed,
            self.sign_in(),
            load(self.load),
        );
        out.push_str(
            "| page | opened by | got | verdict visible | widget ready \
             | final verdict after the platform's | widget bytes | bytes down | bytes up |\n\
             |---|---|---|--:|--:|--:|--:|--:|--:|\n",
        );
        for row in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                row.page,
                row.visitor.name(),
                served(row),
                spread(&row.visits.iter().map(|v| v.verdict).collect::<Vec<_>>()),
                spread(
                    &row.visits
                        .iter()
                        .filter_map(|v| v.stages.app.map(ms))
                        .collect::<Vec<_>>()
                ),
                if row.live {
                    spread(
                        &row.visits
                            .iter()
                            .filter_map(|v| v.final_lag)
                            .collect::<Vec<_>>(),
                    )
                } else {
                    "–".to_owned()
                },
                bytes(median(row.visits.iter().filter_map(|v| v.widget_bytes))),
                bytes(median(row.visits.iter().map(|v| v.down))),
                bytes(median(row.visits.iter().map(|v| v.up))),
            );
        }
        out.push_str("\nGoals:\n\n");
        for line in self.goals() {
            let _ = writeln!(out, "- {line}");
        }
        for row in self.rows.iter().filter(|row| !row.live) {
            out.push_str(&waterfall(row));
        }
        out
    }

    /// How the bench signs in, who opened which pages and what the two pages weigh.
    fn sign_in(&self) -> String {
        let b = &self.builds;
        format!(
            "Sign-in: `runboard` in `auth.mode = \"header\"`, trusting loopback (where the \
             relay is), the browser naming the user in `{USER_HEADER}` \
             (`Network.setExtraHTTPHeaders`), as an SSO proxy would. Each run report is \
             opened by a {reader} (signed in, neither in `run_users` nor a triager), who gets \
             the {}; the start page by a {runner} (in `run_users`, so a triager too), who \
             gets the {} like every other address",
            weighs(&b.report),
            weighs(&b.full),
            reader = Visitor::Reader.name(),
            runner = Visitor::Runner.name(),
        )
    }

    /// Each page with a goal: its median verdict against it.
    pub fn goals(&self) -> Vec<String> {
        self.rows.iter().filter_map(goal).collect()
    }
}

fn goal(row: &PageRow) -> Option<String> {
    let goal = row.goal?;
    let verdict = median(row.visits.iter().map(|v| v.verdict))?;
    let met = if verdict <= goal {
        "**met**"
    } else {
        "**not met**"
    };
    Some(format!(
        "{}: verdict ≤ {}: {met} ({})",
        row.page,
        seconds(goal),
        seconds(verdict)
    ))
}

/// The requests of `row`'s median visit until its verdict, in the order started: where
/// its time went (a request made twice shows twice).
fn waterfall(row: &PageRow) -> String {
    let Some(visit) = median_visit(row) else {
        return String::new();
    };
    let at = |mark: Option<f64>| mark.map_or_else(|| "–".to_owned(), |ms| format!("{ms:.0} ms"));
    let mut out = format!(
        "\nRequests of the {}, its median visit ({}), until the verdict (ms of the \
         page's clock; bytes as transferred, headers included; the widget mounted at {}, \
         had read its bootstrap at {}, showed the server's verdict at {}):\n\n\
         | request | by | start | end | bytes |\n|---|---|--:|--:|--:|\n",
        row.page,
        seconds(visit.verdict),
        at(visit.stages.app),
        at(visit.stages.ready),
        at(visit.stages.judged),
    );
    for request in &visit.requests {
        let _ = writeln!(
            out,
            "| `{}` | {} | {:.0} | {:.0} | {} |",
            request.path,
            request.initiator,
            request.start,
            request.end,
            bytes(Some(request.bytes as u64))
        );
    }
    out
}

/// "report page (`report.html`: its CSS, JS and wasm 196.5 kB as brotli)".
fn weighs(build: &Build) -> String {
    format!(
        "{} (`{}`: its CSS, JS and wasm {} as brotli)",
        build.name,
        build.file,
        bytes(Some(build.brotli))
    )
}

/// Which page the row's visits got ("report page"; "?" for a visit told apart as
/// neither; each one once).
fn served(row: &PageRow) -> String {
    let mut names: Vec<&str> = Vec::new();
    for visit in &row.visits {
        let name = visit.served.unwrap_or("?");
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.is_empty() {
        return "–".to_owned();
    }
    names.join(", ")
}

/// A mark of the page's clock as a duration.
fn ms(ms: f64) -> Duration {
    Duration::from_secs_f64(ms.max(0.0) / 1000.0)
}

/// The visit whose verdict is the median (the lower middle of an even count).
fn median_visit(row: &PageRow) -> Option<&VisitFigures> {
    let mut visits: Vec<&VisitFigures> = row.visits.iter().collect();
    visits.sort_by_key(|visit| visit.verdict);
    let middle = visits.len().checked_sub(1)? / 2;
    visits.get(middle).copied()
}

/// "1.20 → 3.40" (`?` where unread).
fn load((before, after): (Option<f64>, Option<f64>)) -> String {
    let one = |l: Option<f64>| l.map_or_else(|| "?".to_owned(), |l| format!("{l:.2}"));
    format!("{} → {}", one(before), one(after))
}

/// The nearest-rank median: the middle value, the lower one of an even count.
fn median<T: Ord>(values: impl Iterator<Item = T>) -> Option<T> {
    let mut values: Vec<T> = values.collect();
    values.sort_unstable();
    let middle = values.len().checked_sub(1)? / 2;
    values.into_iter().nth(middle)
}

/// "2.21 s (2.10–2.40)", or "–" without figures.
fn spread(values: &[Duration]) -> String {
    let (Some(mid), Some(low), Some(high)) = (
        median(values.iter().copied()),
        values.iter().min(),
        values.iter().max(),
    ) else {
        return "–".to_owned();
    };
    if values.len() == 1 {
        return seconds(mid);
    }
    format!(
        "{} ({:.2}–{:.2})",
        seconds(mid),
        low.as_secs_f64(),
        high.as_secs_f64()
    )
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Decimal units, as network speeds are: "236.5 kB", "7.21 MB".
fn bytes(n: Option<u64>) -> String {
    match n {
        None => "–".to_owned(),
        Some(n) if n >= 1_000_000 => format!("{:.2} MB", n as f64 / 1e6),
        Some(n) if n >= 1_000 => format!("{:.1} kB", n as f64 / 1e3),
        Some(n) => format!("{n} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_is_the_middle_value() {
        assert_eq!(median([3, 1, 2].into_iter()), Some(2));
        assert_eq!(median([4, 1, 3, 2].into_iter()), Some(2));
        assert_eq!(median(std::iter::empty::<u64>()), None);
    }

    #[test]
    fn the_waterfall_is_the_median_visit_s() {
        let visit = |ms: u64, path: &str| VisitFigures {
            verdict: Duration::from_millis(ms),
            final_lag: None,
            down: 0,
            up: 0,
            stages: super::super::Stages {
                app: Some(1_200.4),
                ready: None,
                judged: Some(1_500.0),
            },
            requests: vec![super::super::Fetch {
                path: path.to_owned(),
                initiator: "link".to_owned(),
                start: 12.4,
                end: 140.6,
                bytes: 1_234.0,
            }],
            served: Some("report page"),
            widget_bytes: Some(197_000),
        };
        let row = PageRow {
            page: "finished 36-test report".to_owned(),
            goal: None,
            live: false,
            visitor: Visitor::Reader,
            visits: vec![
                visit(1_900, "/slow"),
                visit(1_400, "/fast"),
                visit(1_500, "/mid"),
            ],
        };
        let text = waterfall(&row);
        assert!(text.contains("median visit (1.50 s)"), "{text}");
        assert!(
            text.contains(
                "mounted at 1200 ms, had read its bootstrap at –, showed the server's \
                 verdict at 1500 ms"
            ),
            "{text}"
        );
        assert!(
            text.contains("| `/mid` | link | 12 | 141 | 1.2 kB |"),
            "{text}"
        );
        assert!(!text.contains("/slow") && !text.contains("/fast"), "{text}");
        assert_eq!(served(&row), "report page");
    }

    #[test]
    fn spread_and_bytes_read_as_the_table_shows_them() {
        let ms = |v: u64| Duration::from_millis(v);
        assert_eq!(
            spread(&[ms(2_400), ms(2_100), ms(2_210)]),
            "2.21 s (2.10–2.40)"
        );
        assert_eq!(spread(&[ms(900)]), "0.90 s");
        assert_eq!(spread(&[]), "–");
        assert_eq!(bytes(Some(7_212_345)), "7.21 MB");
        assert_eq!(bytes(Some(236_512)), "236.5 kB");
        assert_eq!(bytes(Some(512)), "512 B");
    }
}
