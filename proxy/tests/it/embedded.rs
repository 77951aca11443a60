//! The widget built into the binary (`proxy/build.rs`), served by the whole router without
//! `widget_dir`: every file of `frontend/dist` in each form, ETags and 304s, cache rules,
//! HEAD, and `index.html` for client routes. `./x test` builds the widget before the tests,
//! so the build embedded it.

use std::{
    io::Read,
    path::{Path, PathBuf},
};

use axum::{
    Router,
    body::Body,
    http::{Method, Request, Response, StatusCode, header},
};
use http_body_util::BodyExt;
use runboard_proxy::{AppState, WidgetSource, app};
use runboard_shared::RUNBOARD_PREFIX;
use tower::ServiceExt;

use crate::common;

/// The folder the build embedded (the same rule as `proxy/build.rs`).
fn dist() -> PathBuf {
    std::env::var_os("RUNBOARD_WIDGET_DIST").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../frontend/dist"),
        PathBuf::from,
    )
}

/// The widget's own files, as URL paths: the build's `.br`/`.gz` copies are forms of
/// these, not files of their own.
fn widget_files() -> Vec<String> {
    let dir = dist();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|err| {
        panic!(
            "{}: {err}; build the widget first (./x widget), then these tests",
            dir.display()
        )
    });
    let mut files: Vec<String> = entries
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.ends_with(".br") && !name.ends_with(".gz"))
        .map(|name| format!("/{name}"))
        .collect();
    files.sort();
    files
}

/// A router with no `widget_dir`, so the built-in widget answers.
async fn router() -> Router {
    let mut config = common::config_for("http://127.0.0.1:9", "embedded-test-key");
    // No override (the harness points it at a missing folder).
    config.widget_dir = None;
    assert_eq!(
        WidgetSource::of(&config),
        WidgetSource::Embedded(widget_files().len()),
        "the build embedded {} (rebuild after ./x widget)",
        dist().display()
    );
    app(AppState::new(config).await.unwrap())
}

async fn send(
    router: &Router,
    method: Method,
    path: &str,
    headers: &[(header::HeaderName, &str)],
) -> (Response<Body>, Vec<u8>) {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (Response::from_parts(parts, Body::empty()), bytes)
}

fn header<'a>(response: &'a Response<Body>, name: &header::HeaderName) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

fn decode(coding: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "br" => brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out),
        "gzip" => flate2::read::GzDecoder::new(bytes).read_to_end(&mut out),
        other => panic!("unexpected content-encoding {other}"),
    }
    .unwrap();
    out
}

#[tokio::test]
async fn every_file_in_each_form_decodes_to_the_file() {
    let router = router().await;
    for path in widget_files().iter().filter(|p| *p != "/index.html") {
        let (plain, identity) = send(&router, Method::GET, path, &[]).await;
        assert_eq!(plain.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&plain, &header::CONTENT_ENCODING), None, "{path}");
        assert_eq!(
            identity,
            std::fs::read(dist().join(&path[1..])).unwrap(),
            "{path}"
        );
        for coding in ["br", "gzip"] {
            let accept = (header::ACCEPT_ENCODING, coding);
            let (response, bytes) = send(&router, Method::GET, path, &[accept]).await;
            assert_eq!(response.status(), StatusCode::OK, "{path} {coding}");
            assert_eq!(header(&response, &header::VARY), Some("accept-encoding"));
            let content_type = header(&response, &header::CONTENT_TYPE).unwrap();
            let compressible = ["text/", "application/wasm", "javascript"]
                .iter()
                .any(|kind| content_type.contains(kind));
            let Some(sent) = header(&response, &header::CONTENT_ENCODING) else {
                // Only a file that compresses to nothing smaller (an image) goes out as it is.
                assert!(!compressible, "{path} {coding}: sent as it is");
                assert_eq!(bytes, identity, "{path} {coding}");
                continue;
            };
            assert_eq!(sent, coding, "{path}");
            assert!(bytes.len() < identity.len(), "{path} {coding}");
            assert_eq!(decode(coding, &bytes), identity, "{path} {coding}");
            assert_ne!(
                header(&response, &header::ETAG),
                header(&plain, &header::ETAG)
            );
        }
    }
}

/// Trunk's `name-<hash>.ext`: a part of 16 or more hex digits.
fn carries_hash(path: &str) -> bool {
    let stem = path.rsplit('/').next().unwrap().split('.').next().unwrap();
    stem.split(['-', '_'])
        .any(|part| part.len() >= 16 && part.chars().all(|c| c.is_ascii_hexdigit()))
}

#[tokio::test]
async fn the_etag_gives_a_304_and_hashed_names_are_immutable() {
    let router = router().await;
    let files = widget_files();
    assert!(files.iter().any(|p| p.ends_with(".wasm")), "{files:?}");
    for path in files.iter().filter(|p| *p != "/index.html") {
        let accept = (header::ACCEPT_ENCODING, "gzip, deflate, br");
        let (first, _) = send(&router, Method::GET, path, std::slice::from_ref(&accept)).await;
        let etag = header(&first, &header::ETAG).expect("an ETag").to_owned();
        assert!(
            etag.starts_with('"') && !etag.starts_with("W/"),
            "strong: {etag}"
        );
        let rule = header(&first, &header::CACHE_CONTROL).unwrap();
        let expected = if carries_hash(path) {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        assert_eq!(rule, expected, "{path}");

        let again = (header::IF_NONE_MATCH, etag.as_str());
        let (second, body) = send(&router, Method::GET, path, &[accept, again]).await;
        assert_eq!(second.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert!(body.is_empty(), "{path}");
        assert_eq!(header(&second, &header::ETAG), Some(etag.as_str()));
        assert_eq!(header(&second, &header::CACHE_CONTROL), Some(expected));
    }
}

#[tokio::test]
async fn client_routes_get_the_index_never_cached_with_its_csp() {
    let router = router().await;
    let index = std::fs::read(dist().join("index.html")).unwrap();
    for path in ["/", "/index.html", "/p/shop/runs/r1", "/no-such-file.js"] {
        let (response, body) = send(&router, Method::GET, path, &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(body, index, "{path}");
        assert_eq!(header(&response, &header::CACHE_CONTROL), Some("no-store"));
        let content_type = header(&response, &header::CONTENT_TYPE).unwrap();
        assert!(content_type.starts_with("text/html"), "{content_type}");
        let csp = header(&response, &header::CONTENT_SECURITY_POLICY).unwrap();
        // The loader is a file of its own (frontend/csp-loader.sh): no inline script runs.
        let script_src = csp.split(';').find(|d| d.contains("script-src")).unwrap();
        assert!(script_src.contains("'self'"), "{path}: {csp}");
        assert!(!script_src.contains("unsafe-inline"), "{path}: {csp}");
    }
    let reserved = format!("{RUNBOARD_PREFIX}nope");
    let (api, body) = send(&router, Method::GET, &reserved, &[]).await;
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    assert!(body.starts_with(b"{\"error\""), "JSON, not the page");
}

#[tokio::test]
async fn head_answers_the_headers_of_get_without_a_body() {
    let router = router().await;
    let wasm = widget_files()
        .into_iter()
        .find(|p| p.ends_with(".wasm"))
        .unwrap();
    for path in ["/", wasm.as_str()] {
        let accept = (header::ACCEPT_ENCODING, "br");
        let (get, get_body) = send(&router, Method::GET, path, std::slice::from_ref(&accept)).await;
        let (head, head_body) = send(&router, Method::HEAD, path, &[accept]).await;
        assert_eq!(head.status(), StatusCode::OK, "{path}");
        assert!(head_body.is_empty(), "{path}");
        for name in [
            header::CONTENT_TYPE,
            header::CONTENT_ENCODING,
            header::ETAG,
            header::CACHE_CONTROL,
        ] {
            assert_eq!(header(&head, &name), header(&get, &name), "{path} {name}");
        }
        let length = header(&head, &header::CONTENT_LENGTH).map(|v| v.parse::<usize>().unwrap());
        assert_eq!(length, Some(get_body.len()), "{path}");
    }
}
