//! Runboard's HTTP contract from a pipeline's side: every request is a `shared` `Target`
//! against the server given by `--server`, with the token (when there is one) as
//! `Authorization: Bearer`, and every refusal read as `shared`'s JSON error body.

use std::{fmt, time::Duration};

use reqwest::{Response, StatusCode, Url, header};
use runboard_shared::{ApiError, Target};
use serde::{Serialize, de::DeserializeOwned};

use crate::GateError;

/// How long one plain request may take; a live stream has no such limit (its silence
/// is watched instead).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A machine token (`rbt_…`), read from `RUNBOARD_TOKEN`. It prints as `rbt_…` and
/// nothing more, so no log line or error can show it.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// The environment variable the token comes from: never an argument, which the
    /// process list and CI logs would show.
    pub const ENV: &'static str = "RUNBOARD_TOKEN";

    /// A token from its text; an empty or blank text is no token.
    pub fn new(text: impl Into<String>) -> Option<Self> {
        let text = text.into().trim().to_owned();
        (!text.is_empty()).then_some(Self(text))
    }

    /// The token of `RUNBOARD_TOKEN`, if it is set and not blank.
    pub fn from_env() -> Option<Self> {
        std::env::var(Self::ENV).ok().and_then(Self::new)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(…)")
    }
}

/// One server, one token, one connection pool.
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<Token>,
}

impl Client {
    pub(crate) fn new(server: &Url, token: Option<Token>) -> Result<Self, GateError> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("runboard-run/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GateError::Usage(format!("cannot set up HTTP: {e}")))?;
        Ok(Self {
            http,
            base: server.as_str().trim_end_matches('/').to_owned(),
            token,
        })
    }

    /// The server's address for `target`; also the start of the widget's links.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    fn request(&self, target: &Target) -> reqwest::RequestBuilder {
        let url = format!("{}{}", self.base, target.path());
        let method =
            reqwest::Method::from_bytes(target.method().as_bytes()).unwrap_or(reqwest::Method::GET);
        let request = self.http.request(method, url);
        match &self.token {
            Some(Token(token)) => request.bearer_auth(token),
            None => request,
        }
    }

    /// `GET`s `target` and reads its JSON answer.
    pub(crate) async fn get<T: DeserializeOwned>(&self, target: &Target) -> Result<T, GateError> {
        let response = self
            .send(self.request(target).timeout(REQUEST_TIMEOUT))
            .await?;
        read_json(target, response).await
    }

    /// `GET`s `target` and returns its bytes as sent.
    pub(crate) async fn bytes(&self, target: &Target) -> Result<Vec<u8>, GateError> {
        let response = self
            .send(self.request(target).timeout(REQUEST_TIMEOUT))
            .await?;
        let response = accepted(target, response).await?;
        let bytes = response.bytes().await.map_err(|e| network(target, e))?;
        Ok(bytes.to_vec())
    }

    /// Sends `body` as JSON to `target` and reads the JSON answer.
    pub(crate) async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        target: &Target,
        body: &B,
    ) -> Result<T, GateError> {
        let request = self.request(target).timeout(REQUEST_TIMEOUT).json(body);
        let response = self.send(request).await?;
        read_json(target, response).await
    }

    /// Opens `target` as an event stream: the answer once its head says 2xx.
    pub(crate) async fn stream(&self, target: &Target) -> Result<Response, GateError> {
        let request = self
            .request(target)
            .header(header::ACCEPT, "text/event-stream");
        let response = self.send(request).await?;
        accepted(target, response).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Response, GateError> {
        request.send().await.map_err(|e| GateError::Network {
            what: e.url().map(|u| u.path().to_owned()).unwrap_or_default(),
            reason: reason(&e),
        })
    }
}

/// `response` when its status is a success; otherwise the server's error as a
/// [`GateError::Refused`].
async fn accepted(target: &Target, response: Response) -> Result<Response, GateError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let text = response.text().await.unwrap_or_default();
    Err(refused(target, status, &text))
}

async fn read_json<T: DeserializeOwned>(
    target: &Target,
    response: Response,
) -> Result<T, GateError> {
    let response = accepted(target, response).await?;
    let text = response.text().await.map_err(|e| network(target, e))?;
    serde_json::from_str(&text).map_err(|e| GateError::BadAnswer {
        what: target.path(),
        reason: e.to_string(),
    })
}

/// The refusal of `target`: the code and message of the server's JSON error, or the
/// status alone when the body is not one (a proxy in between, say).
pub(crate) fn refused(target: &Target, status: StatusCode, body: &str) -> GateError {
    let (code, message) = match serde_json::from_str::<ApiError>(body) {
        Ok(ApiError { error }) => (Some(error.code.as_str().to_owned()), error.message),
        Err(_) => (
            None,
            status.canonical_reason().unwrap_or("error").to_owned(),
        ),
    };
    GateError::Refused {
        what: target.path(),
        status: status.as_u16(),
        code,
        message,
    }
}

fn network(target: &Target, error: reqwest::Error) -> GateError {
    GateError::Network {
        what: target.path(),
        reason: reason(&error),
    }
}

/// What went wrong on the wire, in words (reqwest's own message plus its causes).
fn reason(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "cannot connect".to_owned()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_never_prints() {
        let token = Token::new("rbt_SECRETSECRET").unwrap();
        assert!(!format!("{token:?}").contains("SECRET"));
        assert!(Token::new("  ").is_none(), "a blank token is none");
    }

    #[test]
    fn refusals_read_the_json_error_or_the_status() {
        let target = Target::Bootstrap;
        let json = r#"{"error":{"code":"unknown_project","message":"no project p"}}"#;
        match refused(&target, StatusCode::NOT_FOUND, json) {
            GateError::Refused {
                status,
                code,
                message,
                ..
            } => {
                assert_eq!((status, code.as_deref()), (404, Some("unknown_project")));
                assert_eq!(message, "no project p");
            }
            other => panic!("{other:?}"),
        }
        match refused(&target, StatusCode::BAD_GATEWAY, "<html>") {
            GateError::Refused { code, message, .. } => {
                assert_eq!((code, message.as_str()), (None, "Bad Gateway"));
            }
            other => panic!("{other:?}"),
        }
    }
}
