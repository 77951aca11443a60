//! `runboard --demo`: Runboard in front of an in-process simulator, one "Demo shop"
//! project with a fresh key, presets taken from the simulator's catalog, and no sign-in.
//! [`stack`] is the builder the demo, the tests, the browser suite and the benchmarks share.

mod stack;

use std::{net::SocketAddr, path::PathBuf};

use runboard_shared::{AgentName, Id, Preset, ProjectId, Selector, ValidationError};
use runboard_sim::{Catalog, Simulator};

pub use stack::{
    KEY, PROJECT, PresetsFn, Stack, StackBuilder, StackError, config, fresh_key, project_id,
    spawn_sim, start_runboard,
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

/// A running demo: the [`Stack`] `runboard --demo` starts.
pub struct Demo {
    stack: Stack,
    project: ProjectId,
}

impl Demo {
    /// Runboard's address.
    pub fn addr(&self) -> SocketAddr {
        self.stack.server.addr()
    }

    /// Runboard's URL, `http://HOST:PORT`.
    pub fn url(&self) -> String {
        self.stack.server.url()
    }

    /// The demo project's id.
    pub fn project_id(&self) -> &ProjectId {
        &self.project
    }

    /// The simulator, to steer faults and agents or read its stats.
    pub fn sim(&self) -> &Simulator {
        &self.stack.sim.sim
    }

    /// The simulator's own URL (its `/__sim/` controls live there).
    pub fn sim_url(&self) -> String {
        self.stack.sim.url()
    }

    /// Stops Runboard, then the simulator.
    pub async fn shutdown(self) {
        self.stack.shutdown().await;
    }
}

/// Starts the demo on `addr` with the default simulator settings.
pub async fn start(addr: SocketAddr) -> Result<Demo, StackError> {
    start_with(DemoOptions {
        addr,
        ..DemoOptions::default()
    })
    .await
}

/// Starts the demo with `options`; the widget comes from `RUNBOARD_WIDGET_DIR` when set.
pub async fn start_with(options: DemoOptions) -> Result<Demo, StackError> {
    let stack = StackBuilder::new()
        .sim_speed(options.sim_speed)
        .sim_tests(options.sim_tests)
        .project_name("Demo shop")
        .presets(presets)
        .start_with(|config| {
            config.listen = options.addr;
            if let Some(dir) = std::env::var_os("RUNBOARD_WIDGET_DIR") {
                config.widget_dir = Some(PathBuf::from(dir));
            }
        })
        .await?;
    Ok(Demo {
        stack,
        project: project_id(),
    })
}

/// A feature, a suite, a single test on the late-connecting agent, and everything.
fn presets(catalog: &Catalog) -> Result<Vec<Preset>, ValidationError> {
    let preset = |name: String, description: &str, selector: Selector, agent: Option<&str>| {
        Ok::<_, ValidationError>(Preset {
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
