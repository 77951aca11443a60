//! Router-level behaviour through `tower::ServiceExt::oneshot`, no socket: the widget's
//! files and their headers, the bootstrap, metrics, body limits and JSON errors.

use axum::{
    Router,
    body::Body,
    http::{Request, Response, header},
};
use http_body_util::BodyExt;
use runboard_proxy::{AppState, BODY_LIMIT, Config, app};
use runboard_shared::{Bootstrap, Endpoint, ErrorCode, Preset, Route, Target};
use serde_json::Value;
use tower::ServiceExt;

use crate::common;

/// A router whose upstream is a closed port: these tests never reach it.
async fn router(widget: Option<&std::path::Path>) -> Router {
    router_with(widget, |_| {}).await
}

/// The same, with the configuration adjusted by `adjust`.
async fn router_with(widget: Option<&std::path::Path>, adjust: impl FnOnce(&mut Config)) -> Router {
    let mut config = common::config_for("http://127.0.0.1:9", "router-test-key");
    config.projects[0].presets = vec![
        serde_json::from_value::<Preset>(serde_json::json!({"name": "Smoke", "testSuiteId": "s1"}))
            .unwrap(),
    ];
    config.embed.frame_ancestors = vec!["https://portal.example.com".into()];
    if let Some(dir) = widget {
        config.widget_dir = Some(dir.to_owned());
    }
    adjust(&mut config);
    app(AppState::new(config).await.unwrap())
}

fn widget() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.path().join(name), bytes).unwrap();
    write(
        "index.html",
        b"<html><script type=\"module\">init()</script><div id=app></div></html>",
    );
    write(
        "app-0123456789abcdef.js",
        "export function init() { return 1; }\n"
            .repeat(100)
            .as_bytes(),
    );
    write("app-0123456789abcdef_bg.wasm", b"\0asm\x01\0\0\0");
    write("favicon.ico", b"icon");
    dir
}

async fn send(router: &Router, request: Request<Body>) -> (Response<Body>, Vec<u8>) {
    let response = router.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (Response::from_parts(parts, Body::empty()), bytes)
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn header_of(response: &Response<Body>, name: header::HeaderName) -> &str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn index_for_client_routes_never_cached_with_its_script_hash() {
    let dir = widget();
    let router = router(Some(dir.path())).await;
    for uri in [
        "/",
        "/index.html",
        "/p/abc/start?embed=1&theme=dark",
        "/p/abc/runs/def",
        "/p/abc/jobs",
    ] {
        let (response, body) = send(&router, get(uri)).await;
        assert_eq!(response.status(), 200, "{uri}");
        assert!(String::from_utf8_lossy(&body).contains("id=app"), "{uri}");
        assert_eq!(header_of(&response, header::CACHE_CONTROL), "no-store");
        assert!(header_of(&response, header::CONTENT_TYPE).starts_with("text/html"));
        let csp = header_of(&response, header::CONTENT_SECURITY_POLICY);
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
            "{csp}"
        );
        assert!(
            csp.contains("frame-ancestors https://portal.example.com"),
            "{csp}"
        );
    }
}

#[tokio::test]
async fn assets_have_types_caching_and_compression() {
    let dir = widget();
    let router = router(Some(dir.path())).await;
    let (response, _) = send(&router, get("/app-0123456789abcdef_bg.wasm")).await;
    assert_eq!(
        header_of(&response, header::CONTENT_TYPE),
        "application/wasm"
    );
    assert!(header_of(&response, header::CACHE_CONTROL).contains("immutable"));
    let (response, _) = send(&router, get("/favicon.ico")).await;
    assert_eq!(header_of(&response, header::CACHE_CONTROL), "no-cache");
    let request = Request::get("/app-0123456789abcdef.js")
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .unwrap();
    let (response, body) = send(&router, request).await;
    assert_eq!(header_of(&response, header::CONTENT_ENCODING), "gzip");
    assert!(header_of(&response, header::CONTENT_TYPE).contains("javascript"));
    assert!(body.len() < 1000, "compressed to {} bytes", body.len());
    assert_eq!(
        header_of(&response, header::X_CONTENT_TYPE_OPTIONS),
        "nosniff"
    );
}

/// The build's `.br`/`.gz` copies (frontend/precompress.sh) are what a browser that
/// accepts them gets, with the original's type and cache rule; one that accepts neither
/// gets the file itself.
#[tokio::test]
async fn precompressed_copies_go_to_browsers_that_accept_them() {
    let dir = widget();
    let wasm = "app-0123456789abcdef_bg.wasm";
    std::fs::write(dir.path().join(format!("{wasm}.br")), b"brotli bytes").unwrap();
    std::fs::write(dir.path().join(format!("{wasm}.gz")), b"gzip bytes").unwrap();
    let router = router(Some(dir.path())).await;
    for (accepts, encoding, body) in [
        ("gzip, deflate, br, zstd", "br", &b"brotli bytes"[..]),
        ("gzip, deflate", "gzip", &b"gzip bytes"[..]),
        ("identity", "", &b"\0asm\x01\0\0\0"[..]),
    ] {
        let request = Request::get(format!("/{wasm}"))
            .header(header::ACCEPT_ENCODING, accepts)
            .body(Body::empty())
            .unwrap();
        let (response, bytes) = send(&router, request).await;
        assert_eq!(response.status(), 200, "{accepts}");
        assert_eq!(
            header_of(&response, header::CONTENT_ENCODING),
            encoding,
            "{accepts}"
        );
        assert_eq!(bytes, body, "{accepts}");
        assert_eq!(
            header_of(&response, header::CONTENT_TYPE),
            "application/wasm"
        );
        assert!(header_of(&response, header::CACHE_CONTROL).contains("immutable"));
        assert!(
            header_of(&response, header::VARY).contains("accept-encoding"),
            "{accepts}: caches must keep the variants apart"
        );
    }
}

/// Found by the `proxy` fuzz target: paths that can be no widget file were a 500.
#[tokio::test]
async fn paths_that_name_no_file_are_json_404s() {
    let dir = widget();
    let router = router(Some(dir.path())).await;
    for uri in [
        // Authority form, as `GET host:443 HTTP/1.1` arrives over a socket (a loopback
        // host: any other is refused 421 before the file server).
        "runboard.localhost:443".to_owned(),
        // A file name longer than the file system allows.
        format!("/{}.js", "a".repeat(300)),
    ] {
        let (response, body) = send(&router, get(&uri)).await;
        assert_eq!(response.status(), 404, "{uri}");
        let json: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"]["code"], "not_found", "{uri}");
    }
}

#[tokio::test]
async fn a_missing_widget_is_explained_and_the_api_still_works() {
    let router = router(None).await;
    let (response, body) = send(&router, get("/")).await;
    assert_eq!(response.status(), 503);
    assert!(String::from_utf8_lossy(&body).contains("widget_dir has no index.html"));
    let (response, _) = send(&router, get(&Target::Bootstrap.path())).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn bootstrap_lists_projects_presets_and_poll_intervals() {
    let router = router(None).await;
    let (response, body) = send(&router, get(&Target::Bootstrap.path())).await;
    assert!(!String::from_utf8_lossy(&body).contains("router-test-key"));
    let boot: Bootstrap = serde_json::from_slice(&body).unwrap();
    assert_eq!(boot.version, runboard_proxy::VERSION);
    assert_eq!(boot.user, None);
    assert_eq!(boot.projects.len(), 1);
    assert_eq!(boot.projects[0].id.as_str(), common::PROJECT);
    assert!(boot.projects[0].can_run);
    assert_eq!(boot.projects[0].presets[0].name, "Smoke");
    assert_eq!((boot.poll.jobs_ms, boot.poll.run_ms), (2000, 3000));
    assert!(!boot.open_access, "loopback is not open access");
    let csp = header_of(&response, header::CONTENT_SECURITY_POLICY);
    assert!(csp.contains("frame-ancestors"));
    assert_eq!(header_of(&response, header::REFERRER_POLICY), "same-origin");
}

#[tokio::test]
async fn bodies_over_the_limit_and_other_methods_are_json_errors() {
    let router = router(None).await;
    let big = format!(r#"{{"jobIds":["{}"]}}"#, "a".repeat(BODY_LIMIT));
    let request = Request::post(common::jobs_path())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(big))
        .unwrap();
    let (response, body) = send(&router, request).await;
    assert_eq!(response.status(), 413);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "body_too_large");
    let (response, body) = send(&router, Request::post("/").body(Body::empty()).unwrap()).await;
    assert_eq!(response.status(), 405);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
    let (response, _) = send(
        &router,
        Request::put(Route::Guide(Endpoint::Jobs).fill(&["p1"]))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), 405);
}

/// Each of the guide's endpoints answers only the method the shared table gives it; any
/// other method is a 405 before anything is forwarded.
#[tokio::test]
async fn each_endpoint_takes_only_its_guide_method() {
    let router = router(None).await;
    for endpoint in Endpoint::ALL {
        let path = match endpoint {
            Endpoint::Execute => common::execute_path(),
            Endpoint::Jobs => common::jobs_path(),
            Endpoint::TestRun => common::run_path("6804f1e2d2d4e0a1c1a0d456"),
        };
        assert_eq!(Endpoint::of_path(&path), Some(endpoint), "{path}");
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            let request = Request::builder()
                .method(method)
                .uri(&path)
                .body(Body::empty())
                .unwrap();
            let (response, _) = send(&router, request).await;
            let refused = response.status() == 405;
            assert_eq!(refused, method != endpoint.method(), "{method} {path}");
        }
    }
}

#[tokio::test]
async fn metrics_count_by_route_template_without_ids() {
    let router = router(None).await;
    send(&router, get(&common::run_path("6804f1e2d2d4e0a1c1a0d456"))).await;
    send(&router, get("/healthz")).await;
    let (response, body) = send(&router, get("/metrics")).await;
    let text = String::from_utf8(body).unwrap();
    assert!(header_of(&response, header::CONTENT_TYPE).contains("openmetrics"));
    assert!(
        text.contains(&format!(r#"route="{}""#, Endpoint::TestRun.template())),
        "{text}"
    );
    assert!(
        text.contains("runboard_upstream_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(!text.contains(common::PROJECT) && !text.contains("6804f1e2d2d4e0a1c1a0d456"));
    assert!(!text.contains("router-test-key"));
}

#[tokio::test]
async fn answers_that_name_the_user_or_hold_run_data_are_never_cached() {
    let router = router(None).await;
    let run = common::run_path("6804f1e2d2d4e0a1c1a0d456");
    for uri in [
        Target::Bootstrap.path(),
        run,
        Route::Guide(Endpoint::TestRun).fill(&["unknown", "r1"]),
    ] {
        let (response, _) = send(&router, get(&uri)).await;
        assert_eq!(
            header_of(&response, header::CACHE_CONTROL),
            "no-store",
            "{uri}: {}",
            response.status()
        );
    }
    let jobs = Request::post(common::jobs_path())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let (response, _) = send(&router, jobs).await;
    assert_eq!(header_of(&response, header::CACHE_CONTROL), "no-store");
}

#[tokio::test]
async fn open_access_is_flagged_in_the_bootstrap() {
    let open = router_with(None, |config| {
        config.listen = "192.0.2.10:8080".parse().unwrap();
    })
    .await;
    let (_, body) = send(&open, get(&Target::Bootstrap.path())).await;
    let boot: Bootstrap = serde_json::from_slice(&body).unwrap();
    assert!(boot.open_access);
    let value: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(value["openAccess"], true);
}

#[tokio::test]
async fn invented_methods_are_counted_as_other() {
    let router = router(None).await;
    for method in ["BREW", "get", "X-SCAN-1", "X-SCAN-2"] {
        let request = Request::builder()
            .method(method)
            .uri("/healthz")
            .body(Body::empty())
            .unwrap();
        let (response, _) = send(&router, request).await;
        assert_eq!(response.status(), 405, "{method}");
    }
    let (_, body) = send(&router, get("/metrics")).await;
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains(r#"method="OTHER",status="405""#), "{text}");
    for invented in ["BREW", "get", "X-SCAN"] {
        assert!(!text.contains(&format!(r#"method="{invented}"#)), "{text}");
    }
}

/// `/runboard/openapi.json` is generated from the route table: every route the router
/// answers is described with its method, and every described route is answered (not
/// the widget's 404 or a 405), so the description cannot drift from the server.
#[tokio::test]
async fn the_openapi_description_lists_every_route_the_router_answers() {
    let router = router(None).await;
    let (response, bytes) = send(&router, get(&Target::OpenApi.path())).await;
    assert_eq!(response.status(), 200);
    assert!(header_of(&response, header::CONTENT_TYPE).starts_with("application/json"));
    let description: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(description["openapi"], "3.1.0");
    let paths = description["paths"].as_object().unwrap();
    let mut templates: Vec<&str> = Route::ALL.iter().map(|r| r.template()).collect();
    templates.sort_unstable();
    templates.dedup();
    assert_eq!(paths.len(), templates.len(), "one path item per template");
    for route in Route::ALL {
        let method = route.method().to_ascii_lowercase();
        assert!(
            paths[route.template()][&method].is_object(),
            "{route:?} is not described"
        );
        // Answered by its own handlers: a method no route of the template answers is a
        // 405, not the widget.
        let answered = Route::methods_of(route.template());
        let other = ["DELETE", "GET", "PUT"]
            .into_iter()
            .find(|m| !answered.contains(m))
            .unwrap();
        let path = route
            .template()
            .replace("{projId}", "p1")
            .replace(['{', '}'], "");
        let request = Request::builder()
            .method(other)
            .uri(&path)
            .body(Body::empty())
            .unwrap();
        let (response, _) = send(&router, request).await;
        assert_eq!(response.status(), 405, "{other} {path}");
    }
}

/// The error body's `code` is described as an enum of every code this version knows, in
/// the shared declaration's order and spelled as on the wire, with the note that a newer
/// server may add codes; every operation's errors point at that one schema, and the codes
/// the router really answers with are among those listed.
#[tokio::test]
async fn the_openapi_error_code_lists_every_known_code() {
    let router = router(None).await;
    let (_, bytes) = send(&router, get(&Target::OpenApi.path())).await;
    let description: Value = serde_json::from_slice(&bytes).unwrap();
    let error = &description["components"]["schemas"]["Error"];
    let code = &error["properties"]["error"]["properties"]["code"];
    assert_eq!(code["type"], "string");
    let listed: Vec<&str> = code["enum"]
        .as_array()
        .expect("code is an enum")
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let known: Vec<&str> = ErrorCode::KNOWN.iter().map(ErrorCode::as_str).collect();
    assert_eq!(listed, known);
    assert!(listed.contains(&"rate_limited") && listed.contains(&"upstream_unavailable"));
    let note = code["description"].as_str().unwrap();
    assert!(
        note.contains("must accept a code they do not know"),
        "{note}"
    );

    for (template, operations) in description["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let schema =
                &operation["responses"]["default"]["content"]["application/json"]["schema"];
            assert_eq!(
                schema["$ref"], "#/components/schemas/Error",
                "{method} {template}"
            );
        }
    }

    // Answers the router gives (the upstream is a closed port): their codes are listed.
    let answered = [
        get(&common::run_path("6804f1e2d2d4e0a1c1a0d456")),
        get(&Route::Guide(Endpoint::TestRun).fill(&["unknown", "r1"])),
        Request::post("/").body(Body::empty()).unwrap(),
    ];
    for request in answered {
        let (response, body) = send(&router, request).await;
        let body: Value = serde_json::from_slice(&body).unwrap();
        let code = common::code(&body);
        assert!(listed.contains(&code), "{}: {body}", response.status());
    }
}
