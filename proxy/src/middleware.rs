//! The layer stack, and only that. `.layer()` wraps outward: the last layer added runs
//! first on the way in, so the order below reads from the innermost to the outermost.

use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    http::{HeaderName, HeaderValue, header},
    middleware::{Next, from_fn, from_fn_with_state},
    response::Response,
};
use tower_http::compression::CompressionLayer;

use crate::{AppState, BODY_LIMIT};

/// Wraps `routes` in Runboard's middleware.
pub(crate) fn stack(routes: Router, state: AppState) -> Router {
    routes
        // Innermost: cap bodies; the JSON extractor reports an excess in Runboard's
        // error format. (CSRF is checked by the `SameOrigin` extractor of POST handlers,
        // so other methods still get their 405 and unknown paths their 404.)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // Security headers go on every answer, errors and static files included.
        .layer(from_fn_with_state(state.clone(), security_headers))
        // Compress what leaves (wasm, js, JSON); the headers above are unaffected.
        .layer(CompressionLayer::new())
        // Outermost: count every answer by route template and status.
        .layer(from_fn_with_state(state, count_request))
        .layer(from_fn(trace_request))
}

/// Counts the answer under the matched route template (never the raw path with ids).
async fn count_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("widget", MatchedPath::as_str)
        .to_owned();
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    state
        .metrics()
        .request(&route, &method, response.status().as_u16());
    response
}

/// Logs one line per request at debug level, by route template.
async fn trace_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    tracing::debug!(%method, path, status = response.status().as_u16(), "request");
    response
}

/// The CSP for `frame_ancestors` and extra `script-src` sources (inline-script hashes).
pub(crate) fn content_security_policy(
    frame_ancestors: &[String],
    script_hashes: &[String],
) -> String {
    let ancestors = if frame_ancestors.is_empty() {
        "'self'".to_owned()
    } else {
        frame_ancestors.join(" ")
    };
    let mut script = String::from("'self' 'wasm-unsafe-eval'");
    for hash in script_hashes {
        script.push(' ');
        script.push_str(hash);
    }
    format!(
        "default-src 'self'; script-src {script}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: https:; media-src 'self' https:; connect-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors {ancestors}"
    )
}

async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let csp = content_security_policy(&state.config().embed.frame_ancestors, &[]);
        if let Ok(value) = HeaderValue::from_str(&csp) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    headers.remove(header::SERVER);
    response
}
