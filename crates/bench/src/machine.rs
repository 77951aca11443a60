//! Where and when a run happened: date, processors, memory, compiler and commit, read
//! from the system so a recorded result says what it is comparable with.

use std::{path::Path, process::Command};

/// The facts recorded with each result. Anything that cannot be read is `"unknown"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// When the run finished, `YYYY-MM-DD HH:MM UTC`.
    pub date: String,
    /// Processors available to the process (what `nproc` prints).
    pub cpus: usize,
    /// The first `model name` of `/proc/cpuinfo`.
    pub cpu_model: String,
    /// `MemTotal` of `/proc/meminfo`, in GiB.
    pub memory: String,
    /// `rustc --version` in the workspace (honouring `rust-toolchain.toml`).
    pub rustc: String,
    /// The short commit, with `+ local changes` when tracked files differ from it.
    pub commit: String,
}

const UNKNOWN: &str = "unknown";

impl Machine {
    /// Reads the clock, `/proc`, `rustc` and `git`.
    pub fn detect() -> Self {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
        Self {
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            cpus: std::thread::available_parallelism().map_or(0, usize::from),
            cpu_model: read("/proc/cpuinfo")
                .and_then(|text| cpu_model(&text))
                .unwrap_or_else(|| UNKNOWN.to_owned()),
            memory: read("/proc/meminfo")
                .and_then(|text| memory(&text))
                .unwrap_or_else(|| UNKNOWN.to_owned()),
            rustc: command(workspace, "rustc", &["--version"])
                .unwrap_or_else(|| UNKNOWN.to_owned()),
            commit: commit(workspace).unwrap_or_else(|| UNKNOWN.to_owned()),
        }
    }
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The value of the first `model name : …` line.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(key, _)| key.trim() == "model name")
        .map(|(_, value)| value.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// `MemTotal: 8038876 kB` as `7.7 GiB`.
fn memory(meminfo: &str) -> Option<String> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(format!("{:.1} GiB", kib / (1024.0 * 1024.0)))
}

fn command(dir: &Path, program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    (output.status.success() && !text.is_empty()).then_some(text)
}

fn commit(dir: &Path) -> Option<String> {
    let hash = command(dir, "git", &["rev-parse", "--short", "HEAD"])?;
    let changed = command(
        dir,
        "git",
        &["status", "--porcelain", "--untracked-files=no"],
    );
    Some(match changed {
        Some(_) => format!("{hash} + local changes"),
        None => hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_are_read() {
        let cpuinfo = "processor\t: 0\nmodel name\t: AMD EPYC  7B13 64-Core\nflags : x\n";
        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("AMD EPYC 7B13 64-Core"));
        assert_eq!(cpu_model("processor : 0\n"), None);
        let meminfo = "MemTotal:        8388608 kB\nMemFree: 1 kB\n";
        assert_eq!(memory(meminfo).as_deref(), Some("8.0 GiB"));
        assert_eq!(memory("MemFree: 1 kB\n"), None);
    }
}
