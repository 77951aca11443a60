//! Configuration parsing: the shipped example, defaults, overrides, and each refusal
//! naming its setting.

use std::collections::HashMap;

use super::*;

const MINIMAL: &str = r#"
[upstream]
url = "http://127.0.0.1:9"
[[projects]]
id = "p1"
name = "One"
api_key_env = "KEY_ONE"
"#;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

fn refused(text: &str, env: &[(&str, &str)], setting: &str) {
    match Config::from_toml_str(text, env_of(env)) {
        Err(ConfigError::Invalid { setting: s, .. }) => assert_eq!(s, setting, "{text}"),
        Err(other) => panic!("expected {setting} to be refused, got {other}"),
        Ok(_) => panic!("expected {setting} to be refused"),
    }
}

#[test]
fn the_example_file_parses() {
    let text = include_str!("../../../runboard.example.toml");
    let config =
        Config::from_toml_str(text, env_of(&[("RUNBOARD_KEY_WEBSHOP", "example-key")])).unwrap();
    assert_eq!(config.auth.mode, AuthMode::Header);
    assert_eq!(config.projects.len(), 1);
    assert_eq!(config.projects[0].presets.len(), 2);
    assert_eq!(config.embed.frame_ancestors, ["https://portal.example.com"]);
    assert!(!format!("{config:?}").contains("example-key"));
}

#[test]
fn defaults() {
    let config = Config::from_toml_str(MINIMAL, env_of(&[("KEY_ONE", "k")])).unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(
        config.widget_override(),
        None,
        "the widget built into the binary"
    );
    assert_eq!(
        config.poll,
        PollIntervals {
            jobs_ms: 2000,
            run_ms: 3000
        }
    );
    assert_eq!(config.upstream.timeout, Duration::from_secs(10));
    assert_eq!(config.auth.mode, AuthMode::None);
    assert_eq!(config.auth.user_header, "X-Forwarded-Email");
}

#[test]
fn environment_overrides() {
    let env = [
        ("KEY_ONE", "k"),
        ("RUNBOARD_LISTEN", "127.0.0.1:0"),
        ("RUNBOARD_POLL_JOBS_MS", "500"),
        ("RUNBOARD_AUTH_MODE", "header"),
        ("RUNBOARD_AUTH_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1"),
        ("RUNBOARD_AUTH_RUN_GROUPS", "qa,ops"),
    ];
    let config = Config::from_toml_str(MINIMAL, env_of(&env)).unwrap();
    assert_eq!(config.listen.port(), 0);
    assert_eq!(config.poll.jobs_ms, 500);
    assert_eq!(config.auth.mode, AuthMode::Header);
    assert_eq!(config.auth.trusted_proxies.len(), 2);
    assert_eq!(config.auth.run_groups, ["qa", "ops"]);
}

#[test]
fn widget_dir_overrides_the_built_in_widget() {
    let check = |text: &str, env: &[(&str, &str)], expected: Option<&str>| {
        let config = Config::from_toml_str(text, env_of(env)).unwrap();
        assert_eq!(
            config.widget_override(),
            expected.map(Path::new),
            "{text} {env:?}"
        );
    };
    let key = ("KEY_ONE", "k");
    let themed = format!("widget_dir = \"/srv/theme\"\n{MINIMAL}");
    check(MINIMAL, &[key], None);
    check(&themed, &[key], Some("/srv/theme"));
    check(
        MINIMAL,
        &[key, ("RUNBOARD_WIDGET_DIR", "/srv/env")],
        Some("/srv/env"),
    );
    // Empty says "the built-in one", in the file as in the environment.
    check(&themed, &[key, ("RUNBOARD_WIDGET_DIR", "")], None);
}

#[test]
fn keys_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key");
    std::fs::write(&path, "file-key\n").unwrap();
    let text = MINIMAL.replace(
        "api_key_env = \"KEY_ONE\"",
        &format!("api_key_file = {:?}", path.display().to_string()),
    );
    let config = Config::from_toml_str(&text, env_of(&[])).unwrap();
    assert_eq!(config.projects[0].key.scrub("file-key"), "[redacted]");
}

#[test]
fn each_bad_setting_is_named() {
    let key = [("KEY_ONE", "k")];
    refused(MINIMAL, &[], "projects[0].api_key_env");
    refused(
        &MINIMAL.replace("api_key_env = \"KEY_ONE\"", "api_key = \"inline\""),
        &key,
        "projects[0].api_key",
    );
    refused(
        &MINIMAL.replace("api_key_env = \"KEY_ONE\"", ""),
        &key,
        "projects[0].api_key_env",
    );
    refused(
        &MINIMAL.replace("id = \"p1\"", "id = \"../x\""),
        &key,
        "projects[0].id",
    );
    refused(
        &MINIMAL.replace("http://127.0.0.1:9", "ftp://x"),
        &key,
        "upstream.url",
    );
    refused(&format!("listen = \"nowhere\"\n{MINIMAL}"), &key, "listen");
    refused(
        &format!("{MINIMAL}\n[auth]\nmode = \"header\"\n"),
        &key,
        "auth.trusted_proxies",
    );
    refused(
        &format!("{MINIMAL}\n[auth]\nmode = \"magic\"\n"),
        &key,
        "auth.mode",
    );
    refused(
        &format!("{MINIMAL}\n[poll]\njobs_ms = 5\n"),
        &key,
        "poll.jobs_ms",
    );
    refused(
        &format!("{MINIMAL}\n[embed]\nframe_ancestors = [\"https://a.com; script-src *\"]\n"),
        &key,
        "embed.frame_ancestors[0]",
    );
    refused(
        &format!(
            "{MINIMAL}\n[[projects.presets]]\nname = \"Two\"\nfeatureId = \"a\"\ntestId = \"b\"\n"
        ),
        &key,
        "projects[0].presets[0]",
    );
    refused(
        &format!("{MINIMAL}\n[[projects]]\nid = \"p1\"\napi_key_env = \"KEY_ONE\"\n"),
        &key,
        "projects[1].id",
    );
    refused("[upstream]\nurl = \"http://x\"\n", &key, "projects");
}

#[test]
fn unknown_keys_are_refused() {
    let err = Config::from_toml_str(
        &format!("colour = 1\n{MINIMAL}"),
        env_of(&[("KEY_ONE", "k")]),
    );
    assert!(matches!(err, Err(ConfigError::Syntax(m)) if m.contains("colour")));
}

#[test]
fn edge_settings_have_defaults_and_ranges() {
    let key = [("KEY_ONE", "k")];
    let config = Config::from_toml_str(MINIMAL, env_of(&key)).unwrap();
    assert_eq!(config.server.header_timeout, Duration::from_secs(30));
    assert_eq!(config.server.body_timeout, Duration::from_secs(30));
    assert_eq!(config.server.idle_timeout, Duration::from_secs(60));
    assert_eq!(config.server.max_connections, 1024);
    assert_eq!(config.limits, LimitsConfig::default());
    assert_eq!(config.public_url, None);
    let text = format!(
        "public_url = \"https://Runboard.example.com:8443\"\n{MINIMAL}\n[server]\n\
         header_timeout_ms = 1000\nmax_connections = 10\n[limits]\nstarts_per_minute = 0\n"
    );
    let config = Config::from_toml_str(&text, env_of(&key)).unwrap();
    assert_eq!(config.server.header_timeout, Duration::from_secs(1));
    assert_eq!(config.server.max_connections, 10);
    assert_eq!(config.limits.starts_per_minute, 0);
    assert_eq!(
        config.public_authority().as_deref(),
        Some("runboard.example.com:8443")
    );
    refused(
        &format!("{MINIMAL}\n[server]\nheader_timeout_ms = 5\n"),
        &key,
        "server.header_timeout_ms",
    );
    refused(
        &format!("{MINIMAL}\n[server]\nmax_connections = 0\n"),
        &key,
        "server.max_connections",
    );
    for bad in [
        "runboard.example.com",
        "ftp://runboard.example.com",
        "https://user:pw@runboard.example.com",
        "https://runboard.example.com/widget",
    ] {
        refused(
            &format!("public_url = \"{bad}\"\n{MINIMAL}"),
            &key,
            "public_url",
        );
    }
}

/// Issue 18, finding 5: the deadline for a whole request, head and body.
#[test]
fn request_read_has_a_default_a_range_and_covers_the_head() {
    let key = [("KEY_ONE", "k")];
    let server = |lines: &str, env: &[(&str, &str)]| {
        let text = format!("{MINIMAL}\n[server]\n{lines}");
        let mut env = env.to_vec();
        env.extend(key);
        Config::from_toml_str(&text, env_of(&env)).unwrap().server
    };
    assert_eq!(server("", &[]).request_read, Duration::from_secs(60));
    assert_eq!(
        server("request_read_ms = 5000\nheader_timeout_ms = 1000\n", &[]).request_read,
        Duration::from_secs(5)
    );
    // Left out, it is never shorter than the head's own timeout.
    assert_eq!(
        server("header_timeout_ms = 90000\n", &[]).request_read,
        Duration::from_secs(90)
    );
    let env = [("RUNBOARD_SERVER_REQUEST_READ_MS", "45000")];
    assert_eq!(server("", &env).request_read, Duration::from_secs(45));
    for bad in [
        "request_read_ms = 5\n",
        "request_read_ms = 3600001\n",
        "request_read_ms = 10000\n",
    ] {
        refused(
            &format!("{MINIMAL}\n[server]\n{bad}"),
            &key,
            "server.request_read_ms",
        );
    }
}

#[test]
fn wildcard_frame_ancestors_are_refused() {
    let key = [("KEY_ONE", "k")];
    for bad in [
        "*",
        "https://*",
        "http://*:443",
        "https://*.com",
        "https://a.*.example.com",
    ] {
        refused(
            &format!("{MINIMAL}\n[embed]\nframe_ancestors = [\"{bad}\"]\n"),
            &key,
            "embed.frame_ancestors[0]",
        );
    }
    let text = format!("{MINIMAL}\n[embed]\nframe_ancestors = [\"https://*.example.com\"]\n");
    assert!(Config::from_toml_str(&text, env_of(&key)).is_ok());
}

#[test]
fn upstream_credentials_are_refused_without_being_echoed() {
    let key = [("KEY_ONE", "k")];
    for url in [
        "https://admin:hunter2@platform.example.com",
        "https://:hunter2@platform.example.com",
        "https://hunter2@platform.example.com",
        "https://hunter2 platform",
    ] {
        let text = MINIMAL.replace("http://127.0.0.1:9", url);
        refused(&text, &key, "upstream.url");
        let message = Config::from_toml_str(&text, env_of(&key))
            .unwrap_err()
            .to_string();
        assert!(!message.contains("hunter2"), "{message}");
    }
    let env = [("KEY_ONE", "k"), ("RUNBOARD_POLL_JOBS_MS", "hunter2")];
    let message = Config::from_toml_str(MINIMAL, env_of(&env))
        .unwrap_err()
        .to_string();
    assert!(message.contains("RUNBOARD_POLL_JOBS_MS") && !message.contains("hunter2"));
}

#[test]
fn view_only_and_explicitly_empty_run_lists() {
    let key = [("KEY_ONE", "k")];
    refused(
        &format!("{MINIMAL}run_users = []\nrun_groups = []\n"),
        &key,
        "projects[0].run_users",
    );
    refused(
        &format!("{MINIMAL}view_only = true\nrun_groups = [\"qa\"]\n"),
        &key,
        "projects[0].view_only",
    );
    let config =
        Config::from_toml_str(&format!("{MINIMAL}view_only = true\n"), env_of(&key)).unwrap();
    assert!(config.projects[0].view_only);
    assert!(config.who_may_run(&config.projects[0]).contains("nobody"));
    let config =
        Config::from_toml_str(&format!("{MINIMAL}run_users = []\n{HEADER}"), env_of(&key)).unwrap();
    assert_eq!(config.projects[0].run_users, Some(vec![]));
}

/// Header mode behind a loopback SSO proxy, appended after `MINIMAL`'s project.
const HEADER: &str = "[auth]\nmode = \"header\"\ntrusted_proxies = [\"127.0.0.1/32\"]\n";

/// Issue 18, finding 4: settings only header mode reads, written without `auth.mode`,
/// were silently ignored (mode none: everyone may start runs). Refused now.
#[test]
fn header_settings_without_a_mode_are_refused() {
    let key = [("KEY_ONE", "k")];
    for auth in [
        "[auth]\nrun_users = [\"a@example.com\"]\n",
        "[auth]\nrun_groups = []\n",
        "[auth]\ntrusted_proxies = [\"10.0.0.0/8\"]\n",
        "[auth]\nrun_everyone = true\n",
    ] {
        refused(&format!("{MINIMAL}{auth}"), &key, "auth.mode");
    }
    for project in ["run_groups = [\"qa\"]\n", "run_everyone = false\n"] {
        refused(&format!("{MINIMAL}{project}"), &key, "auth.mode");
    }
    let message = Config::from_toml_str(
        &format!("{MINIMAL}[auth]\nrun_users = [\"a@example.com\"]\n"),
        env_of(&key),
    )
    .unwrap_err()
    .to_string();
    assert!(
        message.contains("auth.run_users") && message.contains("mode = \"header\""),
        "{message}"
    );
    // Written on purpose, mode none keeps its meaning (and its warning off loopback).
    let none = format!("{MINIMAL}[auth]\nmode = \"none\"\nrun_users = [\"a@example.com\"]\n");
    assert!(Config::from_toml_str(&none, env_of(&key)).is_ok());
    let env = [("KEY_ONE", "k"), ("RUNBOARD_AUTH_MODE", "header")];
    let text = format!("{MINIMAL}[auth]\ntrusted_proxies = [\"10.0.0.0/8\"]\n");
    assert!(Config::from_toml_str(&text, env_of(&env)).is_ok());
}

/// Issue 18, finding 4: who may start runs, project by project, as `check-config`
/// prints it; `run_everyone` beside lists it would override is refused.
#[test]
fn who_may_start_runs_is_explicit() {
    let key = [("KEY_ONE", "k")];
    let who = |project: &str, auth: &str| {
        let text = format!("{MINIMAL}{project}{HEADER}{auth}");
        let config = Config::from_toml_str(&text, env_of(&key)).unwrap();
        config.who_may_run(&config.projects[0])
    };
    let nobody = who("run_groups = []\n", "run_users = []\n");
    assert!(
        nobody.starts_with("nobody may start runs (view only)"),
        "{nobody}"
    );
    assert!(who("", "").starts_with("nobody may start runs (view only)"));
    assert_eq!(
        who("", "run_everyone = true\n"),
        "every signed-in user may start runs (run_everyone)"
    );
    assert_eq!(
        who("run_everyone = true\n", ""),
        "every signed-in user may start runs (run_everyone)"
    );
    assert!(who("run_everyone = false\n", "run_everyone = true\n").starts_with("nobody"));
    assert_eq!(
        who("run_users = [\"a\", \"b\"]\n", "run_groups = [\"qa\"]\n"),
        "users [a, b] and groups [qa] may start runs"
    );
    assert_eq!(
        who("", "run_groups = [\"qa\"]\n"),
        "groups [qa] may start runs"
    );
    let nobody = Config::from_toml_str(&format!("{MINIMAL}{HEADER}"), env_of(&key)).unwrap();
    assert!(
        nobody
            .warnings()
            .iter()
            .any(|w| w.contains("run_everyone = true")),
        "{:?}",
        nobody.warnings()
    );

    refused(
        &format!("{MINIMAL}{HEADER}run_everyone = true\nrun_groups = [\"qa\"]\n"),
        &key,
        "auth.run_everyone",
    );
    refused(
        &format!("{MINIMAL}run_everyone = true\nrun_users = [\"a\"]\n{HEADER}"),
        &key,
        "projects[0].run_everyone",
    );
    refused(
        &format!("{MINIMAL}run_groups = [\"qa\"]\n{HEADER}run_everyone = true\n"),
        &key,
        "projects[0].run_groups",
    );
    refused(
        &format!("{MINIMAL}view_only = true\nrun_everyone = false\n{HEADER}"),
        &key,
        "projects[0].view_only",
    );
    let env = [("KEY_ONE", "k"), ("RUNBOARD_AUTH_RUN_EVERYONE", "true")];
    let config = Config::from_toml_str(&format!("{MINIMAL}{HEADER}"), env_of(&env)).unwrap();
    assert!(config.auth.run_everyone);
    let env = [("KEY_ONE", "k"), ("RUNBOARD_AUTH_RUN_EVERYONE", "yes")];
    refused(
        &format!("{MINIMAL}{HEADER}"),
        &env,
        "RUNBOARD_AUTH_RUN_EVERYONE",
    );
}

#[test]
fn risky_settings_are_warned_about() {
    let key = [("KEY_ONE", "k-0123456789abcdef")];
    let config = Config::from_toml_str(MINIMAL, env_of(&key)).unwrap();
    assert!(!config.open_access());
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());
    let open = Config::from_toml_str(
        &format!("listen = \"192.0.2.10:8080\"\n{MINIMAL}"),
        env_of(&key),
    )
    .unwrap();
    assert!(open.open_access());
    assert!(open.warnings()[0].contains("auth.mode = \"none\""));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "file-key-0123456789\n").unwrap();
        let text = MINIMAL.replace(
            "api_key_env = \"KEY_ONE\"",
            &format!("api_key_file = {:?}", path.display().to_string()),
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let config = Config::from_toml_str(&text, env_of(&[])).unwrap();
        let warnings = config.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("projects[0].api_key_file") && warnings[0].contains("644"));
        assert!(!warnings[0].contains("file-key"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let config = Config::from_toml_str(&text, env_of(&[])).unwrap();
        assert!(config.warnings().is_empty());
    }
}

#[test]
fn cache_settings_have_defaults_ranges_and_overrides() {
    let key = [("KEY_ONE", "k")];
    let config = Config::from_toml_str(MINIMAL, env_of(&key)).unwrap();
    assert_eq!(config.cache.live_reuse, Duration::from_secs(1));
    assert_eq!(config.cache.finished_bytes, 64 * 1024 * 1024);
    let text = format!("{MINIMAL}\n[cache]\nlive_reuse_ms = 0\nfinished_bytes = 0\n");
    let config = Config::from_toml_str(&text, env_of(&key)).unwrap();
    assert_eq!(config.cache.live_reuse, Duration::ZERO);
    assert_eq!(config.cache.finished_bytes, 0);
    let env = [
        ("KEY_ONE", "k"),
        ("RUNBOARD_CACHE_LIVE_REUSE_MS", "250"),
        ("RUNBOARD_CACHE_FINISHED_BYTES", "1024"),
    ];
    let config = Config::from_toml_str(MINIMAL, env_of(&env)).unwrap();
    assert_eq!(config.cache.live_reuse, Duration::from_millis(250));
    assert_eq!(config.cache.finished_bytes, 1024);
    refused(
        &format!("{MINIMAL}\n[cache]\nlive_reuse_ms = 60001\n"),
        &key,
        "cache.live_reuse_ms",
    );
}

#[test]
fn ledger_defaults_overrides_and_refusals() {
    let key = [("KEY_ONE", "k")];
    let config = Config::from_toml_str(MINIMAL, env_of(&key)).unwrap();
    assert_eq!(config.ledger.url.expose(), ledger::DEFAULT_URL);
    assert_eq!(config.ledger.retention_days, 90);
    assert_eq!(config.ledger.follow, Some(Duration::from_millis(2000)));
    assert_eq!(config.ledger.lease, Duration::from_millis(30_000));
    assert_eq!(
        Config::new("http://127.0.0.1:9".parse().unwrap(), Vec::new())
            .ledger
            .url
            .expose(),
        "sqlite::memory:",
        "a configuration built in code keeps its ledger in memory"
    );

    let secret_url = "postgres://runboard:hunter2@db.internal/runboard";
    let env = [
        ("KEY_ONE", "k"),
        ("RUNBOARD_LEDGER_URL", secret_url),
        ("RUNBOARD_LEDGER_RETENTION_DAYS", "0"),
        ("RUNBOARD_LEDGER_FOLLOW_MS", "0"),
    ];
    let config = Config::from_toml_str(MINIMAL, env_of(&env)).unwrap();
    assert_eq!(config.ledger.url.expose(), secret_url);
    assert_eq!(
        (config.ledger.retention_days, config.ledger.follow),
        (0, None)
    );
    assert!(
        !format!("{config:?}").contains("hunter2"),
        "the ledger URL never prints"
    );

    let with = |section: &str| format!("{MINIMAL}\n[ledger]\n{section}\n");
    refused(
        &with("url = \"mysql://u:hunter2@x/db\""),
        &key,
        "ledger.url",
    );
    refused(&with("follow_ms = 5"), &key, "ledger.follow_ms");
    refused(
        &with("follow_ms = 1000\nlease_ms = 2000"),
        &key,
        "ledger.lease_ms",
    );
    refused(
        MINIMAL,
        &[("KEY_ONE", "k"), ("RUNBOARD_LEDGER_URL", "redis://x")],
        "ledger.url",
    );
    match Config::from_toml_str(&with("url = \"mysql://u:hunter2@x/db\""), env_of(&key)) {
        Err(err) => assert!(!err.to_string().contains("hunter2"), "{err}"),
        Ok(_) => panic!("a MySQL ledger was accepted"),
    }
    let fast = Config::from_toml_str(&with("follow_ms = 20"), env_of(&key)).unwrap();
    assert_eq!(
        fast.ledger.lease,
        Duration::from_millis(30_000),
        "the default lease fits"
    );
}

#[test]
fn a_short_key_is_warned_about_without_being_shown() {
    let config = Config::from_toml_str(MINIMAL, env_of(&[("KEY_ONE", "k-short9")])).unwrap();
    let warnings = config.warnings().join("\n");
    assert!(
        warnings.contains("shorter than 16 characters"),
        "{warnings}"
    );
    assert!(warnings.contains("withheld"), "{warnings}");
    assert!(!warnings.contains("k-short9"), "{warnings}");
}

#[test]
fn the_ledger_url_may_come_from_a_file_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("url");
    std::fs::write(&path, "postgres://runboard:s3cret@db.internal/runboard\n").unwrap();
    let key = [("KEY_ONE", "k-0123456789abcdef")];
    let with = |ledger: &str| format!("{MINIMAL}[ledger]\n{ledger}\n");
    let from_file = format!("url_file = {:?}", path.display().to_string());
    let config = Config::from_toml_str(&with(&from_file), env_of(&key)).unwrap();
    assert_eq!(
        config.ledger.url.expose(),
        "postgres://runboard:s3cret@db.internal/runboard"
    );
    let both = format!("{from_file}\nurl = \"sqlite://x.db\"");
    let err = Config::from_toml_str(&with(&both), env_of(&key))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not both"), "{err}");
    // The environment's URL replaces the file's, however the file gave it.
    let env = [key[0], ("RUNBOARD_LEDGER_URL", "sqlite://env.db")];
    let config = Config::from_toml_str(&with(&from_file), env_of(&env)).unwrap();
    assert_eq!(config.ledger.url.expose(), "sqlite://env.db");
    // A file that holds no ledger URL: the error names the setting, never the contents.
    std::fs::write(&path, "mysql://root:s3cret@db/x").unwrap();
    let err = Config::from_toml_str(&with(&from_file), env_of(&key))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ledger.url_file") && !err.contains("s3cret"),
        "{err}"
    );
    let missing = "url_file = \"/nonexistent/runboard-ledger-url\"";
    let err = Config::from_toml_str(&with(missing), env_of(&key))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot read /nonexistent/runboard-ledger-url"),
        "{err}"
    );
}

#[test]
fn triage_settings_have_defaults_ranges_and_overrides() {
    let env = [("KEY_ONE", "k")];
    let config = Config::from_toml_str(MINIMAL, env_of(&env)).unwrap();
    assert_eq!(config.triage.max_quarantine_days, 30);
    assert_eq!(config.auth.triage_users, None);
    assert!(config.projects[0].owners.is_empty());
    let text = format!("{MINIMAL}\n[triage]\nmax_quarantine_days = 7\n");
    let config = Config::from_toml_str(&text, env_of(&env)).unwrap();
    assert_eq!(config.triage.max_quarantine_days, 7);
    for days in [0, 366] {
        let text = format!("{MINIMAL}\n[triage]\nmax_quarantine_days = {days}\n");
        refused(&text, &env, "triage.max_quarantine_days");
    }
    let overridden = [
        ("KEY_ONE", "k"),
        ("RUNBOARD_TRIAGE_MAX_QUARANTINE_DAYS", "14"),
        ("RUNBOARD_AUTH_MODE", "header"),
        ("RUNBOARD_AUTH_TRUSTED_PROXIES", "127.0.0.1/32"),
        ("RUNBOARD_AUTH_TRIAGE_USERS", "a@example.com,b@example.com"),
        ("RUNBOARD_AUTH_TRIAGE_GROUPS", "leads"),
    ];
    let config = Config::from_toml_str(MINIMAL, env_of(&overridden)).unwrap();
    assert_eq!(config.triage.max_quarantine_days, 14);
    assert_eq!(
        config.auth.triage_users.as_deref(),
        Some(&["a@example.com".to_owned(), "b@example.com".to_owned()][..])
    );
    assert_eq!(
        config.auth.triage_groups.as_deref(),
        Some(&["leads".to_owned()][..])
    );
    // Like the run lists, triage lists without a mode would be ignored: refused.
    refused(
        &format!("{MINIMAL}\n[auth]\ntriage_users = [\"a@example.com\"]\n"),
        &env,
        "auth.mode",
    );
}

#[test]
fn who_may_triage_defaults_to_who_may_run() {
    let env = [("KEY_ONE", "k")];
    let text = format!("{MINIMAL}{HEADER}run_groups = [\"qa\"]\n");
    let config = Config::from_toml_str(&text, env_of(&env)).unwrap();
    let triagers = Triagers::of(&config.auth, &config.projects[0]);
    assert!(matches!(triagers, Triagers::AsStarters(_)));
    assert!(triagers.admit(Some("x"), &["qa".to_owned()]));
    assert!(!triagers.admit(Some("x"), &["dev".to_owned()]));
    assert!(
        config
            .who_may_triage(&config.projects[0])
            .contains("whoever may start runs")
    );

    let text = format!(
        "{MINIMAL}triage_users = [\"Lead@example.com\"]\n{HEADER}run_everyone = true\n\
         triage_groups = [\"leads\"]\n"
    );
    let config = Config::from_toml_str(&text, env_of(&env)).unwrap();
    let triagers = Triagers::of(&config.auth, &config.projects[0]);
    assert!(
        triagers.admit(Some("lead@example.com"), &[]),
        "the project's users"
    );
    assert!(
        triagers.admit(Some("x"), &["leads".to_owned()]),
        "[auth]'s groups"
    );
    assert!(!triagers.admit(Some("x"), &[]), "running is not triaging");
    let text = format!("{MINIMAL}triage_users = []\n{HEADER}run_everyone = true\n");
    let config = Config::from_toml_str(&text, env_of(&env)).unwrap();
    let triagers = Triagers::of(&config.auth, &config.projects[0]);
    assert!(
        !triagers.admit(Some("x"), &[]),
        "an empty list given names nobody"
    );
    assert!(
        config
            .who_may_triage(&config.projects[0])
            .contains("nobody")
    );
}

#[test]
fn owners_are_read_and_each_bad_field_is_named() {
    let env = [("KEY_ONE", "k")];
    let owner = |body: &str| format!("{MINIMAL}\n[[projects.owners]]\n{body}\n");
    let text = owner(
        "team = \" Checkout \"\nfeatures = [\"f1\"]\nsuites = [\"s1\"]\ntests = [\"t1\"]\n\
         users = [\"Ann@example.com\"]\ngroups = [\"co\"]",
    );
    let config = Config::from_toml_str(&text, env_of(&env)).unwrap();
    let owners = &config.projects[0].owners;
    assert_eq!(owners.len(), 1);
    assert_eq!(owners[0].team, "Checkout");
    assert_eq!(owners[0].tests[0].as_str(), "t1");
    assert!(owners[0].has_member(Some("ann@example.com"), &[]));
    assert!(owners[0].has_member(None, &["co".to_owned()]));
    assert!(!owners[0].has_member(Some("bob@example.com"), &[]));
    refused(
        &owner("features = [\"f1\"]"),
        &env,
        "projects[0].owners[0].team",
    );
    refused(&owner("team = \"A\""), &env, "projects[0].owners[0].team");
    refused(
        &owner("team = \"A\"\ntests = [\"ok\", \"not ok\"]"),
        &env,
        "projects[0].owners[0].tests[1]",
    );
    refused(
        &owner("team = \"A\"\nsuites = [\"s/1\"]"),
        &env,
        "projects[0].owners[0].suites[0]",
    );
    assert!(matches!(
        Config::from_toml_str(&owner("team = \"A\"\ncolour = \"red\""), env_of(&env)),
        Err(ConfigError::Syntax(_))
    ));
}
