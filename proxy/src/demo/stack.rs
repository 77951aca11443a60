//! The one builder of "a simulator and a Runboard in front of it", for `runboard --demo`,
//! the proxy's integration tests, the browser suite and the benchmarks: one project id,
//! one key policy, one way to say what failed to start.
//!
//! It lives in the proxy (behind the `demo` feature) rather than in a crate of its own
//! because `runboard --demo` uses it: a crate holding it would depend on the proxy and the
//! proxy on it, a cycle cargo refuses.

use std::net::{Ipv4Addr, SocketAddr};

use reqwest::Url;
use runboard_shared::{Preset, ProjectId, ValidationError};
use runboard_sim::{Catalog, Faults, RunningSim, SimConfig, SimProject, Simulator};

use crate::{
    Config, Server,
    config::{ApiKey, ProjectConfig},
};

/// The project every stack serves, in the demo, the tests, the browser suite and the
/// benchmarks. Fixed, so the simulator's catalog (seeded by it) is the same every time.
pub const PROJECT: &str = "67f8cb3fe236b8d41b7700ac";

/// A fixed key, for tests that spell the key they expect; every other stack gets a
/// [`fresh_key`].
pub const KEY: &str = "sim-key-0123456789abcdef";

/// The project's name unless a stack says otherwise.
const DEFAULT_NAME: &str = "Test shop";

/// A key nobody has seen before: `CANARY-` and 128 random bits. A stack's key doubles as
/// a canary, so finding it anywhere a browser can read is unambiguous.
pub fn fresh_key() -> String {
    format!("CANARY-{:032x}", rand::random::<u128>())
}

/// [`PROJECT`] as the typed id the path builders and the configuration take.
pub fn project_id() -> ProjectId {
    ProjectId::parse(PROJECT).unwrap_or_else(|e| unreachable!("PROJECT is a valid id: {e}"))
}

/// What kept a stack from starting. Each variant names the part that failed; whatever
/// had started is stopped again before the error is returned.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// A setting cannot work: the simulator's speed or catalog size is out of range,
    /// Runboard refuses the key, or a preset holds an invalid id. Nothing is running.
    #[error("invalid stack settings: {0}")]
    Settings(String),
    /// The simulator could not listen on loopback.
    #[error("cannot start the simulator: {0}")]
    Simulator(std::io::Error),
    /// Runboard did not start (the port, the ledger, the configuration: its error says).
    #[error("cannot start runboard: {0:#}")]
    Runboard(anyhow::Error),
}

impl From<runboard_sim::ConfigError> for StackError {
    fn from(err: runboard_sim::ConfigError) -> Self {
        Self::Settings(err.to_string())
    }
}

impl From<ValidationError> for StackError {
    fn from(err: ValidationError) -> Self {
        Self::Settings(err.to_string())
    }
}

/// The presets a stack's project offers, made from the simulator's catalog.
pub type PresetsFn = fn(&Catalog) -> Result<Vec<Preset>, ValidationError>;

/// How to build a stack: the simulator's side (pace, catalog, faults, key) and the
/// project Runboard serves. Runboard's other settings are adjusted in
/// [`StackBuilder::start_with`].
#[derive(Debug, Clone)]
pub struct StackBuilder {
    sim: SimConfig,
    key: String,
    proxy_key: Option<String>,
    name: String,
    presets: PresetsFn,
}

impl Default for StackBuilder {
    /// [`PROJECT`] with a [`fresh_key`], the simulator's defaults (seed 42, real pace,
    /// 36 tests, no faults), no presets.
    fn default() -> Self {
        let key = fresh_key();
        Self {
            sim: SimConfig {
                projects: vec![SimProject::new(PROJECT, key.clone())],
                ..SimConfig::default()
            },
            key,
            proxy_key: None,
            name: DEFAULT_NAME.to_owned(),
            presets: |_| Ok(Vec::new()),
        }
    }
}

impl StackBuilder {
    /// A stack with [`StackBuilder::default`]'s settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Simulated time per real time.
    pub fn sim_speed(mut self, speed: f64) -> Self {
        self.sim.speed = speed;
        self
    }

    /// Tests in the project's catalog.
    pub fn sim_tests(mut self, tests: usize) -> Self {
        self.sim.tests_per_project = tests;
        self
    }

    /// The seed of the catalog, ids and outcomes.
    pub fn seed(mut self, seed: u64) -> Self {
        self.sim.seed = seed;
        self
    }

    /// Faults the simulator injects from the start.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.sim.faults = faults;
        self
    }

    /// The key the simulator expects and Runboard holds.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self.sim.projects = vec![SimProject::new(PROJECT, self.key.clone())];
        self
    }

    /// A different key for Runboard than the simulator's (a stale or wrong key).
    pub fn proxy_key(mut self, key: impl Into<String>) -> Self {
        self.proxy_key = Some(key.into());
        self
    }

    /// The project's name in the widget.
    pub fn project_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The project's presets, made from the catalog once the simulator runs.
    pub fn presets(mut self, presets: PresetsFn) -> Self {
        self.presets = presets;
        self
    }

    /// The key the simulator expects.
    pub fn sim_key(&self) -> &str {
        &self.key
    }

    /// Starts the simulator alone (for a Runboard the caller runs some other way) and
    /// returns it with the project's catalog.
    pub async fn start_sim(&self) -> Result<(RunningSim, Catalog), StackError> {
        self.sim.validate()?;
        let sim = spawn_sim(Simulator::new(self.sim.clone())).await?;
        let catalog = catalog(&sim)?;
        Ok((sim, catalog))
    }

    /// Starts the simulator, then Runboard in front of it with the default settings.
    pub async fn start(self) -> Result<Stack, StackError> {
        self.start_with(|_| {}).await
    }

    /// Starts the simulator, then Runboard in front of it, its configuration ([`config`]
    /// with this builder's project) changed by `adjust` first.
    pub async fn start_with(self, adjust: impl FnOnce(&mut Config)) -> Result<Stack, StackError> {
        let (sim, catalog) = self.start_sim().await?;
        let config = match self.config(&sim, &catalog) {
            Ok(mut config) => {
                adjust(&mut config);
                config
            }
            Err(err) => {
                sim.shutdown().await;
                return Err(err);
            }
        };
        let server = match start_runboard(config.clone()).await {
            Ok(server) => server,
            Err(err) => {
                sim.shutdown().await;
                return Err(err);
            }
        };
        Ok(Stack {
            sim,
            server,
            key: self.key,
            catalog,
            config,
        })
    }

    /// Runboard's configuration for this builder's project in front of `sim`.
    fn config(&self, sim: &RunningSim, catalog: &Catalog) -> Result<Config, StackError> {
        let upstream = Url::parse(&sim.url()).map_err(|e| StackError::Settings(e.to_string()))?;
        let key = ApiKey::new(self.proxy_key.as_deref().unwrap_or(&self.key))
            .map_err(StackError::Settings)?;
        let mut config = config(upstream, &self.name, key);
        config.projects[0].presets = (self.presets)(catalog)?;
        Ok(config)
    }
}

/// Runboard's configuration with every default but two: one project ([`PROJECT`], named
/// `name`, holding `key`) at `upstream`, and a free loopback port to listen on.
pub fn config(upstream: Url, name: &str, key: ApiKey) -> Config {
    let project = ProjectConfig::new(project_id(), name, key);
    let mut config = Config::new(upstream, vec![project]);
    config.listen = loopback();
    config
}

/// Serves `sim` on a free loopback port.
pub async fn spawn_sim(sim: Simulator) -> Result<RunningSim, StackError> {
    runboard_sim::spawn(sim, loopback())
        .await
        .map_err(StackError::Simulator)
}

/// Starts Runboard with `config` (again, after [`Stack`]'s server was stopped).
pub async fn start_runboard(config: Config) -> Result<Server, StackError> {
    Server::start(config).await.map_err(StackError::Runboard)
}

fn catalog(sim: &RunningSim) -> Result<Catalog, StackError> {
    sim.sim.catalog(PROJECT).ok_or_else(|| {
        StackError::Settings(format!("the simulator serves no catalog for {PROJECT}"))
    })
}

fn loopback() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}

/// A running stack: the simulator and Runboard in front of it, both on loopback.
pub struct Stack {
    /// The simulator, to steer faults and agents or read what reached it.
    pub sim: RunningSim,
    /// Runboard.
    pub server: Server,
    /// The key the simulator expects.
    pub key: String,
    /// The project's catalog.
    pub catalog: Catalog,
    /// The configuration Runboard started with, to start it again.
    pub config: Config,
}

impl Stack {
    /// Runboard's URL for `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// Stops Runboard, then the simulator.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
        self.sim.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn settings_out_of_range_start_nothing() {
        let err = StackBuilder::new().sim_speed(0.0).start().await.err();
        assert!(
            matches!(&err, Some(StackError::Settings(message)) if message.contains("speed")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_runboard_that_cannot_start_is_named_and_its_simulator_stopped() {
        // Held for the whole test, so Runboard cannot listen there.
        let taken = tokio::net::TcpListener::bind(loopback()).await.unwrap();
        let mut upstream = None;
        let err = StackBuilder::new()
            .start_with(|config| {
                config.listen = taken.local_addr().unwrap();
                upstream = Some(config.upstream.url.clone());
            })
            .await
            .err();
        assert!(matches!(&err, Some(StackError::Runboard(_))), "{err:?}");
        let message = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.starts_with("cannot start runboard: "), "{message}");
        let sim = upstream.expect("the configuration was built");
        let sim = sim.socket_addrs(|| None).unwrap()[0];
        assert!(
            tokio::net::TcpStream::connect(sim).await.is_err(),
            "the simulator at {sim} still listens"
        );
    }

    #[tokio::test]
    async fn a_stack_serves_the_project_with_its_key_and_presets() {
        let stack = StackBuilder::new()
            .sim_speed(100.0)
            .presets(|catalog| {
                let all = catalog
                    .all_feature()
                    .map(|f| f.id.clone())
                    .unwrap_or_default();
                Ok(vec![Preset {
                    name: "Everything".to_owned(),
                    description: String::new(),
                    selector: runboard_shared::Selector::Feature(runboard_shared::Id::parse(
                        "featureId",
                        all,
                    )?),
                    agent_name: None,
                }])
            })
            .start()
            .await
            .unwrap();
        assert!(stack.key.starts_with("CANARY-"));
        let project = &stack.config.projects[0];
        assert_eq!(project.id, project_id());
        assert_eq!(project.presets.len(), 1);
        assert!(stack.sim.sim.catalog(PROJECT).is_some());
        stack.shutdown().await;
    }
}
