//! The one way to the Test Execution API. Requests are built from scratch (nothing of the
//! client's request is copied: no cookies, no `Authorization`, no client `x-api-key`),
//! the project's key is added, and every answer is checked for that key before anything
//! else. Reads are retried where that is safe; a start never blindly (see `start.rs`).
//! A circuit breaker stops calls to a platform that keeps failing.

mod answer;
mod breaker;
mod client;
mod retry;
mod start;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use reqwest::{StatusCode, Url};
use runboard_shared::Endpoint;
use serde::{Serialize, de::DeserializeOwned};

pub(crate) use answer::Verified;
use answer::classify;
use breaker::Breaker;
use client::{Client, Reply, Transport};
use retry::Backoff;
pub(crate) use start::Started;

use crate::{
    AppError,
    config::{Config, ProjectConfig},
    keyscan::KeyScan,
    metrics::Metrics,
};

/// The upstream client, its breaker, and the scanner of every configured key.
pub(crate) struct Upstream {
    client: Client,
    breaker: Breaker,
    key_scan: Arc<KeyScan>,
    timeout: Duration,
}

impl Upstream {
    pub(crate) fn new(config: &Config, key_scan: Arc<KeyScan>) -> anyhow::Result<Self> {
        let upstream = &config.upstream;
        Ok(Self {
            client: Client::new(upstream)?,
            breaker: Breaker::new(upstream.breaker_failures, upstream.breaker_cool_down),
            key_scan,
            timeout: upstream.timeout,
        })
    }

    /// A read (`jobs`, `testRun`) for `project` at `path` (validated ids only), checked
    /// to parse leniently as `T`. Connection failures and 502/503/504 are retried with
    /// backoff, all within `upstream.timeout`.
    pub(crate) async fn read<T: DeserializeOwned>(
        &self,
        metrics: &Metrics,
        project: &ProjectConfig,
        endpoint: Endpoint,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<Verified<T>, AppError> {
        let call = async {
            let pass = self.admit(metrics)?;
            let body = body.map(json_body).transpose()?;
            let deadline = Instant::now() + self.timeout;
            let mut backoff = Backoff::new();
            loop {
                let attempt = self
                    .client
                    .send(project, path, body.as_deref(), deadline)
                    .await;
                let retry_safe = match &attempt {
                    Err(transport) => matches!(transport, Transport::Connect | Transport::Dropped),
                    Ok(reply) => matches!(reply.status.as_u16(), 502..=504),
                };
                if retry_safe && let Some(wait) = backoff.next(deadline) {
                    metrics.upstream_event("retry");
                    tokio::time::sleep(wait).await;
                    continue;
                }
                self.judge(metrics, pass, &attempt);
                return self.answer(project, endpoint, attempt);
            }
        };
        timed(metrics, endpoint, call).await
    }

    /// Asks the breaker for leave to call, counting refusals.
    fn admit(&self, metrics: &Metrics) -> Result<breaker::Pass<'_>, AppError> {
        self.breaker
            .admit()
            .inspect_err(|_| metrics.upstream_event("circuit_rejected"))
    }

    /// Tells the breaker whether the platform failed this call: no answer, or a 5xx.
    fn judge(
        &self,
        metrics: &Metrics,
        pass: breaker::Pass<'_>,
        attempt: &Result<Reply, Transport>,
    ) {
        let failed = match attempt {
            Err(transport) => !matches!(transport, Transport::Busy | Transport::TooLarge),
            Ok(reply) => reply.status.is_server_error(),
        };
        if pass.record(failed) {
            tracing::warn!(
                "the test platform keeps failing; the circuit breaker pauses calls to it"
            );
            metrics.upstream_event("circuit_opened");
        }
    }

    /// What the browser gets for a finished attempt. The key check comes first, for
    /// every status, before any part of the answer is read or quoted.
    fn answer<T: DeserializeOwned>(
        &self,
        project: &ProjectConfig,
        endpoint: Endpoint,
        attempt: Result<Reply, Transport>,
    ) -> Result<Verified<T>, AppError> {
        let reply = attempt.map_err(|transport| self.transport_error(transport))?;
        if self.holds_key(&reply.bytes) {
            tracing::error!(
                project = %project.id,
                endpoint = endpoint.label(),
                status = reply.status.as_u16(),
                "the test platform's answer contained a configured key; withheld"
            );
            return Err(AppError::UpstreamWithheld);
        }
        classify(project, endpoint, reply.status, reply.bytes)
    }

    /// Whether an answer holds any configured key, in any form a client could read.
    fn holds_key(&self, bytes: &[u8]) -> bool {
        self.key_scan.found_in(bytes)
    }

    fn transport_error(&self, transport: Transport) -> AppError {
        match transport {
            Transport::Busy | Transport::Timeout => {
                AppError::UpstreamTimeout(self.timeout.as_millis())
            }
            Transport::Connect => AppError::UpstreamUnavailable("cannot connect".to_owned()),
            Transport::Dropped => AppError::UpstreamUnavailable("the connection failed".to_owned()),
            Transport::TooLarge => AppError::UpstreamInvalid,
        }
    }

    /// `Some(upstream_circuit_open)` while the breaker pauses calls (for `/readyz`).
    pub(crate) fn circuit_open(&self) -> Option<AppError> {
        self.breaker.open()
    }

    /// Whether the upstream answers HTTP at all (any status), without a key.
    pub(crate) async fn probe(&self) -> Result<(), AppError> {
        let url = Url::parse(self.client.base()).map_err(|_| AppError::UpstreamInvalid)?;
        let timeout = self.timeout.min(Duration::from_secs(3));
        self.client
            .http()
            .get(url)
            .timeout(timeout)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                if e.is_timeout() {
                    AppError::UpstreamTimeout(timeout.as_millis())
                } else {
                    AppError::UpstreamUnavailable("cannot connect".to_owned())
                }
            })
    }
}

/// Runs one upstream call and records its duration and outcome.
async fn timed<T>(
    metrics: &Metrics,
    endpoint: Endpoint,
    call: impl Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    let started = Instant::now();
    let result = call.await;
    metrics.upstream(
        endpoint.label(),
        outcome(&result),
        started.elapsed().as_secs_f64(),
    );
    result
}

/// A request body as JSON bytes, serialised once for every attempt.
fn json_body(body: &impl Serialize) -> Result<Vec<u8>, AppError> {
    serde_json::to_vec(body).map_err(|e| AppError::InvalidBody(e.to_string()))
}

/// The metrics label of a call's outcome.
fn outcome<T>(result: &Result<T, AppError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(AppError::UpstreamTimeout(_)) => "timeout",
        Err(AppError::UpstreamUnavailable(_)) => "unavailable",
        Err(AppError::UpstreamAuth(_)) => "auth",
        Err(AppError::UpstreamInvalid) => "invalid",
        Err(AppError::UpstreamRefused(_)) => "refused",
        Err(AppError::UpstreamWithheld) => "withheld",
        Err(AppError::UpstreamCircuitOpen(..)) => "circuit_open",
        Err(AppError::StartOutcomeUnknown) => "outcome_unknown",
        Err(_) => "rejected",
    }
}

/// Whether a status is one a gateway in front of the platform sends after it may have
/// passed the request on (502, 504).
fn gateway_lost(status: StatusCode) -> bool {
    status == StatusCode::BAD_GATEWAY || status == StatusCode::GATEWAY_TIMEOUT
}
