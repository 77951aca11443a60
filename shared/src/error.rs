//! Errors: validation failures of user input, and the JSON error body every Runboard
//! endpoint answers with.

use serde::{Deserialize, Serialize};

/// Why a piece of user input was refused. The message names the field and says what
/// is wrong, so it can be shown to a person as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ValidationError {
    /// The JSON name of the offending field (`featureId`, `jobIds[3]`, `runId`…).
    pub field: String,
    /// What is wrong with it, written for a person.
    pub problem: String,
}

impl ValidationError {
    /// Builds an error for `field`.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// The body of every error response: `{"error":{"code":"…","message":"…"}}`.
///
/// `code` is stable and machine-readable; `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// The error itself.
    pub error: ErrorBody,
}

/// The inside of [`ApiError`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable identifier such as `invalid_id`, `unknown_project`, `upstream_auth`.
    pub code: String,
    /// A sentence a person can act on.
    pub message: String,
}

impl ApiError {
    /// Builds an error body.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorBody {
                code: code.into(),
                message: message.into(),
            },
        }
    }
}
