//! Machine tokens as the admin routes carry them (issue 22): the list of a project's
//! tokens (never their text, which the server does not keep), the strict body that
//! creates one, and the answer that shows its text the one time it exists; read and
//! written by the widget without serde (`FromJson`, `ToJson`).

use serde::{Deserialize, Serialize};

use crate::{
    decode::{DecodeError, Fields, FromJson, boolean, list, string},
    encode::{Members, ToJson},
    json::Node,
};

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presets: Option<Vec<String>>,
    /// It stops working after this many days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

impl FromJson for TokensPage {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(Self {
            tokens: f.required("tokens", |n| list(n, TokenInfo::from_node))?,
        })
    }
}

impl FromJson for TokenInfo {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(Self {
            name: f.required("name", string)?,
            may_start: f.required("mayStart", boolean)?,
            presets: f.optional("presets", |n| list(n, string))?,
            created_at: f.required("createdAt", string)?,
            created_by: f.required("createdBy", string)?,
            expires_at: f.optional("expiresAt", string)?,
            last_used_at: f.optional("lastUsedAt", string)?,
        })
    }
}

impl FromJson for TokenCreated {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(Self {
            token: f.required("token", string)?,
            info: f.required("info", TokenInfo::from_node)?,
        })
    }
}

impl ToJson for NewToken {
    /// The body of `POST /runboard/tokens/{projId}`, absent options left out.
    fn write_json(&self, out: &mut String) {
        let mut object = Members::open(out);
        object.str("name", &self.name);
        object.plain("mayStart", self.may_start);
        if let Some(presets) = &self.presets {
            object.strs("presets", presets.iter().map(String::as_str));
        }
        if let Some(days) = self.expires_days {
            object.plain("expiresDays", days);
        }
        object.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::from_json;

    #[test]
    fn the_widget_reads_and_writes_what_serde_does() {
        let info = TokenInfo {
            name: "ci".into(),
            may_start: true,
            presets: Some(vec!["Nightly".into(), "Smoke \"quick\"".into()]),
            created_at: "2026-12-07T20:00:00Z".into(),
            created_by: "admin@example.com".into(),
            expires_at: None,
            last_used_at: Some("2026-12-07T20:01:00Z".into()),
        };
        let created = TokenCreated {
            token: "rbt_x".into(),
            info: info.clone(),
        };
        let text = serde_json::to_string(&created).unwrap();
        assert_eq!(from_json::<TokenCreated>(&text).unwrap(), created);
        let page = TokensPage { tokens: vec![info] };
        let text = serde_json::to_string(&page).unwrap();
        assert_eq!(from_json::<TokensPage>(&text).unwrap(), page);
        for new in [
            NewToken {
                name: "ci".into(),
                may_start: true,
                presets: Some(vec!["Nightly".into()]),
                expires_days: Some(30),
            },
            NewToken {
                name: "view".into(),
                may_start: false,
                presets: None,
                expires_days: None,
            },
        ] {
            assert_eq!(new.to_json(), serde_json::to_string(&new).unwrap());
        }
    }
}
