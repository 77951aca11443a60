//! The layer stack, and only that. `.layer()` wraps outward: the last layer added runs
//! first on the way in, so the order below reads from the innermost to the outermost.

use std::{
    convert::Infallible,
    net::SocketAddr,
    task::{Context, Poll},
};

use axum::{
    BoxError, Router,
    body::{Body, Bytes, HttpBody},
    extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State},
    http::{Extensions, HeaderMap, HeaderName, HeaderValue, StatusCode, Version, header},
    middleware::{Next, from_fn, from_fn_with_state},
    response::{IntoResponse, Response},
};
use futures_util::{
    TryFutureExt,
    future::{Either, MapOk},
};
use runboard_shared::{Route, is_reserved};
use tower::{Layer, Service, ServiceExt, util::Oneshot};
use tower_http::{
    compression::{
        CompressionLayer, CompressionLevel,
        predicate::{NotForContentType, Predicate, SizeAbove},
    },
    timeout::RequestBodyTimeoutLayer,
};

use crate::{
    AppState, BODY_LIMIT, host, keyscan,
    limits::{Kind, Who},
    reads::{Negotiated, SMALL_BODY},
};

/// Wraps `routes` in Runboard's middleware.
pub(crate) fn stack(routes: Router, state: AppState) -> Router {
    routes
        // Innermost: cap bodies; the JSON extractor reports an excess in Runboard's
        // error format. (CSRF is checked by the `SameOrigin` extractor of POST handlers,
        // so other methods still get their 405 and unknown paths their 404.)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // What Runboard built from answers is scanned for every key before it leaves
        // (`keyscan/egress.rs`); inside compression, so it sees the plain bytes.
        .layer(from_fn_with_state(state.clone(), keyscan::withhold_keys))
        // A body that stalls longer than `server.body_timeout_ms` between two pieces
        // fails to read (a slow client cannot hold a handler forever).
        .layer(RequestBodyTimeoutLayer::new(
            state.config().server.body_timeout,
        ))
        // Per-user allowances, by the matched route; after the routing so unknown paths
        // and wrong methods cost nothing.
        .layer(from_fn_with_state(state.clone(), rate_limit))
        // Answers that name the user or hold run data are never cached.
        .layer(from_fn(no_store))
        // Security headers go on every answer, errors and static files included.
        .layer(from_fn_with_state(state.clone(), security_headers))
        // Compress what leaves (wasm, js, JSON) in br, zstd or gzip at tower-http's
        // levels for dynamic content (br 4, zstd 3, gzip 6: see `reads/encoded.rs`);
        // the headers above are unaffected. Never around live streams (`SkipLive`).
        .layer(SkipLive(
            CompressionLayer::new()
                .quality(CompressionLevel::Default)
                .compress_when(compressible()),
        ))
        // A Host that is not ours (`public_url`, or loopback and the listen address) is
        // refused before anything else runs.
        .layer(from_fn_with_state(state.clone(), check_host))
        // Outermost: count every answer by route template and status.
        .layer(from_fn_with_state(state, count_request))
        .layer(from_fn(trace_request))
}

/// What the compression layer compresses: tower-http's default rule (bodies of at
/// least [`SMALL_BODY`] bytes, not images, not gRPC, and not event streams, whose events
/// must leave as they are written rather than wait in a compressor), except answers
/// whose coding was already chosen from `Accept-Encoding` (the shared reads keep their
/// compressed forms: `reads/encoded.rs`).
fn compressible() -> impl Predicate {
    SizeAbove::new(SMALL_BODY)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE)
        .and(not_negotiated as fn(StatusCode, Version, &HeaderMap, &Extensions) -> bool)
}

/// `L` around every route but the live stream's. The compression layer wraps each answer's
/// body in one sized for its largest encoder, about 5.8 KB, even for the event streams it
/// never compresses; held by each of 10,000 viewers that was 55 MiB of the server's memory
/// for nothing (docs/benchmarks.md). Routing has run when this layer is called, so the
/// matched route tells.
#[derive(Clone)]
struct SkipLive<L>(L);

impl<S: Clone, L: Layer<S>> Layer<S> for SkipLive<L> {
    type Service = SkipLiveService<S, L::Service>;

    fn layer(&self, inner: S) -> Self::Service {
        SkipLiveService {
            plain: inner.clone(),
            wrapped: self.0.layer(inner),
        }
    }
}

/// The route's service, and the same inside the wrapping layer.
#[derive(Clone)]
struct SkipLiveService<S, W> {
    plain: S,
    wrapped: W,
}

type Boxing<B> = fn(axum::http::Response<B>) -> Response;

impl<S, W, B> Service<Request> for SkipLiveService<S, W>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone,
    W: Service<Request, Response = axum::http::Response<B>, Error = Infallible> + Clone,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Oneshot<S, Request>, MapOk<Oneshot<W, Request>, Boxing<B>>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Each call below readies a clone of its own.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let live = request
            .extensions()
            .get::<MatchedPath>()
            .and_then(|matched| Route::of_template(matched.as_str()))
            == Some(Route::Live);
        if live {
            Either::Left(self.plain.clone().oneshot(request))
        } else {
            let boxing: Boxing<B> = |response| response.map(Body::new);
            Either::Right(self.wrapped.clone().oneshot(request).map_ok(boxing))
        }
    }
}

fn not_negotiated(_: StatusCode, _: Version, _: &HeaderMap, extensions: &Extensions) -> bool {
    extensions.get::<Negotiated>().is_none()
}

/// Counts the answer under the matched route template (never the raw path with ids).
async fn count_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("widget", MatchedPath::as_str)
        .to_owned();
    let method = request.method().clone();
    let response = next.run(request).await;
    state
        .metrics()
        .request(&route, &method, response.status().as_u16());
    response
}

/// Spends the user's start or read allowance, as the route table says for the matched
/// route ([`Kind::of_route`]); 429 `rate_limited` with `Retry-After`. Paths that match no
/// route (the widget's files) spend nothing.
async fn rate_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let kind = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|matched| Route::of_template(matched.as_str()))
        .and_then(Kind::of_route);
    let Some(kind) = kind else {
        return next.run(request).await;
    };
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    let who = Who::of(&state.config().auth, request.headers(), peer);
    match state.limits().check(kind, &who) {
        Ok(()) => next.run(request).await,
        Err(err) => err.into_response(),
    }
}

/// `Cache-Control: no-store` on `/api/` and `/runboard/` answers unless the handler
/// chose its own caching: they name the user or hold private run data.
async fn no_store(request: Request, next: Next) -> Response {
    let private = is_reserved(request.uri().path());
    let mut response = next.run(request).await;
    if private && !response.headers().contains_key(header::CACHE_CONTROL) {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Probes answer on any Host, with or without `public_url`: a kubelet or a load
/// balancer calls them by the pod's or host's IP, and what they say (up or not, the
/// breaker's state, counters with bounded labels) holds no id, report or key.
const ANY_HOST: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// Serves only requests that name one of Runboard's own hosts (`host.rs`), on every
/// route but the probes, reads included; anything else is 421 `misdirected`: a page on
/// a rebinding DNS name reaches the listener but never an answer.
async fn check_host(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if ANY_HOST.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    match host::check(state.config(), request.uri(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(err) => err.into_response(),
    }
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
