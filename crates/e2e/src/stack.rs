//! One test's world: an in-process simulator holding a canary key, a `runboard` server
//! configured from a real TOML file, and the front door the browser talks to.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context, Result, ensure};
use runboard_proxy::{Config, Server};
use runboard_shared::{ProjectId, RunId, TestRun, jobs_path, test_run_path};
use runboard_sim::{Catalog, Faults, RunningSim, Shapes, SimConfig, SimProject, Simulator};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::{
    front_door::{FrontDoor, Identity},
    sim_log,
};

/// The project every stack serves.
pub const PROJECT: &str = "67f8cb3fe236b8d41b7700ac";

/// Preset names the scenarios click.
pub mod presets {
    /// Every test of the project on `staging-agent`.
    pub const FULL: &str = "Full regression";
    /// The first suite on `staging-agent`.
    pub const SMOKE: &str = "Smoke suite";
    /// The first suite on `offline-agent`, which connects only when a test says so.
    pub const OFFLINE: &str = "Suite on offline agent";
}

/// How a scenario wants its stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Simulated-time factor.
    pub sim_speed: f64,
    /// Tests in the project's catalog.
    pub sim_tests: usize,
    /// `auth.mode = "header"` with these runners (users), or `"none"` when `None`.
    pub run_users: Option<Vec<String>>,
    /// Who the front door says the user is.
    pub identity: Option<Identity>,
    /// `embed.frame_ancestors`.
    pub frame_ancestors: Vec<String>,
    /// The simulator sends the shapes the guide allows but never shows (`shapes: odd`).
    pub odd_shapes: bool,
    /// `[live] heartbeat_ms`, when not the default (15 s).
    pub live_heartbeat_ms: Option<u64>,
    /// The ledger's follower runs (it reads the platform beside the browser, so most
    /// scenarios, which count what reaches the simulator, leave it off).
    pub ledger_follow: bool,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            sim_speed: 40.0,
            sim_tests: 36,
            run_users: None,
            identity: None,
            frame_ancestors: Vec::new(),
            odd_shapes: false,
            live_heartbeat_ms: None,
            ledger_follow: false,
        }
    }
}

/// The running world of one test.
pub struct Stack {
    /// The simulator, reachable directly by the test (never by the browser).
    pub sim: RunningSim,
    /// What the browser talks to.
    pub front: FrontDoor,
    /// The project's key: a canary that must never reach the browser.
    pub key: String,
    /// The simulator's catalog for [`PROJECT`].
    pub catalog: Catalog,
    proxy: Option<Server>,
    options: StackOptions,
    dir: TempDir,
    http: reqwest::Client,
}

impl Stack {
    /// Starts the simulator, `runboard` and the front door.
    pub async fn start(options: StackOptions) -> Result<Self> {
        let key = format!("CANARY-{:032x}", rand::random::<u128>());
        let sim = Simulator::new(SimConfig {
            seed: 7,
            speed: options.sim_speed,
            tests_per_project: options.sim_tests,
            projects: vec![SimProject {
                id: PROJECT.into(),
                key: key.clone(),
            }],
            faults: Faults {
                shapes: if options.odd_shapes {
                    Shapes::Odd
                } else {
                    Shapes::Plain
                },
                ..Faults::default()
            },
        });
        let sim = runboard_sim::spawn(sim, "127.0.0.1:0".parse()?).await?;
        let catalog = sim
            .sim
            .catalog(PROJECT)
            .context("the simulator serves the project")?;
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("key"), &key)?;
        let proxy = launch_proxy(&config_toml(&sim, &catalog, &options, dir.path())?).await?;
        Ok(Self {
            front: FrontDoor::start(proxy.addr(), options.identity.clone()).await?,
            sim,
            key,
            catalog,
            proxy: Some(proxy),
            options,
            dir,
            http: reqwest::Client::builder().no_proxy().build()?,
        })
    }

    /// The widget's URL for `path` (which starts with `/`), through the front door.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.front.url())
    }

    /// `runboard`'s own URL for `path`, bypassing the front door (which asks for
    /// uncompressed answers, to search them): for checks of what it sends on the wire.
    pub fn direct_url(&self, path: &str) -> Option<String> {
        self.proxy
            .as_ref()
            .map(|server| format!("http://{}{path}", server.addr()))
    }

    /// Stops `runboard`; the front door then answers 502, as nginx would.
    pub async fn stop_proxy(&mut self) {
        if let Some(server) = self.proxy.take() {
            server.shutdown().await;
        }
    }

    /// Starts `runboard` again (on a new port: the front door follows it, as a load
    /// balancer would).
    pub async fn start_proxy(&mut self) -> Result<()> {
        let toml = config_toml(&self.sim, &self.catalog, &self.options, self.dir.path())?;
        let server = launch_proxy(&toml).await?;
        self.front.set_target(server.addr());
        self.proxy = Some(server);
        Ok(())
    }

    /// The simulator's own report for `run_id`, read with the key.
    pub async fn sim_report(&self, run_id: &str) -> Result<TestRun> {
        let path = test_run_path(&ProjectId::parse(PROJECT)?, &RunId::parse(run_id)?);
        let url = format!("{}{path}", self.sim.url());
        let response = self
            .http
            .get(url)
            .header("x-api-key", &self.key)
            .send()
            .await?;
        ensure!(
            response.status().is_success(),
            "simulator answered {}",
            response.status()
        );
        Ok(response.json().await?)
    }

    /// The project's active jobs according to the simulator.
    pub async fn sim_active_jobs(&self) -> Result<Vec<Value>> {
        let url = format!(
            "{}{}",
            self.sim.url(),
            jobs_path(&ProjectId::parse(PROJECT)?)
        );
        let response = self
            .http
            .post(url)
            .header("x-api-key", &self.key)
            .json(&json!({}))
            .send()
            .await?;
        let body: Value = response.json().await?;
        Ok(body["jobs"].as_array().cloned().unwrap_or_default())
    }

    /// Proves that every `/api` call that reached the simulator carried exactly the
    /// configured key and none of the browser's credentials; answers how many there were.
    /// The log must hold at least every request the simulator's counters saw, so an empty
    /// or missing log cannot pass for a clean one.
    pub async fn check_forwarded_credentials(&self) -> Result<usize> {
        let counted = self.sim.sim.stats().total;
        let logged = sim_log::requests(&self.http, &self.sim.url()).await?;
        ensure!(
            logged.len() as u64 >= counted,
            "the simulator counted {counted} /api requests but logged {}",
            logged.len()
        );
        sim_log::only_the_configured_key(&logged, &self.key)?;
        Ok(logged.len())
    }

    /// Connects an agent in the simulator, as if its machine came online.
    pub fn connect_agent(&self, agent: &str) -> Result<()> {
        ensure!(
            self.sim.sim.set_agent_connected(PROJECT, agent, true),
            "the simulator knows agent {agent}"
        );
        Ok(())
    }

    /// Stops everything.
    pub async fn shutdown(mut self) {
        self.stop_proxy().await;
        self.sim.shutdown().await;
    }
}

/// `runboard`'s configuration for a stack, as an administrator would write it.
fn config_toml(
    sim: &RunningSim,
    catalog: &Catalog,
    options: &StackOptions,
    dir: &Path,
) -> Result<String> {
    let all = catalog
        .all_feature()
        .context("catalog has an all-tests feature")?;
    let (_, suite) = catalog.suites().next().context("catalog has a suite")?;
    let auth = match &options.run_users {
        None => "mode = \"none\"".to_owned(),
        Some(users) => format!(
            "mode = \"header\"\ntrusted_proxies = [\"127.0.0.1/32\"]\nrun_users = {}\nrun_groups = []",
            toml_list(users)
        ),
    };
    let live = options
        .live_heartbeat_ms
        .map(|ms| format!("[live]\nheartbeat_ms = {ms}"))
        .unwrap_or_default();
    Ok(format!(
        r#"listen = "127.0.0.1:0"
widget_dir = "{widget}"
[upstream]
url = "{upstream}"
timeout_ms = 5000
[poll]
jobs_ms = 300
run_ms = 300
{live}
[auth]
{auth}
[ledger]
url = "sqlite://{ledger}"
# Most scenarios count what reaches the simulator: the follower runs only where asked.
follow_ms = {follow_ms}
[embed]
frame_ancestors = {ancestors}
[[projects]]
id = "{PROJECT}"
name = "Web shop"
api_key_file = "{key_file}"
[[projects.presets]]
name = "{full}"
description = "Every test of the project, on staging-agent"
featureId = "{all}"
agentName = "staging-agent"
[[projects.presets]]
name = "{smoke}"
description = "The first suite, on staging-agent"
testSuiteId = "{suite}"
agentName = "staging-agent"
[[projects.presets]]
name = "{offline}"
description = "The same suite, on an agent that is not connected"
testSuiteId = "{suite}"
agentName = "offline-agent"
"#,
        widget = widget_dir().display(),
        upstream = sim.url(),
        ancestors = toml_list(&options.frame_ancestors),
        key_file = dir.join("key").display(),
        ledger = dir.join("ledger.db").display(),
        follow_ms = if options.ledger_follow { 200 } else { 0 },
        full = presets::FULL,
        all = all.id,
        smoke = presets::SMOKE,
        suite = suite.id,
        offline = presets::OFFLINE,
    ))
}

async fn launch_proxy(toml: &str) -> Result<Server> {
    let config = Config::from_toml_str(toml, |_| None).context("the e2e configuration is valid")?;
    Server::start(config).await
}

/// The built widget. The suite needs it: `./x test` builds it before running tests.
pub fn widget_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../frontend/dist")
}

/// Fails with instructions when the widget has not been built.
pub fn require_widget() -> Result<()> {
    ensure!(
        widget_dir().join("index.html").is_file(),
        "the widget is not built ({}): run `./x test`, or `./x widget` first",
        widget_dir().display()
    );
    Ok(())
}

fn toml_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

/// A generous deadline for a whole simulated run to finish.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(90);
