//! Each exit code of `runboard run`, reached against a real Runboard in front of the
//! simulator: 1 and the JUnit file (with a machine token), 0, 2, 3, 4 and 130.

use std::time::{Duration, Instant};

use runboard_gate::Exit;
use runboard_proxy::{demo::Stack, tokens};
use runboard_shared::{ExportFormat, RunId, Target, Verdict, VerdictStatus};

use crate::common::{self, EVERYTHING};

/// The seed-42 catalog of 12 tests: its first run of everything has failures, which
/// nothing classes (no earlier run, no rules), so they block and none is `new`.
const TESTS: usize = 12;

async fn get_bytes(stack: &Stack, target: &Target) -> Vec<u8> {
    let response = reqwest::get(stack.url(&target.path())).await.unwrap();
    assert!(response.status().is_success(), "{}", target.path());
    response.bytes().await.unwrap().to_vec()
}

async fn token(stack: &Stack, name: &str) -> String {
    let scope = tokens::Scope {
        may_start: true,
        presets: Some(vec![EVERYTHING.to_owned()]),
        expires_in: None,
    };
    let project = &stack.config.projects[0].id;
    tokens::mint(stack.server.ledger(), project, name, &scope, "test")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_blocking_failure_exits_1_with_the_server_s_verdict_and_junit() {
    let stack = common::stack(200.0, TESTS).await;
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    let token = token(&stack, "ci").await;
    let ran = common::run_with(
        &stack,
        &[
            "--preset",
            EVERYTHING,
            "--json",
            "--junit",
            junit.to_str().unwrap(),
        ],
        Some(&token),
        std::future::pending(),
    )
    .await;
    assert_eq!(ran.exit, Exit::GateFailed, "{}", ran.ui);

    // --json: the server's verdict, as it answers it now.
    let verdict: Verdict = serde_json::from_str(&ran.out).expect("stdout is the verdict JSON");
    assert_eq!(verdict.status, VerdictStatus::Failed);
    assert!(verdict.blocking > 0);
    let project = stack.config.projects[0].id.clone();
    let run = RunId::parse(verdict.run_id.as_str()).unwrap();
    let again = get_bytes(&stack, &Target::Verdict(project.clone(), run.clone())).await;
    assert_eq!(serde_json::from_slice::<Verdict>(&again).unwrap(), verdict);

    // --junit: the export's bytes, exactly.
    let export = get_bytes(&stack, &Target::Export(project, run, ExportFormat::Junit)).await;
    assert_eq!(std::fs::read(&junit).unwrap(), export);

    // Not a terminal: plain lines, no bar, no cursor movement, no colour.
    assert!(
        !ran.ui.contains('\r') && !ran.ui.contains('\u{1b}'),
        "{:?}",
        ran.ui
    );
    let lines: Vec<&str> = ran.ui.lines().collect();
    assert!(lines[0].starts_with("started feature "), "{lines:?}");
    let done = format!("Completed · {TESTS} of {TESTS} done");
    assert!(lines.iter().any(|l| l.starts_with(&done)), "{lines:?}");
    assert!(
        lines.contains(&verdict.headline().to_string().as_str()),
        "{lines:?}"
    );
    for failure in verdict.failures.iter().filter(|f| f.blocks) {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("✕ {}: ", failure.title))),
            "each failure is told as it fails: {lines:?}"
        );
        let link = format!("/runs/{}?test={}", verdict.run_id, failure.test_id);
        assert!(
            lines.iter().any(|l| l.trim().ends_with(&link)),
            "{link} in {lines:?}"
        );
    }
    let gate = format!("Gate (blocking): failed by {} failure(s)", verdict.blocking);
    assert_eq!(lines.last(), Some(&gate.as_str()));
    assert!(!ran.ui.contains(&token) && !ran.out.contains(&token));
    assert!(
        !ran.ui.contains("polling"),
        "followed over the live stream: {}",
        ran.ui
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn the_new_gate_passes_a_run_whose_failures_are_not_new() {
    let stack = common::stack(200.0, TESTS).await;
    let ran = common::run(&stack, &["--preset", EVERYTHING, "--gate", "new", "--json"]).await;
    assert_eq!(ran.exit, Exit::Passed, "{}", ran.ui);
    let verdict: Verdict = serde_json::from_str(&ran.out).unwrap();
    assert!(
        verdict.counts.failed > 0 && verdict.counts.new == 0,
        "{verdict:?}"
    );
    assert!(ran.ui.ends_with("Gate (new): passed\n"), "{}", ran.ui);
    stack.shutdown().await;
}

#[tokio::test]
async fn configuration_errors_exit_2_before_anything_starts() {
    let stack = common::stack(200.0, TESTS).await;
    let ran = common::run(&stack, &["--preset", "Nightly"]).await;
    assert_eq!(ran.exit, Exit::Usage);
    assert!(
        ran.ui
            .contains("no preset \"Nightly\"; its presets: Everything"),
        "{}",
        ran.ui
    );
    let ran = common::run(&stack, &["--tests", "a,a"]).await;
    assert_eq!(ran.exit, Exit::Usage);
    assert!(ran.ui.contains("repeats a"), "{}", ran.ui);
    assert_eq!(
        stack.sim.sim.stats().by_endpoint.test_execution,
        0,
        "nothing started"
    );

    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("missing-folder").join("report.xml");
    let ran = common::run(
        &stack,
        &["--preset", EVERYTHING, "--junit", junit.to_str().unwrap()],
    )
    .await;
    assert_eq!(ran.exit, Exit::Usage, "{}", ran.ui);
    assert!(ran.ui.contains("cannot write"), "{}", ran.ui);
    stack.shutdown().await;
}

#[tokio::test]
async fn refusals_exit_3_with_the_server_s_reason() {
    let stack = common::stack(200.0, TESTS).await;
    let ran = common::run_with(
        &stack,
        &["--preset", EVERYTHING],
        Some("rbt_NOTATOKEN"),
        std::future::pending(),
    )
    .await;
    assert_eq!(ran.exit, Exit::Refused, "{}", ran.ui);
    assert!(ran.ui.contains("refused (401"), "{}", ran.ui);

    // A token limited to a preset may not start anything else.
    let token = token(&stack, "smoke-only").await;
    let feature = stack
        .catalog
        .features
        .iter()
        .find(|f| !f.all)
        .unwrap()
        .id
        .clone();
    let ran = common::run_with(
        &stack,
        &["--feature", &feature],
        Some(&token),
        std::future::pending(),
    )
    .await;
    assert_eq!(ran.exit, Exit::Refused, "{}", ran.ui);
    assert!(ran.ui.contains("refused (403"), "{}", ran.ui);

    let server = stack.server.url();
    let args = [
        "run",
        "--server",
        server.as_str(),
        "--project",
        "no-such-project",
        "--test",
        "t1",
    ];
    let ran = common::run_args(&args).await;
    assert_eq!(ran.exit, Exit::Refused, "{}", ran.ui);
    assert!(ran.ui.contains("unknown_project"), "{}", ran.ui);
    assert_eq!(
        stack.sim.sim.stats().by_endpoint.test_execution,
        0,
        "nothing started"
    );

    // A run whose agent never connects… is the timeout's; a job that ends without a
    // report is the platform failing: the broken agent's jobs fail before their run.
    let ran = common::run(&stack, &["--preset", EVERYTHING, "--agent", "broken-agent"]).await;
    assert_eq!(ran.exit, Exit::Refused, "{}", ran.ui);
    assert!(ran.ui.contains("no report"), "{}", ran.ui);
    stack.shutdown().await;
}

#[tokio::test]
async fn a_timeout_exits_4_and_the_run_goes_on() {
    // Real time: the run takes far longer than the gate waits.
    let stack = common::stack(1.0, TESTS).await;
    let ran = common::run(&stack, &["--preset", EVERYTHING, "--timeout", "300ms"]).await;
    assert_eq!(ran.exit, Exit::Timeout, "{}", ran.ui);
    assert!(
        ran.ui
            .contains("timed out after 300ms; stopped following. The run itself goes on."),
        "{}",
        ran.ui
    );
    assert!(
        ran.ui.contains("Job: ") || ran.ui.contains("Report: "),
        "{}",
        ran.ui
    );
    assert_eq!(stack.sim.sim.stats().by_endpoint.test_execution, 1);
    stack.shutdown().await;
}

#[tokio::test]
async fn ctrl_c_stops_following_with_130_and_says_the_run_goes_on() {
    let stack = common::stack(1.0, TESTS).await;
    let sim = stack.sim.sim.clone();
    // Ctrl-C once the start reached the platform.
    let stop = async move {
        let deadline = Instant::now() + Duration::from_secs(20);
        while sim.stats().by_endpoint.test_execution == 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let ran = common::run_with(&stack, &["--preset", EVERYTHING], None, stop).await;
    assert_eq!(ran.exit, Exit::Interrupted, "{}", ran.ui);
    assert!(
        ran.ui
            .contains("interrupted; stopped following. The run itself goes on."),
        "{}",
        ran.ui
    );
    stack.shutdown().await;
}
