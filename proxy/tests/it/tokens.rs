//! Machine tokens (issue 22) over real sockets: a token reads its own project only,
//! starts only with `may_start` and within its presets, is refused (401) once revoked,
//! expired or unknown and (400) next to an SSO identity, with nothing reaching the
//! platform; it acts as `token:NAME` in the ledger and the audit line; the ledger file
//! holds its hash, never its text; and `runboard token create|list|revoke` work on the
//! ledger a running server reads.

use std::{path::Path, process::Command, time::Duration};

use reqwest::RequestBuilder;
use runboard_proxy::{
    config::{AuthMode, LedgerConfig},
    demo::StackBuilder,
    tokens::{self, Scope},
};
use runboard_shared::{
    Bootstrap, HistoryQuery, Id, Preset, ProjectId, Selector, Target, ValidationError,
};
use runboard_sim::Catalog;
use serde_json::{Value, json};

use crate::common::{self, Harness, PROJECT, alone, code, log_capture::Buffer, start};

const BIN: &str = env!("CARGO_BIN_EXE_runboard");

/// The one preset of [`with_preset`]'s project.
const SMOKE: &str = "Smoke";

/// A preset `Smoke` running the catalog's first feature.
fn smoke_preset(catalog: &Catalog) -> Result<Vec<Preset>, ValidationError> {
    let feature = catalog.features.iter().find(|f| !f.all).expect("a feature");
    Ok(vec![Preset {
        name: SMOKE.to_owned(),
        description: String::new(),
        selector: Selector::Feature(Id::parse("featureId", feature.id.as_str())?),
        agent_name: None,
    }])
}

/// A harness whose project has the `Smoke` preset, in auth mode none (where anyone
/// may start runs: a token's own scope is what limits it).
async fn with_preset() -> Harness {
    let stack = StackBuilder::new()
        .sim_speed(2000.0)
        .sim_tests(6)
        .presets(smoke_preset)
        .start_with(|c| {
            c.ledger.follow = None;
            c.widget_dir = Some("/nonexistent-widget-dir".into());
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Harness {
        sim: stack.sim,
        server: stack.server,
        client: reqwest::Client::new(),
    }
}

async fn mint(h: &Harness, name: &str, scope: Scope) -> String {
    tokens::mint(
        h.server.ledger(),
        &common::project_id(),
        name,
        &scope,
        "test",
    )
    .await
    .unwrap()
}

fn start_scope(presets: Option<Vec<String>>) -> Scope {
    Scope {
        may_start: true,
        presets,
        expires_in: None,
    }
}

async fn send(request: RequestBuilder) -> (u16, Value) {
    common::read(request.send().await.unwrap()).await
}

fn start_body(feature: &str) -> Value {
    json!({"action": "executeTests", "featureId": feature})
}

/// A start with `token`, JSON and no `Origin`, as a pipeline sends it.
async fn start_with(h: &Harness, token: &str, feature: &str) -> (u16, Value) {
    send(
        h.client
            .post(h.url(&common::execute_path()))
            .bearer_auth(token)
            .json(&start_body(feature)),
    )
    .await
}

async fn jobs_with(h: &Harness, token: &str, project: &ProjectId) -> (u16, Value) {
    let path = Target::Jobs(project.clone()).path();
    send(
        h.client
            .post(h.url(&path))
            .bearer_auth(token)
            .json(&json!({"jobIds": []})),
    )
    .await
}

/// A feature of the catalog other than the preset's: the one with every test.
fn other_feature(h: &Harness) -> String {
    let catalog = h.sim.sim.catalog(PROJECT).unwrap();
    let all = catalog.features.iter().find(|f| f.all);
    all.expect("the feature of every test").id.clone()
}

#[tokio::test]
async fn a_read_only_token_reads_its_project_and_starts_nothing() {
    let h = with_preset().await;
    let token = mint(&h, "dashboard", Scope::default()).await;
    let (status, body) = jobs_with(&h, &token, &common::project_id()).await;
    assert_eq!(status, 200, "{body}");

    // Anonymous users may start here (mode none); the token may not.
    let before = h.stats().by_endpoint.test_execution;
    let (status, body) = start_with(&h, &token, &h.feature_id()).await;
    assert_eq!((status, code(&body)), (403, "forbidden"), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("dashboard")
    );
    assert_eq!(
        h.stats().by_endpoint.test_execution,
        before,
        "nothing upstream"
    );

    // Another project (configured or not) is refused before anything is read.
    let requests = h.sim.sim.requests().requests.len();
    let other = ProjectId::parse("other").unwrap();
    let (status, body) = jobs_with(&h, &token, &other).await;
    assert_eq!((status, code(&body)), (403, "forbidden"), "{body}");
    assert_eq!(h.sim.sim.requests().requests.len(), requests);

    // The bootstrap shows the token its own project only, without the run permission.
    let (status, body) = send(
        h.client
            .get(h.url(&Target::Bootstrap.path()))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let bootstrap: Bootstrap = serde_json::from_value(body).unwrap();
    assert_eq!(bootstrap.user.as_deref(), Some("token:dashboard"));
    assert_eq!(bootstrap.projects.len(), 1);
    assert!(!bootstrap.projects[0].can_run);
    h.stop().await;
}

#[tokio::test]
async fn a_token_starts_only_its_presets_and_is_recorded_as_token_name() {
    let h = with_preset().await;
    let smoke = mint(&h, "ci", start_scope(Some(vec![SMOKE.to_owned()]))).await;
    let (status, body) = start_with(&h, &smoke, &h.feature_id()).await;
    assert_eq!(status, 200, "the preset's run starts: {body}");

    let before = h.stats().by_endpoint.test_execution;
    let (status, body) = start_with(&h, &smoke, &other_feature(&h)).await;
    assert_eq!((status, code(&body)), (403, "forbidden"), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains(SMOKE));
    assert_eq!(
        h.stats().by_endpoint.test_execution,
        before,
        "nothing upstream"
    );

    // A token without presets starts anything, from any Origin (it is not a browser).
    let any = mint(&h, "nightly", start_scope(None)).await;
    let (status, body) = send(
        h.client
            .post(h.url(&common::execute_path()))
            .bearer_auth(&any)
            .header("origin", "https://elsewhere.example.net")
            .json(&start_body(&other_feature(&h))),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let query = HistoryQuery {
        user: Some("token:ci".to_owned()),
        ..HistoryQuery::default()
    };
    let path = Target::History(common::project_id(), query).path();
    let (status, body) = send(h.client.get(h.url(&path)).bearer_auth(&any)).await;
    assert_eq!(status, 200, "{body}");
    let executions = body["executions"].as_array().unwrap();
    assert_eq!(executions.len(), 1, "{body}");
    assert_eq!(executions[0]["user"], "token:ci");
    assert_eq!(executions[0]["preset"], SMOKE);
    h.stop().await;
}

#[tokio::test]
async fn revoked_expired_and_unknown_tokens_get_401_and_nothing_upstream() {
    let h = with_preset().await;
    let revoked = mint(&h, "old", start_scope(None)).await;
    assert_eq!(jobs_with(&h, &revoked, &common::project_id()).await.0, 200);
    let ledger = h.server.ledger();
    assert!(ledger.revoke_token(None, "old", "test", 1).await.unwrap());
    let expired = mint(
        &h,
        "brief",
        Scope {
            expires_in: Some(Duration::ZERO),
            ..start_scope(None)
        },
    )
    .await;
    let unknown = format!("rbt_{}", "a".repeat(52));
    let requests = h.sim.sim.requests().requests.len();
    for (token, says) in [
        (revoked.as_str(), "revoked"),
        (expired.as_str(), "expired"),
        (unknown.as_str(), "not known"),
        ("rbt_short", "not known"),
    ] {
        let (status, body) = start_with(&h, token, &h.feature_id()).await;
        assert_eq!((status, code(&body)), (401, "unauthenticated"), "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{says}: {message}");
        let (status, _) = jobs_with(&h, token, &common::project_id()).await;
        assert_eq!(status, 401, "{says}");
    }
    assert_eq!(
        h.sim.sim.requests().requests.len(),
        requests,
        "nothing upstream"
    );
    // The name of a revoked token may be used again.
    mint(&h, "old", Scope::default()).await;
    h.stop().await;
}

#[tokio::test]
async fn header_mode_accepts_a_token_alone_and_refuses_it_beside_an_sso_identity() {
    let h = start(|c| {
        c.auth.mode = AuthMode::Header;
        c.auth.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let token = mint(&h, "reader", Scope::default()).await;
    let (status, body) = jobs_with(&h, &token, &common::project_id()).await;
    assert_eq!(status, 200, "no SSO header needed with a token: {body}");
    let requests = h.sim.sim.requests().requests.len();
    for header in ["x-forwarded-email", "x-forwarded-groups"] {
        let (status, body) = send(
            h.client
                .post(h.url(&common::jobs_path()))
                .bearer_auth(&token)
                .header(header, "someone@example.com")
                .json(&json!({"jobIds": []})),
        )
        .await;
        assert_eq!(
            (status, code(&body)),
            (400, "ambiguous_identity"),
            "{header}: {body}"
        );
    }
    assert_eq!(h.sim.sim.requests().requests.len(), requests);
    // An empty identity header, which some SSO proxies set on every request, names nobody.
    let (status, body) = send(
        h.client
            .post(h.url(&common::jobs_path()))
            .bearer_auth(&token)
            .header("x-forwarded-groups", "")
            .json(&json!({"jobIds": []})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    h.stop().await;
}

#[tokio::test]
async fn a_token_start_writes_one_audit_line_as_token_name() {
    if !alone::in_own_process("tokens::a_token_start_writes_one_audit_line_as_token_name").await {
        return;
    }
    let logs = Buffer::capture_json();
    let h = with_preset().await;
    let token = mint(&h, "ci", start_scope(Some(vec![SMOKE.to_owned()]))).await;
    assert_eq!(start_with(&h, &token, &h.feature_id()).await.0, 200);
    assert_eq!(start_with(&h, &token, &other_feature(&h)).await.0, 403);
    let lines: Vec<Value> = logs
        .text()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["target"] == "runboard::audit")
        .map(|line| line["fields"].clone())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines.iter().all(|l| l["user"] == "token:ci"), "{lines:?}");
    assert!(!logs.text().contains(&token), "the token is never logged");
    h.stop().await;
}

/// Every byte SQLite wrote for `db` (the file and its write-ahead log).
fn database_bytes(db: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(db).unwrap();
    for suffix in ["-wal", "-journal"] {
        let mut other = db.as_os_str().to_owned();
        other.push(suffix);
        if let Ok(more) = std::fs::read(Path::new(&other)) {
            bytes.extend(more);
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn the_ledger_file_holds_the_hash_and_never_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let url = format!("sqlite://{}", db.display());
    let h = start(|c| c.ledger = LedgerConfig::at(&url)).await;
    let token = mint(&h, "ci", start_scope(None)).await;
    assert_eq!(start_with(&h, &token, &h.feature_id()).await.0, 200);
    h.stop().await;

    let bytes = database_bytes(&db);
    let secret = token.trim_start_matches("rbt_");
    assert!(
        !contains(&bytes, secret),
        "the token's text is in the database"
    );
    assert!(!contains(&bytes, &secret.to_uppercase()));
    // The check can fail: what the ledger does keep is in those bytes.
    let hash: String = sha2_hex(&token);
    assert!(contains(&bytes, &hash), "the hash is stored");
    assert!(contains(&bytes, "token:ci"), "the start is recorded");
}

/// SHA-256 of `text` in lowercase hex, computed here independently of the server.
fn sha2_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `runboard token …` with `config`; (exit code, stdout, stderr).
fn token_command(config: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(BIN)
        .arg("token")
        .args(args)
        .arg("--config")
        .arg(config)
        .env("RUNBOARD_TEST_KEY", "cli-key-0123456789")
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn write_config(dir: &Path, ledger: Option<&str>) -> std::path::PathBuf {
    let path = dir.join(format!("runboard-{}.toml", ledger.is_some()));
    let mut text = format!(
        "[upstream]\nurl = \"https://platform.example.com\"\n[[projects]]\nid = \"{PROJECT}\"\n\
         api_key_env = \"RUNBOARD_TEST_KEY\"\n"
    );
    if let Some(url) = ledger {
        text.push_str(&format!("[ledger]\nurl = {url:?}\n"));
    }
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn the_token_commands_work_on_the_ledger_the_server_reads() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ledger.db").display());
    let config = write_config(dir.path(), Some(&url));
    let h = start(|c| c.ledger = LedgerConfig::at(&url)).await;

    let (status, stdout, stderr) = token_command(
        &config,
        &[
            "create",
            "--project",
            PROJECT,
            "--name",
            "ci",
            "--may-start",
            "--expires-days",
            "30",
        ],
    );
    assert_eq!(status, Some(0), "{stderr}");
    let token = stdout.trim().to_owned();
    assert!(token.starts_with("rbt_") && token.len() == 56, "{stdout}");
    assert!(stderr.contains("will not be shown again"), "{stderr}");
    assert_eq!(jobs_with(&h, &token, &common::project_id()).await.0, 200);

    let (status, stdout, stderr) = token_command(&config, &["list"]);
    assert_eq!(status, Some(0), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with("PROJECT") && lines[0].contains("LAST USED"),
        "{stdout}"
    );
    assert!(
        lines[1].contains("ci") && lines[1].contains("read, start"),
        "{stdout}"
    );
    assert_eq!(
        lines[0].find("SCOPE"),
        lines[1].find("read"),
        "aligned: {stdout}"
    );
    assert!(!stdout.contains(&token[4..]), "list never shows a token");

    let taken = token_command(&config, &["create", "--project", PROJECT, "--name", "ci"]);
    assert_eq!(taken.0, Some(2), "{}", taken.2);
    assert!(taken.2.contains("exists already"), "{}", taken.2);

    let (status, stdout, stderr) = token_command(&config, &["revoke", "ci"]);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stdout.contains("revoked ci"));
    assert_eq!(jobs_with(&h, &token, &common::project_id()).await.0, 401);
    assert_eq!(token_command(&config, &["revoke", "ci"]).0, Some(1));
    h.stop().await;

    // Usage and configuration errors: exit 2, saying what to do.
    let no_ledger = write_config(dir.path(), None);
    let (status, _, stderr) =
        token_command(&no_ledger, &["create", "--project", PROJECT, "--name", "x"]);
    assert_eq!(status, Some(2));
    assert!(stderr.contains("[ledger] url"), "{stderr}");
    let (status, _, stderr) =
        token_command(&config, &["create", "--project", "nope", "--name", "x"]);
    assert_eq!(status, Some(2));
    assert!(stderr.contains("not in the configuration"), "{stderr}");
    let (status, _, stderr) = token_command(
        &config,
        &[
            "create",
            "--project",
            PROJECT,
            "--name",
            "x",
            "--presets",
            "Nightly",
        ],
    );
    assert_eq!(status, Some(2));
    assert!(stderr.contains("--may-start"), "{stderr}");
}

/// A request as the SSO proxy passes it on for `user`, JSON as every change must be.
fn as_user(h: &Harness, method: reqwest::Method, target: &Target, user: &str) -> RequestBuilder {
    h.client
        .request(method, h.url(&target.path()))
        .header("x-forwarded-email", user)
        .header("content-type", "application/json")
}

#[tokio::test]
async fn admins_list_create_and_revoke_tokens_over_http_and_nobody_else_may() {
    let h = start(|c| {
        c.auth.mode = AuthMode::Header;
        c.auth.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        c.auth.run_everyone = true;
        c.auth.admin_users = vec!["admin@example.com".to_owned()];
    })
    .await;
    let admin = "admin@example.com";
    let (list, create) = (
        Target::Tokens(common::project_id()),
        Target::TokenCreate(common::project_id()),
    );
    let revoke = Target::TokenRevoke(common::project_id(), "ci".to_owned());
    let (status, body) = send(as_user(
        &h,
        reqwest::Method::GET,
        &list,
        "runner@example.com",
    ))
    .await;
    assert_eq!((status, code(&body)), (403, "forbidden"), "{body}");

    let bootstrap = Target::Bootstrap;
    for (user, admits) in [(admin, true), ("runner@example.com", false)] {
        let (status, body) = send(as_user(&h, reqwest::Method::GET, &bootstrap, user)).await;
        assert_eq!((status, &body["mayAdmin"]), (200, &json!(admits)), "{user}");
    }

    let new = json!({"name": "ci", "mayStart": true, "expiresDays": 7});
    let (status, body) = send(as_user(&h, reqwest::Method::POST, &create, admin).json(&new)).await;
    assert_eq!(status, 201, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    assert_eq!(body["info"]["createdBy"], admin);
    assert!(body["info"]["expiresAt"].is_string(), "{body}");
    assert_eq!(jobs_with(&h, &token, &common::project_id()).await.0, 200);

    let (status, body) = send(as_user(&h, reqwest::Method::GET, &list, admin)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tokens"][0]["name"], "ci", "{body}");
    assert!(body["tokens"][0]["lastUsedAt"].is_string(), "{body}");
    assert!(
        !body.to_string().contains(&token[4..]),
        "the list never holds a token"
    );

    // A token is no admin, not even of its own project; a bad body names the problem.
    let (status, _) = send(h.client.get(h.url(&list.path())).bearer_auth(&token)).await;
    assert_eq!(status, 403);
    let bad = json!({"name": "ci", "presets": ["Nightly"]});
    let (status, body) = send(as_user(&h, reqwest::Method::POST, &create, admin).json(&bad)).await;
    assert_eq!((status, code(&body)), (400, "invalid_body"), "{body}");

    let (status, body) = send(as_user(
        &h,
        reqwest::Method::DELETE,
        &revoke,
        "runner@example.com",
    ))
    .await;
    assert_eq!(status, 403);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("administrators")
    );
    let (status, body) = send(as_user(&h, reqwest::Method::DELETE, &revoke, admin)).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(jobs_with(&h, &token, &common::project_id()).await.0, 401);
    let (status, body) = send(as_user(&h, reqwest::Method::DELETE, &revoke, admin)).await;
    assert_eq!((status, code(&body)), (404, "not_found"), "{body}");
    h.stop().await;
}
