//! Tests that need the whole process to themselves (a global log subscriber, a panic
//! hook, counts of the process's file descriptors and memory) run in a child process of
//! this same test binary that runs only them, so the suite stays one binary.

use std::process::Stdio;

use tokio::process::Command;

/// Set in the child process to the name of the one test it runs.
const ALONE: &str = "RUNBOARD_TEST_ALONE";

/// Whether the test called `name` (its path in this binary, as `cargo test` lists it)
/// should run its body here. In the child started for it: yes. Otherwise this runs the
/// binary again with only that test selected, fails if the child fails or ran anything
/// but that one test, and answers no.
pub async fn in_own_process(name: &str) -> bool {
    if std::env::var(ALONE).is_ok_and(|running| running == name) {
        return true;
    }
    let binary = std::env::current_exe().expect("the test binary's path");
    let output = Command::new(binary)
        .args([name, "--exact", "--test-threads=1"])
        .env(ALONE, name)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("the test binary starts again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    // The harness shows this when the test fails (or runs with --nocapture).
    println!("{name}, in its own process:\n{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{name} failed in its own process");
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{name} ran no test in its own process: is it this test's path?"
    );
    false
}
