//! The `runboard-remote` binary: the widget in headless Chromium on an emulated slow link
//! (issue 20's remote viewer); prints the Markdown section and, with `--record FILE`,
//! appends it there.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context;
use clap::Parser;
use runboard_bench::{Link, Machine, RemoteOptions, cli, remote};

/// The time to the verdict and the bytes on the wire of four pages, on a slow link with
/// a cold cache: the start page, finished 36- and 10,000-test reports, a live
/// 2,000-test report until final.
#[derive(Debug, Parser)]
#[command(name = "runboard-remote", version)]
struct Args {
    /// The `runboard` binary to measure (a release build).
    #[arg(long)]
    runboard: PathBuf,
    /// The built widget `runboard` serves.
    #[arg(long, default_value = "frontend/dist")]
    widget_dir: PathBuf,
    /// Visits of each page; the table shows their median.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=20))]
    visits: u64,
    /// The simulator's speed for the live run (100: 2,000 tests last about 40 s).
    #[arg(long, default_value_t = 100.0)]
    live_speed: f64,
    /// Downlink, kbit/s.
    #[arg(long, default_value_t = Link::REMOTE.down_kbps)]
    down_kbps: u32,
    /// Uplink, kbit/s.
    #[arg(long, default_value_t = Link::REMOTE.up_kbps)]
    up_kbps: u32,
    /// Added round-trip latency, ms.
    #[arg(long, default_value_t = 150)]
    latency_ms: u64,
    /// What was measured, for the record (default: the commit, "+ local changes" when
    /// tracked files differ).
    #[arg(long)]
    measured: Option<String>,
    /// Append the section to this file.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    cli::main_of("runboard-remote", || run(args).map(|()| ExitCode::SUCCESS))
}

fn run(args: Args) -> anyhow::Result<()> {
    let options = RemoteOptions {
        runboard: args.runboard,
        widget_dir: args.widget_dir,
        visits: usize::try_from(args.visits).context("visits")?,
        live_speed: args.live_speed,
        link: Link {
            down_kbps: args.down_kbps,
            up_kbps: args.up_kbps,
            latency: Duration::from_millis(args.latency_ms),
        },
    };
    let runtime = cli::runtime()?;
    let report = runtime.block_on(remote(&options))?;
    let machine = Machine::detect();
    let measured = args
        .measured
        .unwrap_or_else(|| format!("commit {}", machine.commit));
    let section = report.markdown(&machine, &measured);
    print!("{section}");
    if let Some(path) = &args.record {
        cli::append(path, &section)?;
        println!("\nrecorded in {}", path.display());
    }
    Ok(())
}
