//! [`FromJson`] for the verdict and the rules (`verdict.rs`, `rules.rs`): strict, as
//! their serde attributes are; a stored rule is checked by the same code serde's
//! reading runs (`NewRule::from_known_fields`).

use super::{DecodeError, Fields, FromJson, boolean, list, string, unsigned};
use crate::{
    FailureClass, Rule, RuleAction, RuleEvent, RuleId, RuleKind, RuleRef, RuleState, RulesPage,
    Verdict, VerdictCounts, VerdictFailure, VerdictStatus, json::Node, rules::RuleFields,
};

/// A closed string enum: one of `values` by its spelling, else serde's error.
fn one_of<T: Copy>(node: &Node<'_>, values: &[(&str, T)]) -> Result<T, DecodeError> {
    let text = string(node)?;
    values
        .iter()
        .find(|(spelling, _)| *spelling == text)
        .map(|(_, value)| *value)
        .ok_or_else(|| DecodeError(format!("unknown variant `{text}`")))
}

impl FromJson for VerdictStatus {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let all = [Self::Running, Self::Passed, Self::Failed];
        one_of(node, &all.map(|s| (s.as_str(), s)))
    }
}

impl FromJson for RuleKind {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let all = [Self::Quarantine, Self::Known];
        one_of(node, &all.map(|k| (k.as_str(), k)))
    }
}

impl FromJson for RuleState {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        one_of(
            node,
            &[
                ("active", Self::Active),
                ("expired", Self::Expired),
                ("deleted", Self::Deleted),
            ],
        )
    }
}

impl FromJson for RuleAction {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        one_of(
            node,
            &[
                ("created", Self::Created),
                ("edited", Self::Edited),
                ("expired", Self::Expired),
                ("deleted", Self::Deleted),
            ],
        )
    }
}

impl FromJson for Verdict {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(Verdict {
            run_id: f.required("runId", string)?,
            status: f.required("status", VerdictStatus::from_node)?,
            blocking: f.required("blocking", unsigned)?,
            counts: f.required("counts", VerdictCounts::from_node)?,
            failures: f.required("failures", |n| list(n, VerdictFailure::from_node))?,
        })
    }
}

impl FromJson for VerdictCounts {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(VerdictCounts {
            total: f.required("total", unsigned)?,
            passed: f.required("passed", unsigned)?,
            failed: f.required("failed", unsigned)?,
            skipped: f.required("skipped", unsigned)?,
            new: f.required("new", unsigned)?,
            known: f.required("known", unsigned)?,
            flaky: f.required("flaky", unsigned)?,
            quarantined: f.required("quarantined", unsigned)?,
            failing: f.required("failing", unsigned)?,
        })
    }
}

impl FromJson for VerdictFailure {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(VerdictFailure {
            test_id: f.required("testId", string)?,
            title: f.required("title", string)?,
            class: f.required("class", FailureClass::from_node)?,
            blocks: f.required("blocks", boolean)?,
            rule: f.optional("rule", RuleRef::from_node)?,
            owners: f.required("owners", |n| list(n, string))?,
        })
    }
}

impl FromJson for RuleRef {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(RuleRef {
            id: f.required("id", string)?,
            kind: f.required("kind", RuleKind::from_node)?,
            reason: f.required("reason", string)?,
            link: f.optional("link", string)?,
            until: f.optional("until", string)?,
            by: f.required("by", string)?,
        })
    }
}

impl FromJson for RulesPage {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(RulesPage {
            rules: f.required("rules", |n| list(n, Rule::from_node))?,
        })
    }
}

impl FromJson for Rule {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        let invalid = |e: crate::ValidationError| DecodeError(e.to_string());
        let spec = RuleFields {
            kind: f.optional("kind", string)?,
            test_id: f.optional("testId", string)?,
            test_suite_id: f.optional("testSuiteId", string)?,
            feature_id: f.optional("featureId", string)?,
            pattern: f.optional("match", string)?,
            regex: f.optional("regex", boolean)?,
            until: f.optional("until", string)?,
            reason: f.optional("reason", string)?,
            note: f.optional("note", string)?,
            link: f.optional("link", string)?,
            blocks: f.optional("blocks", boolean)?,
            unknown: Default::default(),
        };
        Ok(Rule {
            id: f.required("id", |n| {
                RuleId::parse(string(n)?).map_err(|e| DecodeError(e.to_string()))
            })?,
            by: f.required("by", string)?,
            created_at: f.required("createdAt", string)?,
            state: f.required("state", RuleState::from_node)?,
            history: f.or_default("history", |n| list(n, RuleEvent::from_node))?,
            spec: crate::NewRule::from_known_fields(spec).map_err(invalid)?,
        })
    }
}

impl FromJson for RuleEvent {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(RuleEvent {
            action: f.required("action", RuleAction::from_node)?,
            by: f.required("by", string)?,
            at: f.required("at", string)?,
        })
    }
}
