//! What reached the simulator: its log of `/api` requests (`GET /__sim/requests`), and
//! the rule every forwarded call must follow: exactly one `x-api-key`, the configured
//! one, and none of the browser's credentials (`authorization`, `cookie`).

use anyhow::{Context, Result, ensure};
use serde::Deserialize;

/// One `/api` request as the simulator received it.
#[derive(Debug, Clone, Deserialize)]
pub struct LoggedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, e.g. `/api/jobs/P`.
    pub path: String,
    /// Every header as received, in order, duplicates kept, names lower-case.
    pub headers: Vec<(String, String)>,
}

impl LoggedRequest {
    /// The values of header `name` (lower-case), in the order received.
    pub fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

#[derive(Deserialize)]
struct Log {
    requests: Vec<LoggedRequest>,
}

/// Reads the simulator's request log at `sim_url`.
pub async fn requests(http: &reqwest::Client, sim_url: &str) -> Result<Vec<LoggedRequest>> {
    let response = http.get(format!("{sim_url}/__sim/requests")).send().await?;
    ensure!(
        response.status().is_success(),
        "GET /__sim/requests answered {}",
        response.status()
    );
    let log: Log = response
        .json()
        .await
        .context("reading the simulator's request log")?;
    Ok(log.requests)
}

/// Fails unless every request carried exactly one `x-api-key`, equal to `key`, and no
/// `authorization` or `cookie` header.
pub fn only_the_configured_key(requests: &[LoggedRequest], key: &str) -> Result<()> {
    for request in requests {
        let what = format!("{} {}", request.method, request.path);
        let keys = request.header("x-api-key");
        ensure!(
            keys.len() == 1,
            "{what} reached the upstream with {} x-api-key headers",
            keys.len()
        );
        ensure!(
            keys.first() == Some(&key),
            "{what} reached the upstream with another key than the configured one"
        );
        for credential in ["authorization", "cookie"] {
            ensure!(
                request.header(credential).is_empty(),
                "{what} reached the upstream with a {credential} header"
            );
        }
    }
    Ok(())
}
