//! `runboard --demo`: an in-process simulator as the upstream, one "Demo shop" project
//! with a generated key, presets taken from the simulator's catalog, and no sign-in.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context;
use runboard_shared::{AgentName, Id, Preset, ProjectId, Selector};
use runboard_sim::{Catalog, RunningSim, SimConfig, SimProject, Simulator};

use crate::{
    Config, Server,
    config::{ApiKey, ProjectConfig},
};

/// Where the demo listens unless told otherwise.
pub const DEFAULT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);
/// Simulated time per real time. At 4 a 36-test run takes about 15 seconds: long enough
/// to watch the summary bar fill, short enough for a first look.
pub const DEFAULT_SPEED: f64 = 4.0;
/// Tests in the demo project.
pub const DEFAULT_TESTS: usize = 36;

/// How to run the demo.
#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    /// Where Runboard listens (port 0: a free port).
    pub addr: SocketAddr,
    /// The simulator's speed.
    pub sim_speed: f64,
    /// Tests in the demo project (large values demo large runs).
    pub sim_tests: usize,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            addr: DEFAULT_ADDR,
            sim_speed: DEFAULT_SPEED,
            sim_tests: DEFAULT_TESTS,
        }
    }
}

/// A running demo: Runboard in front of an in-process simulator.
pub struct Demo {
    server: Server,
    sim: RunningSim,
    project: ProjectId,
}

impl Demo {
    /// Runboard's address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Runboard's URL, `http://HOST:PORT`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The demo project's id.
    pub fn project_id(&self) -> &ProjectId {
        &self.project
    }

    /// The simulator, to steer faults and agents or read its stats.
    pub fn sim(&self) -> &Simulator {
        &self.sim.sim
    }

    /// The simulator's own URL (its `/__sim/` controls live there).
    pub fn sim_url(&self) -> String {
        self.sim.url()
    }

    /// Stops Runboard, then the simulator.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
        self.sim.shutdown().await;
    }
}

/// Starts the demo on `addr` with the default simulator settings.
pub async fn start(addr: SocketAddr) -> anyhow::Result<Demo> {
    start_with(DemoOptions {
        addr,
        ..DemoOptions::default()
    })
    .await
}

/// Starts the demo with `options`.
pub async fn start_with(options: DemoOptions) -> anyhow::Result<Demo> {
    let sim_project = SimProject::random();
    let sim_config = SimConfig {
        speed: options.sim_speed,
        tests_per_project: options.sim_tests,
        projects: vec![sim_project.clone()],
        ..SimConfig::default()
    };
    sim_config.validate().context("demo simulator settings")?;
    let sim = runboard_sim::spawn(
        Simulator::new(sim_config),
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .context("cannot start the demo simulator")?;
    let catalog = sim
        .sim
        .catalog(&sim_project.id)
        .context("the simulator has no catalog for the demo project")?;
    let project = ProjectId::parse(sim_project.id.as_str())?;
    let key = ApiKey::new(sim_project.key).map_err(anyhow::Error::msg)?;
    let mut demo_project = ProjectConfig::new(project.clone(), "Demo shop", key);
    demo_project.presets = presets(&catalog)?;
    let mut config = Config::new(sim.url().parse()?, vec![demo_project]);
    config.listen = options.addr;
    if let Some(dir) = std::env::var_os("RUNBOARD_WIDGET_DIR") {
        config.widget_dir = PathBuf::from(dir);
    }
    let server = match Server::start(config).await {
        Ok(server) => server,
        Err(err) => {
            sim.shutdown().await;
            return Err(err);
        }
    };
    Ok(Demo {
        server,
        sim,
        project,
    })
}

/// A feature, a suite, a single test on the late-connecting agent, and everything.
fn presets(catalog: &Catalog) -> anyhow::Result<Vec<Preset>> {
    let preset = |name: String, description: &str, selector: Selector, agent: Option<&str>| {
        Ok::<_, anyhow::Error>(Preset {
            name,
            description: description.to_owned(),
            selector,
            agent_name: agent.map(AgentName::parse).transpose()?,
        })
    };
    let id = |field: &str, value: &str| Id::parse(field, value);
    let mut out = Vec::new();
    if let Some(feature) = catalog.features.iter().find(|f| !f.all) {
        out.push(preset(
            format!("{} on staging", feature.title),
            &format!(
                "every test of the {} feature, on staging-agent",
                feature.title
            ),
            Selector::Feature(id("featureId", &feature.id)?),
            Some("staging-agent"),
        )?);
    }
    if let Some((feature, suite)) = catalog.suites().find(|(f, _)| !f.all) {
        out.push(preset(
            format!("{} suite", suite.title),
            &format!(
                "the {} suite of {}, on any agent",
                suite.title, feature.title
            ),
            Selector::TestSuite(id("testSuiteId", &suite.id)?),
            None,
        )?);
    }
    if let Some(test) = catalog.tests().next() {
        out.push(preset(
            format!("\u{201c}{}\u{201d} nightly", test.title),
            "one test on nightly-agent, which connects a few seconds after the job waits",
            Selector::Test(id("testId", &test.id)?),
            Some("nightly-agent"),
        )?);
    }
    if let Some(all) = catalog.all_feature() {
        out.push(preset(
            "Full regression".to_owned(),
            &format!("all {} tests of the project", catalog.test_count),
            Selector::Feature(id("featureId", &all.id)?),
            None,
        )?);
    }
    Ok(out)
}
