//! `runboard` as a child process (its own binary, configured from a TOML file like a
//! deployment) so its resident memory is its alone, read from `/proc/PID/status`.

use std::{os::unix::fs::PermissionsExt, path::Path, process::Stdio, time::Duration};

use runboard_sim::SimProject;
use tempfile::TempDir;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

use crate::{BenchError, stack::start_error};

/// `[server] max_connections` for `streams` open streams: streams may hold at most half of
/// the connections, so twice as many, plus room for the polls and the set-up calls; at
/// least 4,096 (a thousand polling viewers, wrk's connections).
pub(crate) fn max_connections(streams: usize) -> usize {
    (2 * streams + 256).max(4_096)
}
/// Raises this process's open-file limit to at least `wanted` (the `runboard` it starts
/// inherits it): the hard limit too when allowed (as root), else the soft limit up to the
/// hard one. Returns the soft limit now.
pub(crate) fn raise_open_files(wanted: u64) -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let hard = limit.maximum.map_or(wanted, |hard| hard.max(wanted));
    let raised = Rlimit {
        current: Some(hard),
        maximum: Some(hard),
    };
    if setrlimit(Resource::Nofile, raised).is_err() {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        );
    }
    getrlimit(Resource::Nofile).current
}

/// How long `runboard` may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `runboard` process, killed when dropped.
pub(crate) struct RunboardProcess {
    child: Child,
    url: String,
    /// Holds the config and key files.
    _dir: TempDir,
}

/// What the `runboard` under test is told.
pub(crate) struct RunboardSetup<'a> {
    /// The `runboard` binary (a release build).
    pub(crate) binary: &'a Path,
    /// The simulator's base URL.
    pub(crate) upstream: &'a str,
    pub(crate) project: &'a SimProject,
    /// The widget's files (served for the widget benchmark only).
    pub(crate) widget_dir: &'a Path,
    /// `[poll] run_ms`: how often a live run is polled (by the widget, and by `runboard`
    /// itself for push).
    pub(crate) run_ms: u64,
    /// The most streams open at once (`[live] max_streams`, and connections for them).
    pub(crate) streams: usize,
}

impl RunboardProcess {
    /// Writes the key and the config into a scratch folder, starts the binary and waits
    /// for its `listening on URL` line.
    pub(crate) async fn start(setup: &RunboardSetup<'_>) -> Result<Self, BenchError> {
        let dir = tempfile::tempdir()?;
        let key_file = dir.path().join("key");
        std::fs::write(&key_file, &setup.project.key)?;
        // As an operator would: `runboard` warns about a key file others may read.
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600))?;
        let config_file = dir.path().join("runboard.toml");
        std::fs::write(&config_file, config_text(setup, &key_file))?;
        let mut child = Command::new(setup.binary)
            .arg("--config")
            .arg(&config_file)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| start_error("runboard", format!("{}: {e}", setup.binary.display())))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| start_error("runboard", "no stdout"))?;
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(START_TIMEOUT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("listening on ") {
                    return Some(url.trim().to_owned());
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .ok_or_else(|| start_error("runboard", "it printed no `listening on` line"))?;
        // Keep reading, so a full pipe never blocks the server.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            child,
            url,
            _dir: dir,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The process's resident memory (`VmRSS`), in KiB.
    pub(crate) fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()?)).ok()?;
        vm_rss(&status)
    }

    /// Stops the process and waits for it.
    pub(crate) async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn config_text(setup: &RunboardSetup<'_>, key_file: &Path) -> String {
    // One anonymous user sends everything, so the per-user limits are off: this
    // measures forwarding, sharing and pushing, not rate limiting. Streams may take half
    // of `max_connections`, so 10,000 stream viewers need room for 20,000 and more.
    format!(
        "listen = \"127.0.0.1:0\"\nwidget_dir = {widget:?}\n\
         [server]\nmax_connections = {connections}\n\
         [upstream]\nurl = {upstream:?}\n\
         [auth]\nmode = \"none\"\n\
         [limits]\nstarts_per_minute = 0\nreads_per_minute = 0\n\
         [live]\nmax_streams = {streams}\nmax_streams_per_user = 0\n\
         [poll]\nrun_ms = {run_ms}\n\
         [ledger]\nurl = \"sqlite::memory:\"\nfollow_ms = 0\n\
         [[projects]]\nid = {id:?}\nname = \"Bench\"\napi_key_file = {key:?}\n",
        widget = setup.widget_dir.display().to_string(),
        upstream = setup.upstream,
        run_ms = setup.run_ms,
        connections = max_connections(setup.streams),
        streams = setup.streams.max(1),
        id = setup.project.id,
        key = key_file.display().to_string(),
    )
}

/// `VmRSS:   12345 kB` of a `/proc/PID/status` text.
fn vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_memory_is_read_from_proc_status() {
        assert_eq!(
            vm_rss("Name:\tx\nVmRSS:\t   23456 kB\nVmSwap: 0 kB\n"),
            Some(23_456)
        );
        assert_eq!(vm_rss("Name:\tx\n"), None);
        let own = std::fs::read_to_string("/proc/self/status").expect("linux /proc");
        assert!(vm_rss(&own).is_some_and(|kib| kib > 0));
    }
}
