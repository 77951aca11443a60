//! Errors: validation failures of user input, the JSON error body every Runboard
//! endpoint answers with, and its stable codes ([`ErrorCode`]), which the proxy writes
//! and the widget reads, so neither spells them as text.

use std::{convert::Infallible, fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::status::string_enum;

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
    pub code: ErrorCode,
    /// A sentence a person can act on.
    pub message: String,
}

impl ApiError {
    /// Builds an error body.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorBody {
                code,
                message: message.into(),
            },
        }
    }
}

string_enum!(
    /// The `code` of an error body: stable, so scripts and the widget can tell errors
    /// apart without reading the message. On the wire it is the plain string
    /// (`{"error":{"code":"rate_limited",…}}`); a code this version does not know (from
    /// a newer server) reads as `Other` and is written back unchanged.
    ErrorCode {
        /// 400: a path id failed validation.
        InvalidId = "invalid_id",
        /// 400: a request body was malformed or failed validation.
        InvalidBody = "invalid_body",
        /// 400: a query string Runboard cannot use (a filter, a cursor, a limit).
        InvalidQuery = "invalid_query",
        /// 413: the body is larger than Runboard accepts.
        BodyTooLarge = "body_too_large",
        /// 404: the project id is valid but not configured.
        UnknownProject = "unknown_project",
        /// 404: no such route.
        NotFound = "not_found",
        /// 405: the route exists with other methods.
        MethodNotAllowed = "method_not_allowed",
        /// 401: no believable identity.
        Unauthenticated = "unauthenticated",
        /// 403: the user may not do this, or the request failed the CSRF checks.
        Forbidden = "forbidden",
        /// 421: the request named a host that is not Runboard's.
        Misdirected = "misdirected",
        /// 429: too many starts or reads from one user; `Retry-After` says when.
        RateLimited = "rate_limited",
        /// 502: the test platform refused the project's key.
        UpstreamAuth = "upstream_auth",
        /// 502: the test platform could not be reached or failed.
        UpstreamUnavailable = "upstream_unavailable",
        /// 504: the test platform did not answer in time.
        UpstreamTimeout = "upstream_timeout",
        /// 502: the test platform answered something that is not the documented JSON.
        UpstreamInvalid = "upstream_invalid",
        /// The test platform's own 4xx, passed on with its status.
        UpstreamRejected = "upstream_rejected",
        /// 422: the test platform answered `success: false`; asking again gets the same.
        UpstreamRefused = "upstream_refused",
        /// 502: the test platform's answer held the project's key, so it was withheld.
        UpstreamWithheld = "upstream_withheld",
        /// 504: a start was sent, its answer lost, and no job matched it.
        StartOutcomeUnknown = "start_outcome_unknown",
        /// 503: the circuit breaker is open; `Retry-After` says when it tries again.
        UpstreamCircuitOpen = "upstream_circuit_open",
        /// 503: `[live] max_streams` streams are open already.
        TooManyStreams = "too_many_streams",
        /// 429: this user holds `[live] max_streams_per_user` streams already.
        TooManyUserStreams = "too_many_user_streams",
        /// 503: the execution ledger's database failed.
        LedgerUnavailable = "ledger_unavailable",
        /// 503: the widget's files are missing (that answer is plain text, not JSON).
        WidgetMissing = "widget_missing",
        /// 503 from `/readyz`: the test platform does not answer or the breaker is open.
        NotReady = "not_ready",
        /// 400: a request carried a machine token and an SSO identity; it must be one.
        AmbiguousIdentity = "ambiguous_identity",
    }
);

impl From<&str> for ErrorCode {
    /// Reads a code; one this version does not know becomes `Other`.
    fn from(code: &str) -> Self {
        Self::parse(code)
    }
}

impl FromStr for ErrorCode {
    type Err = Infallible;

    /// Never fails: an unknown code becomes `Other`.
    fn from_str(code: &str) -> Result<Self, Infallible> {
        Ok(Self::parse(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_code_round_trips_as_its_plain_string() {
        for code in ErrorCode::KNOWN {
            let text = code.as_str();
            assert!(!matches!(code, ErrorCode::Other(_)));
            assert_eq!(&ErrorCode::from(text), code, "{text}");
            assert_eq!(text.parse::<ErrorCode>(), Ok(code.clone()));
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(&serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
        }
    }

    /// Where `code` stands among the declared variants: an exhaustive match, so a variant
    /// added to the enum does not build until it is placed here, and
    /// [`known_lists_every_variant_but_other_once_in_declaration_order`] then wants it in
    /// `KNOWN` (which the OpenAPI description and the widget rely on being complete).
    fn place(code: &ErrorCode) -> Option<usize> {
        use ErrorCode::*;
        let place = match code {
            InvalidId => 0,
            InvalidBody => 1,
            InvalidQuery => 2,
            BodyTooLarge => 3,
            UnknownProject => 4,
            NotFound => 5,
            MethodNotAllowed => 6,
            Unauthenticated => 7,
            Forbidden => 8,
            Misdirected => 9,
            RateLimited => 10,
            UpstreamAuth => 11,
            UpstreamUnavailable => 12,
            UpstreamTimeout => 13,
            UpstreamInvalid => 14,
            UpstreamRejected => 15,
            UpstreamRefused => 16,
            UpstreamWithheld => 17,
            StartOutcomeUnknown => 18,
            UpstreamCircuitOpen => 19,
            TooManyStreams => 20,
            TooManyUserStreams => 21,
            LedgerUnavailable => 22,
            WidgetMissing => 23,
            NotReady => 24,
            AmbiguousIdentity => 25,
            Other(_) => return None,
        };
        Some(place)
    }

    #[test]
    fn known_lists_every_variant_but_other_once_in_declaration_order() {
        let places: Vec<Option<usize>> = ErrorCode::KNOWN.iter().map(place).collect();
        // The last arm of `place` above: a variant missing from the end of `KNOWN` fails too.
        let every: Vec<Option<usize>> = (0..=25).map(Some).collect();
        assert_eq!(places, every);
        assert_eq!(place(&ErrorCode::Other("quota_exceeded".into())), None);
    }

    #[test]
    fn an_unknown_code_is_kept_and_written_back_unchanged() {
        let body = r#"{"error":{"code":"quota_exceeded","message":"wait"}}"#;
        let error: ApiError = serde_json::from_str(body).unwrap();
        assert_eq!(error.error.code, ErrorCode::Other("quota_exceeded".into()));
        assert_eq!(serde_json::to_string(&error).unwrap(), body);
    }

    #[test]
    fn the_body_on_the_wire_is_unchanged() {
        let error = ApiError::new(ErrorCode::RateLimited, "slow down");
        assert_eq!(
            serde_json::to_string(&error).unwrap(),
            r#"{"error":{"code":"rate_limited","message":"slow down"}}"#
        );
    }
}
