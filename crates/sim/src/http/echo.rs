//! The `echo_key` fault ([`EchoKey`]): answers that hold the key they were sent, raw,
//! percent-encoded, in base64 or in JSON `\u` escapes, as a careless or hostile platform
//! might send them.
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

/// Where the key starts in an `error` echo's message: character 485, so the key
/// straddles character 500 (a message cut there still holds a prefix of it). Runboard
/// cuts a platform's reason at 300 characters (`MAX_REASON_CHARS` in
/// `proxy/src/upstream/answer.rs`), so for Runboard the key lies wholly past its cut:
/// this echo exercises the key scan (`502 upstream_withheld`), never the scrubbing that
/// precedes the cut; that is `answer.rs`'s own unit test.
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
    with_key(response, &encode(mode, &key), mode == EchoKey::Escaped).await
}

/// The key as the mode spells it.
pub(crate) fn encode(mode: EchoKey, key: &str) -> String {
    match mode {
        EchoKey::Urlencoded => utf8_percent_encode(key, NON_ALPHANUMERIC).to_string(),
        EchoKey::Base64 => base64::engine::general_purpose::STANDARD.encode(key),
        EchoKey::Escaped => u_escaped(key),
        EchoKey::None | EchoKey::Error | EchoKey::Body => key.to_owned(),
    }
}

/// `key` as JSON string text: every other character a `\u` escape (upper- then
/// lower-case hex, in turn), the rest as JSON writes them.
fn u_escaped(key: &str) -> String {
    key.chars()
        .enumerate()
        .map(|(i, c)| match i % 4 {
            0 => format!("\\u{:04X}", c as u32),
            2 => format!("\\u{:04x}", c as u32),
            _ => serde_json::to_string(&c.to_string())
                .map(|s| s.trim_matches('"').to_owned())
                .unwrap_or_default(),
        })
        .collect()
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

/// Stands for the key in the answer until it is written as JSON, for a key given as JSON
/// string text already (`EchoKey::Escaped`).
const MARKER: &str = "@@sim-echoed-key@@";

/// Puts `key` into a successful JSON answer: a run report's `title`, the first job's
/// `agentName`, otherwise a `note` field. With `raw_json`, `key` is JSON string text,
/// written into the answer's bytes as it is.
async fn with_key(response: Response, key: &str, raw_json: bool) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let Ok(mut answer) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let (key, written) = if raw_json { (MARKER, key) } else { (key, key) };
    if answer.get("runId").is_some() {
        let title = answer["title"].as_str().unwrap_or_default();
        answer["title"] = json!(format!("{title} (key {key})"));
    } else if let Some(job) = answer.pointer_mut("/jobs/0") {
        job["agentName"] = json!(key);
    } else if let Some(fields) = answer.as_object_mut() {
        fields.insert("note".to_owned(), json!(format!("sent with key {key}")));
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    let bytes = match serde_json::to_string(&answer) {
        Ok(text) => Bytes::from(text.replace(MARKER, written)),
        Err(_) => bytes,
    };
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
        let escaped = encode(EchoKey::Escaped, "pk+Live/\"x");
        assert_eq!(escaped, r#"\u0070k\u002bL\u0069v\u0065/\u0022x"#);
        let decoded: String = serde_json::from_str(&format!("\"{escaped}\"")).unwrap();
        assert_eq!(decoded, "pk+Live/\"x");
    }
}
