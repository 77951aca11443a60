//! The widget built into the binary (`proxy/build.rs`), served by the whole router without
//! `widget_dir`: every file of `frontend/dist` in each form, ETags and 304s, cache rules,
//! HEAD, and `index.html` for client routes, with the preload hints of its address (from
//! either source, never echoing an address that is not a valid report's). `./x test`
//! builds the widget before the tests, so the build embedded it.

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
use runboard_shared::{RUNBOARD_PREFIX, RunId, RunPage, Target};
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
    for path in widget_files().iter().filter(|p| !is_page(p)) {
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
/// Trunk's names carry a 64-bit hash in hex without leading zeros: 16 digits, sometimes
/// fewer.
fn carries_hash(path: &str) -> bool {
    let stem = path.rsplit('/').next().unwrap().split('.').next().unwrap();
    stem.split(['-', '_'])
        .any(|part| part.len() >= 12 && part.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The widget's two pages, answered as pages (with their CSP), never as files.
fn is_page(path: &str) -> bool {
    matches!(path, "/index.html" | "/report.html")
}

#[tokio::test]
async fn the_etag_gives_a_304_and_hashed_names_are_immutable() {
    let router = router().await;
    let files = widget_files();
    assert!(files.iter().any(|p| p.ends_with(".wasm")), "{files:?}");
    for path in files.iter().filter(|p| !is_page(p)) {
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

/// A router serving the built widget from its folder (`widget_dir`, re-theming without a
/// rebuild): the page's hints do not depend on where the widget comes from.
async fn router_from_dir() -> Router {
    let mut config = common::config_for("http://127.0.0.1:9", "embedded-test-key");
    config.widget_dir = Some(dist());
    app(AppState::new(config).await.unwrap())
}

/// The paths the page's `Link` header hints, each checked to be a preload the widget's
/// `fetch` takes over (`as=fetch`, CORS mode with `same-origin` credentials).
fn hinted(response: &Response<Body>) -> Vec<String> {
    let Some(link) = header(response, &header::LINK) else {
        return Vec::new();
    };
    link.split(", ")
        .map(|hint| {
            let (path, params) = hint.split_once(">; ").expect("<path>; params");
            assert_eq!(
                params, "rel=preload; as=fetch; crossorigin=anonymous",
                "{link}"
            );
            path.strip_prefix('<').expect("<path>").to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_page_hints_the_reads_its_widget_starts_with() {
    let run = RunId::parse("64f1c0aa72e0bd5e11c0ffee").unwrap();
    let page = RunPage {
        project: common::project_id(),
        run: run.clone(),
    }
    .path();
    let bootstrap = &Target::Bootstrap.path();
    let report = &Target::TestRun(common::project_id(), run.clone()).path();
    let verdict = &Target::Verdict(common::project_id(), run).path();
    let index = std::fs::read(dist().join("index.html")).unwrap();
    let project = common::PROJECT;
    let check = async |router: &Router, method: Method, path: &str, expected: &[&str]| {
        let (response, body) = send(router, method.clone(), path, &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(hinted(&response), expected, "{method} {path}");
        if method == Method::GET {
            assert_eq!(body, index, "{path}: the page itself is the build's");
        }
    };
    for router in [router().await, router_from_dir().await] {
        for method in [Method::GET, Method::HEAD] {
            // A run report of a configured project: its report and verdict too.
            check(
                &router,
                method.clone(),
                &page,
                &[bootstrap, report, verdict],
            )
            .await;
            let slash = format!("{page}/");
            check(
                &router,
                method.clone(),
                &slash,
                &[bootstrap, report, verdict],
            )
            .await;
        }
        // Every other page of the widget: the bootstrap alone.
        for path in [
            "/".to_owned(),
            "/index.html".to_owned(),
            format!("/p/{project}/start"),
            format!("/p/{project}/history"),
            format!("/p/{project}/runs"),
            "/p/not-configured/runs/r1".to_owned(),
        ] {
            check(&router, Method::GET, &path, &[bootstrap]).await;
        }
    }
}

#[tokio::test]
async fn a_hostile_report_address_is_never_written_back() {
    let project = common::PROJECT;
    let bootstrap = Target::Bootstrap.path();
    let long = "r".repeat(65);
    let hostile = [
        format!("/p/{project}/runs/%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
        format!("/p/{project}/runs/r1%3E%3B%20rel%3Dpreload%3B%20as%3Dscript"),
        format!("/p/{project}/runs/r1%2C%20%3C%2Fevil.js%3E"),
        format!("/p/{project}/runs/r1%0D%0ALink:%20x"),
        format!("/p/{project}/runs/.."),
        format!("/p/{project}/runs/{long}"),
        format!("/p/{project}/runs/a%2Fb"),
        "/p/%3Cimg%20src%3Dx%3E/runs/r1".to_owned(),
        format!("/p/{project}/runs/r1/extra"),
    ];
    for router in [router().await, router_from_dir().await] {
        for path in &hostile {
            let (response, _) = send(&router, Method::GET, path, &[]).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(hinted(&response), [bootstrap.as_str()], "{path}");
            let link = header(&response, &header::LINK).unwrap();
            for echoed in ["script", "evil", "img", "extra", "%", "..", long.as_str()] {
                assert!(!link.contains(echoed), "{path} echoed into {link}");
            }
        }
    }
}

#[tokio::test]
async fn only_the_page_carries_hints() {
    let router = router().await;
    for path in widget_files().iter().filter(|p| !is_page(p)) {
        let (response, _) = send(&router, Method::GET, path, &[]).await;
        assert_eq!(header(&response, &header::LINK), None, "{path}");
    }
    let reserved = format!("{RUNBOARD_PREFIX}nope");
    let (api, _) = send(&router, Method::GET, &reserved, &[]).await;
    assert_eq!(header(&api, &header::LINK), None);
}
