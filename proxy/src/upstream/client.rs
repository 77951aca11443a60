//! One HTTP exchange with the platform: a request built from scratch with the project's
//! key, a slot under the concurrency cap, and the answer read as a stream up to the size
//! limit, all before a deadline. Nothing here decides what the answer means.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use reqwest::{Method, StatusCode, header};
use tokio::sync::Semaphore;

use crate::{
    VERSION,
    config::{ProjectConfig, UpstreamConfig},
};

/// Why an exchange produced no complete answer. Each says whether the request may have
/// reached the platform, which decides what may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transport {
    /// No slot under `upstream.max_concurrent` in time: nothing was sent.
    Busy,
    /// The connection could not be opened: nothing was sent.
    Connect,
    /// The deadline passed: the request may have been received.
    Timeout,
    /// The connection failed after opening: the request may have been received.
    Dropped,
    /// The answer went past `upstream.max_answer_bytes`.
    TooLarge,
}

/// A complete answer: status and body.
pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) bytes: Bytes,
}

/// The pooled client, where it points, and the limits every exchange keeps.
pub(super) struct Client {
    http: reqwest::Client,
    base: String,
    slots: Semaphore,
    max_answer_bytes: u64,
}

impl Client {
    pub(super) fn new(config: &UpstreamConfig) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(format!("runboard/{VERSION}"))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            http,
            base: config.url.as_str().trim_end_matches('/').to_owned(),
            slots: Semaphore::new(config.max_concurrent),
            max_answer_bytes: config.max_answer_bytes,
        })
    }

    /// The base URL, for the readiness probe.
    pub(super) fn base(&self) -> &str {
        &self.base
    }

    pub(super) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends one request for `project` to `path` (validated ids only): a POST with the
    /// JSON `body`, or a GET without one. Nothing of the browser's request is copied.
    pub(super) async fn send(
        &self,
        project: &ProjectConfig,
        path: &str,
        body: Option<&[u8]>,
        deadline: Instant,
    ) -> Result<Reply, Transport> {
        let _slot = tokio::time::timeout_at(deadline.into(), self.slots.acquire())
            .await
            .map_err(|_| Transport::Busy)?
            // The semaphore is never closed.
            .map_err(|_| Transport::Busy)?;
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Transport::Busy);
        }
        let method = if body.is_some() {
            Method::POST
        } else {
            Method::GET
        };
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .timeout(remaining)
            .header("x-api-key", project.key.header_value())
            .header(header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        let mut response = request.send().await.map_err(|e| transport(path, &e))?;
        let status = response.status();
        if response
            .content_length()
            .is_some_and(|len| len > self.max_answer_bytes)
        {
            tracing::warn!(path, "upstream answer too large (Content-Length)");
            return Err(Transport::TooLarge);
        }
        // Read as a stream, so a chunked answer stops at the limit too.
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| transport(path, &e))? {
            if (bytes.len() + chunk.len()) as u64 > self.max_answer_bytes {
                tracing::warn!(path, "upstream answer too large (streamed)");
                return Err(Transport::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Reply {
            status,
            bytes: Bytes::from(bytes),
        })
    }
}

fn transport(path: &str, err: &reqwest::Error) -> Transport {
    // reqwest's message names the URL, which holds only validated ids, never the key.
    tracing::warn!(path, error = %err, "upstream request failed");
    // A connection that never opened sent nothing, even when opening it timed out.
    if err.is_connect() {
        Transport::Connect
    } else if err.is_timeout() {
        Transport::Timeout
    } else {
        Transport::Dropped
    }
}
