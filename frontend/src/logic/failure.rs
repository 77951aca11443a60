//! What went wrong talking to `runboard`, classified from the HTTP status and the
//! `{"error":{"code","message"}}` body, and worded for a person.

use runboard_shared::ApiError;

use crate::logic::case::upper;

/// A failed request, as the views need to tell it apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The request never got an answer: `runboard` is down or the network is gone.
    Offline,
    /// 401: the SSO session is gone.
    SessionExpired,
    /// 403: this user may view but not start, or the request was refused.
    Forbidden(String),
    /// 404: the run (or project) does not exist.
    NotFound(String),
    /// 400: the request was refused as invalid.
    Invalid(String),
    /// 5xx and anything else: upstream trouble, with the server's message.
    Server {
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// A 2xx answer that did not parse.
    BadAnswer(String),
}

impl Failure {
    /// Classifies a non-success response from its status and body.
    pub(crate) fn from_response(status: u16, body: &str) -> Self {
        let message = serde_json::from_str::<ApiError>(body)
            .map(|e| e.error.message)
            .ok()
            .filter(|m| !m.trim().is_empty());
        match status {
            401 => Self::SessionExpired,
            403 => Self::Forbidden(
                message.unwrap_or_else(|| "you may view runs but not start them".into()),
            ),
            404 => Self::NotFound(message.unwrap_or_else(|| "not found".into())),
            400 | 422 => Self::Invalid(
                message.unwrap_or_else(|| "the request was refused as invalid".into()),
            ),
            _ => Self::Server {
                status,
                message: message
                    .unwrap_or_else(|| format!("the server answered with status {status}")),
            },
        }
    }

    /// A sentence saying what happened, written for a person.
    pub(crate) fn message(&self) -> String {
        match self {
            Self::Offline => {
                "Runboard cannot be reached: the server may be down or your network offline.".into()
            }
            Self::SessionExpired => "Your session expired — sign in again.".into(),
            Self::Forbidden(_) => "You may view runs but not start them.".into(),
            Self::NotFound(message) => capitalise(message),
            Self::Invalid(message) => capitalise(message),
            Self::Server { message, .. } => capitalise(message),
            Self::BadAnswer(detail) => {
                format!("Runboard sent an answer this page cannot read ({detail}).")
            }
        }
    }

    /// Whether trying again later can help.
    pub(crate) fn retries(&self) -> bool {
        !matches!(
            self,
            Self::Forbidden(_) | Self::NotFound(_) | Self::Invalid(_)
        )
    }
}

fn capitalise(message: &str) -> String {
    let message = message.trim();
    let mut chars = message.chars();
    let mut out: String = match chars.next() {
        Some(first) => upper(first.encode_utf8(&mut [0; 4])) + chars.as_str(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: &str, message: &str) -> String {
        serde_json::to_string(&ApiError::new(code, message)).unwrap_or_default()
    }

    #[test]
    fn statuses_map_to_what_people_need_to_know() {
        assert_eq!(
            Failure::from_response(401, &body("unauthorized", "x")).message(),
            "Your session expired — sign in again."
        );
        assert_eq!(
            Failure::from_response(403, "").message(),
            "You may view runs but not start them."
        );
        assert_eq!(
            Failure::from_response(404, &body("not_found", "run 42 not found")).message(),
            "Run 42 not found."
        );
        assert_eq!(
            Failure::from_response(
                502,
                &body(
                    "upstream_auth",
                    "the server's key for project X was rejected; tell the Runboard administrator"
                )
            )
            .message(),
            "The server's key for project X was rejected; tell the Runboard administrator."
        );
        assert_eq!(
            Failure::from_response(504, "<html>gateway</html>"),
            Failure::Server {
                status: 504,
                message: "the server answered with status 504".into()
            }
        );
        assert!(Failure::Offline.message().contains("cannot be reached"));
    }

    #[test]
    fn only_healable_failures_retry() {
        assert!(Failure::Offline.retries());
        assert!(Failure::SessionExpired.retries());
        assert!(Failure::from_response(502, "").retries());
        assert!(!Failure::from_response(404, "").retries());
        assert!(!Failure::from_response(400, "").retries());
        assert!(!Failure::from_response(403, "").retries());
    }
}
