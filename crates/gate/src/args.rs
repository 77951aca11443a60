//! The command line of `runboard run`: where the server is, what to run, which gate to
//! apply and where to put the results. Ids are parsed into `shared`'s validated types
//! here, so a bad id is a usage error (exit 2) before anything is sent.

use std::{path::PathBuf, time::Duration};

use clap::{Args, Parser, ValueEnum};
use reqwest::Url;
use runboard_shared::{AgentName, Id, ProjectId, Selector, ValidationError};

/// The exit codes, shown under `runboard run --help` (and in the README).
pub const EXIT_CODES: &str = "\
Exit codes:
  0    the gate passed
  1    the gate failed (--gate blocking: a blocking failure; any: any failure; new: a new failure)
  2    usage or configuration error (arguments, unknown preset, unwritable --junit file)
  3    the server or the platform refused or failed, or the run ended without a report
  4    timeout (--timeout): the run goes on, its link is printed
  130  interrupted (Ctrl-C): following stopped, the run goes on, its link is printed

The token is read from RUNBOARD_TOKEN only, never from an argument; without it requests
carry no Authorization header (enough where the server runs with auth mode none).";

/// Start a run through a Runboard server, follow it and exit with its verdict: the gate a
/// pipeline calls.
#[derive(Debug, Clone, Parser)]
#[command(after_help = EXIT_CODES)]
pub struct RunArgs {
    /// The Runboard server, e.g. https://runboard.example.com.
    #[arg(long, value_name = "URL", env = "RUNBOARD_SERVER", value_parser = server_url)]
    pub server: Url,
    /// The project, by its id.
    #[arg(long, value_name = "ID", value_parser = project_id)]
    pub project: ProjectId,
    /// What to run: exactly one of these.
    #[command(flatten)]
    pub what: What,
    /// The agent to run on (a preset's own agent otherwise).
    #[arg(long, value_name = "NAME", value_parser = agent_name)]
    pub agent: Option<AgentName>,
    /// Which failures fail the gate.
    #[arg(long, value_enum, default_value_t = Gate::Blocking)]
    pub gate: Gate,
    /// Write the run's JUnit XML here (the server's export, byte for byte).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Print the verdict as JSON on standard output (everything else goes to standard
    /// error then).
    #[arg(long)]
    pub json: bool,
    /// Give up following after this long (exit 4); the run itself goes on.
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = duration)]
    pub timeout: Duration,
}

/// What to run: a preset of the server's configuration, or a selector of the guide.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct What {
    /// A preset of the project, by name (as the widget's buttons show it).
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    /// Every test of a feature.
    #[arg(long, value_name = "ID", value_parser = id("featureId"))]
    pub feature: Option<Id>,
    /// Every test of a test suite.
    #[arg(long, value_name = "ID", value_parser = id("testSuiteId"))]
    pub suite: Option<Id>,
    /// One test.
    #[arg(long, value_name = "ID", value_parser = id("testId"))]
    pub test: Option<Id>,
    /// A list of tests, separated by commas.
    #[arg(long, value_name = "A,B", value_delimiter = ',', num_args = 1..)]
    pub tests: Option<Vec<String>>,
}

/// The start asked for: a preset's name, to be looked up on the server, or a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// A preset by name.
    Preset(String),
    /// A selector as given.
    Selector(Selector),
}

impl What {
    /// The start these arguments ask for; a bad list of tests is a usage error.
    pub fn start(&self) -> Result<Start, ValidationError> {
        if let Some(name) = &self.preset {
            return Ok(Start::Preset(name.clone()));
        }
        let single = [
            self.feature.clone().map(Selector::Feature),
            self.suite.clone().map(Selector::TestSuite),
            self.test.clone().map(Selector::Test),
        ];
        if let Some(selector) = single.into_iter().flatten().next() {
            return Ok(Start::Selector(selector));
        }
        Selector::tests(self.tests.as_deref().unwrap_or_default()).map(Start::Selector)
    }
}

/// Which failures fail the gate (`--gate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Gate {
    /// Failures that block: all but quarantined ones and known issues that do not block.
    Blocking,
    /// Every failure, whatever its class.
    Any,
    /// Only failures classed `new` (passed in the previous run of the same selection).
    New,
}

fn server_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("give an http:// or https:// address".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("give the server's address without a query or fragment".to_owned());
    }
    Ok(url)
}

fn project_id(text: &str) -> Result<ProjectId, String> {
    ProjectId::parse(text).map_err(|e| e.to_string())
}

fn agent_name(text: &str) -> Result<AgentName, String> {
    AgentName::parse(text).map_err(|e| e.to_string())
}

fn id(field: &'static str) -> impl Fn(&str) -> Result<Id, String> + Clone {
    move |text| Id::parse(field, text).map_err(|e| e.to_string())
}

fn duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if duration.is_zero() {
        return Err("give a duration above zero, such as 30m".to_owned());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;

    use super::*;

    fn parse(args: &[&str]) -> Result<RunArgs, clap::Error> {
        let mut all = vec![
            "run",
            "--server",
            "http://127.0.0.1:8080",
            "--project",
            "p1",
        ];
        all.extend_from_slice(args);
        RunArgs::try_parse_from(all)
    }

    #[test]
    fn exactly_one_thing_to_run() {
        let check = |args: &[&str], want: Result<Start, ErrorKind>| {
            let got = parse(args)
                .map_err(|e| e.kind())
                .map(|a| a.what.start().expect("a valid start"));
            assert_eq!(got, want, "{args:?}");
        };
        let id = |s: &str| Id::parse("x", s).unwrap();
        check(&["--preset", "Smoke"], Ok(Start::Preset("Smoke".into())));
        check(
            &["--feature", "f1"],
            Ok(Start::Selector(Selector::Feature(id("f1")))),
        );
        check(
            &["--suite", "s1"],
            Ok(Start::Selector(Selector::TestSuite(id("s1")))),
        );
        check(
            &["--test", "t1"],
            Ok(Start::Selector(Selector::Test(id("t1")))),
        );
        check(
            &["--tests", "a,b"],
            Ok(Start::Selector(Selector::Tests(vec![id("a"), id("b")]))),
        );
        check(&[], Err(ErrorKind::MissingRequiredArgument));
        check(
            &["--feature", "f1", "--test", "t1"],
            Err(ErrorKind::ArgumentConflict),
        );
        check(&["--feature", "no/slash"], Err(ErrorKind::ValueValidation));
    }

    #[test]
    fn a_repeated_test_in_the_list_is_refused_before_sending() {
        let args = parse(&["--tests", "a,a"]).unwrap();
        assert!(
            args.what
                .start()
                .unwrap_err()
                .to_string()
                .contains("repeats a")
        );
    }

    #[test]
    fn defaults_and_values() {
        let args = parse(&["--preset", "Smoke"]).unwrap();
        assert_eq!(args.gate, Gate::Blocking);
        assert_eq!(args.timeout, Duration::from_secs(30 * 60));
        let args = parse(&["--preset", "S", "--gate", "new", "--timeout", "90s"]).unwrap();
        assert_eq!(
            (args.gate, args.timeout),
            (Gate::New, Duration::from_secs(90))
        );
        for bad in [
            &["--preset", "S", "--timeout", "soon"][..],
            &["--preset", "S", "--timeout", "0s"],
            &["--preset", "S", "--gate", "some"],
        ] {
            assert_eq!(parse(bad).unwrap_err().exit_code(), 2, "{bad:?}");
        }
        let server = RunArgs::try_parse_from([
            "run",
            "--server",
            "ftp://x",
            "--project",
            "p",
            "--test",
            "t",
        ]);
        assert_eq!(server.unwrap_err().exit_code(), 2, "usage errors exit 2");
    }

    #[test]
    fn help_lists_the_exit_codes_and_no_token_option() {
        let help = <RunArgs as clap::CommandFactory>::command()
            .render_long_help()
            .to_string();
        for code in ["0 ", "1 ", "2 ", "3 ", "4 ", "130 "] {
            assert!(
                help.contains(&format!("  {code}")),
                "exit code {code} in {help}"
            );
        }
        assert!(!help.contains("--token"), "the token is never an argument");
    }
}
