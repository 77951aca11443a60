//! The widget's files: built into the binary (`embedded.rs`, from `proxy/build.rs`) or,
//! when `widget_dir` is set, read from that folder (to re-theme without a rebuild). Either
//! way: content types and cache rules, `index.html` (never cached, CSP with its
//! inline-script hashes, preload hints for the address asked for: `hints.rs`; on a run
//! report's address, the verdict line already written in: `first_paint.rs`) for every
//! other GET so client-side routes work, brotli or gzip forms made at build time where the
//! browser accepts them, and JSON 404s for unknown `/api/` and `/runboard/` paths.

mod embedded;
mod first_paint;
mod hints;
mod pages;

use std::{fmt, path::Path};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::Engine;
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use runboard_shared::{API_PREFIX, RUNBOARD_PREFIX};

use crate::{AppError, AppState, Config, middleware::content_security_policy};
use pages::Page;

/// Cache rule for files whose name carries a content hash (Trunk's `name-<hash>.ext`).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache rule for other files: revalidate each time.
const REVALIDATE: &str = "no-cache";
/// Cache rule for `index.html`: never kept, so a new release's hashed names reach every
/// browser at once.
const NO_STORE: &str = "no-store";

/// Where this server's widget comes from, decided by the configuration and the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WidgetSource<'a> {
    /// `widget_dir`: files read from this folder on each request.
    Dir(&'a Path),
    /// The files built into this binary (`./x build`), this many.
    Embedded(usize),
    /// Neither: `/` serves a page saying how to get a widget.
    Missing,
}

impl<'a> WidgetSource<'a> {
    /// The source `config` and this build give: `widget_dir` overrides the built-in widget.
    pub fn of(config: &'a Config) -> Self {
        match config.widget_override() {
            Some(dir) => Self::Dir(dir),
            None if embedded::WIDGET.is_empty() => Self::Missing,
            None => Self::Embedded(embedded::WIDGET.len()),
        }
    }
}

/// The line that `runboard` logs at start and `check-config` prints.
impl fmt::Display for WidgetSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dir(dir) => write!(f, "widget from {} (widget_dir)", dir.display()),
            Self::Embedded(files) => write!(f, "widget built into this binary ({files} files)"),
            Self::Missing => f.write_str(
                "this build carries no widget: run ./x build, or set widget_dir; \
                 until then / serves a page saying so (the API works)",
            ),
        }
    }
}

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
    let (mut parts, body) = request.into_parts();
    let chosen = pages::of(&state, &mut parts).await;
    let verdict_line = match parts.method {
        Method::GET => first_paint::verdict_line(&state, &mut parts).await,
        _ => None,
    };
    let request = Request::from_parts(parts, body);
    let config = state.config();
    let page = PageHeaders {
        page: chosen,
        frame_ancestors: &config.embed.frame_ancestors,
        preload: hints::preload(&path, config),
        verdict_line,
    };
    let Some(dir) = config.widget_override() else {
        return embedded::serve(embedded::WIDGET, &path, request.headers(), &page);
    };
    if path != "/" && !Page::is_page(&path) && !path.ends_with('/') {
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
    index(dir, &page).await
}

/// Paths that belong to Runboard's APIs, never answered with the widget: the contract's
/// prefixes, and each prefix without its last `/`.
fn is_reserved(path: &str) -> bool {
    runboard_shared::is_reserved(path)
        || [API_PREFIX, RUNBOARD_PREFIX]
            .iter()
            .any(|prefix| path == prefix.trim_end_matches('/'))
}

fn with_cache_rule(mut response: Response, path: &str) -> Response {
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        let headers = response.headers_mut();
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_rule(path)),
        );
        // The same path may be sent as brotli, gzip or plain: a shared cache must keep
        // them apart (the file server does not say so for its precompressed copies).
        if !headers.contains_key(header::VARY) {
            headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
    }
    response
}

/// Immutable for a hashed name (a new build has new names), else revalidate.
fn cache_rule(path: &str) -> &'static str {
    if is_hashed(path) {
        IMMUTABLE
    } else {
        REVALIDATE
    }
}

/// Whether the file name carries a content hash: a `-`-separated part of at least 12
/// hex digits (`runboard-frontend-1a2b…_bg.wasm`, `style-1a2b….css`). Trunk writes its
/// 64-bit hash without leading zeros, so one build in sixteen has a 15-digit name.
pub(crate) fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    stem.split(['-', '_'])
        .any(|part| part.len() >= 12 && part.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The chosen page (`index.html` where a folder built before the report page has none),
/// or a 503 saying how to build the widget.
async fn index(dir: &Path, page: &PageHeaders<'_>) -> Response {
    let read = |page: Page| tokio::fs::read_to_string(dir.join(&page.path()[1..]));
    let html = match read(page.page).await {
        Ok(html) => html,
        Err(_) => match read(Page::Full).await {
            Ok(html) => html,
            Err(_) => return AppError::WidgetMissing.into_response(),
        },
    };
    page.written(page.with_line(&html).unwrap_or(html))
}

/// What the widget's page is sent with beside its bytes, whichever source it comes from.
pub(crate) struct PageHeaders<'a> {
    /// Which of the widget's pages answers (`pages.rs`).
    pub(crate) page: Page,
    /// `[embed] frame_ancestors`, for the page's CSP.
    pub(crate) frame_ancestors: &'a [String],
    /// The preload hints for the address the page was asked for (`hints.rs`).
    pub(crate) preload: Option<HeaderValue>,
    /// The run's verdict line to write into the page (`first_paint.rs`), if ready.
    pub(crate) verdict_line: Option<String>,
}

impl PageHeaders<'_> {
    /// The headers of the page `html`: the CSP that lets exactly its inline scripts run,
    /// and the preload hints.
    fn for_page(&self, html: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let csp = content_security_policy(self.frame_ancestors, &inline_script_hashes(html));
        if let Ok(csp) = HeaderValue::from_str(&csp) {
            headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        if let Some(link) = &self.preload {
            headers.insert(header::LINK, link.clone());
        }
        headers
    }

    /// `html` with the verdict line written in, when there is one.
    fn with_line(&self, html: &str) -> Option<String> {
        let line = self.verdict_line.as_deref()?;
        Some(first_paint::insert(html, line))
    }

    /// The page made here (not a stored form): its headers, never stored.
    fn written(&self, html: String) -> Response {
        (
            self.for_page(&html),
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, NO_STORE),
            ],
            html,
        )
            .into_response()
    }
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
        check("/runboard-frontend-5a51a83eadb11e9_bg.wasm", true);
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
        assert!(is_reserved(API_PREFIX.trim_end_matches('/')));
        assert!(is_reserved(&format!("{API_PREFIX}nope")));
        assert!(is_reserved(&format!("{RUNBOARD_PREFIX}x")));
        assert!(!is_reserved("/apiary"));
        assert!(!is_reserved("/p/abc/runs/def"));
    }
}
