//! `runboard run` as the real binary (the gate's own tests in `crates/gate` call it as a
//! library): clap's usage errors exit 2, `--help` lists the exit codes, and a whole run
//! against a live stack exits as its verdict says, in plain lines (not a terminal).

use std::process::Stdio;

use runboard_shared::{Verdict, VerdictStatus};
use tokio::process::Command;

use crate::common::{self, PROJECT};

const BIN: &str = env!("CARGO_BIN_EXE_runboard");

#[tokio::test]
async fn usage_errors_exit_2_and_help_lists_the_exit_codes() {
    let usage = Command::new(BIN)
        .args([
            "run",
            "--server",
            "http://127.0.0.1:9",
            "--project",
            PROJECT,
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&usage.stderr);
    assert!(
        stderr.contains("--preset"),
        "names what is missing: {stderr}"
    );

    let help = Command::new(BIN)
        .args(["run", "--help"])
        .output()
        .await
        .unwrap();
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    for line in [
        "  0    the gate passed",
        "  4    timeout",
        "  130  interrupted",
    ] {
        assert!(text.contains(line), "{line:?} in {text}");
    }
}

#[tokio::test]
async fn a_run_exits_as_its_verdict_says() {
    let harness = common::start(|_| {}).await;
    let server = harness.server.url();
    let feature = harness.feature_id();
    let ran = Command::new(BIN)
        .args(["run", "--server", server.as_str(), "--project", PROJECT])
        .args(["--feature", feature.as_str(), "--gate", "any", "--json"])
        .env_remove("RUNBOARD_TOKEN")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&ran.stderr);
    let verdict: Verdict = serde_json::from_slice(&ran.stdout)
        .unwrap_or_else(|e| panic!("stdout is the verdict ({e}); stderr: {stderr}"));
    assert_ne!(verdict.status, VerdictStatus::Running);
    let want = if verdict.counts.failed > 0 { 1 } else { 0 };
    assert_eq!(ran.status.code(), Some(want), "{stderr}");
    assert!(stderr.contains(&verdict.headline().to_string()), "{stderr}");
    assert!(stderr.contains(&format!("Report: {server}")), "{stderr}");
    assert!(
        !stderr.contains('\r') && !stderr.contains('\u{1b}'),
        "plain lines: {stderr:?}"
    );
    harness.server.shutdown().await;
    harness.sim.shutdown().await;
}
