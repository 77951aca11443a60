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
    /// How `runboard` knows who asks.
    pub(crate) sign_in: SignIn<'a>,
}

/// The header naming the user in [`SignIn::Header`]: what an SSO proxy in front of
/// `runboard` would set, and what a benchmark's browser sends in its place.
pub(crate) const USER_HEADER: &str = "X-Forwarded-Email";

/// `[auth]` of the `runboard` under test.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SignIn<'a> {
    /// `mode = "none"`: nobody is known, and everyone may start runs and triage, so
    /// everyone gets the full widget.
    Nobody,
    /// `mode = "header"`, the user named by [`USER_HEADER`] from any loopback peer (the
    /// benchmark's relay and browser): the `runners` may start runs and so triage; any
    /// other signed-in user is a reader, who gets a run report as the report page.
    Header { runners: &'a [&'a str] },
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
         [auth]\n{auth}\
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
        auth = auth_text(setup.sign_in),
        id = setup.project.id,
        key = key_file.display().to_string(),
    )
}

/// The settings of `[auth]` for `sign_in`, one per line.
fn auth_text(sign_in: SignIn<'_>) -> String {
    match sign_in {
        SignIn::Nobody => "mode = \"none\"\n".to_owned(),
        SignIn::Header { runners } => {
            let runners: Vec<String> = runners.iter().map(|user| format!("{user:?}")).collect();
            format!(
                "mode = \"header\"\nuser_header = {USER_HEADER:?}\n\
                 trusted_proxies = [\"127.0.0.0/8\", \"::1/128\"]\nrun_users = [{}]\n",
                runners.join(", ")
            )
        }
    }
}

/// `VmRSS:   12345 kB` of a `/proc/PID/status` text.
fn vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use runboard_proxy::{
        Config,
        config::{AuthMode, Triagers},
    };

    use super::*;

    /// The configuration `runboard` is given, as `runboard` reads it.
    fn read(sign_in: SignIn<'_>) -> Config {
        let dir = tempfile::tempdir().expect("scratch folder");
        let key_file = dir.path().join("key");
        let project = SimProject::new(
            "67f8cb3fe236b8d41b7700ac",
            "a-bench-key-long-enough-to-pass",
        );
        std::fs::write(&key_file, &project.key).expect("key");
        let setup = RunboardSetup {
            binary: Path::new("runboard"),
            upstream: "http://127.0.0.1:9",
            project: &project,
            widget_dir: dir.path(),
            run_ms: 1_000,
            streams: 1,
            sign_in,
        };
        Config::from_toml_str(&config_text(&setup, &key_file), |_| None).expect("valid config")
    }

    /// In header mode a runner may triage and anyone else signed in may not: the line
    /// between the full widget and the report page that the remote viewer measures.
    #[test]
    fn header_mode_makes_runners_triagers_and_others_readers() {
        let config = read(SignIn::Header {
            runners: &["runner@bench.example"],
        });
        assert_eq!(config.auth.mode, AuthMode::Header);
        assert!(config.auth.user_header.eq_ignore_ascii_case(USER_HEADER));
        let loopback = std::net::IpAddr::from([127, 0, 0, 1]);
        assert!(
            config
                .auth
                .trusted_proxies
                .iter()
                .any(|net| net.contains(&loopback))
        );
        let triagers = Triagers::of(&config.auth, &config.projects[0]);
        assert!(triagers.admit(Some("runner@bench.example"), &[]));
        assert!(!triagers.admit(Some("reader@bench.example"), &[]));
        assert_eq!(read(SignIn::Nobody).auth.mode, AuthMode::None);
    }

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
