//! The log of `/api/` requests behind `GET /__sim/requests`: method, path and every
//! header as received, so tests can check exactly what a proxy forwarded (one
//! `x-api-key`, no client credentials).

use std::{
    collections::VecDeque,
    sync::{Mutex, PoisonError},
};

use axum::http::{HeaderMap, Method, Uri};
use serde::{Deserialize, Serialize};

/// The most requests kept; older ones are forgotten first.
pub const MAX_RECORDED_REQUESTS: usize = 10_000;

/// The body of `GET /__sim/requests`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequests {
    /// Oldest first, newest last.
    pub requests: Vec<RecordedRequest>,
}

/// One `/api/` request as it arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// `GET`, `POST`…
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Every header as `[name, value]`, names lower-case, duplicates kept. Headers
    /// appear in the order their names first arrived, each name's values in the order
    /// received (the HTTP parser groups repeated names). Values that are not text are
    /// read lossily.
    pub headers: Vec<(String, String)>,
}

impl RecordedRequest {
    /// The values of header `name` (lower-case), in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// The shared log, bounded to [`MAX_RECORDED_REQUESTS`].
#[derive(Debug, Default)]
pub(crate) struct RequestLog(Mutex<VecDeque<RecordedRequest>>);

impl RequestLog {
    fn with<T>(&self, f: impl FnOnce(&mut VecDeque<RecordedRequest>) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Records one request as it arrives.
    pub(crate) fn record(&self, method: &Method, uri: &Uri, headers: &HeaderMap) {
        let request = RecordedRequest {
            method: method.as_str().to_owned(),
            path: uri.path().to_owned(),
            query: uri.query().map(str::to_owned),
            headers: headers
                .iter()
                .map(|(name, value)| {
                    let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                    (name.as_str().to_owned(), value)
                })
                .collect(),
        };
        self.with(|log| {
            if log.len() == MAX_RECORDED_REQUESTS {
                log.pop_front();
            }
            log.push_back(request);
        });
    }

    pub(crate) fn snapshot(&self) -> RecordedRequests {
        RecordedRequests {
            requests: self.with(|log| log.iter().cloned().collect()),
        }
    }

    pub(crate) fn clear(&self) {
        self.with(VecDeque::clear);
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use runboard_shared::{API_PREFIX, Endpoint, Route};

    use super::*;

    #[test]
    fn keeps_duplicates_and_forgets_the_oldest_first() {
        let log = RequestLog::default();
        let mut headers = HeaderMap::new();
        headers.append("x-api-key", HeaderValue::from_static("one"));
        headers.append("content-type", HeaderValue::from_static("application/json"));
        headers.append("x-api-key", HeaderValue::from_static("two"));
        let jobs = Route::Guide(Endpoint::Jobs).fill(&["p"]);
        let uri: Uri = format!("{jobs}?x=1").parse().expect("uri");
        for _ in 0..=MAX_RECORDED_REQUESTS {
            log.record(&Method::POST, &uri, &headers);
        }
        let last = format!("{API_PREFIX}last");
        log.record(&Method::GET, &last.parse().expect("uri"), &HeaderMap::new());
        let requests = log.snapshot().requests;
        assert_eq!(requests.len(), MAX_RECORDED_REQUESTS);
        assert_eq!(
            requests.last().map(|r| r.path.as_str()),
            Some(last.as_str())
        );
        let first = &requests[0];
        assert_eq!(first.header_values("x-api-key"), ["one", "two"]);
        assert_eq!(
            (first.method.as_str(), first.query.as_deref()),
            ("POST", Some("x=1"))
        );
        log.clear();
        assert!(log.snapshot().requests.is_empty());
    }
}
