//! What a person or a CI log sees while a run goes: on a terminal one `indicatif` bar
//! (tests done of all, how many failed) with each failing test printed above it as it
//! fails; elsewhere one plain line per change, since a CI log keeps every redraw.

use std::{collections::HashSet, io::Write, time::Duration};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use runboard_shared::{TestRun, TestStatus, error_text};

/// A report's counts as the progress shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    total: u64,
    passed: u64,
    failed: u64,
    skipped: u64,
}

impl Counts {
    fn of(run: &TestRun) -> Self {
        let mut counts = Self {
            total: run.tests.len() as u64,
            ..Self::default()
        };
        for test in &run.tests {
            match test.status {
                TestStatus::Passed => counts.passed += 1,
                TestStatus::Failed => counts.failed += 1,
                TestStatus::Skipped => counts.skipped += 1,
                _ => {}
            }
        }
        counts
    }

    fn done(self) -> u64 {
        self.passed + self.failed + self.skipped
    }
}

/// The progress of one run; lines go to the `ui` writer each call is given, the bar (on
/// a terminal) to standard error.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    failed: HashSet<String>,
    last: Option<(String, Counts)>,
    last_note: Option<String>,
}

impl Progress {
    /// A bar when `terminal`, plain lines otherwise.
    pub(crate) fn new(terminal: bool) -> Self {
        let bar = terminal.then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            // The spinner turns while nothing changes, so a quiet run does not look hung.
            bar.enable_steady_tick(Duration::from_millis(150));
            bar
        });
        Self {
            bar,
            failed: HashSet::new(),
            last: None,
            last_note: None,
        }
    }

    /// Says `text` once (a repeated note, such as an unchanged job status, is not
    /// printed again).
    pub(crate) fn note(&mut self, ui: &mut dyn Write, text: &str) {
        if self.last_note.as_deref() == Some(text) {
            return;
        }
        self.last_note = Some(text.to_owned());
        self.line(ui, text);
    }

    /// Shows `run` if it changed: the counts, and each test that failed since.
    pub(crate) fn report(&mut self, ui: &mut dyn Write, run: &TestRun) {
        for test in &run.tests {
            if test.status == TestStatus::Failed && self.failed.insert(test.id.clone()) {
                let headline = test
                    .error
                    .as_ref()
                    .map(|e| error_text(e).0)
                    .unwrap_or_else(|| "failed without an error message".to_owned());
                self.line(ui, &format!("✕ {}: {headline}", test.title));
            }
        }
        let counts = Counts::of(run);
        let state = (run.status.as_str().to_owned(), counts);
        if self.last.as_ref() == Some(&state) {
            return;
        }
        self.last = Some(state);
        match &self.bar {
            Some(bar) => {
                bar.set_length(counts.total);
                bar.set_position(counts.done());
                bar.set_message(format!("{} failed · {}", counts.failed, run.status));
            }
            None => {
                let _ = writeln!(
                    ui,
                    "{} · {} of {} done · {} passed · {} failed · {} skipped",
                    status_word(run),
                    counts.done(),
                    counts.total,
                    counts.passed,
                    counts.failed,
                    counts.skipped
                );
            }
        }
    }

    /// Removes the bar, so what follows starts on a clean line.
    pub(crate) fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn line(&self, ui: &mut dyn Write, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => {
                let _ = writeln!(ui, "{text}");
            }
        }
    }
}

/// The run's status for the count line, "unknown" when the platform sent none.
fn status_word(run: &TestRun) -> &str {
    match run.status.as_str() {
        "" => "unknown",
        word => word,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(json: &str) -> TestRun {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn one_line_per_change_and_each_failure_once() {
        let mut progress = Progress::new(false);
        let mut ui = Vec::new();
        let first = run(r#"{"runId":"r","status":"Running","tests":[
            {"_id":"a","title":"Login","status":"Passed"},
            {"_id":"b","title":"Cart","status":"Running"}]}"#);
        let second = run(r#"{"runId":"r","status":"Running","tests":[
            {"_id":"a","title":"Login","status":"Passed"},
            {"_id":"b","title":"Cart","status":"Failed","error":{"message":"Total is 0\nat step 3"}}]}"#);
        progress.note(&mut ui, "job j1: running");
        progress.note(&mut ui, "job j1: running");
        progress.report(&mut ui, &first);
        progress.report(&mut ui, &first);
        progress.report(&mut ui, &second);
        progress.report(&mut ui, &second);
        let text = String::from_utf8(ui).unwrap();
        assert_eq!(
            text,
            "job j1: running\n\
             Running · 1 of 2 done · 1 passed · 0 failed · 0 skipped\n\
             ✕ Cart: Total is 0\n\
             Running · 2 of 2 done · 1 passed · 1 failed · 0 skipped\n"
        );
    }
}
