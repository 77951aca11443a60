//! The binary's command line: `check-config` on the shipped example and on a bad file,
//! and the first stdout line of a server started on port 0.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

const BIN: &str = env!("CARGO_BIN_EXE_runboard");

fn example() -> String {
    format!("{}/../runboard.example.toml", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn check_config_accepts_the_example_and_names_a_bad_setting() {
    let ok = Command::new(BIN)
        .args(["check-config", &example()])
        .env("RUNBOARD_KEY_WEBSHOP", "example-key")
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(!String::from_utf8_lossy(&ok.stdout).contains("example-key"));

    let missing_key = Command::new(BIN)
        .args(["check-config", &example()])
        .env_remove("RUNBOARD_KEY_WEBSHOP")
        .output()
        .unwrap();
    assert_eq!(missing_key.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing_key.stderr).contains("projects[0].api_key_env"));

    let bad_timeout = Command::new(BIN)
        .args(["check-config", &example()])
        .env("RUNBOARD_KEY_WEBSHOP", "example-key")
        .env("RUNBOARD_UPSTREAM_TIMEOUT_MS", "5")
        .output()
        .unwrap();
    assert_eq!(bad_timeout.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_timeout.stderr).contains("upstream.timeout_ms"));
}

#[test]
fn port_zero_prints_the_address_first() {
    let mut child = Command::new(BIN)
        .args(["--config", &example()])
        .env("RUNBOARD_KEY_WEBSHOP", "example-key")
        .env("RUNBOARD_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let addr = first
        .trim()
        .strip_prefix("listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("{first:?}"));
    assert!(addr.parse::<u16>().unwrap() > 0);
}
