//! `GET`, `POST /runboard/tokens/{projId}` and `DELETE /runboard/tokens/{projId}/{name}`:
//! a project's machine tokens for the widget's Tokens page. Admins only
//! (`auth.admin_users` / `admin_groups`; 403 for anyone else, tokens included); changes
//! are checked as other browser writes are (same origin, JSON). The list never holds a
//! token's text; a create's answer holds it that once. Each change is logged (target
//! `runboard::audit`) with who made it, never the text.

use std::time::Duration;

use axum::{
    Json,
    extract::{Path, State, rejection::PathRejection},
    http::StatusCode,
};
use chrono::{DateTime, SecondsFormat, Utc};
use runboard_ledger::TokenRecord;
use runboard_shared::{NewToken, ProjectId, TokenCreated, TokenInfo, TokensPage, ValidationError};

use super::{MintError, Scope, mint_record};
use crate::{
    AppError, AppState,
    auth::Identity,
    csrf::SameOrigin,
    extract::{ApiJson, ProjectPath},
    ledger::ledger_error,
};

/// `GET /runboard/tokens/{projId}`: the tokens not revoked, by name.
pub(crate) async fn list(
    State(state): State<AppState>,
    identity: Identity,
    ProjectPath(proj): ProjectPath,
) -> Result<Json<TokensPage>, AppError> {
    let project = state.project(&proj)?;
    admin(&state, &identity)?;
    let records = state
        .ledger()
        .ledger()
        .tokens(Some(project.id.as_str()))
        .await
        .map_err(ledger_error)?;
    Ok(Json(TokensPage {
        tokens: records.iter().map(info).collect(),
    }))
}

/// `POST /runboard/tokens/{projId}`: `201` with the token's text, shown this once.
pub(crate) async fn create(
    State(state): State<AppState>,
    identity: Identity,
    _: SameOrigin,
    ProjectPath(proj): ProjectPath,
    body: Result<ApiJson<NewToken>, AppError>,
) -> Result<(StatusCode, Json<TokenCreated>), AppError> {
    let project = state.project(&proj)?;
    admin(&state, &identity)?;
    let ApiJson(new) = body?;
    let scope = Scope {
        may_start: new.may_start,
        presets: new.presets,
        expires_in: new
            .expires_days
            .map(|d| Duration::from_secs(u64::from(d) * 86_400)),
    };
    let invalid = |e: MintError| match e {
        MintError::Ledger(e) => ledger_error(e),
        other => AppError::InvalidBody(other.to_string()),
    };
    scope.check(project).map_err(invalid)?;
    let (token, record) = mint_record(
        state.ledger().ledger(),
        &project.id,
        &new.name,
        &scope,
        identity.name(),
    )
    .await
    .map_err(invalid)?;
    tracing::info!(target: "runboard::audit", user = identity.name(), project = %proj,
        token = %record.name, action = "token created");
    Ok((
        StatusCode::CREATED,
        Json(TokenCreated {
            token,
            info: info(&record),
        }),
    ))
}

/// `DELETE /runboard/tokens/{projId}/{name}`: `204`, or `404` when the project has no
/// such token (or it is revoked already).
pub(crate) async fn revoke(
    State(state): State<AppState>,
    identity: Identity,
    _: SameOrigin,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, AppError> {
    let Path((proj, name)) =
        path.map_err(|e| AppError::InvalidId(ValidationError::new("path", e.body_text())))?;
    let proj = ProjectId::parse(proj).map_err(AppError::InvalidId)?;
    let project = state.project(&proj)?;
    admin(&state, &identity)?;
    let revoked = state
        .ledger()
        .ledger()
        .revoke_token(
            Some(project.id.as_str()),
            &name,
            identity.name(),
            runboard_ledger::now_ms(),
        )
        .await
        .map_err(ledger_error)?;
    if !revoked {
        return Err(AppError::NotFound(format!(
            "a token of project {} by that name",
            project.id
        )));
    }
    tracing::info!(target: "runboard::audit", user = identity.name(), project = %proj,
        token = %name, action = "token revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// 403 unless `identity` is an admin.
fn admin(state: &AppState, identity: &Identity) -> Result<(), AppError> {
    if identity.is_admin(&state.config().auth) {
        return Ok(());
    }
    Err(AppError::Forbidden(
        "only Runboard administrators (auth.admin_users, auth.admin_groups) manage tokens"
            .to_owned(),
    ))
}

/// A stored token as the widget lists it.
fn info(record: &TokenRecord) -> TokenInfo {
    TokenInfo {
        name: record.name.clone(),
        may_start: record.may_start,
        presets: record.presets.clone(),
        created_at: rfc3339(record.created_at),
        created_by: record.created_by.clone(),
        expires_at: record.expires_at.map(rfc3339),
        last_used_at: record.last_used_at.map(rfc3339),
    }
}

/// Epoch milliseconds as RFC 3339, UTC, to the second.
fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}
