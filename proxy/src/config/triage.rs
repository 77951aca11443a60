//! Triage settings (issue 21): `[triage] max_quarantine_days`, who may change a
//! project's rules (`triage_users` / `triage_groups`, in `[auth]` and per project; by
//! default whoever may start runs there) and who owns which tests (`[[projects.owners]]`).

use runboard_shared::{Id, rules::DEFAULT_MAX_QUARANTINE_DAYS};
use serde::Deserialize;

use super::{AuthConfig, ConfigError, ProjectConfig, Starters};

/// The longest quarantine a configuration may allow.
const MAX_MAX_QUARANTINE_DAYS: u32 = 365;

/// `[triage]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTriage {
    pub(crate) max_quarantine_days: Option<u32>,
}

/// `[triage]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TriageConfig {
    /// How far ahead a quarantine's `until` may be, in days (default 30).
    pub max_quarantine_days: u32,
}

impl Default for TriageConfig {
    fn default() -> Self {
        Self {
            max_quarantine_days: DEFAULT_MAX_QUARANTINE_DAYS,
        }
    }
}

pub(crate) fn triage(raw: RawTriage) -> Result<TriageConfig, ConfigError> {
    let days = raw
        .max_quarantine_days
        .unwrap_or(DEFAULT_MAX_QUARANTINE_DAYS);
    if !(1..=MAX_MAX_QUARANTINE_DAYS).contains(&days) {
        return Err(ConfigError::invalid(
            "triage.max_quarantine_days",
            format!("{days} is out of range; use 1 to {MAX_MAX_QUARANTINE_DAYS} days"),
        ));
    }
    Ok(TriageConfig {
        max_quarantine_days: days,
    })
}

/// One `[[projects.owners]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOwner {
    team: Option<String>,
    #[serde(default)]
    features: Vec<String>,
    #[serde(default)]
    suites: Vec<String>,
    #[serde(default)]
    tests: Vec<String>,
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
}

/// A team and the tests it owns: by test id, or every test of a suite or feature (as
/// far as the ledger has seen them run there). `users` and `groups` are its members, for
/// "Owned by my groups".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The team's name, shown beside each failure it owns.
    pub team: String,
    /// Feature ids.
    pub features: Vec<Id>,
    /// Suite ids.
    pub suites: Vec<Id>,
    /// Test ids.
    pub tests: Vec<Id>,
    /// Members by user name (case-insensitive).
    pub users: Vec<String>,
    /// Members by group.
    pub groups: Vec<String>,
}

impl Owner {
    /// Whether `user` with `groups` belongs to the team.
    pub fn has_member(&self, user: Option<&str>, groups: &[String]) -> bool {
        let named = user.is_some_and(|u| self.users.iter().any(|m| m.eq_ignore_ascii_case(u)));
        named || groups.iter().any(|g| self.groups.contains(g))
    }
}

/// Reads `projects[index].owners`, naming the first bad field.
pub(crate) fn owners(index: usize, raw: Vec<RawOwner>) -> Result<Vec<Owner>, ConfigError> {
    raw.into_iter()
        .enumerate()
        .map(|(j, owner)| {
            let at = |field: &str| format!("projects[{index}].owners[{j}].{field}");
            let team = owner.team.as_deref().map(str::trim).unwrap_or_default();
            if team.is_empty() {
                return Err(ConfigError::invalid(at("team"), "names no team"));
            }
            let ids = |field: &str, list: Vec<String>| {
                list.iter()
                    .enumerate()
                    .map(|(k, id)| {
                        Id::parse(field, id.trim()).map_err(|e| {
                            ConfigError::invalid(format!("{}[{k}]", at(field)), e.problem)
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            };
            let owner = Owner {
                team: team.to_owned(),
                features: ids("features", owner.features)?,
                suites: ids("suites", owner.suites)?,
                tests: ids("tests", owner.tests)?,
                users: owner.users,
                groups: owner.groups,
            };
            if owner.features.is_empty() && owner.suites.is_empty() && owner.tests.is_empty() {
                return Err(ConfigError::invalid(
                    at("team"),
                    "owns nothing: list its features, suites or tests",
                ));
            }
            Ok(owner)
        })
        .collect()
}

/// Who may change a project's triage rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Triagers<'a> {
    /// Neither the project nor `[auth]` names anyone: whoever may start runs there.
    AsStarters(Starters<'a>),
    /// These users (case-insensitive) and members of these groups.
    Listed {
        /// `triage_users`, the project's or the global one.
        users: &'a [String],
        /// `triage_groups`, the project's or the global one.
        groups: &'a [String],
    },
}

impl<'a> Triagers<'a> {
    /// Resolves the rule for `project`: its own lists override `[auth]`'s, one at a time.
    pub fn of(auth: &'a AuthConfig, project: &'a ProjectConfig) -> Self {
        let users = project
            .triage_users
            .as_deref()
            .or(auth.triage_users.as_deref());
        let groups = project
            .triage_groups
            .as_deref()
            .or(auth.triage_groups.as_deref());
        if users.is_none() && groups.is_none() {
            return Self::AsStarters(Starters::of(auth, project));
        }
        Self::Listed {
            users: users.unwrap_or_default(),
            groups: groups.unwrap_or_default(),
        }
    }

    /// Whether `user` with `groups` may change rules (`user` is `None` in mode none,
    /// where only the default rule lets anyone in).
    pub fn admit(&self, user: Option<&str>, groups: &[String]) -> bool {
        match self {
            Self::AsStarters(starters) => starters.admit(user, groups),
            Self::Listed {
                users,
                groups: allowed,
            } => Starters::Listed {
                users,
                groups: allowed,
            }
            .admit(user, groups),
        }
    }

    /// The rule in words, for `check-config`.
    pub fn describe(&self) -> String {
        match self {
            Self::AsStarters(starters) => format!(
                "whoever may start runs may change triage rules ({})",
                starters.describe()
            ),
            Self::Listed { users, groups } if users.is_empty() && groups.is_empty() => {
                "nobody may change triage rules (triage_users and triage_groups are empty)"
                    .to_owned()
            }
            Self::Listed { users, groups } => {
                let mut who = Vec::new();
                if !users.is_empty() {
                    who.push(format!("users [{}]", users.join(", ")));
                }
                if !groups.is_empty() {
                    who.push(format!("groups [{}]", groups.join(", ")));
                }
                format!("{} may change triage rules", who.join(" and "))
            }
        }
    }
}
