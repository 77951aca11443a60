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
    assert_eq!(config.widget_dir, PathBuf::from("frontend/dist"));
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
