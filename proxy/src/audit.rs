//! The audit trail: exactly one structured line per execution attempt, on the
//! `runboard::audit` target, with when, who, where, what, on which agent, which job and
//! how it ended (and why, when it did not start); and one per attempt to change a
//! triage rule (`rule`: create, edit or delete, which rule, what it covers, how it ended).
//! Never the key: reasons are error messages, which are scrubbed or Runboard's own words.

use chrono::{SecondsFormat, Utc};
use runboard_shared::{AgentName, ExecuteRequest, NewRule, ProjectId, Rule, RuleId};

use crate::{AppError, upstream::Started};

/// The `outcome` field of a start that did not happen, or may not have.
fn failed_outcome(err: &AppError) -> &'static str {
    match err {
        // Runboard or the platform said no: trying again as is will not help.
        AppError::Forbidden(_)
        | AppError::UpstreamRefused(_)
        | AppError::UpstreamRejected(..)
        | AppError::InvalidBody(_) => "refused",
        AppError::StartOutcomeUnknown => "unknown",
        _ => "failed",
    }
}

/// Writes the audit line for one execution attempt and how it ended. Every line has the
/// same fields (`job_id` and `reason` empty where they do not apply), so a ledger can
/// read them alike.
pub(crate) fn execution(
    user: &str,
    project: &ProjectId,
    request: &ExecuteRequest,
    result: &Result<Started, AppError>,
) {
    let time = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let selector = request.selector.describe();
    let agent = request
        .agent_name
        .as_ref()
        .map(AgentName::as_str)
        .unwrap_or("");
    let (job_id, outcome, reason) = match result {
        Ok(Started {
            answer,
            recovered: true,
        }) => (answer.value.job_id.as_str(), "recovered", String::new()),
        Ok(Started { answer, .. }) => (
            answer.value.job_id.as_str(),
            answer.value.schedule_status.as_str(),
            String::new(),
        ),
        Err(err) => ("", failed_outcome(err), err.to_string()),
    };
    tracing::info!(
        target: "runboard::audit",
        time,
        user,
        project = %project,
        selector,
        agent,
        job_id,
        outcome,
        reason,
        "execution"
    );
}

/// The `outcome` of a triage rule change that did not happen.
fn refused_change(err: &AppError) -> &'static str {
    match err {
        AppError::Forbidden(_) | AppError::InvalidBody(_) | AppError::NotFound(_) => "refused",
        _ => "failed",
    }
}

/// One triage rule change as an audit line: the same fields on every line, empty where
/// they do not apply.
#[derive(Default)]
struct RuleLine {
    rule_id: String,
    kind: &'static str,
    scope: String,
    until: String,
    outcome: &'static str,
    reason: String,
}

impl RuleLine {
    fn failed(err: &AppError) -> Self {
        Self {
            outcome: refused_change(err),
            reason: err.to_string(),
            ..Self::default()
        }
    }

    fn write(&self, action: &str, user: &str, project: &ProjectId) {
        let time = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
        tracing::info!(
            target: "runboard::audit",
            time,
            user,
            project = %project,
            action,
            rule_id = self.rule_id,
            kind = self.kind,
            scope = self.scope,
            until = self.until,
            outcome = self.outcome,
            reason = self.reason,
            "rule"
        );
    }
}

/// Writes the audit line for one attempt to create a triage rule: who, which project,
/// the rule's id, kind, what it covers and until when, or why it was not created.
pub(crate) fn rule_created(user: &str, project: &ProjectId, result: &Result<Rule, AppError>) {
    let line = match result {
        Ok(rule) => RuleLine {
            rule_id: rule.id.to_string(),
            kind: rule.spec.kind().as_str(),
            scope: rule_scope(&rule.spec),
            until: rule.spec.until().map(|d| d.to_string()).unwrap_or_default(),
            outcome: "created",
            reason: String::new(),
        },
        Err(err) => RuleLine::failed(err),
    };
    line.write("create", user, project);
}

/// Writes the audit line for one attempt to delete triage rule `rule`.
pub(crate) fn rule_deleted(
    user: &str,
    project: &ProjectId,
    rule: &RuleId,
    result: &Result<(), AppError>,
) {
    let line = match result {
        Ok(()) => RuleLine {
            outcome: "deleted",
            ..RuleLine::default()
        },
        Err(err) => RuleLine::failed(err),
    };
    RuleLine {
        rule_id: rule.to_string(),
        ..line
    }
    .write("delete", user, project);
}

/// Writes the audit line for one attempt to edit triage rule `rule`: on success, the
/// rule as it now stands (its kind, what it covers, until when).
pub(crate) fn rule_edited(
    user: &str,
    project: &ProjectId,
    rule: &RuleId,
    result: &Result<Rule, AppError>,
) {
    let line = match result {
        Ok(edited) => RuleLine {
            kind: edited.spec.kind().as_str(),
            scope: rule_scope(&edited.spec),
            until: edited
                .spec
                .until()
                .map(|d| d.to_string())
                .unwrap_or_default(),
            outcome: "edited",
            ..RuleLine::default()
        },
        Err(err) => RuleLine::failed(err),
    };
    RuleLine {
        rule_id: rule.to_string(),
        ..line
    }
    .write("edit", user, project);
}

/// What a rule covers, in the guide's field names: `testId t1`, `featureId f1`, or for a
/// known issue `any test` or its one test.
fn rule_scope(spec: &NewRule) -> String {
    match spec {
        NewRule::Quarantine(q) => format!("{} {}", q.scope.field(), q.scope.id()),
        NewRule::Known(k) => match &k.test_id {
            Some(test) => format!("testId {test}"),
            None => "any test".to_owned(),
        },
    }
}
