//! Runboard's configuration: the TOML file, its environment overrides, and the validated
//! [`Config`] the server runs with. Everything is checked once, at start-up.

mod access;
mod cache;
mod edge;
mod env;
mod key;
mod ledger;
mod live;
mod notify;
mod raw;
mod syntax;
mod triage;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use ipnet::IpNet;
use reqwest::Url;
use runboard_shared::{PollIntervals, Preset, ProjectId};

pub use access::Starters;
pub use cache::CacheConfig;
pub use edge::{LimitsConfig, ServerConfig};
pub use key::ApiKey;
pub use ledger::{LedgerConfig, LedgerUrl};
pub use live::LiveConfig;
pub use notify::{Channel, ChannelKind, NotifyConfig, NotifyEvent};
pub use triage::{Owner, TriageConfig, Triagers};

/// Why a configuration was refused. The message names the setting, so a person can fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for Runboard's settings (unknown key, wrong type…).
    #[error("the configuration is not valid: {0}")]
    Syntax(String),
    /// A setting has a value Runboard cannot use.
    #[error("{setting}: {problem}")]
    Invalid {
        /// The setting's name as written in the file (`upstream.url`, `projects[1].api_key_env`).
        setting: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(setting: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid {
            setting: setting.into(),
            problem: problem.into(),
        }
    }
}

/// The validated configuration. Build it with [`Config::load`] or
/// [`Config::from_toml_str`]; tests and the demo may also build it in code.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The address people open (`public_url`). When set, other `Host`s are refused
    /// (421) and CSRF compares `Origin` with it: a DNS-rebinding page cannot use it.
    pub public_url: Option<Url>,
    /// Slow and idle clients, and the connection cap.
    pub server: ServerConfig,
    /// Per-user rate limits.
    pub limits: LimitsConfig,
    /// A folder of the widget's built files (Trunk's output) that overrides the widget
    /// built into the binary, e.g. to re-theme it without a rebuild. `None` (the default):
    /// the built-in one.
    pub widget_dir: Option<PathBuf>,
    /// The Test Execution API.
    pub upstream: UpstreamConfig,
    /// The widget's poll intervals.
    pub poll: PollIntervals,
    /// Shared reads and the finished-report cache (`[cache]`).
    pub cache: CacheConfig,
    /// The live report streams (`[live]`).
    pub live: LiveConfig,
    /// The execution ledger (`[ledger]`).
    pub ledger: LedgerConfig,
    /// Quarantine limits (`[triage]`).
    pub triage: TriageConfig,
    /// Chat channels and webhooks told about runs (`[[notify]]`).
    pub notify: NotifyConfig,
    /// Who may do what.
    pub auth: AuthConfig,
    /// Which pages may frame the widget.
    pub embed: EmbedConfig,
    /// The projects Runboard serves, in display order.
    pub projects: Vec<ProjectConfig>,
    /// Findings while loading that are not refusals (a key file others may read).
    pub(crate) load_warnings: Vec<String>,
}

/// `[upstream]`.
#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    /// The platform's base URL; the guide's paths are appended to it.
    pub url: Url,
    /// How long one upstream request may take, body included.
    pub timeout: Duration,
    /// The most upstream calls in flight at once (`max_concurrent`); more wait their turn.
    pub max_concurrent: usize,
    /// The largest upstream answer read, streamed or not (`max_answer_bytes`).
    pub max_answer_bytes: u64,
    /// Consecutive failed calls that open the circuit breaker (`breaker_failures`).
    pub breaker_failures: u32,
    /// How long an open circuit refuses calls before one probe (`breaker_cool_down_ms`).
    pub breaker_cool_down: Duration,
}

/// `auth.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// No identity: everyone may view and run (a laptop, the demo).
    None,
    /// The user comes from a header set by an SSO proxy in `trusted_proxies`.
    Header,
}

/// `[auth]`.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Whether identity comes from headers.
    pub mode: AuthMode,
    /// The header naming the user (oauth2-proxy: `X-Forwarded-Email`).
    pub user_header: String,
    /// The header listing the user's groups, comma-separated (`X-Forwarded-Groups`).
    pub groups_header: String,
    /// Peers whose identity headers are believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Who may start runs: these users…
    pub run_users: Vec<String>,
    /// …and members of these groups. Both empty: nobody, unless `run_everyone`.
    pub run_groups: Vec<String>,
    /// Every signed-in user may start runs (`run_everyone = true`): said on purpose,
    /// because an empty list that meant "everyone" opened projects by accident.
    pub run_everyone: bool,
    /// Who may change triage rules: these users… (`None` with `triage_groups`: whoever
    /// may start runs, see [`Triagers`]).
    pub triage_users: Option<Vec<String>>,
    /// …and members of these groups.
    pub triage_groups: Option<Vec<String>>,
    /// Who may manage machine tokens in the widget (header mode only; in mode none
    /// nobody is known, so tokens are made with `runboard token`): these users…
    pub admin_users: Vec<String>,
    /// …and members of these groups.
    pub admin_groups: Vec<String>,
}

/// `[embed]`.
#[derive(Debug, Clone)]
pub struct EmbedConfig {
    /// CSP `frame-ancestors` sources; origins here may also POST (CSRF allowlist).
    pub frame_ancestors: Vec<String>,
}

/// One `[[projects]]` entry.
#[derive(Debug, Clone)]
pub struct ProjectConfig {
    /// The platform's project id.
    pub id: ProjectId,
    /// The name people see.
    pub name: String,
    /// The project's key; never printed.
    pub key: ApiKey,
    /// The widget's one-click buttons.
    pub presets: Vec<Preset>,
    /// Overrides `auth.run_users` for this project when set.
    pub run_users: Option<Vec<String>>,
    /// Overrides `auth.run_groups` for this project when set.
    pub run_groups: Option<Vec<String>>,
    /// Overrides `auth.run_everyone` for this project when set.
    pub run_everyone: Option<bool>,
    /// Nobody may start runs in this project, whatever the lists say (`view_only`).
    pub view_only: bool,
    /// Overrides `auth.triage_users` for this project when set.
    pub triage_users: Option<Vec<String>>,
    /// Overrides `auth.triage_groups` for this project when set.
    pub triage_groups: Option<Vec<String>>,
    /// Who owns which tests (`[[projects.owners]]`), in file order.
    pub owners: Vec<Owner>,
}

impl ProjectConfig {
    /// A project with no presets and the global run permissions.
    pub fn new(id: ProjectId, name: impl Into<String>, key: ApiKey) -> Self {
        Self {
            id,
            name: name.into(),
            key,
            presets: Vec::new(),
            run_users: None,
            run_groups: None,
            run_everyone: None,
            view_only: false,
            triage_users: None,
            triage_groups: None,
            owners: Vec::new(),
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            mode: AuthMode::None,
            user_header: "X-Forwarded-Email".to_owned(),
            groups_header: "X-Forwarded-Groups".to_owned(),
            trusted_proxies: Vec::new(),
            run_users: Vec::new(),
            run_groups: Vec::new(),
            run_everyone: false,
            triage_users: None,
            triage_groups: None,
            admin_users: Vec::new(),
            admin_groups: Vec::new(),
        }
    }
}

impl Config {
    /// A configuration with every default, for `upstream` and `projects`.
    pub fn new(upstream: Url, projects: Vec<ProjectConfig>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            server: ServerConfig::default(),
            limits: LimitsConfig::default(),
            widget_dir: None,
            upstream: UpstreamConfig {
                url: upstream,
                timeout: Duration::from_millis(raw::DEFAULT_TIMEOUT_MS),
                max_concurrent: raw::DEFAULT_MAX_CONCURRENT as usize,
                max_answer_bytes: raw::DEFAULT_MAX_ANSWER_BYTES,
                breaker_failures: raw::DEFAULT_BREAKER_FAILURES as u32,
                breaker_cool_down: Duration::from_millis(raw::DEFAULT_BREAKER_COOL_DOWN_MS),
            },
            poll: PollIntervals {
                jobs_ms: raw::DEFAULT_JOBS_MS,
                run_ms: raw::DEFAULT_RUN_MS,
            },
            cache: CacheConfig::default(),
            live: LiveConfig::default(),
            ledger: LedgerConfig::in_memory(),
            triage: TriageConfig::default(),
            notify: NotifyConfig::default(),
            auth: AuthConfig::default(),
            embed: EmbedConfig {
                frame_ancestors: Vec::new(),
            },
            projects,
            load_warnings: Vec::new(),
        }
    }

    /// Reads and validates `path`, with `RUNBOARD_*` overrides and keys from the
    /// process environment.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml_str(&text, |name| std::env::var(name).ok())
    }

    /// Parses and validates `text`; `env` looks up `RUNBOARD_*` overrides and the
    /// variables named by `api_key_env` (tests pass a map instead of the process env).
    pub fn from_toml_str(
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut file: raw::RawConfig =
            toml::from_str(text).map_err(|e| ConfigError::Syntax(syntax::describe(text, &e)))?;
        env::apply_overrides(&mut file, &env)?;
        raw::validate(file, &env)
    }

    /// The project with `id`, if configured.
    pub fn project(&self, id: &ProjectId) -> Option<&ProjectConfig> {
        self.projects.iter().find(|p| &p.id == id)
    }

    /// `host[:port]` of `public_url` as browsers send it in `Host` (no default port).
    pub fn public_authority(&self) -> Option<String> {
        self.public_url.as_ref().map(edge::authority)
    }

    /// Who may start runs in `project`, in words, for `check-config`.
    pub fn who_may_run(&self, project: &ProjectConfig) -> String {
        Starters::of(&self.auth, project).describe()
    }

    /// Who may change `project`'s triage rules, in words, for `check-config`.
    pub fn who_may_triage(&self, project: &ProjectConfig) -> String {
        Triagers::of(&self.auth, project).describe()
    }

    /// Whether anyone who reaches the listener may start runs: no sign-in
    /// (`auth.mode = "none"`) on an address other than loopback.
    pub fn open_access(&self) -> bool {
        self.auth.mode == AuthMode::None && !self.listen.ip().to_canonical().is_loopback()
    }

    /// The folder `widget_dir` names, if any: it then replaces the built-in widget.
    pub fn widget_override(&self) -> Option<&Path> {
        self.widget_dir.as_deref()
    }

    /// What an administrator should hear about at start-up and from `check-config`:
    /// settings that work but are risky. Never holds a key.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = self.load_warnings.clone();
        if self.open_access() {
            warnings.push(format!(
                "auth.mode = \"none\" on {}: anyone who can reach this address may view and \
                 start runs with the projects' keys; put an SSO proxy in front and use \
                 auth.mode = \"header\", or listen on 127.0.0.1",
                self.listen
            ));
        }
        if self.public_url.is_none() && !self.listen.ip().to_canonical().is_loopback() {
            warnings.push(format!(
                "public_url is not set while listening on {}: only requests for {} are \
                 served, any other Host gets 421 misdirected (the defence against DNS \
                 rebinding); set public_url to the address people open",
                self.listen,
                crate::host::local_names(self.listen)
            ));
        }
        for project in &self.projects {
            if Starters::of(&self.auth, project) == Starters::Nobody {
                warnings.push(format!(
                    "project {}: nobody may start runs, as run_users and run_groups name no \
                     one; list users or groups, set run_everyone = true to let every \
                     signed-in user start runs, or write view_only = true to say so",
                    project.id
                ));
            }
        }
        for project in self.projects.iter().filter(|p| p.key.is_short()) {
            warnings.push(format!(
                "project {}: its key is shorter than {} characters; Runboard still withholds \
                 every answer that holds it, but a short key also matches ordinary text, so \
                 harmless answers may be withheld too; a real platform key is longer",
                project.id,
                key::SHORT_KEY
            ));
        }
        warnings.extend(live::warning(&self.live, &self.server));
        warnings
    }
}

#[cfg(test)]
mod tests;
