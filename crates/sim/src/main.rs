//! The `runboard-sim` binary: parses the command line, serves the simulator and stops
//! gracefully on Ctrl-C or SIGTERM.

use std::{io::Write, net::SocketAddr};

use anyhow::Context;
use clap::Parser;
use runboard_sim::{
    DEFAULT_TESTS_PER_PROJECT, EchoKey, Faults, Shapes, SimConfig, SimProject, Simulator, spawn,
};

/// A faithful simulator of the hosted Test Execution API.
///
/// Serves POST /api/testExecution/{projId}, POST /api/jobs/{projId} and
/// GET /api/testRun/{projId}/{runId} (key in x-api-key), plus key-less controls:
/// GET /__sim/catalog, GET /__sim/stats, POST /__sim/stats/reset,
/// GET|POST /__sim/faults, POST /__sim/agents {"projectId","name","connected"},
/// GET|DELETE /__sim/requests (every /api/ request's method, path and headers).
/// Agents cancel-agent, broken-agent and refusing-agent have fixed fates: jobs
/// cancelled, jobs failed without a run, starts refused with success:false.
/// The first line printed is always `listening on http://HOST:PORT`.
#[derive(Debug, Parser)]
#[command(name = "runboard-sim", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:9090")]
    addr: SocketAddr,
    /// A project and its API key, as ID:KEY (repeatable). Without it, a demo project
    /// with a random id and key is created and printed.
    #[arg(long = "project", value_name = "ID:KEY", value_parser = parse_project)]
    projects: Vec<SimProject>,
    /// Seed for catalogs, ids and outcomes.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Simulated time per real time: 1 paces runs like the platform, 100 finishes a
    /// few dozen tests in about a second.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Tests in each project's catalog.
    #[arg(long, default_value_t = DEFAULT_TESTS_PER_PROJECT)]
    tests: usize,
    /// Fault: fixed latency added to every /api/ answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Fault: extra random latency, up to this many milliseconds.
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
    /// Fault: share (0..1) of /api/ requests answered 500/502/503.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Fault: share of /api/ answers whose JSON is cut in half.
    #[arg(long, default_value_t = 0.0)]
    malformed_rate: f64,
    /// Fault: share of /api/ requests never answered.
    #[arg(long, default_value_t = 0.0)]
    hang_rate: f64,
    /// Fault: share of /api/ requests whose connection is closed without an answer.
    #[arg(long, default_value_t = 0.0)]
    drop_rate: f64,
    /// Send shapes the guide allows but never shows: fractional and negative
    /// durations, null titles and links, a float testsInProjectCount, an undocumented
    /// "Blocked" test in finished reports, "missingJobIds": null, and a duplicate start
    /// as HTTP 409 (same as "shapes": "odd" in /__sim/faults).
    #[arg(long)]
    odd_shapes: bool,
    /// Fault: echo the received x-api-key in answers: none, error (every answer a 400
    /// whose message ends with the key), body (in successful answers), urlencoded,
    /// base64 or escaped (body, encoded; escaped: JSON `\u` escapes).
    #[arg(long, value_name = "MODE", default_value = "none", value_parser = parse_echo_key)]
    echo_key: EchoKey,
}

fn parse_project(spec: &str) -> Result<SimProject, String> {
    SimProject::parse(spec).map_err(|e| e.to_string())
}

fn parse_echo_key(mode: &str) -> Result<EchoKey, String> {
    EchoKey::parse(mode).map_err(|e| e.to_string())
}

impl Args {
    /// The configuration, validated; also says whether the demo project was generated.
    fn config(self) -> anyhow::Result<(SimConfig, bool)> {
        let demo = self.projects.is_empty();
        let projects = if demo {
            vec![SimProject::random()]
        } else {
            self.projects
        };
        let config = SimConfig {
            seed: self.seed,
            speed: self.speed,
            tests_per_project: self.tests,
            projects,
            faults: Faults {
                latency_ms: self.latency_ms,
                jitter_ms: self.jitter_ms,
                error5xx_rate: self.error_rate,
                malformed_json_rate: self.malformed_rate,
                hang_rate: self.hang_rate,
                drop_rate: self.drop_rate,
                shapes: if self.odd_shapes {
                    Shapes::Odd
                } else {
                    Shapes::Plain
                },
                echo_key: self.echo_key,
            },
        };
        config.validate().context("invalid configuration")?;
        Ok((config, demo))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let addr = args.addr;
    let (config, demo) = args.config()?;
    let projects = config.projects.clone();
    let running = spawn(Simulator::new(config), addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;

    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {}", running.url())?;
    for project in &projects {
        if demo {
            writeln!(out, "demo project {} key {}", project.id, project.key)?;
        } else {
            writeln!(out, "project {}", project.id)?;
        }
    }
    writeln!(out, "catalog at {}/__sim/catalog", running.url())?;
    out.flush()?;
    drop(out);

    shutdown_signal().await;
    running.shutdown().await;
    Ok(())
}

/// Resolves on Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            eprintln!("cannot listen for Ctrl-C: {error}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                eprintln!("cannot listen for SIGTERM: {error}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
