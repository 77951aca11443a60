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
    let (code, stdout, stderr) = check_config(&config, &[]);
    assert_eq!(code, Some(0), "{stderr}");
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
    let (code, _, stderr) = check_config(&config, &[]);
    assert_eq!(code, Some(2));
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
        let (code, _, stderr) = check_config(&config, &[("KEY_P1", "open-key-0123456789")]);
        assert_eq!(code, Some(0), "{stderr}");
        stderr
    };
    let open = check("192.0.2.10:8080");
    assert!(
        open.contains("warning: auth.mode = \"none\" on 192.0.2.10:8080"),
        "{open}"
    );
    assert!(!open.contains("open-key"));
    assert_eq!(check("127.0.0.1:0"), "");
}

/// Issue 18, finding 2: a listener beyond loopback without `public_url` serves only
/// loopback names and its own address; `check-config` says so, and names the fix.
#[test]
fn check_config_warns_about_a_listen_address_without_public_url() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("runboard.toml");
    let check = |head: &str| {
        let text = format!(
            "{head}\n[upstream]\nurl = \"https://platform.example.com\"\n\
             [[projects]]\nid = \"p1\"\napi_key_env = \"KEY_P1\"\n"
        );
        std::fs::write(&config, text).unwrap();
        let (code, _, stderr) = check_config(&config, &[("KEY_P1", "listen-key-0123456789")]);
        assert_eq!(code, Some(0), "{stderr}");
        stderr
    };
    // Written with a placeholder: tests never name a listen address other than port 0
    // on loopback (the tidy test), and this one only checks a file, it listens nowhere.
    let listen = |addr: std::net::IpAddr| format!("listen = \"{addr}:8080\"");
    let any = std::net::Ipv4Addr::UNSPECIFIED.into();
    let bare = check(&listen(any));
    assert!(
        bare.contains("warning: public_url is not set while listening on 0.0.0.0:8080")
            && bare.contains("421")
            && bare.contains("set public_url"),
        "{bare}"
    );
    let specific = check("listen = \"192.0.2.10:8080\"");
    assert!(
        specific.contains("only requests for localhost, 127.0.0.1, [::1] or 192.0.2.10:8080"),
        "{specific}"
    );
    let public = check(&format!(
        "{}\npublic_url = \"https://runboard.example.com\"",
        listen(any)
    ));
    assert!(!public.contains("public_url"), "{public}");
    assert!(!check(&listen(std::net::Ipv4Addr::LOCALHOST.into())).contains("public_url"));
}

/// Issue 18, finding 4: `check-config` says who may start runs in each project, and a
/// file that sets run lists without `auth.mode` stops start-up with the setting named.
#[test]
fn check_config_says_who_may_start_runs_and_a_missing_mode_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("runboard.toml");
    let text = header_config(
        "run_users = []\n",
        &[
            ("closed", "run_groups = []\n"),
            ("open", "run_everyone = true\n"),
            (
                "named",
                "run_users = [\"a\", \"b\"]\nrun_groups = [\"qa\"]\n",
            ),
            ("watched", "view_only = true\n"),
        ],
    );
    std::fs::write(&config, text).unwrap();
    let (code, stdout, stderr) = check_config(&config, &[("KEY_P", "who-key-0123456789")]);
    assert_eq!(code, Some(0), "{stderr}");
    for line in [
        "project closed (closed): nobody may start runs (view only)",
        "project open (open): every signed-in user may start runs (run_everyone)",
        "project named (named): users [a, b] and groups [qa] may start runs",
        "project watched (watched): nobody may start runs (view_only)",
    ] {
        assert!(stdout.contains(line), "{line:?} in\n{stdout}");
    }
    assert!(
        stderr.contains("warning: project closed: nobody may start runs")
            && stderr.contains("run_everyone = true"),
        "{stderr}"
    );

    std::fs::write(
        &config,
        "[upstream]\nurl = \"https://platform.example.com\"\n\
         [auth]\nrun_users = [\"boss@example.com\"]\n\
         [[projects]]\nid = \"p1\"\napi_key_env = \"KEY_P\"\n",
    )
    .unwrap();
    for args in [&["check-config"][..], &["--config"][..]] {
        let output = Command::new(BIN)
            .args(args)
            .arg(&config)
            .env("KEY_P", "who-key-0123456789")
            .env("RUNBOARD_LEDGER_URL", "sqlite::memory:")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("auth.mode: is not set, but auth.run_users is"),
            "{args:?}: {stderr}"
        );
    }
}

/// A header-mode configuration trusting loopback, with the further `[auth]` lines `auth`
/// and one project per `(id, its extra lines)`, each with its key in `KEY_P`.
fn header_config(auth: &str, projects: &[(&str, &str)]) -> String {
    let mut text = format!(
        "[upstream]\nurl = \"https://platform.example.com\"\n\
         [auth]\nmode = \"header\"\ntrusted_proxies = [\"127.0.0.1/32\"]\n{auth}"
    );
    for (id, extra) in projects {
        text += &format!("[[projects]]\nid = \"{id}\"\napi_key_env = \"KEY_P\"\n{extra}");
    }
    text
}

/// What `runboard check-config FILE` said with `env` set: its exit code, standard output
/// and standard error.
fn check_config(file: &std::path::Path, env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let output = Command::new(BIN)
        .arg("check-config")
        .arg(file)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Issue 21: `check-config` says, under each project, who may change its triage rules:
/// the listed users and groups (global or the project's own), or whoever may start runs.
#[test]
fn check_config_says_who_may_triage() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("runboard.toml");
    let text = header_config(
        "run_users = [\"ann\"]\ntriage_groups = [\"qa\"]\n",
        &[
            ("global", ""),
            ("own", "triage_users = [\"lead\"]\ntriage_groups = []\n"),
        ],
    );
    std::fs::write(&config, text).unwrap();
    let (code, stdout, stderr) = check_config(&config, &[("KEY_P", "who-key-0123456789")]);
    assert_eq!(code, Some(0), "{stderr}");
    for line in [
        "project global (global): users [ann] may start runs\n    triage: groups [qa] may change triage rules\n",
        "project own (own): users [ann] may start runs\n    triage: users [lead] may change triage rules\n",
    ] {
        assert!(stdout.contains(line), "{line:?} in\n{stdout}");
    }
}
