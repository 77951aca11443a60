//! One test's world: the shared stack builder's simulator (holding a canary key) and
//! `runboard` (`runboard_proxy::demo::StackBuilder`), and the front door the browser
//! talks to.

use std::{
    net::{IpAddr, Ipv4Addr},
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Result, ensure};
use runboard_proxy::{
    Config, Server,
    config::{AuthMode, Channel, LedgerConfig},
    demo::{self, StackBuilder},
};
use runboard_shared::{
    AgentName, Id, Preset, RunId, Selector, TestRun, ValidationError, jobs_path, test_run_path,
};
use runboard_sim::{Catalog, Faults, RunningSim, Shapes};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::{
    front_door::{FrontDoor, Identity},
    sim_log,
};

/// The project every stack serves.
pub use runboard_proxy::demo::PROJECT;

/// Preset names the scenarios click.
pub mod presets {
    /// Every test of the project on `staging-agent`.
    pub const FULL: &str = "Full regression";
    /// The first suite on `staging-agent`.
    pub const SMOKE: &str = "Smoke suite";
    /// The first suite on `offline-agent`, which connects only when a test says so.
    pub const OFFLINE: &str = "Suite on offline agent";
}

/// The catalog's seed: the scenarios know its shape (a second suite, a failing test).
const SEED: u64 = 7;

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
    /// `auth.admin_users` (header mode, with `run_users`): who sees the Tokens page.
    pub admin_users: Vec<String>,
    /// `embed.frame_ancestors`.
    pub frame_ancestors: Vec<String>,
    /// The simulator sends the shapes the guide allows but never shows (`shapes: odd`).
    pub odd_shapes: bool,
    /// `[live] heartbeat_ms`, when not the default (15 s).
    pub live_heartbeat_ms: Option<u64>,
    /// The ledger's follower runs (it reads the platform beside the browser, so most
    /// scenarios, which count what reaches the simulator, leave it off).
    pub ledger_follow: bool,
    /// `[[notify]]`: the channels told about runs, built as the file's would be
    /// (`Channel::new` checks the URL, which stays a secret: no `Debug`, page or error
    /// shows it). Messages are recorded and delivered by the follower: set
    /// `ledger_follow` too.
    pub notify: Vec<Channel>,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            sim_speed: 40.0,
            sim_tests: 36,
            run_users: None,
            identity: None,
            admin_users: Vec::new(),
            frame_ancestors: Vec::new(),
            odd_shapes: false,
            live_heartbeat_ms: None,
            ledger_follow: false,
            notify: Vec::new(),
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
    /// `runboard`'s configuration, to start it again after [`Stack::stop_proxy`].
    config: Config,
    /// Holds the ledger's file across restarts of `runboard`.
    _dir: TempDir,
    http: reqwest::Client,
}

impl Stack {
    /// Starts the simulator, `runboard` and the front door.
    pub async fn start(options: StackOptions) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let shapes = if options.odd_shapes {
            Shapes::Odd
        } else {
            Shapes::Plain
        };
        let stack = StackBuilder::new()
            .seed(SEED)
            .sim_speed(options.sim_speed)
            .sim_tests(options.sim_tests)
            .faults(Faults {
                shapes,
                ..Faults::default()
            })
            .presets(scenario_presets)
            .start_with(|config| settings(config, &options, dir.path()))
            .await?;
        let front = match FrontDoor::start(stack.server.addr(), options.identity.clone()).await {
            Ok(front) => front,
            Err(err) => {
                stack.shutdown().await;
                return Err(err.context("cannot start the front door"));
            }
        };
        Ok(Self {
            sim: stack.sim,
            front,
            key: stack.key,
            catalog: stack.catalog,
            proxy: Some(stack.server),
            config: stack.config,
            _dir: dir,
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
    /// balancer would), with the same configuration and ledger.
    pub async fn start_proxy(&mut self) -> Result<()> {
        let server = demo::start_runboard(self.config.clone()).await?;
        self.front.set_target(server.addr());
        self.proxy = Some(server);
        Ok(())
    }

    /// The simulator's own report for `run_id`, read with the key.
    pub async fn sim_report(&self, run_id: &str) -> Result<TestRun> {
        let path = test_run_path(&demo::project_id(), &RunId::parse(run_id)?);
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
        let url = format!("{}{}", self.sim.url(), jobs_path(&demo::project_id()));
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

/// `runboard`'s settings for a scenario: the built widget, quick polling, the ledger in
/// `dir` (so it outlives a restart), and the sign-in, embedding and heartbeat it asks for.
fn settings(config: &mut Config, options: &StackOptions, dir: &Path) {
    config.widget_dir = Some(widget_dir());
    config.upstream.timeout = Duration::from_secs(5);
    config.poll.jobs_ms = 300;
    config.poll.run_ms = 300;
    if let Some(ms) = options.live_heartbeat_ms {
        config.live.heartbeat = Duration::from_millis(ms);
    }
    if let Some(users) = &options.run_users {
        config.auth.mode = AuthMode::Header;
        config.auth.trusted_proxies = vec![IpAddr::from(Ipv4Addr::LOCALHOST).into()];
        config.auth.run_users = users.clone();
        config.auth.admin_users = options.admin_users.clone();
    }
    let mut ledger = LedgerConfig::at(format!("sqlite://{}", dir.join("ledger.db").display()));
    // Most scenarios count what reaches the simulator: the follower runs only where asked.
    ledger.follow = options.ledger_follow.then(|| Duration::from_millis(200));
    config.ledger = ledger;
    config.notify.channels = options.notify.clone();
    config.embed.frame_ancestors = options.frame_ancestors.clone();
}

/// The presets the scenarios click ([`presets`]): everything and the first suite on
/// `staging-agent`, and that suite on `offline-agent`.
fn scenario_presets(catalog: &Catalog) -> Result<Vec<Preset>, ValidationError> {
    let preset = |name: &str, description: &str, selector: Selector, agent: &str| {
        Ok::<_, ValidationError>(Preset {
            name: name.to_owned(),
            description: description.to_owned(),
            selector,
            agent_name: Some(AgentName::parse(agent)?),
        })
    };
    let mut out = Vec::new();
    if let Some(all) = catalog.all_feature() {
        out.push(preset(
            presets::FULL,
            "Every test of the project, on staging-agent",
            Selector::Feature(Id::parse("featureId", all.id.as_str())?),
            "staging-agent",
        )?);
    }
    if let Some((_, suite)) = catalog.suites().next() {
        let suite = || Id::parse("testSuiteId", suite.id.as_str()).map(Selector::TestSuite);
        out.push(preset(
            presets::SMOKE,
            "The first suite, on staging-agent",
            suite()?,
            "staging-agent",
        )?);
        out.push(preset(
            presets::OFFLINE,
            "The same suite, on an agent that is not connected",
            suite()?,
            "offline-agent",
        )?);
    }
    Ok(out)
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

/// A generous deadline for a whole simulated run to finish.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(90);
