//! Machine tokens as the admin routes carry them (issue 22): the list of a project's
//! tokens (never their text, which the server does not keep), the strict body that
//! creates one, and the answer that shows its text the one time it exists.

use serde::{Deserialize, Serialize};

/// `GET /runboard/tokens/{projId}`: the project's tokens that are not revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokensPage {
    /// By name.
    pub tokens: Vec<TokenInfo>,
}

/// One token, without its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    /// Its name; requests with it act as `token:NAME`.
    pub name: String,
    /// Whether it may start runs.
    pub may_start: bool,
    /// The presets it may start; `None`: any.
    pub presets: Option<Vec<String>>,
    /// When it was made (RFC 3339, UTC).
    pub created_at: String,
    /// Who made it.
    pub created_by: String,
    /// When it stops working (RFC 3339, UTC); `None`: never.
    pub expires_at: Option<String>,
    /// When it was last used, to the minute (RFC 3339, UTC).
    pub last_used_at: Option<String>,
}

/// `POST /runboard/tokens/{projId}`: a token to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewToken {
    /// Its name: 1 to 64 letters, digits, `.`, `_` or `-`.
    pub name: String,
    /// Whether it may start runs.
    #[serde(default)]
    pub may_start: bool,
    /// Only these presets (needs `mayStart`).
    #[serde(default)]
    pub presets: Option<Vec<String>>,
    /// It stops working after this many days.
    #[serde(default)]
    pub expires_days: Option<u32>,
}

/// The answer to a created token: its text, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCreated {
    /// `rbt_…`: store it now, it is never shown again.
    pub token: String,
    /// What was stored.
    pub info: TokenInfo,
}
