//! Who is asking: in `header` mode the user and groups come from headers set by the SSO
//! proxy, believed only when the TCP peer is one of `auth.trusted_proxies` and each
//! header appears at most once (a proxy that appends instead of replacing must not let
//! the client's copy win). A machine token (`Authorization: Bearer rbt_…`, `tokens/`)
//! is an identity of its own in either mode: user `token:NAME`, its project only.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, FromRequestParts, RawPathParams},
    http::{HeaderMap, request::Parts},
};
use runboard_shared::{ExecuteRequest, ProjectId};

use crate::{
    AppError, AppState,
    config::{AuthConfig, AuthMode, ProjectConfig, Starters, Triagers},
    ledger, tokens,
};

/// The signed-in user (none in `auth.mode = "none"`). Extracting it refuses requests
/// without a believable identity in header mode.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    /// The user's name or e-mail.
    pub(crate) user: Option<String>,
    groups: Vec<String>,
    mode: AuthMode,
    /// The machine token the request came with; then `user` is `token:NAME`.
    token: Option<tokens::Grant>,
}

impl Identity {
    /// The name for audit lines.
    pub(crate) fn name(&self) -> &str {
        self.user.as_deref().unwrap_or("anonymous")
    }

    /// Whether this user may start runs in `project`, by the one rule of
    /// [`Starters`]: in header mode, empty lists mean nobody unless `run_everyone`.
    pub(crate) fn can_run(&self, auth: &AuthConfig, project: &ProjectConfig) -> bool {
        if let Some(token) = &self.token {
            return token.may_start_in(project);
        }
        // An identity from mode none never meets a header-mode rule, nor the reverse.
        if self.mode != auth.mode {
            return false;
        }
        Starters::of(auth, project).admit(self.user.as_deref(), &self.groups)
    }

    /// Whether this user may change `project`'s triage rules, by [`Triagers`] (by
    /// default: whoever may start runs there).
    pub(crate) fn may_triage(&self, auth: &AuthConfig, project: &ProjectConfig) -> bool {
        // Tokens are for pipelines, which read verdicts; rules are people's decisions.
        if self.token.is_some() || self.mode != auth.mode {
            return false;
        }
        Triagers::of(auth, project).admit(self.user.as_deref(), &self.groups)
    }

    /// Whether this user may manage machine tokens (`auth.admin_users` /
    /// `admin_groups`): only a signed-in person in header mode, never a token.
    pub(crate) fn is_admin(&self, auth: &AuthConfig) -> bool {
        if self.token.is_some() || self.mode != AuthMode::Header || auth.mode != AuthMode::Header {
            return false;
        }
        Starters::Listed {
            users: &auth.admin_users,
            groups: &auth.admin_groups,
        }
        .admit(self.user.as_deref(), &self.groups)
    }

    /// Whether this identity may see `project` at all: a token sees only its own.
    pub(crate) fn may_view(&self, project: &ProjectId) -> bool {
        self.token
            .as_ref()
            .is_none_or(|token| token.covers(project.as_str()))
    }

    /// May this identity start `request` in `project`? 403 with the reason when not:
    /// the run permission, and for a token its presets (by the preset the request
    /// matches, as the ledger records it).
    pub(crate) fn check_start(
        &self,
        auth: &AuthConfig,
        project: &ProjectConfig,
        request: &ExecuteRequest,
    ) -> Result<(), AppError> {
        if let Some(token) = &self.token {
            return token.check_start(project, ledger::preset_of(project, request));
        }
        if self.can_run(auth, project) {
            return Ok(());
        }
        Err(AppError::Forbidden(format!(
            "you may watch {} but not start runs; ask the Runboard administrator for access",
            project.name
        )))
    }

    /// The teams of `project`'s `[[projects.owners]]` this user belongs to.
    pub(crate) fn teams(&self, project: &ProjectConfig) -> Vec<String> {
        project
            .owners
            .iter()
            .filter(|o| o.has_member(self.user.as_deref(), &self.groups))
            .map(|o| o.team.clone())
            .collect()
    }

    /// Reads the identity of a request from `peer`.
    pub(crate) fn from_headers(
        auth: &AuthConfig,
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
    ) -> Result<Self, AppError> {
        if auth.mode == AuthMode::None {
            return Ok(Self {
                user: None,
                groups: Vec::new(),
                mode: AuthMode::None,
                token: None,
            });
        }
        if !is_trusted(auth, peer) {
            return Err(AppError::Unauthenticated(
                "sign in through the company's SSO: this request did not come through it",
            ));
        }
        let user = header_text(headers, &auth.user_header)?.ok_or(AppError::Unauthenticated(
            "sign in through the company's SSO: the request carries no user",
        ))?;
        let groups = header_text(headers, &auth.groups_header)?
            .map(|g| {
                g.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            user: Some(user),
            groups,
            mode: AuthMode::Header,
            token: None,
        })
    }

    /// The identity of a request with a valid token, in `mode`.
    fn of_token(token: tokens::Grant, mode: AuthMode) -> Self {
        Self {
            user: Some(token.user()),
            groups: Vec::new(),
            mode,
            token: Some(token),
        }
    }
}

/// Whether `peer` is one of the trusted proxies. An IPv4 peer seen on a dual-stack
/// socket (`::ffff:10.0.0.1`) is compared as the IPv4 address it is.
pub(crate) fn is_trusted(auth: &AuthConfig, peer: Option<SocketAddr>) -> bool {
    peer.is_some_and(|p| {
        let ip = p.ip().to_canonical();
        auth.trusted_proxies.iter().any(|net| net.contains(&ip))
    })
}

/// The header's text, if present once; a second copy is refused rather than guessed.
fn header_text(headers: &HeaderMap, name: &str) -> Result<Option<String>, AppError> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(AppError::Unauthenticated(
            "sign in through the company's SSO: the request carries an identity header twice",
        ));
    }
    Ok(first
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned))
}

impl FromRequestParts<AppState> for Identity {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(token) = tokens::grant_of(state, &parts.headers).await? {
            // Every route about one project names it as `projId`; a token for another
            // project is refused here, before any handler reads anything.
            if let Ok(params) = RawPathParams::from_request_parts(parts, state).await {
                let project = params.iter().find(|(name, _)| *name == "projId");
                if project.is_some_and(|(_, p)| !token.covers(p)) {
                    return Err(AppError::Forbidden(
                        "this token belongs to another project".to_owned(),
                    ));
                }
            }
            return Ok(Self::of_token(token, state.config().auth.mode));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| *addr);
        Self::from_headers(&state.config().auth, &parts.headers, peer)
    }
}

#[cfg(test)]
mod tests {
    use runboard_shared::ProjectId;

    use super::*;
    use crate::config::ApiKey;

    fn header_auth() -> AuthConfig {
        AuthConfig {
            mode: AuthMode::Header,
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
            run_users: vec!["boss@example.com".into()],
            run_groups: vec!["qa".into()],
            ..AuthConfig::default()
        }
    }

    fn identity(user: Option<&str>, groups: &str, peer: &str) -> Result<Identity, AppError> {
        let mut headers = HeaderMap::new();
        if let Some(user) = user {
            headers.insert("x-forwarded-email", user.parse().unwrap());
        }
        headers.insert("x-forwarded-groups", groups.parse().unwrap());
        Identity::from_headers(&header_auth(), &headers, Some(peer.parse().unwrap()))
    }

    #[test]
    fn identity_is_believed_only_from_trusted_peers() {
        assert!(identity(Some("a@example.com"), "", "10.1.2.3:5000").is_ok());
        assert!(identity(Some("a@example.com"), "", "192.168.1.1:5000").is_err());
        assert!(identity(None, "qa", "10.1.2.3:5000").is_err());
        let none = Identity::from_headers(&header_auth(), &HeaderMap::new(), None);
        assert!(matches!(none, Err(AppError::Unauthenticated(_))));
    }

    #[test]
    fn duplicated_identity_headers_are_refused() {
        let auth = header_auth();
        let peer = Some("10.0.0.1:1".parse().unwrap());
        for name in ["x-forwarded-email", "x-forwarded-groups"] {
            let mut headers = HeaderMap::new();
            headers.insert("x-forwarded-email", "a@example.com".parse().unwrap());
            headers.insert("x-forwarded-groups", "qa".parse().unwrap());
            headers.append(name, "boss@example.com".parse().unwrap());
            let result = Identity::from_headers(&auth, &headers, peer);
            assert!(
                matches!(result, Err(AppError::Unauthenticated(_))),
                "{name}"
            );
        }
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_networks() {
        assert!(identity(Some("a@example.com"), "", "[::ffff:10.0.0.1]:5000").is_ok());
        assert!(identity(Some("a@example.com"), "", "[::ffff:192.168.0.1]:5000").is_err());
    }

    #[test]
    fn run_permission_by_user_group_and_project_override() {
        let auth = header_auth();
        let mut project = ProjectConfig::new(
            ProjectId::parse("p1").unwrap(),
            "P",
            ApiKey::new("k").unwrap(),
        );
        let check = |user: &str, groups: &str, project: &ProjectConfig, expected: bool| {
            let id = identity(Some(user), groups, "10.0.0.1:1").unwrap();
            assert_eq!(id.can_run(&auth, project), expected, "{user} [{groups}]");
        };
        check("viewer@example.com", "sales, support", &project, false);
        check("tester@example.com", "sales, qa", &project, true);
        check("Boss@Example.com", "", &project, true);
        project.run_groups = Some(vec!["sales".into()]);
        project.run_users = Some(vec![]);
        check("viewer@example.com", "sales", &project, true);
        check("tester@example.com", "qa", &project, false);
        project.view_only = true;
        check("viewer@example.com", "sales", &project, false);
        let anyone = Identity::from_headers(&AuthConfig::default(), &HeaderMap::new(), None);
        assert!(
            !anyone.unwrap().can_run(&auth, &project),
            "view-only in mode none"
        );
    }

    /// Issue 18, finding 4: empty lists in header mode mean nobody; only
    /// `run_everyone` opens starting to every signed-in user, and a project's setting
    /// overrides the global one.
    #[test]
    fn empty_lists_mean_nobody_unless_run_everyone() {
        let mut auth = AuthConfig {
            run_users: vec![],
            run_groups: vec![],
            ..header_auth()
        };
        let mut project = ProjectConfig::new(
            ProjectId::parse("p1").unwrap(),
            "P",
            ApiKey::new("k").unwrap(),
        );
        project.run_groups = Some(vec![]);
        let runner = identity(Some("tester@example.com"), "qa", "10.0.0.1:1").unwrap();
        assert!(!runner.can_run(&auth, &project), "both lists empty");
        auth.run_everyone = true;
        assert!(runner.can_run(&auth, &project), "run_everyone globally");
        project.run_everyone = Some(false);
        assert!(!runner.can_run(&auth, &project), "the project says no");
        auth.run_everyone = false;
        project.run_everyone = Some(true);
        assert!(runner.can_run(&auth, &project), "the project says yes");
    }
}
