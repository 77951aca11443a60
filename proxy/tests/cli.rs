//! The binary's command line: `check-config` on the shipped example and on bad files
//! (never echoing a key or a value from the file), its warnings, and the first stdout
//! line of a server started on port 0.

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
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(!stdout.contains("example-key"));
    assert!(!String::from_utf8_lossy(&ok.stderr).contains("example-key"));
    assert!(
        stdout.contains("groups [qa, release]"),
        "who may run is said per project: {stdout}"
    );

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
    let stderr = String::from_utf8_lossy(&bad_timeout.stderr);
    assert!(stderr.contains("upstream.timeout_ms"));
    assert!(!stderr.contains("example-key"), "{stderr}");
}

#[test]
fn check_config_never_echoes_a_key_or_a_misplaced_secret() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, "file-key-0123456789\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let config = dir.path().join("runboard.toml");
    let project = format!(
        "[upstream]\nurl = \"https://platform.example.com\"\n[[projects]]\nid = \"p1\"\n\
         api_key_file = {:?}\n",
        key_file.display().to_string()
    );
    std::fs::write(&config, &project).unwrap();
    let output = Command::new(BIN)
        .arg("check-config")
        .arg(&config)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stderr}");
    #[cfg(unix)]
    assert!(
        stderr.contains("warning: projects[0].api_key_file") && stderr.contains("chmod 600"),
        "{stderr}"
    );
    assert!(!stdout.contains("file-key") && !stderr.contains("file-key"));

    // A key pasted into a setting that wants a number: the error names the line and
    // the setting, never the value.
    let secret = "sk-live-0123456789abcdef";
    std::fs::write(
        &config,
        format!("{project}[poll]\njobs_ms = \"{secret}\"\n"),
    )
    .unwrap();
    let output = Command::new(BIN)
        .arg("check-config")
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains("line 7") && stderr.contains("`jobs_ms`"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(secret) && !stderr.contains("sk-live"),
        "{stderr}"
    );
}

#[test]
fn port_zero_prints_the_address_first() {
    let mut child = Command::new(BIN)
        .args(["--config", &example()])
        .env("RUNBOARD_KEY_WEBSHOP", "example-key")
        .env("RUNBOARD_LISTEN", "127.0.0.1:0")
        // The example's ledger is under /var/lib; this test needs none that lasts.
        .env("RUNBOARD_LEDGER_URL", "sqlite::memory:")
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

#[test]
fn check_config_warns_about_open_access() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("runboard.toml");
    let text = |listen: &str| {
        format!(
            "listen = \"{listen}\"\n[upstream]\nurl = \"https://platform.example.com\"\n\
             [auth]\nmode = \"none\"\n[[projects]]\nid = \"p1\"\napi_key_env = \"KEY_P1\"\n"
        )
    };
    let check = |listen: &str| {
        std::fs::write(&config, text(listen)).unwrap();
        let output = Command::new(BIN)
            .arg("check-config")
            .arg(&config)
            .env("KEY_P1", "open-key-0123")
            .output()
            .unwrap();
        assert!(output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let open = check("192.0.2.10:8080");
    assert!(
        open.contains("warning: auth.mode = \"none\" on 192.0.2.10:8080"),
        "{open}"
    );
    assert!(!open.contains("open-key"));
    assert_eq!(check("127.0.0.1:0"), "");
}
