//! The `runboard-compare` binary: `runboard`, nginx and the simulator side by side under
//! wrk, the fan-in curve, memory and the widget; prints the Markdown section and, with
//! `--record FILE`, appends it there and writes the fan-in chart beside it.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context;
use clap::Parser;
use runboard_bench::{CompareOptions, Machine, cli, compare, svg_chart};

/// Side-by-side benchmarks on loopback: direct, runboard, nginx, nginx micro-cache.
#[derive(Debug, Parser)]
#[command(name = "runboard-compare", version)]
struct Args {
    /// The `runboard` binary to measure (a release build).
    #[arg(long)]
    runboard: PathBuf,
    #[arg(long, default_value = "wrk")]
    wrk: PathBuf,
    #[arg(long, default_value = "nginx")]
    nginx: PathBuf,
    /// The built widget (for the browser part).
    #[arg(long, default_value = "frontend/dist")]
    widget_dir: PathBuf,
    /// wrk's seconds per request kind and target.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=120))]
    wrk_seconds: u64,
    /// wrk's connections.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1_000))]
    connections: u32,
    /// Seconds per fan-in point (the figure is 30; 10 keeps a run short).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    fan_in_seconds: u64,
    /// Viewer counts of the fan-in curve, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,10,100,1000")]
    viewers: Vec<usize>,
    /// Crowd sizes, comma-separated: stream viewers of one fresh run from its start to its
    /// final report (about 45 s each at the default speed); `none` for no crowd.
    #[arg(long, value_delimiter = ',', default_value = "1,100,1000,10000", value_parser = crowd_size)]
    stream_viewers: Vec<Option<usize>>,
    /// `[poll] run_ms` of runboard, and the viewers' polling period.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(100..=60_000))]
    run_ms: u64,
    /// The simulator's speed while runs stay live (2 = a 36-test run lasts about 40 s).
    #[arg(long, default_value_t = 2.0)]
    live_speed: f64,
    /// Leave out the browser part.
    #[arg(long)]
    skip_widget: bool,
    /// Only the crowds of `--stream-viewers` (no wrk, fan-in or browser).
    #[arg(long)]
    crowds_only: bool,
    /// Append the section to this file and write the chart beside it.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
}

/// A crowd size from 1 to 20,000 (two sockets each under one open-file limit), or `none`.
fn crowd_size(text: &str) -> Result<Option<usize>, String> {
    if text == "none" {
        return Ok(None);
    }
    match text.parse::<usize>() {
        Ok(n) if (1..=20_000).contains(&n) => Ok(Some(n)),
        _ => Err(format!("{text:?}: give a number from 1 to 20000, or none")),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    cli::main_of("runboard-compare", || run(args).map(|()| ExitCode::SUCCESS))
}

fn run(args: Args) -> anyhow::Result<()> {
    let options = CompareOptions {
        runboard: args.runboard,
        wrk: args.wrk,
        nginx: args.nginx,
        widget_dir: args.widget_dir,
        wrk_duration: Duration::from_secs(args.wrk_seconds),
        wrk_connections: args.connections,
        fan_in_window: Duration::from_secs(args.fan_in_seconds),
        viewers: args.viewers,
        crowds: args.stream_viewers.into_iter().flatten().collect(),
        run_ms: args.run_ms,
        live_speed: args.live_speed,
        skip_widget: args.skip_widget,
        crowds_only: args.crowds_only,
    };
    let runtime = cli::runtime()?;
    let comparison = runtime.block_on(compare(&options))?;
    let machine = Machine::detect();
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M");
    let chart_name = format!("fan-in-{stamp}.svg");
    let section = comparison.markdown(&machine, &chart_name);
    print!("{section}");
    if let Some(path) = &args.record {
        let chart = path.with_file_name(&chart_name);
        std::fs::write(&chart, svg_chart(&comparison.fan_in, options.run_ms))
            .with_context(|| format!("cannot write {}", chart.display()))?;
        cli::append(path, &section)?;
        println!("\nrecorded in {} and {}", path.display(), chart.display());
    }
    Ok(())
}
