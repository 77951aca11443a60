//! The servers under test: the shared stack builder's simulator and an in-process
//! `runboard` in front of it (its ledger on a SQLite file, as in production), and where
//! requests go ([`Destination`]). The set-up calls through them are in `fixture.rs`.

use std::net::{IpAddr, Ipv4Addr};

use runboard_proxy::{
    Config, Server,
    config::{AuthMode, LedgerConfig},
    demo::{self, StackBuilder},
};
use runboard_sim::{Catalog, RunningSim, SimProject};
use tempfile::TempDir;

use crate::BenchError;

/// Tests in the project: the "Full regression" feature runs them all.
pub(crate) const LARGE_RUN_TESTS: usize = 2_000;

/// Where requests go: the simulator (with the key) or `runboard` (without). A server,
/// not a path (`runboard_shared::Target` is the path of one of Runboard's routes).
#[derive(Debug, Clone)]
pub(crate) struct Destination {
    /// `http://HOST:PORT`.
    pub(crate) base: String,
    /// The `x-api-key` to send; only the direct path has one.
    pub(crate) key: Option<String>,
}

/// The simulator and `runboard`, both on `127.0.0.1:0`.
pub(crate) struct Stack {
    sim: RunningSim,
    server: Server,
    key: String,
    catalog: Catalog,
    /// Holds the ledger's file until shutdown.
    _dir: TempDir,
}

impl Stack {
    /// Starts the simulator at `speed`, then `runboard` configured to forward to it.
    pub(crate) async fn start(speed: f64) -> Result<Self, BenchError> {
        Self::start_with(speed, LARGE_RUN_TESTS, Auth::None).await
    }

    /// Like [`Stack::start`], with `tests` tests in the project and the given sign-in.
    pub(crate) async fn start_with(
        speed: f64,
        tests: usize,
        auth: Auth,
    ) -> Result<Self, BenchError> {
        Self::start_tuned(speed, tests, auth, |_| {}).await
    }

    /// Like [`Stack::start_with`], with `tune` applied to `runboard`'s configuration last.
    pub(crate) async fn start_tuned(
        speed: f64,
        tests: usize,
        auth: Auth,
        tune: impl FnOnce(&mut Config),
    ) -> Result<Self, BenchError> {
        let dir = tempfile::tempdir()?;
        let mut ledger = LedgerConfig::at(format!(
            "sqlite://{}",
            dir.path().join("ledger.db").display()
        ));
        ledger.follow = None;
        let stack = StackBuilder::new()
            .sim_speed(speed)
            .sim_tests(tests)
            .start_with(|config| {
                config.ledger = ledger;
                config.widget_dir = Some(dir.path().join("widget"));
                auth.apply(config);
                tune(config);
            })
            .await?;
        Ok(Self {
            sim: stack.sim,
            server: stack.server,
            key: stack.key,
            catalog: stack.catalog,
            _dir: dir,
        })
    }

    /// The simulator itself, for its counts.
    pub(crate) fn sim(&self) -> &RunningSim {
        &self.sim
    }

    /// The simulator, called with the key.
    pub(crate) fn direct(&self) -> Destination {
        Destination {
            base: self.sim.url(),
            key: Some(self.key.clone()),
        }
    }

    /// `runboard`, called as the widget calls it: no key.
    pub(crate) fn proxy(&self) -> Destination {
        Destination {
            base: self.server.url(),
            key: None,
        }
    }

    /// Every `/api/` request the simulator has received so far.
    pub(crate) fn upstream_requests(&self) -> u64 {
        self.sim.sim.stats().total
    }

    /// `testExecution` calls the simulator has received so far.
    pub(crate) fn upstream_starts(&self) -> u64 {
        self.sim.sim.stats().by_endpoint.test_execution
    }

    /// The port `runboard` listens on.
    pub(crate) fn proxy_port(&self) -> u16 {
        self.server.addr().port()
    }

    /// The project's id, the same on both paths.
    pub(crate) fn project_id(&self) -> &'static str {
        demo::PROJECT
    }

    /// The project's catalog.
    pub(crate) fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Every test id of the project's catalog.
    pub(crate) fn test_ids(&self) -> Result<std::sync::Arc<[String]>, BenchError> {
        Ok(self.catalog.tests().map(|t| t.id.clone()).collect())
    }

    /// Stops `runboard`, then the simulator.
    pub(crate) async fn shutdown(self) {
        self.server.shutdown().await;
        self.sim.shutdown().await;
    }
}

/// The simulator alone at `speed` with one project of `tests` tests, on `127.0.0.1:0`,
/// for a `runboard` started as a process.
pub(crate) async fn start_sim(
    speed: f64,
    tests: usize,
) -> Result<(RunningSim, SimProject), BenchError> {
    let builder = StackBuilder::new().sim_speed(speed).sim_tests(tests);
    let (sim, _) = builder.start_sim().await?;
    Ok((sim, SimProject::new(demo::PROJECT, builder.sim_key())))
}

pub(crate) fn start_error(what: &'static str, err: impl std::fmt::Display) -> BenchError {
    BenchError::Start {
        what,
        message: err.to_string(),
    }
}

/// How `runboard` knows who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// `auth.mode = "none"`: everyone is anonymous (the proxy-overhead benchmark).
    None,
    /// Behind SSO: the user comes in `X-Forwarded-Email` from a trusted loopback peer, so
    /// each simulated person has their own identity and their own rate limits.
    Header,
}

impl Auth {
    fn apply(self, config: &mut Config) {
        match self {
            // The overhead benchmark sends thousands of requests a second as one user:
            // it measures forwarding, not the per-user limits, so they are off.
            Self::None => {
                config.auth.mode = AuthMode::None;
                config.limits.starts_per_minute = 0;
                config.limits.reads_per_minute = 0;
            }
            // Every simulated person may start runs, as in a team that lets everyone.
            Self::Header => {
                config.auth.mode = AuthMode::Header;
                config.auth.trusted_proxies = vec![IpAddr::from(Ipv4Addr::LOCALHOST).into()];
                config.auth.run_everyone = true;
            }
        }
    }
}
