//! The load generator for the side-by-side table: Debian's `wrk`, run as a child process
//! against one URL, its `--latency` output parsed.

use std::{path::Path, time::Duration};

use tokio::process::Command;

use crate::{BenchError, stack::start_error};

/// One request kind as wrk sends it.
#[derive(Debug, Clone)]
pub(crate) struct WrkRequest {
    /// The path under the target's base URL.
    pub(crate) path: String,
    /// A JSON body to POST; `None` for a GET.
    pub(crate) body: Option<String>,
}

/// How hard and how long.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WrkLoad {
    pub(crate) threads: u32,
    pub(crate) connections: u32,
    pub(crate) duration: Duration,
}

/// What wrk measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct WrkResult {
    pub(crate) per_second: f64,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
    pub(crate) requests: u64,
    /// Non-2xx answers plus socket errors.
    pub(crate) errors: u64,
}

/// Runs wrk once against `base` + `request.path`, with `key` as `x-api-key` when given.
pub(crate) async fn run(
    wrk: &Path,
    base: &str,
    key: Option<&str>,
    request: &WrkRequest,
    load: WrkLoad,
) -> Result<WrkResult, BenchError> {
    let dir = tempfile::tempdir()?;
    let mut command = Command::new(wrk);
    command
        .arg(format!("-t{}", load.threads))
        .arg(format!("-c{}", load.connections))
        .arg(format!("-d{}s", load.duration.as_secs().max(1)))
        .arg("--latency")
        .arg("--timeout")
        .arg("10s");
    if let Some(key) = key {
        command.arg("-H").arg(format!("x-api-key: {key}"));
    }
    if let Some(body) = &request.body {
        let script = dir.path().join("post.lua");
        std::fs::write(&script, post_script(body))?;
        command.arg("-s").arg(script);
    }
    let output = command
        .arg(format!("{base}{}", request.path))
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| start_error("wrk", format!("{}: {e}", wrk.display())))?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse(&text).ok_or_else(|| {
        start_error(
            "wrk",
            format!(
                "unreadable output: {text} {}",
                String::from_utf8_lossy(&output.stderr)
            ),
        )
    })
}

/// A wrk Lua script that POSTs `body` as JSON.
fn post_script(body: &str) -> String {
    let escaped = body.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        "wrk.method = \"POST\"\nwrk.body = \"{escaped}\"\n\
         wrk.headers[\"Content-Type\"] = \"application/json\"\n"
    )
}

/// Reads `Requests/sec`, the 50 % and 99 % lines of the latency distribution, the
/// request count and the error lines.
fn parse(text: &str) -> Option<WrkResult> {
    let mut result = WrkResult::default();
    let mut saw_rate = false;
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", rate] => {
                result.per_second = rate.parse().ok()?;
                saw_rate = true;
            }
            ["50%", value] => result.p50 = duration(value)?,
            ["99%", value] => result.p99 = duration(value)?,
            [count, "requests", "in", ..] => result.requests = count.parse().ok()?,
            ["Non-2xx", "or", "3xx", "responses:", count] => {
                result.errors += count.parse::<u64>().ok()?;
            }
            ["Socket", "errors:", rest @ ..] => {
                result.errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    saw_rate.then_some(result)
}

/// wrk's `635.00us`, `1.23ms`, `2.00s`, `1.50m`.
fn duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let seconds = match unit {
        "us" => value / 1e6,
        "ms" => value / 1e3,
        "s" => value,
        "m" => value * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use runboard_shared::{Endpoint, Route};

    use super::*;

    /// What wrk prints after its first line, `Running 5s test @ <url>`.
    const STATS: &str = "  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.02ms  300.00us   9.00ms   80.00%
    Req/Sec    15.00k     1.00k   17.00k    70.00%
  Latency Distribution
     50%  635.00us
     75%    1.10ms
     90%    1.50ms
     99%    2.25ms
  150000 requests in 5.00s, 3.00GB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  30000.50
Transfer/sec:    600.00MB
";

    #[test]
    fn wrk_output_is_read() {
        let url = Route::Guide(Endpoint::TestRun).fill(&["p", "r"]);
        let output = format!("Running 5s test @ http://127.0.0.1:1{url}\n{STATS}");
        let result = parse(&output).expect("parsed");
        assert_eq!(result.requests, 150_000);
        assert!((result.per_second - 30_000.5).abs() < 1e-9);
        assert_eq!(result.p50, Duration::from_micros(635));
        assert_eq!(result.p99, Duration::from_micros(2_250));
        assert_eq!(result.errors, 7);
        assert_eq!(parse("wrk: connection refused\n"), None);
        assert_eq!(duration("2.00s"), Some(Duration::from_secs(2)));
        assert_eq!(duration("12"), None);
    }

    #[test]
    fn post_bodies_are_escaped_for_lua() {
        let script = post_script(r#"{"jobIds":["a"]}"#);
        assert!(
            script.contains(r#"wrk.body = "{\"jobIds\":[\"a\"]}""#),
            "{script}"
        );
    }
}
