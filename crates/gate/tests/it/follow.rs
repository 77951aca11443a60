//! How `runboard run` follows a run: over the live stream while it works, by polling the
//! report when the server refuses the stream.

use runboard_gate::Exit;

use crate::common::{self, EVERYTHING};

/// The count lines of a plain-line progress (one per change).
fn count_lines(ui: &str) -> Vec<&str> {
    ui.lines().filter(|l| l.contains(" done · ")).collect()
}

#[tokio::test]
async fn a_running_report_is_followed_live_change_by_change() {
    let stack = common::stack(8.0, 12).await;
    let ran = common::run(&stack, &["--preset", EVERYTHING, "--gate", "new"]).await;
    assert_eq!(ran.exit, Exit::Passed, "{}", ran.ui);
    let counts = count_lines(&ran.ui);
    assert!(counts.len() >= 2, "one line per change: {}", ran.ui);
    assert!(
        counts.iter().any(|l| l.starts_with("Running · ")),
        "{}",
        ran.ui
    );
    assert!(
        counts
            .last()
            .is_some_and(|l| l.starts_with("Completed · 12 of 12 done")),
        "{}",
        ran.ui
    );
    assert!(!ran.ui.contains("polling"), "{}", ran.ui);
    stack.shutdown().await;
}

#[tokio::test]
async fn without_a_live_stream_the_report_is_polled() {
    let stack = common::stack_with(20.0, 12, |config| config.live.max_streams = 0).await;
    let ran = common::run(&stack, &["--preset", EVERYTHING, "--gate", "new"]).await;
    assert_eq!(ran.exit, Exit::Passed, "{}", ran.ui);
    assert!(ran.ui.contains("no live stream ("), "{}", ran.ui);
    assert!(ran.ui.contains("); polling"), "{}", ran.ui);
    let counts = count_lines(&ran.ui);
    assert!(
        counts
            .last()
            .is_some_and(|l| l.starts_with("Completed · 12 of 12 done")),
        "{}",
        ran.ui
    );
    assert!(stack.sim.sim.stats().by_endpoint.test_run > 0);
    stack.shutdown().await;
}
