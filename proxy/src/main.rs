//! The `runboard` binary: parses the command line, sets up logging, and wires the library
//! (`runboard --config FILE`, `runboard --demo`, `runboard check-config FILE`).

use std::{io::IsTerminal, net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand, ValueEnum};
use runboard_proxy::{Config, Server, WidgetSource};
use tracing_subscriber::EnvFilter;

/// Runboard: start test runs and watch their results without handing the platform's API
/// key to a browser.
#[derive(Parser)]
#[command(name = "runboard", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The configuration file (TOML).
    #[arg(long, env = "RUNBOARD_CONFIG")]
    config: Option<PathBuf>,
    /// Run against an in-process simulator with a demo project; no account needed.
    #[arg(long)]
    demo: bool,
    /// Where to listen (overrides `listen`; the demo's default is 127.0.0.1:8080).
    #[arg(long)]
    addr: Option<SocketAddr>,
    /// Log lines for people or for a log collector.
    #[arg(long, value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
    /// Demo only: how much faster than real time the simulated platform runs tests.
    #[arg(long, requires = "demo")]
    sim_speed: Option<f64>,
    /// Demo only: how many tests the demo project has.
    #[arg(long, requires = "demo")]
    sim_tests: Option<usize>,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a configuration file (keys included) and exit.
    CheckConfig {
        /// The file to check.
        file: PathBuf,
    },
    /// Machine tokens for pipelines: create, list, revoke (in the server's ledger).
    Token(runboard_proxy::tokens::cli::TokenArgs),
    /// Start a run through a Runboard server, follow it, and exit with its verdict: the
    /// gate a pipeline calls.
    Run(runboard_gate::RunArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    if let Some(Command::CheckConfig { file }) = &cli.command {
        return check_config(file);
    }
    if let Some(Command::Token(args)) = cli.command {
        return runboard_proxy::tokens::cli::run(args, cli.config).await;
    }
    if let Some(Command::Run(args)) = cli.command {
        return runboard_gate::main(args).await;
    }
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("runboard: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// `--demo`: Runboard in front of an in-process simulator, until Ctrl-C.
#[cfg(feature = "demo")]
async fn run_demo(cli: &Cli) -> anyhow::Result<()> {
    use runboard_proxy::demo;
    let options = demo::DemoOptions {
        addr: cli.addr.unwrap_or(demo::DEFAULT_ADDR),
        sim_speed: cli.sim_speed.unwrap_or(demo::DEFAULT_SPEED),
        sim_tests: cli.sim_tests.unwrap_or(demo::DEFAULT_TESTS),
    };
    let demo = demo::start_with(options).await?;
    println!("listening on {}", demo.url());
    println!("Runboard demo: open {}/", demo.url());
    shutdown_signal().await;
    demo.shutdown().await;
    Ok(())
}

/// `--demo` on a build without the simulator: say how to get one.
#[cfg(not(feature = "demo"))]
async fn run_demo(_cli: &Cli) -> anyhow::Result<()> {
    anyhow::bail!(
        "this runboard was built without the demo (a production build carries no simulator); \
         run ./x demo, or build with cargo build -p runboard-proxy --features demo"
    )
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

fn check_config(file: &std::path::Path) -> ExitCode {
    match Config::load(file) {
        Ok(config) => {
            println!(
                "{}: OK ({} project(s), listen {}, upstream {})",
                file.display(),
                config.projects.len(),
                config.listen,
                config.upstream.url
            );
            for project in &config.projects {
                println!(
                    "  project {} ({}): {}",
                    project.id,
                    project.name,
                    config.who_may_run(project)
                );
                println!("    triage: {}", config.who_may_triage(project));
                println!("    notify: {}", config.notify.describe(&project.id));
            }
            match WidgetSource::of(&config) {
                WidgetSource::Missing => eprintln!("warning: {}", WidgetSource::Missing),
                source => println!("  {source}"),
            }
            for warning in config.warnings() {
                eprintln!("warning: {warning}");
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{}: {err}", file.display());
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // Each open connection (a live report's viewer holds one for the whole run) is a
    // file descriptor: allow as many as the system lets this process have.
    match Server::raise_open_file_limit() {
        Ok(limit) => tracing::debug!(?limit, "open-file limit"),
        Err(error) => tracing::warn!(%error, "cannot raise the open-file limit"),
    }
    if cli.demo {
        return run_demo(&cli).await;
    }
    let Some(path) = cli.config else {
        anyhow::bail!("give --config FILE (or RUNBOARD_CONFIG), or try --demo");
    };
    let mut config = Config::load(&path)?;
    if let Some(addr) = cli.addr {
        config.listen = addr;
    }
    match WidgetSource::of(&config) {
        WidgetSource::Missing => tracing::warn!("{}", WidgetSource::Missing),
        source => tracing::info!("{source}"),
    }
    let mut server = Server::start(config).await?;
    println!("listening on {}", server.url());
    tokio::select! {
        () = shutdown_signal() => {}
        result = server.wait() => return result,
    }
    server.shutdown().await;
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("stopping: letting requests in flight finish");
}
