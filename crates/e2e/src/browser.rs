//! Headless Chromium through chromedriver: one driver process and one session per test,
//! always closed, with a screenshot saved when a scenario fails.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use anyhow::{Context, Result, anyhow};
use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::wait_for;

/// How long a page condition may take before a test fails.
pub const PAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// A chromedriver process and a WebDriver session on it.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    _profile: TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium session.
    pub async fn start() -> Result<Self> {
        let port = free_port()?;
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let mut driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {driver_bin}: run ./x test, which installs it"))?;
        let url = format!("http://127.0.0.1:{port}");
        let ready = wait_for(
            "chromedriver to listen",
            Duration::from_secs(20),
            || async {
                Ok(tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .ok()
                    .map(|_| ()))
            },
        )
        .await;
        if let Err(e) = ready {
            let _ = driver.kill();
            return Err(e);
        }
        let profile = tempfile::tempdir()?;
        let client = match connect(&url, profile.path()).await {
            Ok(client) => client,
            Err(e) => {
                let _ = driver.kill();
                return Err(e);
            }
        };
        Ok(Self {
            client,
            driver,
            _profile: profile,
        })
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

    /// Ends the session and the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A session that was not closed must not leave chromedriver behind.
        let _ = self.driver.kill();
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

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
