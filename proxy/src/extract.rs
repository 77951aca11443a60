//! Extractors whose rejections use Runboard's error format: a strict JSON body and the
//! validated path ids of the three endpoints.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, Request, rejection::BytesRejection},
    http::{StatusCode, request::Parts},
};
use runboard_shared::{ProjectId, RunId, ValidationError};
use serde::de::DeserializeOwned;

use crate::{AppError, BODY_LIMIT};

/// A JSON body parsed with the shared types' strict rules; every failure is `invalid_body`
/// (or `body_too_large`) with a message naming the field.
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(AppError::InvalidBody(
                "the request needs a JSON body".to_owned(),
            ));
        }
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| AppError::InvalidBody(json_message(&e)))
    }
}

fn body_error(rejection: BytesRejection) -> AppError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::BodyTooLarge(BODY_LIMIT)
    } else {
        AppError::InvalidBody("the request body could not be read".to_owned())
    }
}

/// serde_json's message without its " at line L column C" tail, which means nothing to
/// a person reading a form error; the [`ValidationError`] text stays intact.
fn json_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let tail = format!(" at line {} column {}", err.line(), err.column());
    let text = text.strip_suffix(&tail).unwrap_or(&text);
    if err.is_syntax() || err.is_eof() {
        format!("the body is not valid JSON: {text}")
    } else {
        text.to_owned()
    }
}

/// `{projId}` of a path, validated.
pub(crate) struct ProjectPath(pub(crate) ProjectId);

impl<S: Send + Sync> FromRequestParts<S> for ProjectPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path(proj) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| AppError::InvalidId(ValidationError::new("path", e.body_text())))?;
        ProjectId::parse(proj)
            .map(Self)
            .map_err(AppError::InvalidId)
    }
}

/// `{projId}/{runId}` of a path, validated.
pub(crate) struct RunPath(pub(crate) ProjectId, pub(crate) RunId);

impl<S: Send + Sync> FromRequestParts<S> for RunPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path((proj, run)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|e| AppError::InvalidId(ValidationError::new("path", e.body_text())))?;
        let proj = ProjectId::parse(proj).map_err(AppError::InvalidId)?;
        let run = RunId::parse(run).map_err(AppError::InvalidId)?;
        Ok(Self(proj, run))
    }
}
