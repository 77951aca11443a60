//! The configuration file as written (every field optional, unknown keys refused) and its
//! conversion into the validated [`Config`], one setting at a time.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use ipnet::IpNet;
use reqwest::{Url, header::HeaderName};
use runboard_shared::{PollIntervals, Preset, ProjectId};
use serde::Deserialize;

use super::{
    ApiKey, AuthConfig, AuthMode, Config, ConfigError, EmbedConfig, ProjectConfig, UpstreamConfig,
    edge::{self, RawLimits, RawServer},
};

pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub(crate) const DEFAULT_TIMEOUT_MS: u64 = 10_000;
pub(crate) const DEFAULT_MAX_CONCURRENT: u64 = 64;
pub(crate) const DEFAULT_MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;
pub(crate) const DEFAULT_BREAKER_FAILURES: u64 = 10;
pub(crate) const DEFAULT_BREAKER_COOL_DOWN_MS: u64 = 15_000;
pub(crate) const DEFAULT_JOBS_MS: u64 = 2_000;
pub(crate) const DEFAULT_RUN_MS: u64 = 3_000;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub(crate) listen: Option<String>,
    pub(crate) public_url: Option<String>,
    pub(crate) widget_dir: Option<String>,
    #[serde(default)]
    pub(crate) server: RawServer,
    #[serde(default)]
    pub(crate) limits: RawLimits,
    #[serde(default)]
    pub(crate) upstream: RawUpstream,
    #[serde(default)]
    pub(crate) poll: RawPoll,
    #[serde(default)]
    pub(crate) cache: super::cache::RawCache,
    #[serde(default)]
    pub(crate) live: super::live::RawLive,
    #[serde(default)]
    pub(crate) ledger: super::ledger::RawLedger,
    #[serde(default)]
    pub(crate) triage: super::triage::RawTriage,
    #[serde(default)]
    pub(crate) notify: Vec<super::notify::RawChannel>,
    #[serde(default)]
    pub(crate) auth: RawAuth,
    #[serde(default)]
    pub(crate) embed: RawEmbed,
    #[serde(default)]
    pub(crate) projects: Vec<RawProject>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUpstream {
    pub(crate) url: Option<String>,
    pub(crate) timeout_ms: Option<u64>,
    pub(crate) max_concurrent: Option<u64>,
    pub(crate) max_answer_bytes: Option<u64>,
    pub(crate) breaker_failures: Option<u64>,
    pub(crate) breaker_cool_down_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPoll {
    pub(crate) jobs_ms: Option<u64>,
    pub(crate) run_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAuth {
    pub(crate) mode: Option<String>,
    pub(crate) user_header: Option<String>,
    pub(crate) groups_header: Option<String>,
    pub(crate) trusted_proxies: Option<Vec<String>>,
    pub(crate) run_users: Option<Vec<String>>,
    pub(crate) run_groups: Option<Vec<String>>,
    pub(crate) run_everyone: Option<bool>,
    pub(crate) triage_users: Option<Vec<String>>,
    pub(crate) triage_groups: Option<Vec<String>>,
    pub(crate) admin_users: Option<Vec<String>>,
    pub(crate) admin_groups: Option<Vec<String>>,
}

impl RawAuth {
    /// What was written, for the checks of [`access`](super::access).
    fn written(&self) -> super::access::Written {
        let header_setting = [
            ("trusted_proxies", self.trusted_proxies.is_some()),
            ("run_users", self.run_users.is_some()),
            ("run_groups", self.run_groups.is_some()),
            ("run_everyone", self.run_everyone.is_some()),
            ("triage_users", self.triage_users.is_some()),
            ("triage_groups", self.triage_groups.is_some()),
            ("admin_users", self.admin_users.is_some()),
            ("admin_groups", self.admin_groups.is_some()),
        ]
        .into_iter()
        .find_map(|(name, given)| given.then_some(name));
        super::access::Written {
            mode: self.mode.is_some(),
            header_setting,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEmbed {
    pub(crate) frame_ancestors: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProject {
    id: String,
    name: Option<String>,
    api_key_env: Option<String>,
    api_key_file: Option<PathBuf>,
    /// Only read to refuse it with a clear message.
    api_key: Option<toml::Value>,
    #[serde(default)]
    presets: Vec<toml::Value>,
    run_users: Option<Vec<String>>,
    run_groups: Option<Vec<String>>,
    run_everyone: Option<bool>,
    #[serde(default)]
    view_only: bool,
    triage_users: Option<Vec<String>>,
    triage_groups: Option<Vec<String>>,
    #[serde(default)]
    owners: Vec<super::triage::RawOwner>,
}

/// Turns the file into a [`Config`], naming the first bad setting.
pub(crate) fn validate(
    raw: RawConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let listen = raw.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
    let listen: SocketAddr = listen.trim().parse().map_err(|_| {
        ConfigError::invalid(
            "listen",
            format!("{listen:?} is not IP:PORT (for example 127.0.0.1:8080, or port 0 for any)"),
        )
    })?;
    let mut load_warnings = Vec::new();
    let projects = raw
        .projects
        .into_iter()
        .enumerate()
        .map(|(i, p)| project(i, p, env, &mut load_warnings))
        .collect::<Result<Vec<_>, _>>()?;
    check_projects(&projects)?;
    let project_ids: Vec<ProjectId> = projects.iter().map(|p| p.id.clone()).collect();
    let written = raw.auth.written();
    let auth = auth(raw.auth)?;
    super::access::check(written, &auth, &projects)?;
    Ok(Config {
        listen,
        public_url: edge::public_url(raw.public_url)?,
        server: edge::server(raw.server)?,
        limits: edge::limits(raw.limits),
        widget_dir: raw.widget_dir.filter(|d| !d.is_empty()).map(PathBuf::from),
        upstream: upstream(raw.upstream)?,
        poll: poll(raw.poll)?,
        cache: super::cache::cache(raw.cache)?,
        live: super::live::live(raw.live)?,
        ledger: super::ledger::ledger(raw.ledger)?,
        triage: super::triage::triage(raw.triage)?,
        notify: super::notify::notify(raw.notify, &project_ids, env)?,
        auth,
        embed: EmbedConfig {
            frame_ancestors: frame_ancestors(raw.embed.frame_ancestors.unwrap_or_default())?,
        },
        projects,
        load_warnings,
    })
}

fn upstream(raw: RawUpstream) -> Result<UpstreamConfig, ConfigError> {
    let text = raw.url.ok_or_else(|| {
        ConfigError::invalid(
            "upstream.url",
            "is missing; set the platform's base URL, e.g. https://platform.example.com",
        )
    })?;
    // The text is not quoted back: a mistyped URL may hold a password.
    let url = Url::parse(text.trim())
        .map_err(|e| ConfigError::invalid("upstream.url", format!("is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::invalid(
            "upstream.url",
            "must start with https:// or http://",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::invalid(
            "upstream.url",
            "must not hold a user name or password: the platform is called with the \
             project's key only (and a URL is printed and logged)",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::invalid(
            "upstream.url",
            "must be a plain base URL without query or fragment",
        ));
    }
    let timeout_ms = raw.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
    if !(100..=600_000).contains(&timeout_ms) {
        return Err(ConfigError::invalid(
            "upstream.timeout_ms",
            format!("{timeout_ms} is out of range; use 100 to 600000 milliseconds"),
        ));
    }
    let ranged = |name: &str, value: Option<u64>, default: u64, min: u64, max: u64| {
        let value = value.unwrap_or(default);
        if (min..=max).contains(&value) {
            Ok(value)
        } else {
            Err(ConfigError::invalid(
                name,
                format!("{value} is out of range; use {min} to {max}"),
            ))
        }
    };
    Ok(UpstreamConfig {
        url,
        timeout: Duration::from_millis(timeout_ms),
        max_concurrent: ranged(
            "upstream.max_concurrent",
            raw.max_concurrent,
            DEFAULT_MAX_CONCURRENT,
            1,
            4096,
        )? as usize,
        max_answer_bytes: ranged(
            "upstream.max_answer_bytes",
            raw.max_answer_bytes,
            DEFAULT_MAX_ANSWER_BYTES,
            1024,
            1 << 30,
        )?,
        breaker_failures: ranged(
            "upstream.breaker_failures",
            raw.breaker_failures,
            DEFAULT_BREAKER_FAILURES,
            1,
            1000,
        )? as u32,
        breaker_cool_down: Duration::from_millis(ranged(
            "upstream.breaker_cool_down_ms",
            raw.breaker_cool_down_ms,
            DEFAULT_BREAKER_COOL_DOWN_MS,
            100,
            600_000,
        )?),
    })
}

fn poll(raw: RawPoll) -> Result<PollIntervals, ConfigError> {
    let check = |name: &str, value: Option<u64>, default: u64| {
        let value = value.unwrap_or(default);
        if (200..=3_600_000).contains(&value) {
            Ok(value)
        } else {
            Err(ConfigError::invalid(
                name,
                format!("{value} is out of range; use 200 to 3600000 milliseconds"),
            ))
        }
    };
    Ok(PollIntervals {
        jobs_ms: check("poll.jobs_ms", raw.jobs_ms, DEFAULT_JOBS_MS)?,
        run_ms: check("poll.run_ms", raw.run_ms, DEFAULT_RUN_MS)?,
    })
}

fn auth(raw: RawAuth) -> Result<AuthConfig, ConfigError> {
    let defaults = AuthConfig::default();
    let mode = match raw.mode.as_deref().map(str::trim) {
        None | Some("none") => AuthMode::None,
        Some("header") => AuthMode::Header,
        Some(other) => {
            return Err(ConfigError::invalid(
                "auth.mode",
                format!("{other:?} is not a mode; use \"none\" or \"header\""),
            ));
        }
    };
    let user_header = header_name("auth.user_header", raw.user_header, defaults.user_header)?;
    let groups_header = header_name(
        "auth.groups_header",
        raw.groups_header,
        defaults.groups_header,
    )?;
    let trusted_proxies = raw
        .trusted_proxies
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, text)| cidr(i, text))
        .collect::<Result<Vec<_>, _>>()?;
    if mode == AuthMode::Header && trusted_proxies.is_empty() {
        return Err(ConfigError::invalid(
            "auth.trusted_proxies",
            "header mode needs the addresses of the SSO proxy (CIDRs such as \"127.0.0.1/32\")",
        ));
    }
    Ok(AuthConfig {
        mode,
        user_header,
        groups_header,
        trusted_proxies,
        run_users: raw.run_users.unwrap_or_default(),
        run_groups: raw.run_groups.unwrap_or_default(),
        run_everyone: raw.run_everyone.unwrap_or(false),
        triage_users: raw.triage_users,
        triage_groups: raw.triage_groups,
        admin_users: raw.admin_users.unwrap_or_default(),
        admin_groups: raw.admin_groups.unwrap_or_default(),
    })
}

fn header_name(
    setting: &str,
    value: Option<String>,
    default: String,
) -> Result<String, ConfigError> {
    let value = value.unwrap_or(default);
    HeaderName::from_bytes(value.trim().as_bytes())
        .map(|_| value.trim().to_owned())
        .map_err(|_| ConfigError::invalid(setting, format!("{value:?} is not an HTTP header name")))
}

fn cidr(index: usize, text: &str) -> Result<IpNet, ConfigError> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| {
            ConfigError::invalid(
                format!("auth.trusted_proxies[{index}]"),
                format!("{text:?} is not an address or CIDR such as \"10.0.0.0/8\""),
            )
        })
}

/// CSP sources are copied into a header, so only plain origins and two keywords pass:
/// nothing that could end the directive (`;`, `,`, spaces, quotes) gets through. A
/// wildcard host (`*`, `https://*`, `https://*.com`) would let any site frame the widget
/// and, through the CSRF allowlist, start runs: it is refused by name.
fn frame_ancestors(values: Vec<String>) -> Result<Vec<String>, ConfigError> {
    for (i, value) in values.iter().enumerate() {
        if is_wildcard_source(value) {
            return Err(ConfigError::invalid(
                format!("embed.frame_ancestors[{i}]"),
                format!(
                    "{value:?} would let any site frame Runboard and start runs; list each \
                     portal's origin, e.g. \"https://portal.example.com\" (a subdomain \
                     wildcard needs a domain: \"https://*.example.com\")"
                ),
            ));
        }
        if !is_frame_source(value) {
            return Err(ConfigError::invalid(
                format!("embed.frame_ancestors[{i}]"),
                format!(
                    "{value:?} is not an origin like \"https://portal.example.com\" \
                     (or 'self' / 'none')"
                ),
            ));
        }
    }
    Ok(values)
}

/// Whether `value` is `*`, a bare scheme wildcard, or a `*` that is not the first label
/// of a host with at least two more labels.
fn is_wildcard_source(value: &str) -> bool {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .unwrap_or(value);
    let host = rest.trim_end_matches('/');
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    if !host.contains('*') {
        return false;
    }
    match host.strip_prefix("*.") {
        Some(domain) => {
            domain.contains('*') || domain.split('.').filter(|l| !l.is_empty()).count() < 2
        }
        None => true,
    }
}

pub(crate) fn is_frame_source(value: &str) -> bool {
    if value == "'self'" || value == "'none'" {
        return true;
    }
    let Some(rest) = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
    else {
        return false;
    };
    let host = rest.strip_suffix('/').unwrap_or(rest);
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '*' | ':' | '[' | ']'))
}

fn project(
    index: usize,
    raw: RawProject,
    env: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Result<ProjectConfig, ConfigError> {
    let at = |field: &str| format!("projects[{index}].{field}");
    let id =
        ProjectId::parse(raw.id.trim()).map_err(|e| ConfigError::invalid(at("id"), e.problem))?;
    check_run_lists(index, &raw)?;
    let key = project_key(index, &raw, env)?;
    if let Some(path) = &raw.api_key_file {
        warnings.extend(key_file_warning(&at("api_key_file"), path));
    }
    let name = raw
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| id.to_string());
    let presets = raw
        .presets
        .into_iter()
        .enumerate()
        .map(|(j, value)| {
            value.try_into::<Preset>().map_err(|e| {
                ConfigError::invalid(
                    format!("projects[{index}].presets[{j}]"),
                    e.message().trim().to_owned(),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ProjectConfig {
        id,
        name,
        key,
        presets,
        run_users: raw.run_users,
        run_groups: raw.run_groups,
        run_everyone: raw.run_everyone,
        view_only: raw.view_only,
        triage_users: raw.triage_users,
        triage_groups: raw.triage_groups,
        owners: super::triage::owners(index, raw.owners)?,
    })
}

/// `run_users = []` and `run_groups = []` together on a project read as "nobody" to some
/// and as "everyone" to others: both are refused, and the message names the two
/// unambiguous ways to write it.
fn check_run_lists(index: usize, raw: &RawProject) -> Result<(), ConfigError> {
    let empty = |list: &Option<Vec<String>>| list.as_ref().is_some_and(Vec::is_empty);
    if empty(&raw.run_users) && empty(&raw.run_groups) {
        return Err(ConfigError::invalid(
            format!("projects[{index}].run_users"),
            "run_users = [] and run_groups = [] together are ambiguous: write view_only = true \
             so that nobody may start runs in this project, or remove both lines so that the \
             [auth] lists apply",
        ));
    }
    if raw.view_only && (raw.run_users.is_some() || raw.run_groups.is_some()) {
        return Err(ConfigError::invalid(
            format!("projects[{index}].view_only"),
            "a view-only project lets nobody start runs; remove its run_users / run_groups",
        ));
    }
    Ok(())
}

/// A warning when the key file may be read by other users of the machine (mode bits
/// for group or others). Only the path is named.
#[cfg(unix)]
fn key_file_warning(setting: &str, path: &std::path::Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        format!(
            "{setting}: {} may be read by other users (mode {:o}); run chmod 600 on it",
            path.display(),
            mode & 0o777
        )
    })
}

/// Other systems have no mode bits to check.
#[cfg(not(unix))]
fn key_file_warning(_setting: &str, _path: &std::path::Path) -> Option<String> {
    None
}

fn project_key(
    index: usize,
    raw: &RawProject,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ApiKey, ConfigError> {
    let at = |field: &str| format!("projects[{index}].{field}");
    if raw.api_key.is_some() {
        return Err(ConfigError::invalid(
            at("api_key"),
            "keys may not be written in the configuration file; use api_key_env or api_key_file",
        ));
    }
    match (&raw.api_key_env, &raw.api_key_file) {
        (Some(var), None) => {
            let value = env(var).filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                ConfigError::invalid(
                    at("api_key_env"),
                    format!("the variable {var} is not set or empty"),
                )
            })?;
            ApiKey::new(value).map_err(|problem| {
                ConfigError::invalid(at("api_key_env"), format!("{problem} (variable {var})"))
            })
        }
        (None, Some(path)) => {
            let value = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::invalid(
                    at("api_key_file"),
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            ApiKey::new(value).map_err(|problem| {
                ConfigError::invalid(
                    at("api_key_file"),
                    format!("{problem} (file {})", path.display()),
                )
            })
        }
        (Some(_), Some(_)) => Err(ConfigError::invalid(
            at("api_key_env"),
            "give either api_key_env or api_key_file, not both",
        )),
        (None, None) => Err(ConfigError::invalid(
            at("api_key_env"),
            "the project needs a key: set api_key_env or api_key_file",
        )),
    }
}

fn check_projects(projects: &[ProjectConfig]) -> Result<(), ConfigError> {
    if projects.is_empty() {
        return Err(ConfigError::invalid(
            "projects",
            "no project is configured; add at least one [[projects]] entry",
        ));
    }
    for (i, project) in projects.iter().enumerate() {
        if projects[..i].iter().any(|p| p.id == project.id) {
            return Err(ConfigError::invalid(
                format!("projects[{i}].id"),
                format!("{} is configured twice", project.id),
            ));
        }
    }
    Ok(())
}
