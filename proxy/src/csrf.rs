//! Cross-site request forgery defence for state-changing requests: a JSON content type
//! (which a cross-site form cannot send without a CORS preflight Runboard never grants)
//! and a same-origin `Origin` / `Sec-Fetch-Site`, or an origin in the embed allowlist.
//! With `public_url` set, "same origin" means that URL's origin, not whatever `Host`
//! the request names (which a DNS-rebinding page controls). Without it, `Origin` is
//! compared with `Host`, which the Host check of the middleware has already limited to
//! loopback names and the listen address: a rebinding page's own name never gets here.
//! Clients that send neither header (scripts, curl) are not browsers and pass. A request
//! with a machine token (`Authorization: Bearer rbt_…`) needs no `Origin` at all: a
//! browser attaches no such header to a cross-site request without a CORS preflight
//! Runboard never grants, and the token itself was checked by `Identity`.

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, header, request::Parts},
};

use crate::{AppError, AppState, tokens};

/// Proof that a state-changing request passed the checks; extracting it refuses the
/// request with 403 otherwise. Every POST handler takes it first.
pub(crate) struct SameOrigin;

impl FromRequestParts<AppState> for SameOrigin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if tokens::carries_token(&parts.headers) {
            return json_body(&parts.headers).map(|()| Self);
        }
        let config = state.config();
        let public = config
            .public_url
            .as_ref()
            .map(|u| u.origin().ascii_serialization());
        check(
            &parts.headers,
            &config.embed.frame_ancestors,
            public.as_deref(),
        )
        .map(|()| Self)
    }
}

/// The checks themselves, on the request's headers; `public` is `public_url`'s origin.
pub(crate) fn check(
    headers: &HeaderMap,
    allowlist: &[String],
    public: Option<&str>,
) -> Result<(), AppError> {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    json_body(headers)?;
    if let Some(origin) = text(header::ORIGIN) {
        let ours = match public {
            Some(public) => public.eq_ignore_ascii_case(origin),
            None => same_origin(origin, text(header::HOST).unwrap_or_default()),
        };
        if ours || allowlist.iter().any(|a| a.trim_end_matches('/') == origin) {
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

/// The JSON content type every state-changing request needs.
fn json_body(headers: &HeaderMap) -> Result<(), AppError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';')
                .next()
                .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
        });
    if json {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "send the request body as JSON with Content-Type: application/json".to_owned(),
        ))
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
        check_with(pairs, None, allowed);
    }

    fn check_with(pairs: &[(&str, &str)], public: Option<&str>, allowed: bool) {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        let allowlist = vec!["https://portal.example.com".to_owned()];
        assert_eq!(
            check(&headers, &allowlist, public).is_ok(),
            allowed,
            "{pairs:?} {public:?}"
        );
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

    #[test]
    fn with_a_public_url_only_its_origin_is_same_origin() {
        let json = ("content-type", "application/json");
        let public = Some("https://runboard.example.com");
        // A rebinding page: Host and Origin agree with each other, not with public_url.
        let rebound = [
            json,
            ("host", "attacker.example.net"),
            ("origin", "http://attacker.example.net"),
        ];
        check_case(&rebound, true);
        check_with(&rebound, public, false);
        check_with(
            &[json, ("origin", "https://runboard.example.com")],
            public,
            true,
        );
        check_with(
            &[json, ("origin", "https://portal.example.com")],
            public,
            true,
        );
    }
}
