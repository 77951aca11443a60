//! What an upstream answer means (once the key check, `keyscan/`, has passed it): refusals
//! (`success: false`), a duplicate start (`AlreadyExists`, whatever the status) and the
//! documented types, kept with the bytes they were read from.

use axum::{
    body::Bytes,
    response::{IntoResponse, Response},
};
use reqwest::StatusCode;
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Value, json};

use super::Endpoint;
use crate::{AppError, config::ProjectConfig};

/// The longest platform reason passed on, counted after scrubbing.
const MAX_REASON_CHARS: usize = 300;

/// An upstream answer that parsed as the documented type, kept with its original bytes.
///
/// The answer is checked by parsing, then passed on as the upstream sent it: serialising
/// a multi-megabyte run report again would double the proxy's work for nothing (see
/// docs/benchmarks.md).
pub(crate) struct Verified<T> {
    /// The parsed answer, for the proxy's own use (the audit line).
    pub(crate) value: T,
    bytes: Bytes,
}

impl<T: DeserializeOwned> Verified<T> {
    /// Parses `bytes` as `T`, keeping them. The whole answer must be UTF-8 (as JSON
    /// is), checked in one pass first: a type that skips parts of the answer (such as
    /// [`runboard_shared::TestRunShape`]) would otherwise not look inside them.
    pub(super) fn parse(bytes: Bytes) -> Result<Self, serde_json::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
        let value = serde_json::from_str(text)?;
        Ok(Self { value, bytes })
    }

    /// The answer as the upstream sent it, for a read shared by many browsers.
    pub(crate) fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// An answer Runboard writes itself (a normalised duplicate start, a recovered one).
    pub(super) fn own(value: &Value) -> Result<Self, AppError> {
        Self::parse(Bytes::from(value.to_string())).map_err(|_| AppError::UpstreamInvalid)
    }
}

impl<T> IntoResponse for Verified<T> {
    fn into_response(self) -> Response {
        (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            self.bytes,
        )
            .into_response()
    }
}

/// The few fields that make any answer a refusal or a duplicate start. Every field is
/// optional and loosely typed, so reading it never fails on a shape the guide allows.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    success: Option<Value>,
    schedule_status: Option<Value>,
    job_id: Option<Value>,
    message: Option<Value>,
    error: Option<Value>,
}

impl Envelope {
    fn read(bytes: &[u8]) -> Self {
        serde_json::from_slice(bytes).unwrap_or_default()
    }

    fn refused(&self) -> bool {
        self.success == Some(Value::Bool(false))
    }

    /// The job of an `AlreadyExists` answer.
    fn existing_job(&self) -> Option<&str> {
        let duplicate = self.schedule_status.as_ref()?.as_str()? == "AlreadyExists";
        let job = self.job_id.as_ref()?.as_str()?.trim();
        (duplicate && !job.is_empty()).then_some(job)
    }

    /// The platform's own words: `{"error":{"message"}}`, `{"error":"…"}` or
    /// `{"message":"…"}`.
    fn reason(&self) -> Option<&str> {
        let nested = self.error.as_ref().and_then(|e| e.get("message"));
        let flat = self.error.as_ref().filter(|e| e.is_string());
        [nested, flat, self.message.as_ref()]
            .into_iter()
            .flatten()
            .find_map(Value::as_str)
            .map(str::trim)
            .filter(|m| !m.is_empty())
    }
}

/// Maps a complete answer (already checked for the key) to what the browser gets.
pub(super) fn classify<T: DeserializeOwned>(
    project: &ProjectConfig,
    endpoint: Endpoint,
    status: StatusCode,
    bytes: Bytes,
) -> Result<Verified<T>, AppError> {
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        tracing::error!(
            project = %project.id,
            endpoint = endpoint.label(),
            status = status.as_u16(),
            "the test platform rejected the project's key"
        );
        return Err(AppError::UpstreamAuth(project.id.clone()));
    }
    // A run report is large and has no `success`: read the envelope only when it fails.
    if status.is_success() && matches!(endpoint, Endpoint::TestRun) {
        return Verified::parse(bytes.clone()).map_err(|e| {
            refusal(project, status, &Envelope::read(&bytes))
                .unwrap_or_else(|| invalid(endpoint, &e))
        });
    }
    let envelope = Envelope::read(&bytes);
    if let (Endpoint::Execute, Some(job)) = (endpoint, envelope.existing_job()) {
        // A duplicate start is an accepted start, even in a 409: follow the existing job.
        return Verified::own(&json!({
            "success": true,
            "scheduleStatus": "AlreadyExists",
            "jobId": job,
        }));
    }
    if status.is_server_error() {
        tracing::warn!(
            endpoint = endpoint.label(),
            status = status.as_u16(),
            "upstream error status"
        );
        return Err(AppError::UpstreamUnavailable(format!(
            "HTTP {}",
            status.as_u16()
        )));
    }
    // A missing run or project keeps its 404, which the widget shows as "not found".
    if status != StatusCode::NOT_FOUND
        && let Some(err) = refusal(project, status, &envelope)
    {
        return Err(err);
    }
    if !status.is_success() {
        let message = envelope
            .reason()
            .map(|m| cut(&project.key.scrub(m)))
            .unwrap_or_else(|| {
                format!(
                    "the test platform refused the request (HTTP {})",
                    status.as_u16()
                )
            });
        return Err(AppError::UpstreamRejected(status, message));
    }
    Verified::parse(bytes).map_err(|e| invalid(endpoint, &e))
}

/// `success: false`: a refusal with the platform's reason.
fn refusal(project: &ProjectConfig, status: StatusCode, envelope: &Envelope) -> Option<AppError> {
    if !envelope.refused() {
        return None;
    }
    let reason = envelope
        .reason()
        .map(|m| cut(&project.key.scrub(m)))
        .unwrap_or_else(|| format!("it gave no reason (HTTP {})", status.as_u16()));
    tracing::info!(project = %project.id, status = status.as_u16(), reason, "the test platform refused a request");
    Some(AppError::UpstreamRefused(reason))
}

fn invalid(endpoint: Endpoint, err: &serde_json::Error) -> AppError {
    tracing::warn!(endpoint = endpoint.label(), error = %err, "upstream answer is not the documented JSON");
    AppError::UpstreamInvalid
}

/// `text` cut to [`MAX_REASON_CHARS`] characters (after scrubbing, so a cut never keeps
/// part of a key).
fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_REASON_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use runboard_shared::{ExecuteResponse, ProjectId, RunStatus, TestRunShape};

    use super::*;
    use crate::config::ApiKey;

    const KEY: &str = "sim-key/0123+456789abcdef";

    fn project() -> ProjectConfig {
        ProjectConfig::new(
            ProjectId::parse("p1").unwrap(),
            "P",
            ApiKey::new(KEY).unwrap(),
        )
    }

    /// The parsed answer, or the status the browser gets instead.
    fn check(status: u16, body: &str) -> Result<ExecuteResponse, u16> {
        classify::<ExecuteResponse>(
            &project(),
            Endpoint::Execute,
            StatusCode::from_u16(status).unwrap(),
            Bytes::from(body.to_owned()),
        )
        .map(|v| v.value)
        .map_err(|e| e.into_response().status().as_u16())
    }

    #[test]
    fn refusals_and_duplicates_in_any_status() {
        let refused = check(200, r#"{"success":false,"message":"agent x is disabled"}"#);
        assert_eq!(refused.unwrap_err(), 422);
        let refused = classify::<ExecuteResponse>(
            &project(),
            Endpoint::Execute,
            StatusCode::BAD_REQUEST,
            Bytes::from_static(br#"{"success":false,"error":{"message":"no such agent"}}"#),
        );
        assert_eq!(
            refused.err().unwrap().to_string(),
            "The test platform refused this: no such agent"
        );
        for status in [200, 409] {
            let body = r#"{"success":false,"scheduleStatus":"AlreadyExists","jobId":"j1","message":"queued"}"#;
            let answer = check(status, body).unwrap();
            assert_eq!(answer.job_id, "j1");
            assert!(answer.success);
        }
        assert_eq!(check(503, "{}").unwrap_err(), 502);
        assert_eq!(check(200, r#"{"success":tr"#).unwrap_err(), 502);
        assert_eq!(check(401, "{}").unwrap_err(), 502);
        assert_eq!(
            check(404, r#"{"success":false,"message":"gone"}"#).unwrap_err(),
            404
        );
    }

    #[test]
    fn a_report_is_checked_whole_without_being_read_whole() {
        let check = |body: &[u8]| {
            classify::<TestRunShape>(
                &project(),
                Endpoint::TestRun,
                StatusCode::OK,
                Bytes::from(body.to_vec()),
            )
            .map(|v| v.value.status)
            .map_err(|e| e.into_response().status().as_u16())
        };
        let report = br#"{"status":"Running","tests":[{"timeline":[{"name":"x"}],"error":null}]}"#;
        assert_eq!(check(report), Ok(RunStatus::Running));
        // Not the documented shape: each is refused as the full report type refuses it.
        let invalid_utf8 = b"{\"status\":\"Running\",\"tests\":[{\"timeline\":[\"\xff\"]}]}";
        for body in [
            &invalid_utf8[..],
            br#"{"status":"Running","tests":[{"_id":"a","_id":"b"}]}"#,
            br#"{"tests":[{"timeline":[1,]}]}"#,
            b"[]",
        ] {
            assert_eq!(check(body), Err(502), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn a_reason_is_scrubbed_then_cut() {
        // The key straddles the cut: cut first, a prefix of it would be kept; scrubbed
        // first, the key is gone and the text after it moves inside the cut.
        let prefix = "x".repeat(MAX_REASON_CHARS - 20);
        let long = format!("{prefix} {KEY} then the rest of a long message, past the cut");
        let body = json!({"success": false, "error": {"message": long}}).to_string();
        let err = classify::<ExecuteResponse>(
            &project(),
            Endpoint::Execute,
            StatusCode::OK,
            Bytes::from(body),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(!err.contains("sim-key"), "{err}");
        assert!(
            err.contains(&format!("{prefix} [redacted] then the")),
            "{err}"
        );
        assert!(err.ends_with('…'), "{err}");
        let check = |body: &str, expected: Option<&str>| {
            assert_eq!(Envelope::read(body.as_bytes()).reason(), expected, "{body}");
        };
        check(
            r#"{"error":{"code":"x","message":"run x not found"}}"#,
            Some("run x not found"),
        );
        check(r#"{"error":"bad"}"#, Some("bad"));
        check(r#"{"message":"nope"}"#, Some("nope"));
        check("<html>", None);
        check(r#"{"error":{"code":"x"}}"#, None);
    }
}
