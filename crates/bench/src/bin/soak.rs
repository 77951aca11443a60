//! The `runboard-soak` binary: hundreds of clients polling and starting runs through
//! `runboard` for a minute, then the account of every start. Exits non-zero when
//! anything went wrong; `--record FILE` appends the dated result.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use clap::Parser;
use runboard_bench::{Machine, SoakOptions, cli};

/// Sustained mixed load against `runboard` in front of an in-process simulator, all on
/// loopback; stops by itself.
#[derive(Debug, Parser)]
#[command(name = "runboard-soak", version)]
struct Args {
    /// Clients running at once.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=5_000))]
    clients: u32,
    /// How long they run, in seconds.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    seconds: u64,
    /// Append the result as a dated Markdown section to this file.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    cli::main_of("runboard-soak", || run(&args))
}

fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let options = SoakOptions {
        clients: args.clients as usize,
        duration: Duration::from_secs(args.seconds),
        ..SoakOptions::default()
    };
    let runtime = cli::runtime()?;
    println!(
        "soaking: {} clients for {} s against runboard + simulator on loopback…",
        args.clients, args.seconds
    );
    let report = runtime.block_on(runboard_bench::soak(&options))?;
    print!("{}", report.table());
    let problems = report.problems();
    for problem in &problems {
        eprintln!("problem: {problem}");
    }
    if let Some(path) = &args.record {
        let machine = Machine::detect();
        let section = format!(
            "### Soak, {} ({} CPUs, {}, commit {})\n\n`./x soak` — {}\n\n{}",
            machine.date,
            machine.cpus,
            machine.cpu_model,
            machine.commit,
            if problems.is_empty() {
                "passed"
            } else {
                "FAILED"
            },
            report.table()
        );
        cli::append(path, &section)?;
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
