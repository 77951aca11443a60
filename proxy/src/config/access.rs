//! Who may start runs in a project, decided once from `[auth]` and the project's own
//! settings, and the start-up checks that keep the rule explicit. In header mode nobody
//! may start runs until someone is named (`run_users`, `run_groups`) or everyone signed
//! in is let in on purpose (`run_everyone = true`): an empty list never means "everyone".

use super::{AuthConfig, AuthMode, ConfigError, ProjectConfig};

/// Who may start runs in one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Starters<'a> {
    /// `view_only = true`: nobody, in any mode.
    ViewOnly,
    /// `auth.mode = "none"`: anyone who reaches Runboard.
    Anyone,
    /// `run_everyone = true`: every signed-in user.
    EverySignedIn,
    /// Header mode with no one named: nobody.
    Nobody,
    /// These users (case-insensitive) and members of these groups.
    Listed {
        /// `run_users`, the project's or the global one.
        users: &'a [String],
        /// `run_groups`, the project's or the global one.
        groups: &'a [String],
    },
}

impl<'a> Starters<'a> {
    /// Resolves the rule for `project`: its own lists and `run_everyone` override the
    /// `[auth]` ones, one setting at a time.
    pub fn of(auth: &'a AuthConfig, project: &'a ProjectConfig) -> Self {
        if project.view_only {
            return Self::ViewOnly;
        }
        if auth.mode == AuthMode::None {
            return Self::Anyone;
        }
        if project.run_everyone.unwrap_or(auth.run_everyone) {
            return Self::EverySignedIn;
        }
        let users = project.run_users.as_deref().unwrap_or(&auth.run_users);
        let groups = project.run_groups.as_deref().unwrap_or(&auth.run_groups);
        if users.is_empty() && groups.is_empty() {
            return Self::Nobody;
        }
        Self::Listed { users, groups }
    }

    /// Whether `user` with `groups` may start runs (`user` is `None` in mode none).
    pub fn admit(&self, user: Option<&str>, groups: &[String]) -> bool {
        match self {
            Self::ViewOnly | Self::Nobody => false,
            Self::Anyone | Self::EverySignedIn => true,
            Self::Listed {
                users,
                groups: allowed,
            } => {
                let named = user.is_some_and(|u| users.iter().any(|a| a.eq_ignore_ascii_case(u)));
                named || groups.iter().any(|g| allowed.contains(g))
            }
        }
    }

    /// The rule in words, for `check-config`.
    pub fn describe(&self) -> String {
        match self {
            Self::ViewOnly => "nobody may start runs (view_only)".to_owned(),
            Self::Anyone => {
                "anyone who reaches Runboard may start runs (auth.mode = \"none\")".to_owned()
            }
            Self::EverySignedIn => "every signed-in user may start runs (run_everyone)".to_owned(),
            Self::Nobody => "nobody may start runs (view only): no run_users or run_groups \
                             name anyone, and run_everyone is not set"
                .to_owned(),
            Self::Listed { users, groups } => {
                let mut who = Vec::new();
                if !users.is_empty() {
                    who.push(format!("users [{}]", users.join(", ")));
                }
                if !groups.is_empty() {
                    who.push(format!("groups [{}]", groups.join(", ")));
                }
                format!("{} may start runs", who.join(" and "))
            }
        }
    }
}

/// Settings of `[auth]` and the projects that only header mode reads, as written.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Written {
    /// `auth.mode` was given (in the file or `RUNBOARD_AUTH_MODE`).
    pub(crate) mode: bool,
    /// The first header-mode setting given, by name, if any.
    pub(crate) header_setting: Option<&'static str>,
}

/// Refuses what would be silently ignored or contradict itself: header-mode settings
/// without `auth.mode` (mode none would ignore them and let everyone start runs), and
/// `run_everyone = true` beside lists it would override.
pub(crate) fn check(
    written: Written,
    auth: &AuthConfig,
    projects: &[ProjectConfig],
) -> Result<(), ConfigError> {
    let project_setting = projects.iter().enumerate().find_map(|(i, p)| {
        let field = match (&p.run_users, &p.run_groups, p.run_everyone) {
            (Some(_), _, _) => "run_users",
            (_, Some(_), _) => "run_groups",
            (_, _, Some(_)) => "run_everyone",
            _ => return None,
        };
        Some(format!("projects[{i}].{field}"))
    });
    let header_setting = written
        .header_setting
        .map(|s| format!("auth.{s}"))
        .or(project_setting);
    if let (false, Some(setting)) = (written.mode, header_setting) {
        return Err(ConfigError::invalid(
            "auth.mode",
            format!(
                "is not set, but {setting} is: without a mode Runboard has no sign-in, \
                 ignores it and lets everyone start runs; write mode = \"header\" (behind an \
                 SSO proxy) or, to mean that, mode = \"none\""
            ),
        ));
    }
    if auth.run_everyone && !(auth.run_users.is_empty() && auth.run_groups.is_empty()) {
        return Err(ConfigError::invalid(
            "auth.run_everyone",
            "lets every signed-in user start runs, so run_users and run_groups would be \
             ignored; remove the lists or run_everyone",
        ));
    }
    for (i, project) in projects.iter().enumerate() {
        check_project(i, auth, project)?;
    }
    Ok(())
}

/// A project's own lists beside a `run_everyone = true` that applies to it (its own or
/// the global one), and `run_everyone` on a view-only project.
fn check_project(
    index: usize,
    auth: &AuthConfig,
    project: &ProjectConfig,
) -> Result<(), ConfigError> {
    let at = |field: &str| format!("projects[{index}].{field}");
    if project.view_only && project.run_everyone.is_some() {
        return Err(ConfigError::invalid(
            at("view_only"),
            "a view-only project lets nobody start runs; remove its run_everyone",
        ));
    }
    let listed = [&project.run_users, &project.run_groups]
        .iter()
        .any(|list| list.as_ref().is_some_and(|l| !l.is_empty()));
    if !listed {
        return Ok(());
    }
    match project.run_everyone {
        Some(true) => Err(ConfigError::invalid(
            at("run_everyone"),
            "lets every signed-in user start runs here, so this project's run_users and \
             run_groups would be ignored; remove the lists or run_everyone",
        )),
        None if auth.run_everyone => Err(ConfigError::invalid(
            at(
                if project.run_users.as_ref().is_some_and(|l| !l.is_empty()) {
                    "run_users"
                } else {
                    "run_groups"
                },
            ),
            "[auth] run_everyone = true lets every signed-in user start runs in every \
             project; write run_everyone = false in this project for its lists to apply",
        )),
        _ => Ok(()),
    }
}
