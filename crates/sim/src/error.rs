//! The simulator's one error type and its mapping to HTTP: every error body is
//! `{"success":false,"error":{"code":"…","message":"…"}}`, like the platform's.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;

/// Everything a simulator request can fail with. The message is for people and says
/// what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SimError {
    /// Missing or wrong `x-api-key`, or a project this key does not open.
    #[error("{0}")]
    Unauthorized(String),
    /// The body is not JSON at all.
    #[error("{0}")]
    InvalidJson(String),
    /// The body is JSON but not a valid request.
    #[error("{0}")]
    InvalidRequest(String),
    /// A feature, suite or test id that is not in the project's catalog.
    #[error("{0}")]
    UnknownId(String),
    /// An `agentName` the project does not know.
    #[error("{0}")]
    UnknownAgent(String),
    /// No such run, project or route.
    #[error("{0}")]
    NotFound(String),
    /// A known route called with the wrong method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The body could not be read (too large, or the connection broke).
    #[error("{1}")]
    UnreadableBody(StatusCode, String),
    /// A failure inside the simulator itself; the detail is logged.
    #[error("the simulator failed to answer; see its log")]
    Internal,
    /// A server error injected by the faults configuration.
    #[error("simulated upstream failure (injected by the simulator's faults)")]
    Injected(StatusCode),
}

impl SimError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::InvalidJson(_)
            | Self::InvalidRequest(_)
            | Self::UnknownId(_)
            | Self::UnknownAgent(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::UnreadableBody(status, _) | Self::Injected(status) => *status,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) => "unauthorized",
            Self::InvalidJson(_) => "invalid_json",
            Self::InvalidRequest(_) => "invalid_request",
            Self::UnknownId(_) => "unknown_id",
            Self::UnknownAgent(_) => "unknown_agent",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::UnreadableBody(..) => "unreadable_body",
            Self::Internal | Self::Injected(_) => "internal_error",
        }
    }
}

/// The error body's wire shape.
#[derive(Serialize)]
struct ErrorResponse<'a> {
    success: bool,
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
}

impl IntoResponse for SimError {
    fn into_response(self) -> Response {
        let body = ErrorResponse {
            success: false,
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
            },
        };
        (self.status(), Json(body)).into_response()
    }
}

/// Parses a JSON body, telling "not JSON" apart from "JSON of the wrong shape".
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, SimError> {
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => SimError::InvalidRequest(e.to_string()),
        _ => SimError::InvalidJson(format!("the request body is not valid JSON: {e}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_are_told_apart() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Body {
            n: u32,
        }
        assert!(matches!(
            parse_json::<Body>(b"{"),
            Err(SimError::InvalidJson(_))
        ));
        assert!(matches!(
            parse_json::<Body>(b""),
            Err(SimError::InvalidJson(_))
        ));
        assert!(matches!(
            parse_json::<Body>(br#"{"n":"x"}"#),
            Err(SimError::InvalidRequest(_))
        ));
        assert_eq!(parse_json::<Body>(br#"{"n":3}"#).map(|b| b.n), Ok(3));
    }
}
