//! Every error a client can see, and the one place that turns it into a status code and
//! the JSON body `{"error":{"code","message"}}`. Internal detail is logged, never sent.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use runboard_shared::{ApiError, ProjectId, ValidationError};

/// What went wrong while answering a request.
#[derive(Debug, thiserror::Error)]
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
    /// The widget's files are missing (served as text, not JSON).
    #[error("the widget is not built: run ./x demo or trunk build")]
    WidgetMissing,
}

impl AppError {
    /// The status code and stable error code.
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::InvalidId(_) => (StatusCode::BAD_REQUEST, "invalid_id"),
            Self::InvalidBody(_) => (StatusCode::BAD_REQUEST, "invalid_body"),
            Self::BodyTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            Self::UnknownProject(_) => (StatusCode::NOT_FOUND, "unknown_project"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::UpstreamAuth(_) => (StatusCode::BAD_GATEWAY, "upstream_auth"),
            Self::UpstreamUnavailable(_) => (StatusCode::BAD_GATEWAY, "upstream_unavailable"),
            Self::UpstreamTimeout(_) => (StatusCode::GATEWAY_TIMEOUT, "upstream_timeout"),
            Self::UpstreamInvalid => (StatusCode::BAD_GATEWAY, "upstream_invalid"),
            Self::UpstreamRejected(status, _) => (*status, "upstream_rejected"),
            Self::WidgetMissing => (StatusCode::SERVICE_UNAVAILABLE, "widget_missing"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let Self::WidgetMissing = self {
            return (status, self.to_string()).into_response();
        }
        (status, Json(ApiError::new(code, self.to_string()))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses() {
        let check = |err: AppError, status: u16, code: &str| {
            let (s, c) = err.status_and_code();
            assert_eq!((s.as_u16(), c), (status, code));
        };
        let proj = ProjectId::parse("p1").unwrap();
        check(AppError::InvalidBody("x".into()), 400, "invalid_body");
        check(
            AppError::UnknownProject(proj.clone()),
            404,
            "unknown_project",
        );
        check(AppError::UpstreamAuth(proj), 502, "upstream_auth");
        check(AppError::UpstreamTimeout(10), 504, "upstream_timeout");
        check(AppError::UpstreamInvalid, 502, "upstream_invalid");
        check(
            AppError::UpstreamRejected(StatusCode::NOT_FOUND, "x".into()),
            404,
            "upstream_rejected",
        );
    }
}
