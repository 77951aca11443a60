//! What reached the simulator: its log of `/api` requests (`GET /__sim/requests`), and
//! the rule every forwarded call must follow: exactly one `x-api-key`, the configured
//! one, and none of the browser's credentials (`authorization`, `cookie`).

use anyhow::{Context, Result, ensure};
use runboard_sim::{RecordedRequest, RecordedRequests};

/// Reads the simulator's request log at `sim_url`.
pub async fn requests(http: &reqwest::Client, sim_url: &str) -> Result<Vec<RecordedRequest>> {
    let response = http.get(format!("{sim_url}/__sim/requests")).send().await?;
    ensure!(
        response.status().is_success(),
        "GET /__sim/requests answered {}",
        response.status()
    );
    let log: RecordedRequests = response
        .json()
        .await
        .context("reading the simulator's request log")?;
    Ok(log.requests)
}

/// Fails unless every request carried exactly one `x-api-key`, equal to `key`, and no
/// `authorization` or `cookie` header.
pub fn only_the_configured_key(requests: &[RecordedRequest], key: &str) -> Result<()> {
    for request in requests {
        let what = format!("{} {}", request.method, request.path);
        let keys = request.header_values("x-api-key");
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
                request.header_values(credential).is_empty(),
                "{what} reached the upstream with a {credential} header"
            );
        }
    }
    Ok(())
}
