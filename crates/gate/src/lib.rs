//! `runboard run`, the gate a pipeline calls (issue 22): starts a run through a Runboard
//! server (so the start is recorded, permissions apply and presets are the server's),
//! follows it live, prints its verdict and exits with a code a CI system acts on.
//!
//! The `runboard` binary parses [`RunArgs`] and calls [`main`]; tests call [`run`] with
//! their own writers, token and stop signal.

mod args;
mod client;
mod exit;
mod follow;
mod progress;
mod sse;
mod summary;

use std::{future::Future, io::Write, path::Path, process::ExitCode, time::Duration};

use runboard_shared::{Bootstrap, ExecuteRequest, ExecuteResponse, ProjectInfo, RunId, Target};

pub use args::{EXIT_CODES, Gate, RunArgs, Start, What};
pub use client::Token;
pub use exit::{Exit, GateError};

use crate::{
    client::Client,
    follow::{Follow, Tracking, VerdictAnswer},
    progress::Progress,
    summary::End,
};

/// Where the gate writes: `out` gets only the verdict JSON (`--json`); `ui` gets what
/// people read (progress lines, the end); `terminal` picks a progress bar (drawn on
/// standard error) over plain lines.
pub struct Console<'a> {
    /// Standard output in the binary.
    pub out: &'a mut dyn Write,
    /// Standard output, or standard error with `--json`, in the binary.
    pub ui: &'a mut dyn Write,
    /// Whether a person watches a terminal.
    pub terminal: bool,
}

/// The binary's entry: the token from `RUNBOARD_TOKEN`, people's text on standard output
/// (standard error with `--json`), a bar when standard error is a terminal, and Ctrl-C
/// as the stop signal.
pub async fn main(args: RunArgs) -> ExitCode {
    use std::io::IsTerminal;
    let (mut stdout, mut people) = (std::io::stdout(), std::io::stdout());
    let mut stderr = std::io::stderr();
    let terminal = stderr.is_terminal();
    let ui: &mut dyn Write = if args.json { &mut stderr } else { &mut people };
    let console = Console {
        out: &mut stdout,
        ui,
        terminal,
    };
    run(args, Token::from_env(), console, ctrl_c()).await.into()
}

async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Runs the gate: starts what `args` asks for, follows it until it is final, `timeout`
/// passes or `stop` resolves, and says how it ended. The run itself is never stopped.
pub async fn run(
    args: RunArgs,
    token: Option<Token>,
    console: Console<'_>,
    stop: impl Future<Output = ()>,
) -> Exit {
    let Console { out, ui, terminal } = console;
    let start = match args.what.start() {
        Ok(start) => start,
        Err(error) => return fail(ui, &GateError::Usage(error.to_string())),
    };
    let client = match Client::new(&args.server, token) {
        Ok(client) => client,
        Err(error) => return fail(ui, &error),
    };
    let mut tracking = Tracking::default();
    let mut progress = Progress::new(terminal);
    let ended = {
        let work = gate(&args, &client, start, &mut tracking, &mut progress, ui);
        tokio::select! {
            outcome = work => Ended::Done(outcome),
            () = tokio::time::sleep(args.timeout) => Ended::Stopped(Exit::Timeout),
            () = stop => Ended::Stopped(Exit::Interrupted),
        }
    };
    let outcome = match ended {
        Ended::Done(outcome) => outcome,
        Ended::Stopped(exit) => return stopped(ui, &mut progress, &client, &args, &tracking, exit),
    };
    progress.finish();
    match outcome {
        Ok(finished) => conclude(&args, &client, out, ui, finished),
        Err(error) => fail(ui, &error),
    }
}

/// How following ended: with an outcome, or stopped first (timeout, Ctrl-C).
enum Ended {
    Done(Result<Box<Finished>, GateError>),
    Stopped(Exit),
}

/// A final run: its report, verdict and JUnit bytes.
struct Finished {
    run: RunId,
    report: runboard_shared::TestRun,
    verdict: VerdictAnswer,
    junit: Option<Vec<u8>>,
}

/// Everything up to the verdict.
async fn gate(
    args: &RunArgs,
    client: &Client,
    start: Start,
    tracking: &mut Tracking,
    progress: &mut Progress,
    ui: &mut dyn Write,
) -> Result<Box<Finished>, GateError> {
    let bootstrap: Bootstrap = client.get(&Target::Bootstrap).await?;
    let project = project(&bootstrap, args)?;
    let request = request(project, start, args)?;
    let target = Target::Execute(args.project.clone());
    let answer: ExecuteResponse = client.post(&target, &request).await?;
    if !answer.success || answer.job_id.is_empty() {
        return Err(GateError::NoReport("the start was not accepted".to_owned()));
    }
    tracking.job = Some(answer.job_id.clone());
    let queued = match answer.schedule_status {
        runboard_shared::ScheduleStatus::AlreadyExists => " (already queued: following it)",
        _ => "",
    };
    let what = request.selector.describe();
    progress.note(
        ui,
        &format!("started {what} — job {}{queued}", answer.job_id),
    );
    let heartbeat = Duration::from_millis(bootstrap.live_heartbeat_ms.max(1000));
    let mut follow = Follow {
        client,
        project: &args.project,
        poll: bootstrap.poll,
        silence: heartbeat * 2,
        progress,
        ui,
        tracking,
    };
    let run = follow.run_of(&answer.job_id).await?;
    follow.tracking.run = Some(run.clone());
    let report = follow.report(&run).await?;
    let verdict = follow.verdict(&run).await?;
    let junit = match &args.junit {
        Some(_) => {
            let target = Target::Export(
                args.project.clone(),
                run.clone(),
                runboard_shared::ExportFormat::Junit,
            );
            Some(client.bytes(&target).await?)
        }
        None => None,
    };
    Ok(Box::new(Finished {
        run,
        report,
        verdict,
        junit,
    }))
}

/// The project of `args` as the server shows it to this caller.
fn project<'a>(bootstrap: &'a Bootstrap, args: &RunArgs) -> Result<&'a ProjectInfo, GateError> {
    bootstrap
        .projects
        .iter()
        .find(|p| p.id == args.project)
        .ok_or_else(|| GateError::Refused {
            what: Target::Bootstrap.path(),
            status: 404,
            code: Some("unknown_project".to_owned()),
            message: format!(
                "the server has no project {} that this caller may see",
                args.project
            ),
        })
}

/// The start's body: a preset of the server's, or the selector given; `--agent` wins
/// over a preset's agent.
fn request(
    project: &ProjectInfo,
    start: Start,
    args: &RunArgs,
) -> Result<ExecuteRequest, GateError> {
    match start {
        Start::Selector(selector) => Ok(ExecuteRequest::new(selector, args.agent.clone())),
        Start::Preset(name) => {
            let preset = project
                .presets
                .iter()
                .find(|p| p.name == name)
                .ok_or_else(|| {
                    let names: Vec<&str> =
                        project.presets.iter().map(|p| p.name.as_str()).collect();
                    GateError::Usage(format!(
                        "project {} has no preset {name:?}; its presets: {}",
                        project.id,
                        if names.is_empty() {
                            "none".to_owned()
                        } else {
                            names.join(", ")
                        }
                    ))
                })?;
            let agent = args.agent.clone().or_else(|| preset.agent_name.clone());
            Ok(ExecuteRequest::new(preset.selector.clone(), agent))
        }
    }
}

/// Prints the end, writes the JUnit file and the JSON, and decides the exit code.
fn conclude(
    args: &RunArgs,
    client: &Client,
    out: &mut dyn Write,
    ui: &mut dyn Write,
    finished: Box<Finished>,
) -> Exit {
    let verdict = &finished.verdict.verdict;
    let end = End {
        base: client.base(),
        project: &args.project,
        run: &finished.run,
        verdict,
        report: &finished.report,
        gate: args.gate,
    };
    let _ = summary::write(ui, &end);
    if args.json {
        let _ = writeln!(out, "{}", finished.verdict.json.trim_end());
    }
    if let (Some(path), Some(bytes)) = (&args.junit, &finished.junit) {
        if let Err(error) = write_file(path, bytes) {
            return fail(
                ui,
                &GateError::Usage(format!("cannot write {}: {error}", path.display())),
            );
        }
        let _ = writeln!(ui, "JUnit: {}", path.display());
    }
    if finished.report.status == runboard_shared::RunStatus::Aborted {
        return fail(
            ui,
            &GateError::NoReport("the run was aborted; not every test ran".to_owned()),
        );
    }
    let failing = summary::failing(verdict, args.gate).len();
    let gate = match args.gate {
        Gate::Blocking => "blocking",
        Gate::Any => "any",
        Gate::New => "new",
    };
    if failing == 0 {
        let _ = writeln!(ui, "Gate ({gate}): passed");
        Exit::Passed
    } else {
        let _ = writeln!(ui, "Gate ({gate}): failed by {failing} failure(s)");
        Exit::GateFailed
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// Following stopped before the end (timeout or Ctrl-C): says so, and where the run,
/// which goes on, can be watched.
fn stopped(
    ui: &mut dyn Write,
    progress: &mut Progress,
    client: &Client,
    args: &RunArgs,
    tracking: &Tracking,
    exit: Exit,
) -> Exit {
    progress.finish();
    let why = match exit {
        Exit::Timeout => format!(
            "timed out after {}",
            humantime::format_duration(args.timeout)
        ),
        _ => "interrupted".to_owned(),
    };
    let _ = writeln!(
        ui,
        "runboard run: {why}; stopped following. The run itself goes on."
    );
    match (&tracking.run, &tracking.job) {
        (Some(run), _) => {
            let _ = writeln!(
                ui,
                "Report: {}",
                summary::link(client.base(), &args.project, run, None)
            );
        }
        (None, Some(job)) => {
            let _ = writeln!(ui, "Job: {job} (no run record yet)");
        }
        (None, None) => {
            let _ = writeln!(
                ui,
                "No start was answered yet: if it reached the server, the project's history shows it."
            );
        }
    }
    exit
}

fn fail(ui: &mut dyn Write, error: &GateError) -> Exit {
    let _ = writeln!(ui, "runboard run: {error}");
    error.exit()
}
