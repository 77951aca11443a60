//! What every benchmark binary does around its measurement: start the runtime, turn an
//! error into one line and a failing exit code, and append a dated section to the
//! results file. Kept here so the binaries differ only in what they measure.

use std::{fs::OpenOptions, io::Write, path::Path, process::ExitCode};

use anyhow::Context;

use crate::Machine;

/// Runs a binary's `work`, printing its error (with causes) as `name: …` and failing.
pub fn main_of(name: &str, work: impl FnOnce() -> anyhow::Result<ExitCode>) -> ExitCode {
    match work() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("{name}: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The multi-threaded runtime the measurements run on, as `runboard` itself runs.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Says on stderr that a debug build measures the wrong thing, and how to get a release
/// one; the numbers are still printed, and recorded sections say which build made them.
pub fn warn_if_debug(bin: &str) {
    if cfg!(debug_assertions) {
        eprintln!(
            "note: a debug build; run with `cargo run --release -p runboard-bench --bin {bin}`"
        );
    }
}

/// Appends `section` to the results file at `path`, creating it if needed.
pub fn append(path: &Path, section: &str) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    write!(file, "\n{section}").with_context(|| format!("cannot write {}", path.display()))
}

/// A results section titled `title`, headed by when, where and with which build `body`
/// was measured, so a recorded number is never separated from its machine.
pub fn dated_section(title: &str, body: &str) -> String {
    let machine = Machine::detect();
    let build = if cfg!(debug_assertions) {
        "a debug build"
    } else {
        "a release build"
    };
    format!(
        "### {title}, {}, commit {}\n\n- Machine: {} CPUs ({}), {} memory; {}; {build}\n{body}\n",
        machine.date,
        machine.commit,
        machine.cpus,
        machine.cpu_model,
        machine.memory,
        machine.rustc,
    )
}
