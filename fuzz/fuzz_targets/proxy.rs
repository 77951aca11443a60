//! Fuzz target: any bytes as one HTTP request to the whole `runboard` router (method,
//! path, headers, body), in front of a simulated platform that echoes the key back in
//! every way it knows (raw, in an error, percent-encoded, base64, JSON `\u` escapes),
//! the way chosen by the input. It never panics, never answers 500, answers every error
//! as JSON, and never puts the project's key in any byte it sends back, nor in any string
//! a client decoding the JSON would read.

#![no_main]

use std::sync::OnceLock;

use axum::{Router, body::Body, http::Request};
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use runboard_proxy::{
    AppState, Config, app,
    config::{ApiKey, ProjectConfig},
};
use runboard_shared::ProjectId;
use runboard_sim::{EchoKey, Faults, RunningSim, SimConfig, SimProject, Simulator};
use tower::ServiceExt;

const KEY: &str = "fuzz-canary-key+5f1d2c/";
const PROJECT: &str = "62be7c3f1d2e4a5b6c7d8e9f";

/// Every way the simulator can echo the key, and none.
const ECHOES: [EchoKey; 6] = [
    EchoKey::None,
    EchoKey::Error,
    EchoKey::Body,
    EchoKey::Urlencoded,
    EchoKey::Base64,
    EchoKey::Escaped,
];

struct Stack {
    runtime: tokio::runtime::Runtime,
    router: Router,
    sim: RunningSim,
}

fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let sim = SimConfig {
            speed: 1000.0,
            tests_per_project: 4,
            projects: vec![SimProject::new(PROJECT, KEY)],
            ..SimConfig::default()
        };
        let sim = runtime
            .block_on(runboard_sim::spawn(
                Simulator::new(sim),
                "127.0.0.1:0".parse().unwrap(),
            ))
            .unwrap();
        let project = ProjectConfig::new(
            ProjectId::parse(PROJECT).unwrap(),
            "Fuzz shop",
            ApiKey::new(KEY).unwrap(),
        );
        let upstream = format!("http://{}", sim.addr).parse().unwrap();
        let mut config = Config::new(upstream, vec![project]);
        // Every input reaches the platform: no allowance runs out mid-run.
        config.limits.reads_per_minute = 0;
        config.limits.starts_per_minute = 0;
        // A built widget, so every path answers as in production (no "not built" text).
        let widget =
            std::env::temp_dir().join(format!("runboard-fuzz-widget-{}", std::process::id()));
        std::fs::create_dir_all(&widget).unwrap();
        std::fs::write(
            widget.join("index.html"),
            "<!doctype html><div id=app></div>",
        )
        .unwrap();
        config.widget_dir = Some(widget);
        let router = app(runtime.block_on(AppState::new(config)).unwrap());
        Stack {
            runtime,
            router,
            sim,
        }
    })
}

/// `METHOD PATH\nName: value\n…\n\nbody`, or nothing when the bytes cannot be one.
fn request(data: &[u8]) -> Option<Request<Body>> {
    let split = data.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    };
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.lines();
    let (method, path) = lines.next()?.split_once(' ')?;
    let mut builder = Request::builder().method(method).uri(path);
    for line in lines {
        let (name, value) = line.split_once(':')?;
        builder = builder.header(name.trim(), value.trim());
    }
    builder.body(Body::from(body.to_vec())).ok()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The key as the simulator's echoes spell it in bytes: raw, percent-encoded, base64.
fn byte_forms() -> [Vec<u8>; 3] {
    use base64::Engine;
    let percent: String = KEY
        .bytes()
        .map(|b| match b.is_ascii_alphanumeric() {
            true => (b as char).to_string(),
            false => format!("%{b:02X}"),
        })
        .collect();
    let base64 = base64::engine::general_purpose::STANDARD.encode(KEY);
    [
        KEY.into(),
        percent.into(),
        base64.trim_end_matches('=').into(),
    ]
}

/// Whether any string or field name of `json`, as a client decodes it, holds the key.
fn decoded_holds_key(json: &serde_json::Value) -> bool {
    use serde_json::Value;
    match json {
        Value::String(s) => s.contains(KEY),
        Value::Array(items) => items.iter().any(decoded_holds_key),
        Value::Object(fields) => fields
            .iter()
            .any(|(name, v)| name.contains(KEY) || decoded_holds_key(v)),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(request) = request(data) else {
        return;
    };
    let stack = stack();
    let echo = ECHOES[data.iter().map(|&b| usize::from(b)).sum::<usize>() % ECHOES.len()];
    stack.sim.sim.set_faults(Faults {
        echo_key: echo,
        ..Faults::default()
    });
    stack.runtime.block_on(async {
        let response = stack.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        assert_ne!(status.as_u16(), 500, "an internal error for {data:?}");
        let head = format!("{:?}", response.headers());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        // An error may quote the client's own path back; the key may only appear in an
        // answer when the request itself carried it, in any of its forms.
        let forms = byte_forms();
        if !forms.iter().any(|form| contains(data, form)) {
            for part in [head.as_bytes(), &bytes[..]] {
                for form in &forms {
                    assert!(
                        !contains(part, form),
                        "the key left in an answer to {data:?} (echo {echo:?})"
                    );
                }
            }
            let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
            assert!(
                !decoded_holds_key(&json),
                "the key left, escaped, in an answer to {data:?} (echo {echo:?})"
            );
        }
        if status.is_client_error() || status.is_server_error() {
            let json: Result<serde_json::Value, _> = serde_json::from_slice(&bytes);
            let code = json.ok().and_then(|v| v.pointer("/error/code").cloned());
            assert!(code.is_some(), "a {status} that is not JSON: {bytes:?}");
        }
    });
});
