//! The widget's files from `widget_dir`: real files with their content types and cache
//! rules, `index.html` (never cached, CSP with its inline-script hashes) for every other
//! GET so client-side routes work, brotli or gzip copies made at build time where the
//! browser accepts them, and JSON 404s for unknown `/api/` and `/runboard/` paths.

use std::path::Path;

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::Engine;
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::{AppError, AppState, middleware::content_security_policy};

/// Cache rule for files whose name carries a content hash (Trunk's `name-<hash>.ext`).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache rule for other files: revalidate each time.
const REVALIDATE: &str = "no-cache";

/// The router's fallback: everything that is not an API or Runboard route.
pub(crate) async fn serve(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if is_reserved(&path) {
        return AppError::NotFound(path).into_response();
    }
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return AppError::MethodNotAllowed(format!("{} {path}", request.method())).into_response();
    }
    // Only an origin-form target ("/…") names a file. An authority-form one ("GET
    // host:443") has no path, and the file server would fail building a redirect for it
    // (a 500 the fuzzer found), so it is simply not found.
    if !path.starts_with('/') {
        return AppError::NotFound(request.uri().to_string()).into_response();
    }
    let dir = &state.config().widget_dir;
    if path != "/" && path != "/index.html" && !path.ends_with('/') {
        // The build writes `.br` and `.gz` copies beside the wasm, js and css
        // (frontend/precompress.sh); a browser that accepts one gets it, made once at the
        // highest level. Without a copy, the compression layer compresses as it sends.
        let files = ServeDir::new(dir).precompressed_br().precompressed_gzip();
        let response = match files.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        if response.status().is_server_error() {
            // The file server answers 500 for any I/O error but "not found", e.g. a name
            // longer than the file system allows (the fuzzer found one). No such path is a
            // widget file: say so, and leave a trace for a real disk problem.
            tracing::warn!(
                status = response.status().as_u16(),
                "a widget path could not be read"
            );
            return AppError::NotFound(path).into_response();
        }
        if response.status() != StatusCode::NOT_FOUND {
            return with_cache_rule(response.map(Body::new), &path);
        }
    }
    index(dir, &state.config().embed.frame_ancestors).await
}

/// Paths that belong to Runboard's APIs: never answered with the widget.
fn is_reserved(path: &str) -> bool {
    ["/api", "/runboard"]
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
}

fn with_cache_rule(mut response: Response, path: &str) -> Response {
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        let rule = if is_hashed(path) {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(rule));
        // The same path may be sent as brotli, gzip or plain: a shared cache must keep
        // them apart (the file server does not say so for its precompressed copies).
        if !headers.contains_key(header::VARY) {
            headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
    }
    response
}

/// Whether the file name carries a content hash: a `-`-separated part of at least 16
/// hex digits (`runboard-frontend-1a2b…_bg.wasm`, `style-1a2b….css`).
pub(crate) fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    stem.split(['-', '_'])
        .any(|part| part.len() >= 16 && part.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `index.html`, or a 503 saying how to build the widget.
async fn index(dir: &Path, frame_ancestors: &[String]) -> Response {
    let Ok(html) = tokio::fs::read_to_string(dir.join("index.html")).await else {
        return AppError::WidgetMissing.into_response();
    };
    let csp = content_security_policy(frame_ancestors, &inline_script_hashes(&html));
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// CSP hash sources (`'sha256-…'`) for the inline `<script>` elements of `html`, such as
/// the loader Trunk writes, so the page runs under `script-src 'self'` without
/// `'unsafe-inline'`.
pub(crate) fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        rest = &rest[start + "<script".len()..];
        let Some(tag_end) = rest.find('>') else { break };
        let attributes = &rest[..tag_end];
        rest = &rest[tag_end + 1..];
        let Some(close) = rest.find("</script>") else {
            break;
        };
        let body = &rest[..close];
        rest = &rest[close..];
        if attributes.contains("src=") || body.is_empty() {
            continue;
        }
        let digest = Sha256::digest(body.as_bytes());
        hashes.push(format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest)
        ));
    }
    hashes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names() {
        let check = |path: &str, expected: bool| assert_eq!(is_hashed(path), expected, "{path}");
        check("/runboard-frontend-4f1c2a9b8d7e6f50_bg.wasm", true);
        check("/runboard-frontend-4f1c2a9b8d7e6f50.js", true);
        check("/style-0123456789abcdef.css", true);
        check("/favicon.ico", false);
        check("/runboard-frontend.js", false);
    }

    #[test]
    fn inline_scripts_are_hashed_and_external_ones_skipped() {
        let html = r#"<script src="/a.js"></script><script type="module">init()</script>"#;
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 1);
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"init()"));
        assert_eq!(hashes[0], format!("'sha256-{expected}'"));
    }

    #[test]
    fn reserved_prefixes() {
        assert!(is_reserved("/api"));
        assert!(is_reserved("/api/nope"));
        assert!(is_reserved("/runboard/x"));
        assert!(!is_reserved("/apiary"));
        assert!(!is_reserved("/p/abc/runs/def"));
    }
}
