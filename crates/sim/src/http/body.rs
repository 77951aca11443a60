//! The request-body extractor: the raw bytes, with unreadable bodies answered in the
//! simulator's error format rather than axum's plain text.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
};

use crate::error::SimError;

/// A request body, read whole (axum's default 2 MB limit applies).
pub(super) struct RawBody(pub(super) Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = SimError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(Self)
            .map_err(|rejection| {
                SimError::UnreadableBody(rejection.status(), rejection.body_text())
            })
    }
}
