//! Cross-site request forgery defence for state-changing requests: a JSON content type
//! (which a cross-site form cannot send without a CORS preflight Runboard never grants)
//! and a same-origin `Origin` / `Sec-Fetch-Site`, or an origin in the embed allowlist.
//! Clients that send neither header (scripts, curl) are not browsers and pass.

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, header, request::Parts},
};

use crate::{AppError, AppState};

/// Proof that a state-changing request passed the checks; extracting it refuses the
/// request with 403 otherwise. Every POST handler takes it first.
pub(crate) struct SameOrigin;

impl FromRequestParts<AppState> for SameOrigin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        check(&parts.headers, &state.config().embed.frame_ancestors).map(|()| Self)
    }
}

/// The checks themselves, on the request's headers.
pub(crate) fn check(headers: &HeaderMap, allowlist: &[String]) -> Result<(), AppError> {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let json = text(header::CONTENT_TYPE).is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
    });
    if !json {
        return Err(AppError::Forbidden(
            "send the request body as JSON with Content-Type: application/json".to_owned(),
        ));
    }
    if let Some(origin) = text(header::ORIGIN) {
        let host = text(header::HOST).unwrap_or_default();
        if same_origin(origin, host) || allowlist.iter().any(|a| a.trim_end_matches('/') == origin)
        {
            return Ok(());
        }
        return Err(AppError::Forbidden(format!(
            "requests from {origin} may not change anything here; add it to embed.frame_ancestors \
             to allow a portal"
        )));
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        None | Some("same-origin") | Some("none") => Ok(()),
        Some(_) => Err(AppError::Forbidden(
            "cross-site requests may not change anything here".to_owned(),
        )),
    }
}

/// Whether `origin` (`scheme://host[:port]`) names the same host and port as `host`.
fn same_origin(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let normalise = |a: &str| {
        a.to_ascii_lowercase()
            .trim_end_matches(default_port)
            .to_owned()
    };
    !host.is_empty() && normalise(authority) == normalise(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_case(pairs: &[(&str, &str)], allowed: bool) {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        let allowlist = vec!["https://portal.example.com".to_owned()];
        assert_eq!(check(&headers, &allowlist).is_ok(), allowed, "{pairs:?}");
    }

    #[test]
    fn csrf_cases() {
        let json = ("content-type", "application/json; charset=utf-8");
        let host = ("host", "runboard.example.com");
        check_case(&[json, host], true);
        check_case(&[host], false);
        check_case(&[("content-type", "text/plain"), host], false);
        check_case(
            &[json, host, ("origin", "https://runboard.example.com")],
            true,
        );
        check_case(
            &[
                json,
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080"),
            ],
            true,
        );
        check_case(&[json, host, ("origin", "https://evil.example.net")], false);
        check_case(&[json, host, ("origin", "null")], false);
        check_case(
            &[json, host, ("origin", "https://portal.example.com")],
            true,
        );
        check_case(&[json, host, ("sec-fetch-site", "cross-site")], false);
        check_case(&[json, host, ("sec-fetch-site", "same-origin")], true);
    }
}
