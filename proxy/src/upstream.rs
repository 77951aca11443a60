//! The one pooled HTTP client to the Test Execution API. Requests are built from scratch
//! (nothing of the client's request is copied: no cookies, no `Authorization`, no client
//! `x-api-key`), the project's key is added, and answers are mapped to [`AppError`]s.

use std::time::{Duration, Instant};

use axum::{
    body::Bytes,
    response::{IntoResponse, Response},
};
use reqwest::{Method, StatusCode, Url, header};
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    AppError, VERSION,
    config::{ProjectConfig, UpstreamConfig},
    metrics::Metrics,
};

/// The largest upstream answer read (a 10,000-test report is a few MB).
const MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;

/// Which of the guide's endpoints a call is for (a metrics label).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Endpoint {
    Execute,
    Jobs,
    TestRun,
}

impl Endpoint {
    fn label(self) -> &'static str {
        match self {
            Self::Execute => "testExecution",
            Self::Jobs => "jobs",
            Self::TestRun => "testRun",
        }
    }
}

/// An upstream answer that parsed as the documented type, kept with its original bytes.
///
/// The answer is checked by parsing, then passed on as the upstream sent it: serialising
/// a multi-megabyte run report again would double the proxy's work for nothing (see
/// docs/benchmarks.md).
pub(crate) struct Verified<T> {
    /// The parsed answer, for the proxy's own use (the audit line).
    pub(crate) value: T,
    bytes: Bytes,
}

impl<T> IntoResponse for Verified<T> {
    fn into_response(self) -> Response {
        (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            self.bytes,
        )
            .into_response()
    }
}

/// The upstream client and where it points.
pub(crate) struct Upstream {
    client: reqwest::Client,
    base: String,
    timeout: Duration,
}

impl Upstream {
    pub(crate) fn new(config: &UpstreamConfig) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(format!("runboard/{VERSION}"))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            client,
            base: config.url.as_str().trim_end_matches('/').to_owned(),
            timeout: config.timeout,
        })
    }

    /// Sends one call for `project` to `path` (which holds only validated ids) and checks
    /// that the answer parses leniently as `T`.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        metrics: &Metrics,
        project: &ProjectConfig,
        endpoint: Endpoint,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<Verified<T>, AppError> {
        let started = Instant::now();
        let result = self.exchange(project, endpoint, path, body).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(AppError::UpstreamTimeout(_)) => "timeout",
            Err(AppError::UpstreamUnavailable(_)) => "unavailable",
            Err(AppError::UpstreamAuth(_)) => "auth",
            Err(AppError::UpstreamInvalid) => "invalid",
            Err(_) => "rejected",
        };
        metrics.upstream(endpoint.label(), outcome, started.elapsed().as_secs_f64());
        result
    }

    async fn exchange<T: DeserializeOwned>(
        &self,
        project: &ProjectConfig,
        endpoint: Endpoint,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<Verified<T>, AppError> {
        let method = if body.is_some() {
            Method::POST
        } else {
            Method::GET
        };
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("x-api-key", project.key.header_value())
            .header(header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_error(endpoint, &e))?;
        let status = response.status();
        if response
            .content_length()
            .is_some_and(|len| len > MAX_ANSWER_BYTES)
        {
            tracing::warn!(endpoint = endpoint.label(), "upstream answer too large");
            return Err(AppError::UpstreamInvalid);
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(endpoint, &e))?;
        if !status.is_success() {
            return Err(status_error(project, endpoint, status, &bytes));
        }
        match serde_json::from_slice(&bytes) {
            Ok(value) => Ok(Verified { value, bytes }),
            Err(e) => {
                tracing::warn!(endpoint = endpoint.label(), error = %e, "upstream answer is not the documented JSON");
                Err(AppError::UpstreamInvalid)
            }
        }
    }

    fn transport_error(&self, endpoint: Endpoint, err: &reqwest::Error) -> AppError {
        // reqwest's message names the URL, which holds only validated ids, never the key.
        tracing::warn!(endpoint = endpoint.label(), error = %err, "upstream request failed");
        if err.is_timeout() {
            AppError::UpstreamTimeout(self.timeout.as_millis())
        } else if err.is_connect() {
            AppError::UpstreamUnavailable("cannot connect".to_owned())
        } else {
            AppError::UpstreamUnavailable("the connection failed".to_owned())
        }
    }

    /// Whether the upstream answers HTTP at all (any status), without a key.
    pub(crate) async fn probe(&self) -> Result<(), AppError> {
        let url = Url::parse(&self.base).map_err(|_| AppError::UpstreamInvalid)?;
        self.client
            .get(url)
            .timeout(self.timeout.min(Duration::from_secs(3)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                if e.is_timeout() {
                    AppError::UpstreamTimeout(self.timeout.min(Duration::from_secs(3)).as_millis())
                } else {
                    AppError::UpstreamUnavailable("cannot connect".to_owned())
                }
            })
    }
}

/// Maps a non-2xx upstream answer.
fn status_error(
    project: &ProjectConfig,
    endpoint: Endpoint,
    status: StatusCode,
    body: &[u8],
) -> AppError {
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        tracing::error!(
            project = %project.id,
            endpoint = endpoint.label(),
            status = status.as_u16(),
            "the test platform rejected the project's key"
        );
        return AppError::UpstreamAuth(project.id.clone());
    }
    if status.is_client_error() {
        let message = upstream_message(body)
            .map(|m| project.key.scrub(&m))
            .unwrap_or_else(|| {
                format!(
                    "the test platform refused the request (HTTP {})",
                    status.as_u16()
                )
            });
        return AppError::UpstreamRejected(status, message);
    }
    tracing::warn!(
        endpoint = endpoint.label(),
        status = status.as_u16(),
        "upstream error status"
    );
    AppError::UpstreamUnavailable(format!("HTTP {}", status.as_u16()))
}

/// The human message of an upstream error body: `{"error":{"message"}}`,
/// `{"error":"…"}` or `{"message":"…"}`.
fn upstream_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let message = value
        .pointer("/error/message")
        .or_else(|| value.get("error").filter(|e| e.is_string()))
        .or_else(|| value.get("message"))?
        .as_str()?
        .trim();
    (!message.is_empty()).then(|| message.chars().take(500).collect())
}

#[cfg(test)]
mod tests {
    use super::upstream_message;

    #[test]
    fn upstream_messages_in_their_shapes() {
        let check = |body: &str, expected: Option<&str>| {
            assert_eq!(
                upstream_message(body.as_bytes()).as_deref(),
                expected,
                "{body}"
            );
        };
        check(
            r#"{"success":false,"error":{"code":"not_found","message":"run x not found"}}"#,
            Some("run x not found"),
        );
        check(r#"{"error":"bad"}"#, Some("bad"));
        check(r#"{"message":"nope"}"#, Some("nope"));
        check("<html>", None);
        check(r#"{"error":{"code":"x"}}"#, None);
    }
}
