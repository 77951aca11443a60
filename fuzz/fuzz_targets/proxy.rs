//! Fuzz target: any bytes as one HTTP request to the whole `runboard` router (method,
//! path, headers, body). It never panics, never answers 500, answers every error as
//! JSON, and never puts the project's key in any byte it sends back.

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
use tower::ServiceExt;

const KEY: &str = "fuzz-canary-key-5f1d2c";

fn router() -> &'static (tokio::runtime::Runtime, Router) {
    static ROUTER: OnceLock<(tokio::runtime::Runtime, Router)> = OnceLock::new();
    ROUTER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let project = ProjectConfig::new(
            ProjectId::parse("62be7c3f1d2e4a5b6c7d8e9f").unwrap(),
            "Fuzz shop",
            ApiKey::new(KEY).unwrap(),
        );
        // A closed port: forwarded requests fail fast with the upstream errors.
        let mut config = Config::new("http://127.0.0.1:9".parse().unwrap(), vec![project]);
        // A built widget, so every path answers as in production (no "not built" text).
        let widget =
            std::env::temp_dir().join(format!("runboard-fuzz-widget-{}", std::process::id()));
        std::fs::create_dir_all(&widget).unwrap();
        std::fs::write(
            widget.join("index.html"),
            "<!doctype html><div id=app></div>",
        )
        .unwrap();
        config.widget_dir = widget;
        let router = app(runtime.block_on(AppState::new(config)).unwrap());
        (runtime, router)
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

fuzz_target!(|data: &[u8]| {
    let Some(request) = request(data) else {
        return;
    };
    let (runtime, router) = router();
    runtime.block_on(async {
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        assert_ne!(status.as_u16(), 500, "an internal error for {data:?}");
        let head = format!("{:?}", response.headers());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        // An error may quote the client's own path back; the key may only appear in an
        // answer when the request itself carried it.
        if !contains(data, KEY.as_bytes()) {
            for part in [head.as_bytes(), &bytes[..]] {
                assert!(
                    !contains(part, KEY.as_bytes()),
                    "the key left in an answer to {data:?}"
                );
            }
        }
        if status.is_client_error() || status.is_server_error() {
            let json: Result<serde_json::Value, _> = serde_json::from_slice(&bytes);
            let code = json.ok().and_then(|v| v.pointer("/error/code").cloned());
            assert!(code.is_some(), "a {status} that is not JSON: {bytes:?}");
        }
    });
});
