//! `GET`, `POST /runboard/rules/{projId}`, `PATCH` and `DELETE
//! /runboard/rules/{projId}/{ruleId}`: a project's triage rules. Reads are checked as the report is (identity, project);
//! changes as starts are (same origin, JSON, identity), then need the triage permission
//! (403), then a valid body (400 naming the field: `shared`'s checks, the `until`
//! window, the regex's size). Nothing is stored on any error; every attempt writes one
//! audit line (`audit::rule_change`).

use axum::{
    Json,
    extract::{Path, RawQuery, State, rejection::PathRejection},
    http::StatusCode,
};
use runboard_ledger::RuleRecord;
use runboard_shared::{
    Day, NewRule, ProjectId, Rule, RuleAction, RuleEdit, RuleEvent, RuleId, RuleState, RulesPage,
    RulesQuery, ValidationError, url::parse_query,
};

use super::{matcher, rfc3339, today};
use crate::{
    AppError, AppState, audit,
    auth::Identity,
    config::ProjectConfig,
    csrf::SameOrigin,
    extract::{ApiJson, ProjectPath},
    ledger::ledger_error,
};

/// Who an expiry is written by in a rule's history.
const EXPIRY_BY: &str = "runboard";
const DAY_MS: i64 = 86_400_000;

/// `GET /runboard/rules/{projId}?include=expired`.
pub(crate) async fn list(
    State(state): State<AppState>,
    _identity: Identity,
    ProjectPath(proj): ProjectPath,
    RawQuery(raw): RawQuery,
) -> Result<Json<RulesPage>, AppError> {
    let project = state.project(&proj)?;
    let query = RulesQuery::from_pairs(&parse_query(raw.as_deref().unwrap_or_default()))
        .map_err(|e| AppError::InvalidQuery(e.to_string()))?;
    let today = today();
    let records = state
        .ledger()
        .ledger()
        .rules(
            project.id.as_str(),
            (!query.include_expired).then_some(today),
        )
        .await
        .map_err(ledger_error)?;
    Ok(Json(RulesPage {
        rules: records.iter().map(|r| wire(r, today)).collect(),
    }))
}

/// `POST /runboard/rules/{projId}`: `201` with the stored rule.
pub(crate) async fn create(
    State(state): State<AppState>,
    identity: Identity,
    _: SameOrigin,
    ProjectPath(proj): ProjectPath,
    body: Result<ApiJson<NewRule>, AppError>,
) -> Result<(StatusCode, Json<Rule>), AppError> {
    let project = state.project(&proj)?;
    let result = async {
        permitted(&state, &identity, project)?;
        let ApiJson(spec) = body?;
        check(&spec, state.config().triage.max_quarantine_days)?;
        let record = state
            .ledger()
            .ledger()
            .create_rule(
                project.id.as_str(),
                &spec,
                identity.name(),
                runboard_ledger::now_ms(),
            )
            .await
            .map_err(ledger_error)?;
        Ok(wire(&record, today()))
    }
    .await;
    audit::rule_created(identity.name(), &proj, &result);
    result.map(|rule| (StatusCode::CREATED, Json(rule)))
}

/// `DELETE /runboard/rules/{projId}/{ruleId}`: `204`, or `404` when the project has no
/// such rule (or it is deleted already).
pub(crate) async fn delete(
    State(state): State<AppState>,
    identity: Identity,
    _: SameOrigin,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, AppError> {
    let (proj, rule) = rule_path(path)?;
    let project = state.project(&proj)?;
    let result = async {
        permitted(&state, &identity, project)?;
        let missing = || AppError::NotFound(format!("rule {rule} of project {}", project.id));
        let id: i64 = rule.parse().map_err(|_| missing())?;
        let deleted = state
            .ledger()
            .ledger()
            .delete_rule(
                project.id.as_str(),
                id,
                identity.name(),
                runboard_ledger::now_ms(),
            )
            .await
            .map_err(ledger_error)?;
        if deleted { Ok(()) } else { Err(missing()) }
    }
    .await;
    audit::rule_deleted(identity.name(), &proj, &rule, &result);
    result.map(|()| StatusCode::NO_CONTENT)
}

/// `PATCH /runboard/rules/{projId}/{ruleId}`: `200` with the rule as it now stands (its
/// history ending in `edited`), `404` when the project has no such rule (or it is
/// deleted). Checked in the order a create is: permission (403), then the body (400 naming
/// the field, strict: what the rule covers cannot change), then the rule, then the
/// edited rule as a whole (the `until` window, as on create). An expired quarantine may
/// be extended: that is how one is brought back.
pub(crate) async fn edit(
    State(state): State<AppState>,
    identity: Identity,
    _: SameOrigin,
    path: Result<Path<(String, String)>, PathRejection>,
    body: Result<ApiJson<RuleEdit>, AppError>,
) -> Result<Json<Rule>, AppError> {
    let (proj, rule) = rule_path(path)?;
    let project = state.project(&proj)?;
    let result = async {
        permitted(&state, &identity, project)?;
        let ApiJson(edit) = body?;
        let ledger = state.ledger().ledger();
        let missing = || AppError::NotFound(format!("rule {rule} of project {}", project.id));
        let id: i64 = rule.parse().map_err(|_| missing())?;
        let stored = ledger
            .rule(project.id.as_str(), id)
            .await
            .map_err(ledger_error)?
            .ok_or_else(missing)?;
        let spec = stored
            .spec
            .edited(&edit)
            .map_err(|e| AppError::InvalidBody(e.to_string()))?;
        if edit.until.is_some() {
            check(&spec, state.config().triage.max_quarantine_days)?;
        }
        let record = ledger
            .edit_rule(
                project.id.as_str(),
                id,
                &spec,
                identity.name(),
                runboard_ledger::now_ms(),
            )
            .await
            .map_err(ledger_error)?
            .ok_or_else(missing)?;
        Ok(wire(&record, today()))
    }
    .await;
    audit::rule_edited(identity.name(), &proj, &rule, &result);
    result.map(Json)
}

/// A rule's path ids, validated (400 naming the one of the wrong shape).
fn rule_path(
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<(ProjectId, RuleId), AppError> {
    let Path((proj, rule)) =
        path.map_err(|e| AppError::InvalidId(ValidationError::new("path", e.body_text())))?;
    let proj = ProjectId::parse(proj).map_err(AppError::InvalidId)?;
    let rule = RuleId::parse(rule).map_err(AppError::InvalidId)?;
    Ok((proj, rule))
}

/// 403 unless this user may change `project`'s rules.
fn permitted(
    state: &AppState,
    identity: &Identity,
    project: &ProjectConfig,
) -> Result<(), AppError> {
    if identity.may_triage(&state.config().auth, project) {
        return Ok(());
    }
    Err(AppError::Forbidden(format!(
        "you may watch {} but not change its triage rules; ask the Runboard administrator \
         for the triage permission",
        project.name
    )))
}

/// The checks that need the clock, the configuration or the regex engine.
fn check(spec: &NewRule, max_days: u32) -> Result<(), AppError> {
    let invalid = |e: ValidationError| AppError::InvalidBody(e.to_string());
    spec.check_until(today(), max_days).map_err(invalid)?;
    match spec {
        NewRule::Known(known) => matcher::check(known).map_err(invalid),
        NewRule::Quarantine(_) => Ok(()),
    }
}

/// A stored rule as the wire shows it on `today`: expired once its last day has passed,
/// with that expiry in its history (at the start of the next day, by `runboard`).
pub(crate) fn wire(record: &RuleRecord, today: Day) -> Rule {
    let expired_on = record.spec.until().filter(|until| *until < today);
    let mut history: Vec<RuleEvent> = record
        .events
        .iter()
        .map(|e| RuleEvent {
            action: e.action,
            by: e.by.clone(),
            at: rfc3339(e.at),
        })
        .collect();
    if let Some(until) = expired_on {
        history.push(RuleEvent {
            action: RuleAction::Expired,
            by: EXPIRY_BY.to_owned(),
            at: rfc3339((until.epoch_days() + 1) * DAY_MS),
        });
    }
    Rule {
        // A row id is a decimal number, always an id's shape.
        id: RuleId::parse(record.id.to_string()).unwrap_or_else(|_| unreachable!()),
        spec: record.spec.clone(),
        by: record.created_by.clone(),
        created_at: rfc3339(record.created_at),
        state: if expired_on.is_some() {
            RuleState::Expired
        } else {
            RuleState::Active
        },
        history,
    }
}
