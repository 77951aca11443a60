//! Triage over HTTP (issue 21): a run's verdict and the project's rules, every path a
//! shared [`Target`], answers read with shared's `FromJson` and requests written with
//! `ToJson` through [`api`](super)'s own `get` and `change`.

use runboard_shared::{
    NewRule, ProjectId, RuleEdit, RuleId, RulesPage, RulesQuery, RunId, Target, ToJson, Verdict,
};

use super::{change, get};
use crate::logic::failure::Failure;

/// `GET /runboard/verdict/{projId}/{runId}`: the run's failures classed and how many
/// block. An older server answers 404: callers keep the report's own headline then.
pub(crate) async fn verdict(project: &ProjectId, run: &RunId) -> Result<Verdict, Failure> {
    get(&Target::Verdict(project.clone(), run.clone())).await
}

/// `GET /runboard/rules/{projId}` (`?include=expired` with `expired`).
pub(crate) async fn rules(project: &ProjectId, expired: bool) -> Result<RulesPage, Failure> {
    let query = RulesQuery {
        include_expired: expired,
    };
    get(&Target::Rules(project.clone(), query)).await
}

/// `POST /runboard/rules/{projId}`: creates a rule (`201` with the stored rule, which
/// the widget does not read: the verdict read next shows what it changed, so no decoder
/// runs for it). A `400` names the field in its message (`"until: …"`).
pub(crate) async fn create_rule(project: &ProjectId, rule: &NewRule) -> Result<(), Failure> {
    let target = Target::RuleCreate(project.clone());
    change("POST", &target, Some(&rule.to_json()))
        .await
        .map(drop)
}

/// `DELETE /runboard/rules/{projId}/{ruleId}`: `204`. Sent with the JSON content type a
/// change needs to pass the proxy's CSRF rule, though it has no body. Sent with the JSON content type
/// a change needs to pass the proxy's CSRF rule, though it has no body.
pub(crate) async fn delete_rule(project: &ProjectId, rule: &RuleId) -> Result<(), Failure> {
    let target = Target::RuleDelete(project.clone(), rule.clone());
    change("DELETE", &target, None).await.map(drop)
}

/// `PATCH /runboard/rules/{projId}/{ruleId}`: changes a rule (`200` with the rule, which
/// the widget does not read: the Rules page reads the list again). A `400` names the
/// field in its message.
pub(crate) async fn edit_rule(
    project: &ProjectId,
    rule: &RuleId,
    edit: &RuleEdit,
) -> Result<(), Failure> {
    let target = Target::RuleEdit(project.clone(), rule.clone());
    change("PATCH", &target, Some(&edit.to_json()))
        .await
        .map(drop)
}
