//! Triage rules (issue 21): a *quarantine* (a test, suite or feature whose failures are
//! shown but never block, until a day) and a *known issue* (failures whose error
//! headline contains a text, or matches a regex, labelled with a ticket). [`NewRule`] is
//! the body of `POST /runboard/rules/{projId}`, strict and checked here so the widget's
//! forms refuse what the server refuses; [`Rule`] is a stored rule as Runboard answers
//! it. Checks that need a regex engine or the clock are the server's: the regex's size
//! (`proxy/src/triage/matcher.rs`) and the window of `until` ([`NewRule::check_until`],
//! given today).

use std::{collections::BTreeMap, fmt, ops::Deref};

use serde::{Deserialize, Serialize};

use crate::{Id, ValidationError};

mod day;
mod edit;

pub use day::Day;
pub use edit::RuleEdit;

/// The longest known-issue text or regex accepted (longer patterns are refused: they
/// are slow to match and never needed to recognise an error headline).
pub const MAX_PATTERN_LEN: usize = 200;
/// The longest reason or note accepted, in characters.
pub const MAX_TEXT_LEN: usize = 1000;
/// The longest link accepted, in characters.
pub const MAX_LINK_LEN: usize = 2000;
/// How long a quarantine may last when `[triage] max_quarantine_days` is not set.
pub const DEFAULT_MAX_QUARANTINE_DAYS: u32 = 30;

/// Which kind of rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// Failures are shown but never block, until the rule's day has passed.
    Quarantine,
    /// Failures whose headline matches are labelled; they block unless `blocks = false`.
    Known,
}

impl RuleKind {
    /// The wire spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Quarantine => "quarantine",
            Self::Known => "known",
        }
    }

    /// The kind spelled `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Quarantine, Self::Known]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

impl fmt::Display for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a quarantine covers: one test, or every test of a suite or a feature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// One test (`testId`).
    Test(Id),
    /// Every test of a suite (`testSuiteId`).
    Suite(Id),
    /// Every test of a feature (`featureId`).
    Feature(Id),
}

impl Scope {
    /// The JSON field it is written under (the guide's selector names).
    pub fn field(&self) -> &'static str {
        match self {
            Self::Test(_) => "testId",
            Self::Suite(_) => "testSuiteId",
            Self::Feature(_) => "featureId",
        }
    }

    /// The id it names.
    pub fn id(&self) -> &Id {
        match self {
            Self::Test(id) | Self::Suite(id) | Self::Feature(id) => id,
        }
    }
}

/// A quarantine as asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantine {
    /// What it covers.
    pub scope: Scope,
    /// The last day it applies (inclusive); the day after, it stops by itself.
    pub until: Day,
    /// Why (required).
    pub reason: String,
    /// A ticket, http(s).
    pub link: Option<String>,
}

/// A known issue as asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownIssue {
    /// The text a failure's error headline contains (`match` on the wire), or a regex
    /// it matches when `regex` is set; at most [`MAX_PATTERN_LEN`] characters.
    pub pattern: String,
    /// Whether `pattern` is a regex (Rust `regex` syntax) rather than plain text.
    pub regex: bool,
    /// Only failures of this test, when set; any test otherwise.
    pub test_id: Option<Id>,
    /// What people should know (may be empty).
    pub note: String,
    /// A ticket, http(s).
    pub link: Option<String>,
    /// Whether its failures still block (the default): a known bug is still a bug.
    pub blocks: bool,
}

/// The body of `POST /runboard/rules/{projId}`: `{"kind":"quarantine","testId"|
/// "testSuiteId"|"featureId":…,"until":"YYYY-MM-DD","reason":…,"link":…}` or
/// `{"kind":"known","match":…,"regex":false,"testId":…,"link":…,"note":…,"blocks":true}`.
/// Strict: an unknown kind, an unknown field, a field of the other kind, an id of the
/// wrong shape or a link that is not http(s) is refused with a message naming the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RuleFields", into = "RuleFields")]
pub enum NewRule {
    /// `kind: "quarantine"`.
    Quarantine(Quarantine),
    /// `kind: "known"`.
    Known(KnownIssue),
}

impl NewRule {
    /// Its kind.
    pub fn kind(&self) -> RuleKind {
        match self {
            Self::Quarantine(_) => RuleKind::Quarantine,
            Self::Known(_) => RuleKind::Known,
        }
    }

    /// The ticket, if any.
    pub fn link(&self) -> Option<&str> {
        match self {
            Self::Quarantine(q) => q.link.as_deref(),
            Self::Known(k) => k.link.as_deref(),
        }
    }

    /// The reason of a quarantine, the note of a known issue.
    pub fn reason(&self) -> &str {
        match self {
            Self::Quarantine(q) => &q.reason,
            Self::Known(k) => &k.note,
        }
    }

    /// The last day a quarantine applies; known issues do not expire.
    pub fn until(&self) -> Option<Day> {
        match self {
            Self::Quarantine(q) => Some(q.until),
            Self::Known(_) => None,
        }
    }

    /// Whether its failures block: never for a quarantine, as the rule says for a
    /// known issue.
    pub fn blocks(&self) -> bool {
        match self {
            Self::Quarantine(_) => false,
            Self::Known(k) => k.blocks,
        }
    }

    /// The check that needs today: a quarantine's `until` is neither past nor more than
    /// `max_days` away (`[triage] max_quarantine_days`). Today itself is allowed (the
    /// rule then applies to the end of the day).
    pub fn check_until(&self, today: Day, max_days: u32) -> Result<(), ValidationError> {
        let Some(until) = self.until() else {
            return Ok(());
        };
        let away = today.days_until(until);
        if away < 0 {
            return Err(ValidationError::new(
                "until",
                format!("{until} is in the past (today is {today})"),
            ));
        }
        if away > i64::from(max_days) {
            return Err(ValidationError::new(
                "until",
                format!(
                    "{until} is {away} days away; a quarantine lasts at most {max_days} days \
                     (until {})",
                    today.plus_days(i64::from(max_days))
                ),
            ));
        }
        Ok(())
    }
}

/// Checks a link for `field`: an absolute `http://` or `https://` URL with a host, no
/// white space or control characters, at most [`MAX_LINK_LEN`] characters.
pub fn check_link(field: &str, link: &str) -> Result<(), ValidationError> {
    let lower = link.get(..8).unwrap_or(link).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &link[8..]
    } else if lower.starts_with("http://") {
        &link[7..]
    } else {
        return Err(ValidationError::new(
            field,
            "is not a web link: it must start with http:// or https://",
        ));
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') || host.starts_with('@') {
        return Err(ValidationError::new(field, "names no host"));
    }
    if link.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ValidationError::new(
            field,
            "contains white space or control characters",
        ));
    }
    check_length(field, link, MAX_LINK_LEN)
}

/// Checks a free text's length for `field`.
fn check_length(field: &str, text: &str, max: usize) -> Result<(), ValidationError> {
    let len = text.chars().count();
    if len > max {
        return Err(ValidationError::new(
            field,
            format!("is {len} characters long; at most {max} are accepted"),
        ));
    }
    Ok(())
}

/// A rule's id, as Runboard gives it (`id` of a rule, `{ruleId}` of a path).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RuleId(Id);

impl RuleId {
    /// Validates `value` as an id (the shape of ids.rs); the error names `ruleId`.
    pub fn parse(value: impl Into<String>) -> Result<Self, ValidationError> {
        Id::parse("ruleId", value).map(Self)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl TryFrom<String> for RuleId {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, ValidationError> {
        Self::parse(value)
    }
}

impl From<RuleId> for String {
    fn from(id: RuleId) -> Self {
        id.0.into()
    }
}

impl Deref for RuleId {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a stored rule stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleState {
    /// It applies.
    Active,
    /// A quarantine whose `until` has passed: it applies no more (shown with
    /// `?include=expired`).
    Expired,
    /// Deleted by someone: kept for its history, never listed.
    Deleted,
}

/// What happened to a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleAction {
    /// Created.
    Created,
    /// Changed.
    Edited,
    /// Its `until` passed (by `runboard`, at the start of the day after `until`).
    Expired,
    /// Deleted.
    Deleted,
}

/// One line of a rule's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleEvent {
    /// What happened.
    pub action: RuleAction,
    /// Who did it (`anonymous` without SSO, `runboard` for an expiry).
    pub by: String,
    /// When, RFC 3339 UTC.
    pub at: String,
}

/// A stored rule, as `GET /runboard/rules/{projId}` lists it and `POST` answers it: the
/// fields of its [`NewRule`] beside `id`, `by`, `createdAt`, `state` and `history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredFields", into = "StoredFields")]
pub struct Rule {
    /// Its id.
    pub id: RuleId,
    /// What it says.
    pub spec: NewRule,
    /// Who created it.
    pub by: String,
    /// When, RFC 3339 UTC.
    pub created_at: String,
    /// Whether it applies.
    pub state: RuleState,
    /// What happened to it, oldest first.
    pub history: Vec<RuleEvent>,
}

impl Rule {
    /// The short form a verdict's failure names.
    pub fn reference(&self) -> RuleRef {
        RuleRef::new(self.id.to_string(), &self.spec, &self.by)
    }
}

/// The rule a verdict's failure fell under: `{"id","kind","reason","link","until","by"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRef {
    /// The rule's id.
    pub id: String,
    /// Quarantine or known issue.
    pub kind: RuleKind,
    /// A quarantine's reason, a known issue's note.
    pub reason: String,
    /// Its ticket.
    pub link: Option<String>,
    /// A quarantine's last day (`YYYY-MM-DD`); `null` for known issues.
    pub until: Option<String>,
    /// Who created it.
    pub by: String,
}

impl RuleRef {
    /// The reference to rule `id` saying `spec`, created by `by`.
    pub fn new(id: String, spec: &NewRule, by: &str) -> Self {
        Self {
            id,
            kind: spec.kind(),
            reason: spec.reason().to_owned(),
            link: spec.link().map(str::to_owned),
            until: spec.until().map(|d| d.to_string()),
            by: by.to_owned(),
        }
    }
}

/// `GET /runboard/rules/{projId}`: the project's active rules, newest first, and with
/// `?include=expired` the expired ones too.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RulesPage {
    /// The rules.
    pub rules: Vec<Rule>,
}

/// The fields of a rule on the wire, before [`NewRule`]'s checks (also written by
/// `encode.rs` and read by `decode.rs`, in this order). Unknown names are collected in
/// `unknown`, so the request can refuse them by name while answers tolerate them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RuleFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) test_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) test_suite_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) feature_id: Option<String>,
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub(crate) pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) regex: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) blocks: Option<bool>,
    #[serde(flatten, skip_serializing)]
    pub(crate) unknown: BTreeMap<String, serde::de::IgnoredAny>,
}

impl TryFrom<RuleFields> for NewRule {
    type Error = ValidationError;

    /// The strict reading of a request: see [`NewRule`].
    fn try_from(fields: RuleFields) -> Result<Self, ValidationError> {
        if let Some(name) = fields.unknown.keys().next() {
            return Err(ValidationError::new(
                name.as_str(),
                "is not a field of a rule",
            ));
        }
        Self::from_known_fields(fields)
    }
}

impl NewRule {
    /// Reads the fields a rule has, ignoring any others (answers tolerate a newer
    /// server's fields; requests refuse them first).
    pub(crate) fn from_known_fields(fields: RuleFields) -> Result<Self, ValidationError> {
        let kind = match fields.kind.as_deref() {
            None => {
                return Err(ValidationError::new(
                    "kind",
                    "is required: quarantine or known",
                ));
            }
            Some(text) => RuleKind::parse(text).ok_or_else(|| {
                ValidationError::new("kind", "is not a kind of rule: use quarantine or known")
            })?,
        };
        let foreign = |names: &[(&str, bool)]| match names.iter().find(|(_, given)| *given) {
            Some((name, _)) => Err(ValidationError::new(
                *name,
                format!("is not a field of a {kind} rule"),
            )),
            None => Ok(()),
        };
        let link = fields.link.filter(|l| !l.is_empty());
        if let Some(link) = &link {
            check_link("link", link)?;
        }
        match kind {
            RuleKind::Quarantine => {
                foreign(&[
                    ("match", fields.pattern.is_some()),
                    ("regex", fields.regex.is_some()),
                    ("note", fields.note.is_some()),
                    ("blocks", fields.blocks.is_some()),
                ])?;
                let scope =
                    quarantine_scope(fields.test_id, fields.test_suite_id, fields.feature_id)?;
                let until = fields
                    .until
                    .ok_or_else(|| ValidationError::new("until", "is required (YYYY-MM-DD)"))?;
                let until = Day::parse("until", &until)?;
                let reason = fields.reason.unwrap_or_default().trim().to_owned();
                if reason.is_empty() {
                    return Err(ValidationError::new("reason", "is required: say why"));
                }
                check_length("reason", &reason, MAX_TEXT_LEN)?;
                Ok(Self::Quarantine(Quarantine {
                    scope,
                    until,
                    reason,
                    link,
                }))
            }
            RuleKind::Known => {
                foreign(&[
                    ("testSuiteId", fields.test_suite_id.is_some()),
                    ("featureId", fields.feature_id.is_some()),
                    ("until", fields.until.is_some()),
                    ("reason", fields.reason.is_some()),
                ])?;
                let pattern = fields.pattern.unwrap_or_default();
                if pattern.trim().is_empty() {
                    return Err(ValidationError::new(
                        "match",
                        "is required: the error text to recognise",
                    ));
                }
                check_length("match", &pattern, MAX_PATTERN_LEN)?;
                let note = fields.note.unwrap_or_default().trim().to_owned();
                check_length("note", &note, MAX_TEXT_LEN)?;
                Ok(Self::Known(KnownIssue {
                    pattern,
                    regex: fields.regex.unwrap_or(false),
                    test_id: fields.test_id.map(|t| Id::parse("testId", t)).transpose()?,
                    note,
                    link,
                    blocks: fields.blocks.unwrap_or(true),
                }))
            }
        }
    }
}

/// Exactly one of the three scope fields, as an id.
fn quarantine_scope(
    test: Option<String>,
    suite: Option<String>,
    feature: Option<String>,
) -> Result<Scope, ValidationError> {
    let given: Vec<(&str, String)> = [
        ("testId", test),
        ("testSuiteId", suite),
        ("featureId", feature),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name, value?)))
    .collect();
    match given.as_slice() {
        [] => Err(ValidationError::new(
            "testId",
            "say what to quarantine: give one of testId, testSuiteId or featureId",
        )),
        [(name, id)] => {
            let id = Id::parse(name, id.as_str())?;
            Ok(match *name {
                "testId" => Scope::Test(id),
                "testSuiteId" => Scope::Suite(id),
                _ => Scope::Feature(id),
            })
        }
        [_, (second, _), ..] => Err(ValidationError::new(
            *second,
            "give only one of testId, testSuiteId or featureId",
        )),
    }
}

impl From<NewRule> for RuleFields {
    fn from(rule: NewRule) -> Self {
        let kind = Some(rule.kind().as_str().to_owned());
        match rule {
            NewRule::Quarantine(q) => {
                let mut fields = Self {
                    kind,
                    until: Some(q.until.to_string()),
                    reason: Some(q.reason),
                    link: q.link,
                    ..Self::default()
                };
                let id = Some(q.scope.id().to_string());
                match q.scope {
                    Scope::Test(_) => fields.test_id = id,
                    Scope::Suite(_) => fields.test_suite_id = id,
                    Scope::Feature(_) => fields.feature_id = id,
                }
                fields
            }
            NewRule::Known(k) => Self {
                kind,
                test_id: k.test_id.map(String::from),
                pattern: Some(k.pattern),
                regex: Some(k.regex),
                note: Some(k.note),
                link: k.link,
                blocks: Some(k.blocks),
                ..Self::default()
            },
        }
    }
}

/// A stored rule on the wire: `id`, the rule's fields, then who, when, state, history.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredFields {
    pub(crate) id: RuleId,
    #[serde(flatten)]
    pub(crate) spec: RuleFields,
    pub(crate) by: String,
    pub(crate) created_at: String,
    pub(crate) state: RuleState,
    #[serde(default)]
    pub(crate) history: Vec<RuleEvent>,
}

impl TryFrom<StoredFields> for Rule {
    type Error = ValidationError;
    fn try_from(stored: StoredFields) -> Result<Self, ValidationError> {
        Ok(Self {
            id: stored.id,
            spec: NewRule::from_known_fields(stored.spec)?,
            by: stored.by,
            created_at: stored.created_at,
            state: stored.state,
            history: stored.history,
        })
    }
}

impl From<Rule> for StoredFields {
    fn from(rule: Rule) -> Self {
        Self {
            id: rule.id,
            spec: rule.spec.into(),
            by: rule.by,
            created_at: rule.created_at,
            state: rule.state,
            history: rule.history,
        }
    }
}

#[cfg(test)]
mod tests;
