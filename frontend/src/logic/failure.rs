//! What went wrong talking to `runboard`, classified from the HTTP status, the
//! `{"error":{"code","message"}}` body and `Retry-After`, and worded for a person:
//! what happened, and what to do (or that Runboard retries by itself, and when).

use runboard_shared::{ApiError, ErrorCode};

use crate::logic::{case::upper, poll::Retry};

/// The longest `Retry-After` honoured; a longer one is read as this, so a typo in a
/// server's configuration cannot stop a page for days.
pub(crate) const MAX_RETRY_AFTER_S: u64 = 3600;

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
    /// `upstream_refused`: the test platform said no, with its own reason. Asking the
    /// same again gets the same answer, so it is never retried.
    Refused(String),
    /// `upstream_withheld`: the platform's answer held the project's key, so Runboard
    /// withheld it; only the administrator can act on that.
    Withheld,
    /// `start_outcome_unknown`: a start was sent, its answer was lost, and the job could
    /// not be found; the run may or may not exist.
    OutcomeUnknown,
    /// 429 `rate_limited` or 503 `upstream_circuit_open` with `Retry-After`: Runboard
    /// asked to wait this long before the next try.
    Wait {
        /// The wait `Retry-After` asked for, in seconds.
        seconds: u64,
        /// The server's message.
        message: String,
    },
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
    /// Classifies a non-success response from its status, body and `Retry-After`
    /// header. The error code decides where it names a case the widget treats apart;
    /// otherwise the status does.
    pub(crate) fn from_response(status: u16, body: &str, retry_after: Option<&str>) -> Self {
        let (code, message) = match runboard_shared::from_json::<ApiError>(body) {
            Ok(e) => (Some(e.error.code), Some(e.error.message)),
            Err(_) => (None, None),
        };
        let message = message.filter(|m| !m.trim().is_empty());
        let wait = retry_after.and_then(retry_after_seconds);
        match (code, status, wait) {
            (Some(ErrorCode::UpstreamRefused), ..) => {
                return Self::Refused(
                    message.unwrap_or_else(|| "the test platform refused this".into()),
                );
            }
            (Some(ErrorCode::UpstreamWithheld), ..) => return Self::Withheld,
            (Some(ErrorCode::StartOutcomeUnknown), ..) => return Self::OutcomeUnknown,
            (_, 429 | 503, Some(seconds)) => {
                return Self::Wait {
                    seconds,
                    message: message.unwrap_or_else(|| {
                        if status == 429 {
                            "too many requests".into()
                        } else {
                            "the test platform is unavailable".into()
                        }
                    }),
                };
            }
            _ => {}
        }
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
            Self::Refused(reason) => capitalise(reason),
            Self::Withheld => "The test platform's answer contained the project's secret key, \
                so Runboard withheld it. Tell the Runboard administrator."
                .into(),
            Self::OutcomeUnknown => "The run may or may not have started: the test platform's \
                answer was lost and Runboard could not find the job. Check the Jobs page \
                before starting it again."
                .into(),
            Self::Wait { seconds, message } => format!(
                "{} Runboard asked to wait {seconds} s before trying again.",
                capitalise(message)
            ),
        }
    }

    /// Whether and when to ask again.
    pub(crate) fn retry(&self) -> Retry {
        match self {
            Self::Forbidden(_)
            | Self::NotFound(_)
            | Self::Invalid(_)
            | Self::Refused(_)
            | Self::OutcomeUnknown
            // 421 misdirected: this page was opened under a host name the server does
            // not answer for; asking again under the same name cannot help.
            | Self::Server { status: 421, .. } => Retry::Never,
            Self::Wait { seconds, .. } => Retry::After(seconds.saturating_mul(1000)),
            Self::Offline
            | Self::SessionExpired
            | Self::Withheld
            | Self::Server { .. }
            | Self::BadAnswer(_) => Retry::Backoff,
        }
    }

    /// Whether trying again later can help.
    pub(crate) fn retries(&self) -> bool {
        self.retry() != Retry::Never
    }

    /// A name for the kind of failure, for the page's `data-kind` attributes (tests
    /// and styles select on it).
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Offline => "offline",
            Self::SessionExpired => "session-expired",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::Invalid(_) => "invalid",
            Self::Refused(_) => "refused",
            Self::Withheld => "withheld",
            Self::OutcomeUnknown => "outcome-unknown",
            Self::Wait { .. } => "wait",
            Self::Server { .. } => "server",
            Self::BadAnswer(_) => "bad-answer",
        }
    }
}

/// Reads `Retry-After` in its seconds form, capped at [`MAX_RETRY_AFTER_S`]; the date
/// form is not used by Runboard and reads as absent.
fn retry_after_seconds(value: &str) -> Option<u64> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .map(|s| s.min(MAX_RETRY_AFTER_S))
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

    fn body(code: ErrorCode, message: &str) -> String {
        serde_json::to_string(&ApiError::new(code, message)).unwrap_or_default()
    }

    #[test]
    fn statuses_map_to_what_people_need_to_know() {
        assert_eq!(
            Failure::from_response(401, &body(ErrorCode::Unauthenticated, "x"), None).message(),
            "Your session expired — sign in again."
        );
        assert_eq!(
            Failure::from_response(403, "", None).message(),
            "You may view runs but not start them."
        );
        assert_eq!(
            Failure::from_response(404, &body(ErrorCode::NotFound, "run 42 not found"), None)
                .message(),
            "Run 42 not found."
        );
        assert_eq!(
            Failure::from_response(
                502,
                &body(
                    ErrorCode::UpstreamAuth,
                    "the server's key for project X was rejected; tell the Runboard administrator"
                ),
                None
            )
            .message(),
            "The server's key for project X was rejected; tell the Runboard administrator."
        );
        assert_eq!(
            Failure::from_response(504, "<html>gateway</html>", None),
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
        assert!(Failure::from_response(502, "", None).retries());
        assert!(!Failure::from_response(404, "", None).retries());
        assert!(!Failure::from_response(400, "", None).retries());
        assert!(!Failure::from_response(403, "", None).retries());
        assert!(
            !Failure::from_response(
                421,
                &body(ErrorCode::Misdirected, "use runboard.example.com"),
                None
            )
            .retries()
        );
    }

    fn wait_and_say(status: u16, code: ErrorCode, message: &str, retry_after: &str) -> Failure {
        Failure::from_response(status, &body(code, message), Some(retry_after))
    }

    #[test]
    fn retry_after_is_honoured_and_explained() {
        let limited = wait_and_say(
            429,
            ErrorCode::RateLimited,
            "too many start requests; try again in 12 s",
            "12",
        );
        assert_eq!(limited.retry(), Retry::After(12_000));
        assert_eq!(
            limited.message(),
            "Too many start requests; try again in 12 s. Runboard asked to wait 12 s before trying again."
        );
        let open = wait_and_say(
            503,
            ErrorCode::UpstreamCircuitOpen,
            "The test platform failed 5 times in a row; Runboard pauses calls to it for 30 s.",
            " 30 ",
        );
        assert_eq!(open.retry(), Retry::After(30_000));
        assert!(
            open.message()
                .ends_with("Runboard asked to wait 30 s before trying again.")
        );
        assert_eq!(open.kind(), "wait");
        assert_eq!(
            wait_and_say(429, ErrorCode::RateLimited, "x", "999999").retry(),
            Retry::After(MAX_RETRY_AFTER_S * 1000),
            "capped"
        );
        // Without a usable Retry-After, the usual backoff applies.
        let dated = wait_and_say(
            503,
            ErrorCode::UpstreamUnavailable,
            "down",
            "Wed, 21 Oct 2026 07:28:00 GMT",
        );
        assert_eq!(dated.retry(), Retry::Backoff);
        assert_eq!(
            Failure::from_response(429, "", None).retry(),
            Retry::Backoff
        );
    }

    #[test]
    fn refusals_and_lost_starts_are_never_retried_and_say_what_to_do() {
        let refused = Failure::from_response(
            422,
            &body(
                ErrorCode::UpstreamRefused,
                "The test platform refused this: agent refusing-agent is disabled for this project",
            ),
            None,
        );
        assert_eq!(refused.retry(), Retry::Never);
        assert_eq!(
            refused.message(),
            "The test platform refused this: agent refusing-agent is disabled for this project."
        );
        let lost = Failure::from_response(
            504,
            &body(ErrorCode::StartOutcomeUnknown, "may or may not"),
            None,
        );
        assert_eq!(lost, Failure::OutcomeUnknown);
        assert_eq!(lost.retry(), Retry::Never);
        assert!(
            lost.message()
                .contains("Check the Jobs page before starting it again")
        );
        assert!(!lost.message().to_ascii_lowercase().contains("try again"));
        let withheld =
            Failure::from_response(502, &body(ErrorCode::UpstreamWithheld, "secret"), None);
        assert!(
            withheld
                .message()
                .ends_with("Tell the Runboard administrator.")
        );
        assert_eq!(withheld.kind(), "withheld");
    }
}
