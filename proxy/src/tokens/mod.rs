//! Machine tokens (issue 22): a pipeline's credential for one project, sent as
//! `Authorization: Bearer rbt_…` in either auth mode. A token acts as user `token:NAME`
//! ([`Grant`]): it reads its own project only, starts runs only when created with
//! `may_start` (and then only its presets, when it names any), and changes no rules.
//! The ledger keeps only its SHA-256 (`secret.rs`), so a request's token costs one
//! indexed look-up, and the text is shown once, by [`mint`]. `cli.rs` is
//! `runboard token create|list|revoke`, `admin.rs` the widget's routes for admins.

pub(crate) mod admin;
pub mod cli;
mod secret;

use std::time::Duration;

use axum::http::HeaderMap;
use runboard_ledger::{Created, Ledger, LedgerError, NewToken, TokenRecord, Unusable};
use runboard_shared::ProjectId;

use crate::{
    AppError, AppState,
    config::{AuthConfig, ProjectConfig},
};

/// The longest token name.
const MAX_NAME: usize = 64;

/// What a new token may do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// It may start runs (else it may only read).
    pub may_start: bool,
    /// It may start only these presets (by name); `None`: any start.
    pub presets: Option<Vec<String>>,
    /// It stops working this long after its creation; `None`: never.
    pub expires_in: Option<Duration>,
}

impl Scope {
    /// Checks the scope against `project`'s configuration: every preset named exists
    /// there, and presets only go with `may_start`.
    pub fn check(&self, project: &ProjectConfig) -> Result<(), MintError> {
        let Some(presets) = &self.presets else {
            return Ok(());
        };
        if !self.may_start {
            return Err(MintError::PresetsWithoutStart);
        }
        if presets.is_empty() {
            return Err(MintError::UnknownPreset(String::new()));
        }
        match presets
            .iter()
            .find(|name| !project.presets.iter().any(|p| &p.name == *name))
        {
            Some(missing) => Err(MintError::UnknownPreset(missing.clone())),
            None => Ok(()),
        }
    }
}

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    /// The name is empty, too long or has characters outside `A-Z a-z 0-9 . _ -`.
    #[error("a token name is 1 to {MAX_NAME} letters, digits, dots, underscores or hyphens")]
    InvalidName,
    /// A token that is not revoked has this name already.
    #[error("a token named {0} exists already; revoke it first or pick another name")]
    NameTaken(String),
    /// A preset the project does not have (empty: an empty list).
    #[error("the project has no preset named {0:?}")]
    UnknownPreset(String),
    /// Presets limit starts, so they need `may_start`.
    #[error("presets limit which runs a token may start: give --may-start too")]
    PresetsWithoutStart,
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Makes a token for `project` with `scope`, created by `by` (a user, or `cli`), and
/// returns its text: the only time it exists outside the caller's hands. The ledger keeps
/// its hash. For the command line, the widget's Tokens page and tests that need a token.
pub async fn mint(
    ledger: &Ledger,
    project: &ProjectId,
    name: &str,
    scope: &Scope,
    by: &str,
) -> Result<String, MintError> {
    mint_record(ledger, project, name, scope, by)
        .await
        .map(|(text, _)| text)
}

/// [`mint`], with the stored record.
async fn mint_record(
    ledger: &Ledger,
    project: &ProjectId,
    name: &str,
    scope: &Scope,
    by: &str,
) -> Result<(String, TokenRecord), MintError> {
    if !valid_name(name) {
        return Err(MintError::InvalidName);
    }
    let text = secret::generate();
    let hash = secret::hash(&text);
    let now = runboard_ledger::now_ms();
    let expires_at = scope
        .expires_in
        .map(|d| now.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)));
    let token = NewToken {
        project: project.as_str(),
        name,
        hash: &hash,
        may_start: scope.may_start,
        presets: scope.presets.as_deref(),
        created_by: by,
        created_at: now,
        expires_at,
    };
    match ledger.create_token(&token).await? {
        Created::Token(record) => Ok((text, record)),
        Created::NameTaken => Err(MintError::NameTaken(name.to_owned())),
    }
}

/// Whether `name` is a token name: what a command line, a path segment and an audit line
/// all carry unquoted.
fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A request's valid token: who it acts as and what it may do.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    name: String,
    project: ProjectId,
    may_start: bool,
    presets: Option<Vec<String>>,
}

impl Grant {
    /// The user it acts as, in audit lines and the ledger: `token:NAME`.
    pub(crate) fn user(&self) -> String {
        format!("token:{}", self.name)
    }

    /// Whether it may read `project`.
    pub(crate) fn covers(&self, project: &str) -> bool {
        self.project.as_str() == project
    }

    /// Whether it may start some run in `project` (the widget's `canRun`).
    pub(crate) fn may_start_in(&self, project: &ProjectConfig) -> bool {
        self.may_start && !project.view_only && self.covers(project.id.as_str())
    }

    /// Whether it may start a run of `preset` (the preset the request matches, if any)
    /// in `project`: 403 with the reason otherwise.
    pub(crate) fn check_start(
        &self,
        project: &ProjectConfig,
        preset: Option<&str>,
    ) -> Result<(), AppError> {
        if !self.may_start_in(project) {
            return Err(AppError::Forbidden(format!(
                "token {} may read {} but not start runs there",
                self.name, project.name
            )));
        }
        match &self.presets {
            Some(allowed) if !preset.is_some_and(|p| allowed.iter().any(|a| a == p)) => {
                Err(AppError::Forbidden(format!(
                    "token {} may start only the presets {}; this request is not one of them",
                    self.name,
                    allowed.join(", ")
                )))
            }
            _ => Ok(()),
        }
    }
}

/// The token `headers` carry, checked: `None` without one; 400 `ambiguous_identity` when
/// an SSO identity header comes with it; 401 when it is unknown, revoked or expired. A
/// valid token's last use is noted in the background, at most once a minute.
pub(crate) async fn grant_of(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Grant>, AppError> {
    let Some(text) = secret::bearer(headers)? else {
        return Ok(None);
    };
    if carries_sso_identity(&state.config().auth, headers) {
        return Err(AppError::AmbiguousIdentity);
    }
    if !secret::is_well_formed(text) {
        return Err(UNKNOWN);
    }
    let ledger = state.ledger().ledger();
    let record = ledger
        .token_by_hash(&secret::hash(text))
        .await
        .map_err(crate::ledger::ledger_error)?
        .ok_or(UNKNOWN)?;
    let now = runboard_ledger::now_ms();
    record.usable_at(now).map_err(|why| match why {
        Unusable::Revoked => AppError::Unauthenticated("this Runboard token was revoked"),
        Unusable::Expired => AppError::Unauthenticated("this Runboard token has expired"),
    })?;
    touch(ledger, &record, now);
    grant(record).map(Some)
}

/// Whether `headers` carry a machine token (checked or not: `Identity` checks it).
pub(crate) fn carries_token(headers: &HeaderMap) -> bool {
    matches!(secret::bearer(headers), Ok(Some(_)))
}

/// The answer to a token Runboard does not know.
const UNKNOWN: AppError = AppError::Unauthenticated("this Runboard token is not known here");

/// Whether `headers` carry either SSO identity header with a value (in either mode: a
/// request that names a person and a token must not be read as the token alone). An
/// empty header, which some SSO proxies set on every request, names nobody.
fn carries_sso_identity(auth: &AuthConfig, headers: &HeaderMap) -> bool {
    [&auth.user_header, &auth.groups_header]
        .into_iter()
        .any(|name| {
            headers
                .get_all(name.as_str())
                .iter()
                .any(|value| !value.as_bytes().trim_ascii().is_empty())
        })
}

/// Writes `record`'s last use without holding up the request, unless it was written
/// within the last minute (then no task and no write).
fn touch(ledger: &Ledger, record: &TokenRecord, now: i64) {
    if record
        .last_used_at
        .is_some_and(|at| now - at < runboard_ledger::TOUCH_EVERY_MS)
    {
        return;
    }
    let (ledger, id) = (ledger.clone(), record.id);
    tokio::spawn(async move {
        if let Err(error) = ledger.touch_token(id, now).await {
            tracing::warn!(%error, "could not note a token's last use");
        }
    });
}

/// The grant of a stored, usable token.
fn grant(record: TokenRecord) -> Result<Grant, AppError> {
    let project = ProjectId::parse(&record.project).map_err(|_| {
        tracing::error!(token = %record.name, "a token's project is not a valid id");
        AppError::LedgerUnavailable
    })?;
    Ok(Grant {
        name: record.name,
        project,
        may_start: record.may_start,
        presets: record.presets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["ci", "gh-actions.main", "A_1", &"x".repeat(64)] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "a b", "a/b", "tok:en", "é", &"x".repeat(65)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
