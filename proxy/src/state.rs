//! The shared application state: configuration, the pooled upstream client, metrics,
//! the rate limiters, the execution ledger, the compiled triage rules.

use std::{sync::Arc, time::Duration};

use runboard_shared::ProjectId;

use crate::{
    AppError,
    config::{Config, ProjectConfig},
    keyscan::KeyScan,
    ledger::Recorder,
    limits::Limits,
    live::Live,
    metrics::Metrics,
    notify::Notifier,
    reads::Reads,
    triage::Triage,
    upstream::Upstream,
};

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    config: Config,
    key_scan: Arc<KeyScan>,
    upstream: Upstream,
    metrics: Metrics,
    limits: Limits,
    reads: Reads,
    live: Live,
    ledger: Recorder,
    triage: Triage,
    notifier: Arc<Notifier>,
}

impl AppState {
    /// Builds the state: the upstream HTTP client (rustls, pooled) and the ledger, whose
    /// database is opened and migrated here (hence async). The ledger's follower is not
    /// started here but by [`crate::Server::start`], so a router built for `oneshot`
    /// tests polls nothing.
    pub async fn new(config: Config) -> anyhow::Result<Self> {
        let key_scan = Arc::new(KeyScan::new(config.projects.iter().map(|p| &p.key)));
        let upstream = Upstream::new(&config, key_scan.clone())?;
        let ledger = Recorder::open(&config.ledger).await.map_err(|err| {
            // The URL is never quoted: it may hold a password.
            anyhow::anyhow!(
                "cannot open the {} ledger: {err}",
                config.ledger.url.scheme()
            )
        })?;
        let active_jobs_every = Duration::from_millis(config.poll.jobs_ms);
        let notifier = Notifier::new(&config);
        Ok(Self(Arc::new(Inner {
            limits: Limits::new(config.limits),
            reads: Reads::new(&config.cache, active_jobs_every),
            config,
            key_scan,
            upstream,
            metrics: Metrics::new(),
            live: Live::default(),
            ledger,
            triage: Triage::default(),
            notifier,
        })))
    }

    /// The configuration the server runs with.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// Every configured key in every form (`keyscan/`).
    pub(crate) fn key_scan(&self) -> &KeyScan {
        &self.0.key_scan
    }

    pub(crate) fn upstream(&self) -> &Upstream {
        &self.0.upstream
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// Shared reads: single flight, reuse windows, finished reports (`reads.rs`).
    pub(crate) fn reads(&self) -> &Reads {
        &self.0.reads
    }

    /// The followed runs and open live streams (`live/`).
    pub(crate) fn live(&self) -> &Live {
        &self.0.live
    }

    /// Ends every live stream: the server is stopping, and a stream would otherwise
    /// hold the shutdown for its whole drain period.
    pub(crate) fn end_live_streams(&self) {
        self.0.live.close();
    }

    /// The execution ledger (`ledger/`).
    pub(crate) fn ledger(&self) -> &Recorder {
        &self.0.ledger
    }

    /// Each project's triage rules, compiled once per change.
    pub(crate) fn triage(&self) -> &Triage {
        &self.0.triage
    }

    /// What notifications must not carry, and which runs were announced (`notify/`).
    pub(crate) fn notifier(&self) -> &Notifier {
        &self.0.notifier
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.0.limits
    }

    /// The configured project `id`, or `unknown_project`.
    pub(crate) fn project(&self, id: &ProjectId) -> Result<&ProjectConfig, AppError> {
        self.0
            .config
            .project(id)
            .ok_or_else(|| AppError::UnknownProject(id.clone()))
    }
}
