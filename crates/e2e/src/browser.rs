//! Headless Chromium through chromedriver: one driver process and one session per test,
//! always closed, with a screenshot saved when a scenario fails.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    str::FromStr,
    time::Duration,
};

use anyhow::{Context, Result, anyhow, bail};
use axum::http::Method;
use fantoccini::{
    Client, ClientBuilder, Locator, elements::Element, wd::WebDriverCompatibleCommand,
};
use hyper_util::client::legacy::connect::HttpConnector;
use rand::Rng;
use reqwest::Url;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::{
    io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, BufReader, Lines},
    process::{Child, ChildStdout, Command},
};

use crate::wait_for;

/// How long a page condition may take before a test fails.
pub const PAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long chromedriver may take to say it listens.
const DRIVER_START: Duration = Duration::from_secs(20);

/// Ports tried for chromedriver before giving up.
const DRIVER_PORT_ATTEMPTS: usize = 10;

/// A chromedriver process and a WebDriver session on it.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    _profile: TempDir,
}

impl Browser {
    /// Starts chromedriver and opens a headless Chromium session on it.
    pub async fn start() -> Result<Self> {
        let (mut driver, port) = start_driver().await?;
        let profile = tempfile::tempdir()?;
        let url = format!("http://127.0.0.1:{port}");
        match connect(&url, profile.path()).await {
            Ok(client) => Ok(Self {
                client,
                driver,
                _profile: profile,
            }),
            Err(e) => {
                let _ = driver.kill().await;
                Err(e)
            }
        }
    }

    /// Opens `url` and waits until the widget says it has loaded its bootstrap.
    pub async fn open(&self, url: &str) -> Result<()> {
        self.client.goto(url).await?;
        self.wait_css("[data-ready='1']").await.map(|_| ())
    }

    /// Waits until an element matching `css` exists and returns it.
    pub async fn wait_css(&self, css: &str) -> Result<Element> {
        let client = &self.client;
        wait_for(
            &format!("an element matching {css}"),
            PAGE_TIMEOUT,
            || async move { Ok(client.find_all(Locator::Css(css)).await?.into_iter().next()) },
        )
        .await
    }

    /// All elements matching `css` now.
    pub async fn all(&self, css: &str) -> Result<Vec<Element>> {
        Ok(self.client.find_all(Locator::Css(css)).await?)
    }

    /// Runs `script` in the page and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        Ok(self.client.execute(script, args).await?)
    }

    /// The page's current path and query.
    pub async fn path(&self) -> Result<String> {
        let url = self.client.current_url().await?;
        Ok(match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        })
    }

    /// Saves a PNG of the viewport to `path`.
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        let png = self.client.screenshot().await?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, png)?;
        Ok(())
    }

    /// Sends one Chrome DevTools Protocol command (`Network.emulateNetworkConditions`,
    /// `Network.clearBrowserCache`, …) to the session's page and returns its result.
    /// WebDriver has no words for network emulation or the cache; the remote-viewer
    /// benchmark needs both.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Result<Value> {
        let command = DevToolsCommand {
            cmd: cmd.to_owned(),
            params,
        };
        self.client
            .issue_cmd(command)
            .await
            .with_context(|| format!("DevTools command {cmd}"))
    }

    /// Ends the session and the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }
}

/// A DevTools Protocol command as chromedriver takes it: `POST
/// /session/{id}/goog/cdp/execute` with `{"cmd", "params"}`, answered on the session's
/// own page target.
#[derive(Debug)]
struct DevToolsCommand {
    cmd: String,
    params: Value,
}

impl WebDriverCompatibleCommand for DevToolsCommand {
    fn endpoint(
        &self,
        base_url: &Url,
        session_id: Option<&str>,
    ) -> Result<Url, <Url as FromStr>::Err> {
        let session = session_id.unwrap_or_default();
        base_url.join(&format!("session/{session}/goog/cdp/execute"))
    }

    fn method_and_body(&self, _request_url: &Url) -> (Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (Method::POST, Some(body.to_string()))
    }
}

/// Where failure screenshots and other artifacts go: `e2e-artifacts/` at the repo root.
pub fn artifacts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e-artifacts")
}

async fn connect(url: &str, profile: &Path) -> Result<Client> {
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium_binary(),
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", "--window-size=1100,900",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let Value::Object(caps) = caps else {
        return Err(anyhow!("capabilities are an object"));
    };
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(url)
        .await
        .context("opening a Chromium session through chromedriver")
}

fn chromium_binary() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Starts chromedriver on a port of its own. chromedriver cannot pick a free port itself
/// (`--port=0` is refused), and a port found by binding and releasing it may be taken by
/// someone else before chromedriver binds it. So: try a random port outside the kernel's
/// ephemeral range (where `127.0.0.1:0` sockets come from), and when chromedriver reports
/// that the port is taken, try another. Only chromedriver's own "started successfully"
/// counts as ready, so a foreign server on the port is never mistaken for it.
async fn start_driver() -> Result<(Child, u16)> {
    let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let mut last = String::new();
    for _ in 0..DRIVER_PORT_ATTEMPTS {
        let port = rand::thread_rng().gen_range(10_000..30_000);
        let mut driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {driver_bin}: run ./x test, which installs it"))?;
        let stdout = driver.stdout.take().context("chromedriver stdout")?;
        let stderr = driver.stderr.take().context("chromedriver stderr")?;
        let started = tokio::time::timeout(DRIVER_START, until_started(stdout)).await;
        match started {
            Ok(Ok(stdout)) => {
                // Keep both pipes drained so chromedriver never blocks on a full one.
                tokio::spawn(drain(stdout));
                tokio::spawn(drain(BufReader::new(stderr).lines()));
                return Ok((driver, port));
            }
            Ok(Err(said)) => {
                let _ = driver.kill().await;
                let mut complaint = String::new();
                let _ = BufReader::new(stderr).read_to_string(&mut complaint).await;
                last = format!("{said}{complaint}");
                if !port_taken(&last) {
                    bail!("chromedriver did not start: {last}");
                }
            }
            Err(_) => {
                let _ = driver.kill().await;
                bail!("chromedriver did not say it started within {DRIVER_START:?}");
            }
        }
    }
    Err(anyhow!(
        "chromedriver found no free port in {DRIVER_PORT_ATTEMPTS} tries: {last}"
    ))
}

/// Reads chromedriver's stdout until it says it listens, or returns what it said before
/// it ended.
async fn until_started(stdout: ChildStdout) -> Result<Lines<BufReader<ChildStdout>>, String> {
    let mut lines = BufReader::new(stdout).lines();
    let mut said = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.contains("started successfully") {
            return Ok(lines);
        }
        said.push_str(&line);
        said.push('\n');
    }
    Err(said)
}

async fn drain(mut lines: Lines<impl AsyncBufRead + Unpin>) {
    while let Ok(Some(_)) = lines.next_line().await {}
}

/// Whether chromedriver's last words say its port was in use.
fn port_taken(said: &str) -> bool {
    let said = said.to_ascii_lowercase();
    said.contains("address already in use") || said.contains("port not available")
}
