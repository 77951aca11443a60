//! A shared answer: the upstream's bytes as they passed every check, their strong entity
//! tags, and their compressed forms (`encoded.rs`); and how one is sent to a browser,
//! 304 included.

use axum::{
    Extension,
    body::Bytes,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

use super::encoded::{Coding, Forms, Levels, Negotiated, SMALL_BODY};
use crate::{keyscan::Scanned, metrics::Metrics};

/// Answers shared reads may hand out: browsers revalidate them every time (`no-cache`)
/// and only the browser itself may keep them (`private`).
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache, private");

/// An upstream answer that passed every check, shared by every reader of it.
pub(crate) struct Answer {
    bytes: Bytes,
    /// Hex of the bytes' SHA-256 (128 bits): the identity form's tag, and each other
    /// form's with its suffix.
    digest: String,
    etag: HeaderValue,
    finished: bool,
    forms: Forms,
}

impl Answer {
    pub(super) fn new(bytes: Bytes, finished: bool) -> Self {
        let digest: String = Sha256::digest(&bytes)[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let etag = tag(&digest, Coding::Identity);
        Self {
            bytes,
            digest,
            etag,
            finished,
            forms: Forms::default(),
        }
    }

    /// The answer as the upstream sent it.
    pub(crate) fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The strong entity tag of [`Self::bytes`] (the identity form).
    pub(crate) fn etag(&self) -> &HeaderValue {
        &self.etag
    }

    /// Whether this is a run report in a documented final state (it never changes).
    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }

    /// What this answer holds in memory: the identity bytes and the forms made so far.
    pub(super) fn held_bytes(&self) -> usize {
        self.bytes.len() + self.forms.held_bytes()
    }

    /// The form this request gets ([`Coding::for_request`]; identity for a small body):
    /// 304 without a body when `If-None-Match` names that form, else 200 with it, its
    /// `Content-Encoding` and its own strong `ETag`; both with `Vary: Accept-Encoding` and
    /// caching that makes browsers ask again. A compressed form is made on the first
    /// request for it and kept for the next ones.
    pub(crate) async fn respond(&self, request: &HeaderMap, metrics: &Metrics) -> Response {
        let wanted = if self.bytes.len() < usize::from(SMALL_BODY) {
            Coding::Identity
        } else {
            Coding::for_request(request)
        };
        let etag = self.tag_of(wanted);
        let headers = [
            (header::CACHE_CONTROL, REVALIDATE),
            (header::VARY, HeaderValue::from_static("accept-encoding")),
        ];
        if none_match(request, &etag) {
            metrics.upstream_saved("not_modified");
            return (StatusCode::NOT_MODIFIED, headers, [(header::ETAG, etag)]).into_response();
        }
        let levels = if self.finished {
            Levels::KEPT
        } else {
            Levels::FLEETING
        };
        let (coding, body, etag) = match self.forms.get(wanted, &self.bytes, levels, metrics).await
        {
            Some(form) => (wanted, form, etag),
            None => (Coding::Identity, self.bytes.clone(), self.etag.clone()),
        };
        let mut response = (
            // The bytes are the upstream's, as they passed the key scan on arrival, or a
            // compressed form of them; either way the layers leave them as they are.
            Extension(Scanned),
            Extension(Negotiated),
            headers,
            [
                (header::ETAG, etag),
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
            ],
            body,
        )
            .into_response();
        if coding != Coding::Identity {
            response.headers_mut().insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static(coding.token()),
            );
        }
        response
    }

    fn tag_of(&self, coding: Coding) -> HeaderValue {
        match coding {
            Coding::Identity => self.etag.clone(),
            coding => tag(&self.digest, coding),
        }
    }
}

/// The strong tag of the form in `coding` of the answer whose digest is `digest`.
fn tag(digest: &str, coding: Coding) -> HeaderValue {
    // Hex digits, a suffix of letters and quotes are always a valid header value.
    HeaderValue::from_str(&format!("\"{digest}{}\"", coding.tag_suffix())).unwrap_or(REVALIDATE)
}

/// Whether `If-None-Match` lists `etag` (or is `*`). The comparison is weak, as
/// RFC 9110 asks for this header: `W/"x"` matches `"x"`.
pub(crate) fn none_match(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.as_bytes();
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.trim_start_matches("W/").as_bytes() == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn if_none_match_names_the_answer() {
        let answer = Answer::new(Bytes::from_static(b"{\"a\":1}"), false);
        let tag = answer.etag().to_str().unwrap().to_owned();
        assert!(
            tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34,
            "{tag}"
        );
        let check = |value: &str, expected: bool| {
            let request = headers(&[(header::IF_NONE_MATCH, value)]);
            assert_eq!(none_match(&request, answer.etag()), expected, "{value}");
        };
        check(&tag, true);
        check(&format!("W/{tag}"), true);
        check(&format!("\"other\", {tag}"), true);
        check("*", true);
        check("\"other\"", false);
        check(&tag[..tag.len() - 1], false);
        assert!(!none_match(&HeaderMap::new(), answer.etag()));
        let changed = Answer::new(Bytes::from_static(b"{\"a\":2}"), false);
        assert_ne!(
            changed.etag(),
            answer.etag(),
            "a changed body changes the tag"
        );
    }

    /// Status, `Content-Encoding` (empty for none) and `ETag` of one request.
    async fn served(answer: &Answer, request: &[(header::HeaderName, &str)]) -> [String; 3] {
        let response = answer.respond(&headers(request), &Metrics::new()).await;
        assert_eq!(response.headers()[header::VARY], "accept-encoding");
        let value = |name| {
            response
                .headers()
                .get(name)
                .map_or(String::new(), |v| v.to_str().unwrap().to_owned())
        };
        [
            response.status().as_str().to_owned(),
            value(header::CONTENT_ENCODING),
            value(header::ETAG),
        ]
    }

    #[tokio::test]
    async fn each_form_has_its_own_tag_and_a_304_names_the_form() {
        let answer = Answer::new(Bytes::from("{\"a\":1}".repeat(100)), true);
        let plain = answer.etag().to_str().unwrap().to_owned();
        let suffixed = |suffix: &str| format!("{}{suffix}\"", &plain[..plain.len() - 1]);
        let accept = header::ACCEPT_ENCODING;
        let none_match = header::IF_NONE_MATCH;
        for (coding, suffix) in [("br", "-br"), ("zstd", "-zstd"), ("gzip", "-gz")] {
            let tag = suffixed(suffix);
            let expected = ["200".to_owned(), coding.to_owned(), tag.clone()];
            assert_eq!(served(&answer, &[(accept.clone(), coding)]).await, expected);
            let again = [(accept.clone(), coding), (none_match.clone(), tag.as_str())];
            let expected = ["304".to_owned(), String::new(), tag.clone()];
            assert_eq!(served(&answer, &again).await, expected, "{coding}");
            // The identity form's tag does not name the compressed one, nor back.
            let other = [
                (accept.clone(), coding),
                (none_match.clone(), plain.as_str()),
            ];
            assert_eq!(served(&answer, &other).await[0], "200", "{coding}");
            let back = [(none_match.clone(), tag.as_str())];
            assert_eq!(served(&answer, &back).await[0], "200", "{coding}");
        }
        let expected = ["200".to_owned(), String::new(), plain.clone()];
        assert_eq!(served(&answer, &[]).await, expected);
        // A body too small to compress is the identity form whatever is asked.
        let small = Answer::new(Bytes::from_static(b"{}"), true);
        let small_tag = small.etag().to_str().unwrap().to_owned();
        let expected = ["200".to_owned(), String::new(), small_tag];
        assert_eq!(served(&small, &[(accept, "br")]).await, expected);
    }
}
