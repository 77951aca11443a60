//! Every error a client can see, and the one place that turns it into a status code and
//! the JSON body `{"error":{"code","message"}}`. Internal detail is logged, never sent.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use runboard_shared::{ApiError, ErrorCode, ProjectId, ValidationError};

/// What went wrong while answering a request. `Clone`, so every reader waiting on one
/// shared upstream call gets its error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// A path id failed validation.
    #[error("{0}")]
    InvalidId(ValidationError),
    /// A request body was malformed or failed validation.
    #[error("{0}")]
    InvalidBody(String),
    /// The body is larger than Runboard accepts.
    #[error("the request body is larger than {0} bytes")]
    BodyTooLarge(usize),
    /// The project id is valid but not configured.
    #[error("project {0} is not configured in Runboard")]
    UnknownProject(ProjectId),
    /// No such route.
    #[error("there is nothing at {0}")]
    NotFound(String),
    /// The route exists with other methods.
    #[error("{0} is not allowed here")]
    MethodNotAllowed(String),
    /// Header mode and no believable identity.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The user may not do this, or the request failed the CSRF checks.
    #[error("{0}")]
    Forbidden(String),
    /// A request carried both a machine token and an SSO identity header: which one
    /// acts is not guessed.
    #[error(
        "this request carries both a Runboard token (Authorization: Bearer rbt_…) and an \
         SSO identity; send one or the other"
    )]
    AmbiguousIdentity,
    /// The upstream refused the project's key: a server configuration problem.
    #[error(
        "the server's key for project {0} was rejected by the test platform; \
         tell the Runboard administrator"
    )]
    UpstreamAuth(ProjectId),
    /// The upstream could not be reached or failed (connection error, 5xx).
    #[error("the test platform is unavailable ({0}); try again shortly")]
    UpstreamUnavailable(String),
    /// The upstream did not answer in time.
    #[error("the test platform did not answer within {0} ms; try again shortly")]
    UpstreamTimeout(u128),
    /// The upstream answered something that is not the documented JSON.
    #[error("the test platform sent an answer Runboard could not read; try again shortly")]
    UpstreamInvalid,
    /// The upstream refused the request (4xx other than 401/403): its status and message.
    #[error("{1}")]
    UpstreamRejected(StatusCode, String),
    /// The upstream answered `{"success": false}`: the platform's own reason, key
    /// scrubbed and cut to length. Not worth retrying as is.
    #[error("The test platform refused this: {0}")]
    UpstreamRefused(String),
    /// An upstream answer held the project's key (raw or encoded), so none of it is sent.
    #[error(
        "The test platform's answer contained the project's secret key, so Runboard \
         withheld it. Tell the Runboard administrator."
    )]
    UpstreamWithheld,
    /// A start was sent but its answer was lost, and no job could be matched to it.
    #[error(
        "The test platform did not confirm this start (its answer was lost), so the run \
         may or may not have started. Check the Jobs page before starting it again."
    )]
    StartOutcomeUnknown,
    /// The circuit breaker is open: consecutive failures, seconds until the next try.
    #[error("The test platform failed {0} times in a row; Runboard pauses calls to it for {1} s.")]
    UpstreamCircuitOpen(u32, u64),
    /// Too many starts or reads from one user: what, and seconds until the next is allowed.
    #[error("Too many {0} requests; try again in {1} s.")]
    RateLimited(&'static str, u64),
    /// The request named a host that is not Runboard's (DNS rebinding, a stray name):
    /// the hosts it answers as (`public_url`'s, or loopback and the listen address).
    #[error(
        "this server answers only as {0}; open Runboard at that address, or have its \
         administrator set public_url to the address people open"
    )]
    Misdirected(String),
    /// `[live] max_streams` streams are open already: the limit.
    #[error("Runboard already serves {0} live streams; the page refreshes by polling instead")]
    TooManyStreams(usize),
    /// This user holds `[live] max_streams_per_user` streams already: the limit, and
    /// seconds until it is worth trying again.
    #[error(
        "You have {0} live Runboard reports open already; close other Runboard tabs or \
         windows to follow this one live. Meanwhile this page refreshes by polling."
    )]
    TooManyUserStreams(usize, u64),
    /// A query string Runboard cannot use (a filter, a cursor, a limit).
    #[error("{0}")]
    InvalidQuery(String),
    /// The execution ledger's database failed (detail logged, never sent).
    #[error(
        "the execution ledger is unavailable; try again shortly, or tell the Runboard administrator"
    )]
    LedgerUnavailable,
    /// `widget_dir` is set but holds no built widget (served as text, not JSON).
    #[error(
        "widget_dir has no index.html: build the widget there (./x widget) or remove widget_dir to use the one built into runboard"
    )]
    WidgetMissing,
}

impl AppError {
    /// The status code and stable error code.
    fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        match self {
            Self::InvalidId(_) => (StatusCode::BAD_REQUEST, ErrorCode::InvalidId),
            Self::InvalidBody(_) => (StatusCode::BAD_REQUEST, ErrorCode::InvalidBody),
            Self::InvalidQuery(_) => (StatusCode::BAD_REQUEST, ErrorCode::InvalidQuery),
            Self::LedgerUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::LedgerUnavailable,
            ),
            Self::BodyTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::BodyTooLarge),
            Self::UnknownProject(_) => (StatusCode::NOT_FOUND, ErrorCode::UnknownProject),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            Self::MethodNotAllowed(_) => {
                (StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed)
            }
            Self::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            Self::AmbiguousIdentity => (StatusCode::BAD_REQUEST, ErrorCode::AmbiguousIdentity),
            Self::UpstreamAuth(_) => (StatusCode::BAD_GATEWAY, ErrorCode::UpstreamAuth),
            Self::UpstreamUnavailable(_) => {
                (StatusCode::BAD_GATEWAY, ErrorCode::UpstreamUnavailable)
            }
            Self::UpstreamTimeout(_) => (StatusCode::GATEWAY_TIMEOUT, ErrorCode::UpstreamTimeout),
            Self::UpstreamInvalid => (StatusCode::BAD_GATEWAY, ErrorCode::UpstreamInvalid),
            Self::UpstreamRejected(status, _) => (*status, ErrorCode::UpstreamRejected),
            Self::WidgetMissing => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::WidgetMissing),
            Self::TooManyStreams(_) => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::TooManyStreams),
            Self::TooManyUserStreams(..) => {
                (StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManyUserStreams)
            }
            Self::RateLimited(..) => (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited),
            Self::Misdirected(_) => (StatusCode::MISDIRECTED_REQUEST, ErrorCode::Misdirected),
            Self::UpstreamRefused(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::UpstreamRefused)
            }
            Self::UpstreamWithheld => (StatusCode::BAD_GATEWAY, ErrorCode::UpstreamWithheld),
            Self::StartOutcomeUnknown => {
                (StatusCode::GATEWAY_TIMEOUT, ErrorCode::StartOutcomeUnknown)
            }
            Self::UpstreamCircuitOpen(..) => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::UpstreamCircuitOpen,
            ),
        }
    }
}

impl AppError {
    /// The JSON error body, for a channel that is not an HTTP answer (a live stream's
    /// `failure` event).
    pub(crate) fn api_error(&self) -> ApiError {
        ApiError::new(self.status_and_code().1, self.to_string())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let Self::WidgetMissing = self {
            return (status, self.to_string()).into_response();
        }
        let retry_after = match &self {
            Self::RateLimited(_, seconds) => Some(*seconds),
            Self::UpstreamCircuitOpen(_, seconds) => Some(*seconds),
            Self::TooManyUserStreams(_, seconds) => Some(*seconds),
            _ => None,
        };
        let mut response = (status, Json(ApiError::new(code, self.to_string()))).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses() {
        let check = |err: AppError, status: u16, code: &str| {
            let (s, c) = err.status_and_code();
            assert_eq!((s.as_u16(), c.as_str()), (status, code));
        };
        let proj = ProjectId::parse("p1").unwrap();
        check(AppError::InvalidBody("x".into()), 400, "invalid_body");
        check(
            AppError::UnknownProject(proj.clone()),
            404,
            "unknown_project",
        );
        check(AppError::UpstreamAuth(proj), 502, "upstream_auth");
        check(AppError::RateLimited("start", 3), 429, "rate_limited");
        check(
            AppError::Misdirected("a.example".into()),
            421,
            "misdirected",
        );
        check(AppError::UpstreamTimeout(10), 504, "upstream_timeout");
        check(
            AppError::UpstreamRefused("no".into()),
            422,
            "upstream_refused",
        );
        check(AppError::UpstreamWithheld, 502, "upstream_withheld");
        check(AppError::StartOutcomeUnknown, 504, "start_outcome_unknown");
        check(
            AppError::UpstreamCircuitOpen(5, 9),
            503,
            "upstream_circuit_open",
        );
        check(AppError::TooManyStreams(2000), 503, "too_many_streams");
        check(
            AppError::TooManyUserStreams(6, 30),
            429,
            "too_many_user_streams",
        );
        check(AppError::UpstreamInvalid, 502, "upstream_invalid");
        check(AppError::InvalidQuery("x".into()), 400, "invalid_query");
        check(AppError::LedgerUnavailable, 503, "ledger_unavailable");
        check(AppError::AmbiguousIdentity, 400, "ambiguous_identity");
        check(
            AppError::UpstreamRejected(StatusCode::NOT_FOUND, "x".into()),
            404,
            "upstream_rejected",
        );
    }
}
