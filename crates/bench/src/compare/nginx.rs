//! nginx, as people would deploy it instead of `runboard`: one foreground process from
//! Debian's package with a scratch prefix and config, serving two loopback ports, a plain
//! header-injecting reverse proxy and the same with micro-caching.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use runboard_shared::Endpoint;
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::{BenchError, stack::start_error};

/// How long nginx may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// A running nginx master (and its workers), stopped on [`Nginx::stop`] or when dropped.
pub(crate) struct Nginx {
    child: Child,
    binary: PathBuf,
    dir: TempDir,
    /// The plain reverse proxy.
    pub(crate) plain: String,
    /// The micro-caching reverse proxy.
    pub(crate) cached: String,
}

impl Nginx {
    /// Starts `binary` in front of `upstream` (`127.0.0.1:PORT`), injecting `key`.
    pub(crate) async fn start(
        binary: &Path,
        upstream: &str,
        key: &str,
    ) -> Result<Self, BenchError> {
        let dir = tempfile::tempdir()?;
        let [plain, cached] = [free_port()?, free_port()?];
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, config(dir.path(), upstream, key, [plain, cached]))?;
        let child = Command::new(binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| start_error("nginx", format!("{}: {e}", binary.display())))?;
        let nginx = Self {
            child,
            binary: binary.to_owned(),
            dir,
            plain: format!("http://127.0.0.1:{plain}"),
            cached: format!("http://127.0.0.1:{cached}"),
        };
        nginx.wait_ready([plain, cached]).await?;
        Ok(nginx)
    }

    async fn wait_ready(&self, ports: [u16; 2]) -> Result<(), BenchError> {
        let deadline = Instant::now() + START_TIMEOUT;
        for port in ports {
            while tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_err()
            {
                if Instant::now() >= deadline {
                    let log = std::fs::read_to_string(self.dir.path().join("error.log"))
                        .unwrap_or_default();
                    return Err(start_error(
                        "nginx",
                        format!("port {port} never opened: {log}"),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Ok(())
    }

    /// Asks the master to stop (so its workers go too) and waits for it.
    pub(crate) async fn stop(mut self) {
        self.signal_stop();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }

    fn signal_stop(&self) {
        let _ = std::process::Command::new(&self.binary)
            .arg("-p")
            .arg(self.dir.path())
            .arg("-c")
            .arg(self.dir.path().join("nginx.conf"))
            .arg("-e")
            .arg(self.dir.path().join("error.log"))
            .args(["-s", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // Killing the master alone would leave its workers behind.
        if matches!(self.child.try_wait(), Ok(None)) {
            self.signal_stop();
        }
    }
}

/// A port that was free a moment ago.
fn free_port() -> Result<u16, BenchError> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The scratch config: every path inside `prefix`, one worker per core, keep-alive to
/// the upstream. The micro-cache keeps 200 answers of the two read endpoints for 1 s and
/// lets one request per key refresh it (`proxy_cache_lock`); the simulator's own cache
/// headers are ignored, as a micro-caching setup does. `jobs` is a POST, so its cache key
/// includes the body; starts are never cached.
fn config(prefix: &Path, upstream: &str, key: &str, [plain, cached]: [u16; 2]) -> String {
    let p = prefix.display();
    let (reports, jobs) = (location(Endpoint::TestRun), location(Endpoint::Jobs));
    format!(
        r#"daemon off;
worker_processes auto;
worker_rlimit_nofile 20000;
pid {p}/nginx.pid;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  client_body_temp_path {p}/body;
  proxy_temp_path {p}/proxy;
  fastcgi_temp_path {p}/fastcgi;
  uwsgi_temp_path {p}/uwsgi;
  scgi_temp_path {p}/scgi;
  proxy_cache_path {p}/cache levels=1:2 keys_zone=micro:10m max_size=256m inactive=60s use_temp_path=off;
  upstream platform {{ server {upstream}; keepalive 64; }}
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header x-api-key "{key}";
  proxy_read_timeout 60s;
  server {{
    listen 127.0.0.1:{plain};
    location / {{ proxy_pass http://platform; }}
  }}
  server {{
    listen 127.0.0.1:{cached};
    proxy_cache_valid 200 1s;
    proxy_cache_lock on;
    proxy_ignore_headers Cache-Control Expires Set-Cookie;
    location {reports} {{ proxy_cache micro; proxy_pass http://platform; }}
    location {jobs} {{
      proxy_cache micro;
      proxy_cache_methods POST;
      proxy_cache_key "$request_uri|$request_body";
      proxy_pass http://platform;
    }}
    location / {{ proxy_pass http://platform; }}
  }}
}}
"#
    )
}

/// The nginx `location` prefix of an endpoint: its path template up to the first
/// parameter, so the cache covers exactly the guide's path.
fn location(endpoint: Endpoint) -> &'static str {
    let template = endpoint.template();
    template.find('{').map_or(template, |at| &template[..at])
}

#[cfg(test)]
mod tests {
    use runboard_shared::Route;

    use super::*;

    #[test]
    fn the_micro_cache_covers_the_two_reads_and_never_a_start() {
        let config = config(Path::new("/tmp/nginx"), "127.0.0.1:1", "k", [1, 2]);
        for endpoint in [Endpoint::TestRun, Endpoint::Jobs] {
            let location = location(endpoint);
            let path = Route::Guide(endpoint).fill(&["p", "r"]);
            assert!(
                location.ends_with('/') && path.starts_with(location),
                "{path}"
            );
            assert!(
                config.contains(&format!("location {location} {{")),
                "{config}"
            );
        }
        assert!(!config.contains(location(Endpoint::Execute)), "{config}");
    }
}
