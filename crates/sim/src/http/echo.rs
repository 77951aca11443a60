//! The `echo_key` fault ([`EchoKey`]): answers that hold the key they were sent, raw,
//! percent-encoded or in base64, as a careless or hostile platform might send them.
//! It runs after the key check, so only requests that carried a valid key are echoed.

use axum::{
    Json,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::Engine;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::{Simulator, config::EchoKey};

/// Where the key starts in an `error` echo's message: before character 500, so a
/// message cut at 500 characters still holds part of it.
const KEY_OFFSET: usize = 485;

/// The echo layer.
pub(super) async fn echo(State(sim): State<Simulator>, req: Request, next: Next) -> Response {
    let mode = sim.faults().echo_key;
    if mode == EchoKey::None {
        return next.run(req).await;
    }
    let key = req
        .headers()
        .get("x-api-key")
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .unwrap_or_default();
    if mode == EchoKey::Error {
        return rejection(&key);
    }
    let response = next.run(req).await;
    if !response.status().is_success() {
        return response;
    }
    with_key(response, &encode(mode, &key)).await
}

/// The key as the mode spells it.
pub(crate) fn encode(mode: EchoKey, key: &str) -> String {
    match mode {
        EchoKey::Urlencoded => utf8_percent_encode(key, NON_ALPHANUMERIC).to_string(),
        EchoKey::Base64 => base64::engine::general_purpose::STANDARD.encode(key),
        EchoKey::None | EchoKey::Error | EchoKey::Body => key.to_owned(),
    }
}

/// A 400 whose long message ends with the key.
fn rejection(key: &str) -> Response {
    let sentence = "The credentials presented with this request could not be validated \
                    against the project's current access policy. ";
    let filler: String = sentence
        .chars()
        .cycle()
        .take(KEY_OFFSET - " key ".len())
        .collect();
    let message = format!("{filler} key {key} rejected");
    let body = json!({
        "success": false,
        "error": {"code": "bad_request", "message": message},
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// Puts `key` into a successful JSON answer: a run report's `title`, the first job's
/// `agentName`, otherwise a `note` field.
async fn with_key(response: Response, key: &str) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let Ok(mut answer) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if answer.get("runId").is_some() {
        let title = answer["title"].as_str().unwrap_or_default();
        answer["title"] = json!(format!("{title} (key {key})"));
    } else if let Some(job) = answer.pointer_mut("/jobs/0") {
        job["agentName"] = json!(key);
    } else if let Some(fields) = answer.as_object_mut() {
        fields.insert("note".to_owned(), json!(format!("sent with key {key}")));
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    let bytes = serde_json::to_vec(&answer).map_or(bytes, Bytes::from);
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_spell_the_key_as_promised() {
        assert_eq!(encode(EchoKey::Urlencoded, "a-b c"), "a%2Db%20c");
        assert_eq!(encode(EchoKey::Base64, "secret"), "c2VjcmV0");
        assert_eq!(encode(EchoKey::Body, "a-b"), "a-b");
    }
}
