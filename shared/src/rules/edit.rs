//! A change to a stored rule: the body of `PATCH /runboard/rules/{projId}/{ruleId}`
//! ([`RuleEdit`]) and how it applies ([`NewRule::edited`]). What a rule covers (its kind,
//! test, suite, feature, text or regex) cannot change: such a rule is another rule, and
//! its history would lie about what was muted when; delete it and create the other one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{MAX_TEXT_LEN, NewRule, check_length, check_link};
use crate::{Day, ValidationError};

/// The fields of a rule that say what it covers: refused in an edit, by name.
const FIXED: [&str; 6] = [
    "kind",
    "testId",
    "testSuiteId",
    "featureId",
    "match",
    "regex",
];

/// `{"until"?, "reason"?, "link"?, "note"?, "blocks"?}`: each field given replaces the
/// rule's, the others stay. Strict: a field that names what the rule covers, an unknown
/// field, a bad day or a link that is not http(s) is refused naming the field; a body
/// that changes nothing is refused too (it would write an `edited` line for nothing).
/// `"link": ""` removes the link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "EditFields", into = "EditFields")]
pub struct RuleEdit {
    /// A quarantine's new last day (checked against today by the server, as on create).
    pub until: Option<Day>,
    /// A quarantine's new reason (not empty).
    pub reason: Option<String>,
    /// A new ticket (`Some(None)`: none any more).
    pub link: Option<Option<String>>,
    /// A known issue's new note.
    pub note: Option<String>,
    /// Whether a known issue's failures block from now on.
    pub blocks: Option<bool>,
}

/// The wire fields of an edit, before [`RuleEdit`]'s checks.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct EditFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) blocks: Option<bool>,
    #[serde(flatten, skip_serializing)]
    pub(crate) unknown: BTreeMap<String, serde::de::IgnoredAny>,
}

impl TryFrom<EditFields> for RuleEdit {
    type Error = ValidationError;

    fn try_from(fields: EditFields) -> Result<Self, ValidationError> {
        if let Some(name) = fields.unknown.keys().next() {
            let problem = if FIXED.contains(&name.as_str()) {
                "cannot be changed: it says what the rule covers; delete the rule and \
                 create another"
            } else {
                "is not a field of a rule edit (until, reason, link, note, blocks)"
            };
            return Err(ValidationError::new(name.as_str(), problem));
        }
        let link = match fields.link {
            None => None,
            Some(link) if link.is_empty() => Some(None),
            Some(link) => {
                check_link("link", &link)?;
                Some(Some(link))
            }
        };
        let edit = Self {
            until: fields.until.map(|u| Day::parse("until", &u)).transpose()?,
            reason: fields.reason,
            link,
            note: fields.note,
            blocks: fields.blocks,
        };
        if edit == Self::default() {
            return Err(ValidationError::new(
                "body",
                "changes nothing: give until, reason, link, note or blocks",
            ));
        }
        Ok(edit)
    }
}

impl From<RuleEdit> for EditFields {
    fn from(edit: RuleEdit) -> Self {
        Self {
            until: edit.until.map(|d| d.to_string()),
            reason: edit.reason,
            link: edit.link.map(Option::unwrap_or_default),
            note: edit.note,
            blocks: edit.blocks,
            unknown: BTreeMap::new(),
        }
    }
}

impl NewRule {
    /// This rule with `edit` applied; a field of the other kind (`note` on a quarantine,
    /// `until` on a known issue, …) is refused naming it, and so is an empty reason.
    /// The window of `until` is the server's check ([`NewRule::check_until`]).
    pub fn edited(&self, edit: &RuleEdit) -> Result<Self, ValidationError> {
        let foreign = |names: &[(&str, bool)]| match names.iter().find(|(_, given)| *given) {
            Some((name, _)) => Err(ValidationError::new(
                *name,
                format!("is not a field of a {} rule", self.kind()),
            )),
            None => Ok(()),
        };
        let mut rule = self.clone();
        match &mut rule {
            Self::Quarantine(q) => {
                foreign(&[
                    ("note", edit.note.is_some()),
                    ("blocks", edit.blocks.is_some()),
                ])?;
                if let Some(until) = edit.until {
                    q.until = until;
                }
                if let Some(reason) = &edit.reason {
                    let reason = reason.trim();
                    if reason.is_empty() {
                        return Err(ValidationError::new("reason", "is required: say why"));
                    }
                    check_length("reason", reason, MAX_TEXT_LEN)?;
                    reason.clone_into(&mut q.reason);
                }
                if let Some(link) = &edit.link {
                    q.link.clone_from(link);
                }
            }
            Self::Known(k) => {
                foreign(&[
                    ("until", edit.until.is_some()),
                    ("reason", edit.reason.is_some()),
                ])?;
                if let Some(note) = &edit.note {
                    let note = note.trim();
                    check_length("note", note, MAX_TEXT_LEN)?;
                    note.clone_into(&mut k.note);
                }
                if let Some(blocks) = edit.blocks {
                    k.blocks = blocks;
                }
                if let Some(link) = &edit.link {
                    k.link.clone_from(link);
                }
            }
        }
        Ok(rule)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn quarantine() -> NewRule {
        serde_json::from_value(json!({"kind": "quarantine", "testId": "t1",
            "until": "2026-05-01", "reason": "flaky", "link": "https://t.example/1"}))
        .unwrap()
    }

    fn known() -> NewRule {
        serde_json::from_value(json!({"kind": "known", "match": "Timed out", "note": "slow"}))
            .unwrap()
    }

    /// `body` applied to `rule`: the edited rule, or the refusal's text.
    fn apply(rule: &NewRule, body: Value) -> Result<NewRule, String> {
        let edit: RuleEdit = serde_json::from_value(body).map_err(|e| e.to_string())?;
        rule.edited(&edit).map_err(|e| e.to_string())
    }

    #[test]
    fn given_fields_replace_the_rules_and_the_others_stay() {
        let edited = apply(&quarantine(), json!({"until": "2026-05-10", "link": ""})).unwrap();
        let NewRule::Quarantine(q) = &edited else {
            panic!("{edited:?}")
        };
        assert_eq!(q.until.to_string(), "2026-05-10");
        assert_eq!((q.reason.as_str(), q.link.as_deref()), ("flaky", None));
        let edited = apply(&known(), json!({"blocks": false, "note": " K-2 "})).unwrap();
        let NewRule::Known(k) = &edited else {
            panic!("{edited:?}")
        };
        assert_eq!(
            (k.blocks, k.note.as_str(), k.pattern.as_str()),
            (false, "K-2", "Timed out")
        );
    }

    #[test]
    fn bad_edits_are_refused_naming_the_field() {
        let cases = [
            (quarantine(), json!({"kind": "known"}), "kind"),
            (quarantine(), json!({"testId": "t2"}), "testId"),
            (known(), json!({"match": "other"}), "match"),
            (known(), json!({"regex": true}), "regex"),
            (quarantine(), json!({"colour": "red"}), "colour"),
            (quarantine(), json!({}), "body"),
            (quarantine(), json!({"until": "2026-02-30"}), "until"),
            (quarantine(), json!({"link": "javascript:alert(1)"}), "link"),
            (quarantine(), json!({"reason": "  "}), "reason"),
            (quarantine(), json!({"note": "n"}), "note"),
            (known(), json!({"until": "2026-05-10"}), "until"),
            (
                known(),
                json!({"note": "x".repeat(MAX_TEXT_LEN + 1)}),
                "note",
            ),
        ];
        for (rule, body, field) in cases {
            let err = apply(&rule, body.clone()).expect_err(&body.to_string());
            assert!(err.starts_with(&format!("{field}: ")), "{body}: {err}");
        }
    }

    #[test]
    fn an_edit_round_trips() {
        let body = json!({"until": "2026-05-10", "reason": "r", "link": ""});
        let edit: RuleEdit = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(serde_json::to_value(&edit).unwrap(), body);
    }
}
