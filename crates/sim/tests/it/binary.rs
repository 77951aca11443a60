//! The `runboard-sim` binary: its first line, the demo project, a request over HTTP,
//! graceful exit on SIGTERM, clear refusal of bad flags, and the switches in `--help`
//! and in force.

use std::{
    io::{BufRead, BufReader, Lines},
    process::{Child, ChildStdout, Command, Stdio},
    time::{Duration, Instant},
};

use runboard_shared::{ProjectId, jobs_path};

const BIN: &str = env!("CARGO_BIN_EXE_runboard-sim");

/// Starts the binary on port 0 with `args`: the child, its remaining output lines, and
/// the URL its first line names.
fn serve(args: &[&str]) -> (Child, Lines<BufReader<ChildStdout>>, String) {
    let mut child = Command::new(BIN)
        .args(["--addr", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start runboard-sim");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a first line").expect("text");
    let url = first
        .strip_prefix("listening on ")
        .expect("first line names the address")
        .to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
        "{first}"
    );
    (child, lines, url)
}

#[tokio::test]
async fn prints_its_address_first_serves_and_stops_on_sigterm() {
    let (mut child, mut lines, url) = serve(&["--speed", "50", "--tests", "12"]);
    let demo = lines.next().expect("demo line").expect("text");
    let words: Vec<&str> = demo.split_whitespace().collect();
    assert_eq!(words[..2], ["demo", "project"], "{demo}");
    let (project, key) = (words[2].to_owned(), words[4].to_owned());
    assert_eq!(project.len(), 24);

    let client = reqwest::Client::new();
    let jobs = client
        .post(format!(
            "{url}{}",
            jobs_path(&ProjectId::parse(&project).unwrap())
        ))
        .header("x-api-key", &key)
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(jobs.status(), 200);
    let catalog: runboard_sim::CatalogList = client
        .get(format!("{url}/__sim/catalog"))
        .send()
        .await
        .expect("catalog")
        .json()
        .await
        .expect("json");
    assert_eq!(catalog.projects[0].test_count, 12);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(Instant::now() < deadline, "did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn bad_flags_are_refused_with_a_reason() {
    for (args, mention) in [
        (vec!["--speed", "0"], "speed"),
        (vec!["--speed", "fast"], "speed"),
        (vec!["--tests", "0"], "tests"),
        (vec!["--project", "no-colon"], "ID:KEY"),
        (vec!["--drop-rate", "3"], "dropRate"),
        (vec!["--addr", "nowhere"], "addr"),
        (vec!["--echo-key", "loud"], "echo-key"),
    ] {
        let output = Command::new(BIN).args(&args).output().expect("run");
        assert!(!output.status.success(), "{args:?} accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(mention), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn help_names_the_switches() {
    let output = Command::new(BIN).arg("--help").output().expect("run");
    let help = String::from_utf8_lossy(&output.stdout);
    for switch in [
        "--odd-shapes",
        "--echo-key",
        "/__sim/requests",
        "refusing-agent",
    ] {
        assert!(
            help.contains(switch),
            "{switch} missing from --help:\n{help}"
        );
    }
}

#[tokio::test]
async fn switches_on_the_command_line_are_in_force() {
    let (mut child, _lines, url) = serve(&["--odd-shapes", "--echo-key", "base64"]);
    let faults: serde_json::Value = reqwest::get(format!("{url}/__sim/faults"))
        .await
        .expect("faults")
        .json()
        .await
        .expect("json");
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert_eq!(faults["shapes"], "odd", "{faults}");
    assert_eq!(faults["echo_key"], "base64", "{faults}");
}
