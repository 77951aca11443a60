//! A stand-in for the company's SSO proxy (oauth2-proxy, an ingress with auth): the browser
//! talks to it, it forwards to `runboard`, optionally adding identity headers, and it
//! records every response byte the browser receives and every request the browser sends.
//!
//! It asks `runboard` for uncompressed answers, so a search of the recording for the
//! canary key is a search of exactly what the browser was sent. Event streams pass
//! through as they come (recorded piece by piece); a switch makes it refuse them or
//! hold each one back until it ends, as proxies that cannot pass Server-Sent Events do,
//! and another holds back the answers under one path, as a loaded network does.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Result;
use axum::{
    Router,
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use runboard_shared::Route;

use crate::serve::{Served, serve};

/// Who the front door says the user is.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Sent as `X-Forwarded-Email`.
    pub email: String,
    /// Sent as `X-Forwarded-Groups`, comma separated.
    pub groups: Vec<String>,
}

/// What the front door does with `runboard`'s live streams (`/runboard/live/…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LiveStreams {
    /// Passes them on piece by piece.
    #[default]
    Pass,
    /// 502 without forwarding, as a proxy that refuses them.
    Refuse,
    /// Forwards them but sends nothing until the stream ends, as a buffering proxy.
    Buffer,
}

#[derive(Clone)]
struct Shared {
    target: Arc<Mutex<SocketAddr>>,
    identity: Arc<Mutex<Option<Identity>>>,
    recorded: Arc<Mutex<Vec<u8>>>,
    sent: Arc<Mutex<Vec<SentRequest>>>,
    live: Arc<Mutex<LiveStreams>>,
    slow: Arc<Mutex<Option<(String, Duration)>>>,
    client: reqwest::Client,
}

/// A request the browser sent, as it reached the front door.
#[derive(Debug, Clone)]
pub struct SentRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The body, as text.
    pub body: String,
}

/// The running front door.
pub struct FrontDoor {
    server: Served,
    shared: Shared,
}

impl FrontDoor {
    /// Starts forwarding from a free loopback port to `target`.
    pub async fn start(target: SocketAddr, identity: Option<Identity>) -> Result<Self> {
        let shared = Shared {
            target: Arc::new(Mutex::new(target)),
            identity: Arc::new(Mutex::new(identity)),
            recorded: Arc::default(),
            sent: Arc::default(),
            live: Arc::default(),
            slow: Arc::default(),
            client: reqwest::Client::builder().no_proxy().build()?,
        };
        let app = Router::new().fallback(forward).with_state(shared.clone());
        let server = serve(app).await?;
        Ok(Self { server, shared })
    }

    /// The URL the browser opens.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// Changes who the user is, as a new SSO sign-in would.
    pub fn set_identity(&self, identity: Option<Identity>) {
        *self.shared.identity.lock().expect("identity lock") = identity;
    }

    /// Points the front door at a restarted `runboard`.
    pub fn set_target(&self, target: SocketAddr) {
        *self.shared.target.lock().expect("target lock") = target;
    }

    /// Passes, refuses or buffers `runboard`'s live streams from now on.
    pub fn live_streams(&self, mode: LiveStreams) {
        *self.shared.live.lock().expect("live lock") = mode;
    }

    /// Holds back every answer to a path starting with `prefix` by `by` (`None`: none),
    /// as a loaded network or proxy would.
    pub fn slow_down(&self, slow: Option<(&str, Duration)>) {
        *self.shared.slow.lock().expect("slow lock") =
            slow.map(|(prefix, by)| (prefix.to_owned(), by));
    }

    /// Every request the browser has sent so far, oldest first.
    pub fn sent(&self) -> Vec<SentRequest> {
        self.shared.sent.lock().expect("sent lock").clone()
    }

    /// Every response byte (status line, headers, body) the browser has received so far.
    pub fn recorded(&self) -> Vec<u8> {
        self.shared.recorded.lock().expect("record lock").clone()
    }
}

/// Headers that describe one connection and are not forwarded by any proxy.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "te",
    "trailer",
    "content-length",
];

async fn forward(State(shared): State<Shared>, request: Request) -> Response {
    match relay(&shared, request).await {
        Ok(response) => response,
        // What nginx or oauth2-proxy would answer when the server behind is down.
        Err(_) => (StatusCode::BAD_GATEWAY, "502 Bad Gateway\n").into_response(),
    }
}

async fn relay(shared: &Shared, request: Request) -> Result<Response> {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 16 * 1024 * 1024).await?;
    let target = *shared.target.lock().expect("target lock");
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    shared.sent.lock().expect("sent lock").push(SentRequest {
        method: parts.method.to_string(),
        path: path.to_owned(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let live = *shared.live.lock().expect("live lock");
    if Route::Live.match_path(parts.uri.path()).is_some() && live == LiveStreams::Refuse {
        return Ok((StatusCode::BAD_GATEWAY, "502 Bad Gateway\n").into_response());
    }
    let mut headers = forwarded_headers(&parts.headers);
    if let Some(identity) = shared.identity.lock().expect("identity lock").clone() {
        headers.insert("x-forwarded-email", HeaderValue::from_str(&identity.email)?);
        headers.insert(
            "x-forwarded-groups",
            HeaderValue::from_str(&identity.groups.join(","))?,
        );
    }
    let upstream = shared
        .client
        .request(parts.method, format!("http://{target}{path}"))
        .headers(headers)
        .body(body)
        .send()
        .await?;
    // A fault the test asked for, not a wait for anything: the answer is held back.
    let held_until = shared
        .slow
        .lock()
        .expect("slow lock")
        .as_ref()
        .and_then(|(prefix, by)| path.starts_with(prefix.as_str()).then_some(*by))
        .map(|by| tokio::time::Instant::now() + by);
    if let Some(release) = held_until {
        tokio::time::sleep_until(release).await;
    }
    let status = upstream.status();
    let response_headers = upstream.headers().clone();
    let body = if is_event_stream(&response_headers) && live != LiveStreams::Buffer {
        record(shared, status, &response_headers, b"");
        pass_through(shared.clone(), upstream)
    } else {
        let bytes = upstream.bytes().await?;
        record(shared, status, &response_headers, &bytes);
        Body::from(bytes)
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    for (name, value) in &response_headers {
        if !is_hop_by_hop(name) {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(response)
}

fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|kind| kind.starts_with("text/event-stream"))
}

/// An event stream's body, passed on piece by piece as it arrives and recorded so.
fn pass_through(shared: Shared, upstream: reqwest::Response) -> Body {
    let pieces = futures_util::stream::unfold(upstream, move |mut upstream| {
        let shared = shared.clone();
        async move {
            let piece = upstream.chunk().await.transpose()?;
            if let Ok(bytes) = &piece {
                shared
                    .recorded
                    .lock()
                    .expect("record lock")
                    .extend_from_slice(bytes);
            }
            Some((piece, upstream))
        }
    });
    Body::from_stream(pieces)
}

/// The browser's headers minus hop-by-hop ones, compression and any identity it tried to
/// claim itself (an SSO proxy overwrites those).
fn forwarded_headers(incoming: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (name, value) in incoming {
        let skip = is_hop_by_hop(name)
            || name == header::ACCEPT_ENCODING
            || name.as_str().starts_with("x-forwarded-");
        if !skip {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(&name.as_str())
}

fn record(shared: &Shared, status: StatusCode, headers: &HeaderMap, body: &[u8]) {
    let mut recorded = shared.recorded.lock().expect("record lock");
    recorded.extend_from_slice(format!("HTTP/1.1 {status}\r\n").as_bytes());
    for (name, value) in headers {
        recorded.extend_from_slice(name.as_str().as_bytes());
        recorded.extend_from_slice(b": ");
        recorded.extend_from_slice(value.as_bytes());
        recorded.extend_from_slice(b"\r\n");
    }
    recorded.extend_from_slice(b"\r\n");
    recorded.extend_from_slice(body);
}
