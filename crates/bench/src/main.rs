//! The `runboard-bench` binary: parses the flags, runs the benchmark on a multi-threaded
//! runtime, prints the table and, with `--record FILE`, appends the dated results.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use clap::Parser;
use runboard_bench::{DEFAULT_SIM_SPEED, Machine, Options, cli};

/// Measures what `runboard` adds to each upstream call: the same requests straight to an
/// in-process simulator and through an in-process `runboard`, on loopback. Build with
/// `--release`; compare the `proxy ÷ direct` ratios, not the absolute times.
#[derive(Debug, Parser)]
#[command(name = "runboard-bench", version)]
struct Args {
    /// Requests per request kind and path.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    requests: u32,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1_024))]
    concurrency: u32,
    /// Unmeasured requests per request kind and path first.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    warmup: u32,
    /// Turns of direct then proxy (the requests are split between them).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=100))]
    rounds: u32,
    /// The longest one request kind may run on one path, in seconds.
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=600))]
    time_limit: u64,
    /// The simulator's speed (simulated time per real time).
    #[arg(long, default_value_t = DEFAULT_SIM_SPEED)]
    sim_speed: f64,
    /// Append the results as a dated Markdown section to this file.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
}

impl Args {
    fn options(&self) -> Options {
        Options {
            requests: self.requests as usize,
            concurrency: self.concurrency as usize,
            warmup: self.warmup as usize,
            rounds: self.rounds as usize,
            time_limit: Duration::from_secs(self.time_limit),
            sim_speed: self.sim_speed,
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    cli::main_of("runboard-bench", || run(&args))
}

fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if cfg!(debug_assertions) {
        eprintln!("note: a debug build; run with `cargo run --release -p runboard-bench`");
    }
    let runtime = cli::runtime()?;
    let report = runtime.block_on(runboard_bench::run(&args.options()))?;
    print!("{}", report.table());
    if !report.all_ok() {
        eprintln!("runboard-bench: some requests failed; nothing recorded");
        return Ok(ExitCode::FAILURE);
    }
    if let Some(path) = &args.record {
        cli::append(path, &report.markdown(&Machine::detect()))?;
        println!("\nrecorded in {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
