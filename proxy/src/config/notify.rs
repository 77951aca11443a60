//! `[[notify]]`: the chat channels and webhooks told about runs (issue 22). A channel's
//! URL is a secret (whoever has a Slack or Teams webhook URL may post to the channel), so
//! it is read from a file or an environment variable, held in a `SecretString` and never
//! printed; errors name the channel and the setting, never the value. Only `https` URLs
//! are accepted, and plain `http` on loopback (the tests' receivers).

use std::{fmt, net::IpAddr, path::PathBuf, time::Duration};

use reqwest::Url;
use runboard_shared::ProjectId;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::ConfigError;

/// The wait before a failed delivery is tried again; it doubles each time.
pub(crate) const DEFAULT_RETRY_FIRST_MS: u64 = 5_000;
/// How long after its first attempt a message is still tried (the 1 h).
pub(crate) const DEFAULT_GIVE_UP_AFTER_MS: u64 = 3_600_000;
/// How long one delivery may take, connection to answer.
pub(crate) const DEFAULT_SEND_TIMEOUT_MS: u64 = 10_000;

/// One `[[notify]]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChannel {
    name: Option<String>,
    kind: Option<String>,
    url_file: Option<PathBuf>,
    url_env: Option<String>,
    projects: Option<Vec<String>>,
    presets: Option<Vec<String>>,
    on: Option<Vec<String>>,
    secret_env: Option<String>,
}

/// What a channel speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// A Slack incoming webhook: Block Kit.
    Slack,
    /// A Teams (Power Automate / incoming) webhook: an Adaptive Card.
    Teams,
    /// Any HTTP endpoint: Runboard's JSON, signed when a secret is set.
    Webhook,
}

impl ChannelKind {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "slack" => Some(Self::Slack),
            "teams" => Some(Self::Teams),
            "webhook" => Some(Self::Webhook),
            _ => None,
        }
    }
}

/// What a channel is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NotifyEvent {
    /// A run started.
    Started,
    /// Any run ended.
    Finished,
    /// A run ended with blocking failures.
    Failed,
    /// A run passed (nothing blocking) after a run of the same selection had failures.
    Recovered,
    /// A run ended with at least one `new` failure.
    NewFailure,
}

impl NotifyEvent {
    /// Every event, in the order a run meets them.
    pub const ALL: [Self; 5] = [
        Self::Started,
        Self::Finished,
        Self::Failed,
        Self::Recovered,
        Self::NewFailure,
    ];

    /// The spelling in the file, the ledger and the webhook's `event`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Finished => "finished",
            Self::Failed => "failed",
            Self::Recovered => "recovered",
            Self::NewFailure => "new_failure",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == text)
    }
}

/// One channel, checked. `Debug` shows no URL and no secret.
#[derive(Clone)]
pub struct Channel {
    /// The name people and metrics see.
    pub name: String,
    /// What it speaks.
    pub kind: ChannelKind,
    /// Where to post; a secret.
    url: SecretString,
    /// Only these projects (`None`: all).
    pub projects: Option<Vec<ProjectId>>,
    /// Only runs of these presets (`None`: all runs, including those started elsewhere).
    pub presets: Option<Vec<String>>,
    /// The events it hears about.
    pub on: Vec<NotifyEvent>,
    /// The webhook's HMAC key (`secret_env`); a secret.
    secret: Option<SecretString>,
}

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("projects", &self.projects)
            .field("presets", &self.presets)
            .field("on", &self.on)
            .field("signed", &self.secret.is_some())
            .finish_non_exhaustive()
    }
}

impl Channel {
    /// A channel built in code (tests): `url` is checked as the file's would be.
    pub fn new(
        name: impl Into<String>,
        kind: ChannelKind,
        url: &str,
        on: Vec<NotifyEvent>,
    ) -> Result<Self, ConfigError> {
        let name = name.into();
        check_url(&name, "url", url)?;
        Ok(Self {
            name,
            kind,
            url: SecretString::from(url.to_owned()),
            projects: None,
            presets: None,
            on,
            secret: None,
        })
    }

    /// The same channel signing its bodies with `secret`.
    pub fn with_secret(mut self, secret: &str) -> Self {
        self.secret = Some(SecretString::from(secret.to_owned()));
        self
    }

    /// Where to post. Only the delivery reads it.
    pub(crate) fn url(&self) -> &str {
        self.url.expose_secret()
    }

    /// The HMAC key, if the bodies are signed.
    pub(crate) fn secret(&self) -> Option<&str> {
        self.secret.as_ref().map(|s| s.expose_secret())
    }

    /// Whether a run of `project` (started with `preset`, if any) concerns this channel.
    pub fn covers(&self, project: &ProjectId, preset: Option<&str>) -> bool {
        let project_ok = self.projects.as_ref().is_none_or(|p| p.contains(project));
        let preset_ok = match (&self.presets, preset) {
            (None, _) => true,
            (Some(presets), Some(preset)) => presets.iter().any(|p| p == preset),
            (Some(_), None) => false,
        };
        project_ok && preset_ok
    }
}

/// The channels and how deliveries are paced.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// `[[notify]]`, in file order.
    pub channels: Vec<Channel>,
    /// The wait after a first failed attempt; it doubles after each further one. Not a
    /// file setting (5 s); tests shorten it.
    pub retry_first: Duration,
    /// How long after its first attempt a message is still tried; then it is given up
    /// (`gave_up`). Not a file setting (1 h, as the issue says); tests shorten it.
    pub give_up_after: Duration,
    /// How long one delivery may take. Not a file setting (10 s).
    pub send_timeout: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            channels: Vec::new(),
            retry_first: Duration::from_millis(DEFAULT_RETRY_FIRST_MS),
            give_up_after: Duration::from_millis(DEFAULT_GIVE_UP_AFTER_MS),
            send_timeout: Duration::from_millis(DEFAULT_SEND_TIMEOUT_MS),
        }
    }
}

impl NotifyConfig {
    /// The channels that hear about `project`'s runs, in words, for `check-config`:
    /// names, kinds and events, never a URL.
    pub fn describe(&self, project: &ProjectId) -> String {
        let heard: Vec<String> = self
            .channels
            .iter()
            .filter(|c| c.projects.as_ref().is_none_or(|p| p.contains(project)))
            .map(|c| {
                let kind = match c.kind {
                    ChannelKind::Slack => "slack",
                    ChannelKind::Teams => "teams",
                    ChannelKind::Webhook => "webhook",
                };
                let on: Vec<&str> = c.on.iter().map(|e| e.as_str()).collect();
                format!("{} ({kind}: {})", c.name, on.join(", "))
            })
            .collect();
        if heard.is_empty() {
            "no channel".to_owned()
        } else {
            heard.join("; ")
        }
    }
}

/// Checks every `[[notify]]`: unique names, a known kind and events, a URL from exactly
/// one of `url_file`/`url_env` that is https (or http on loopback), a `secret_env` only
/// on webhooks, projects that are configured.
pub(crate) fn notify(
    raw: Vec<RawChannel>,
    projects: &[ProjectId],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<NotifyConfig, ConfigError> {
    let mut channels: Vec<Channel> = Vec::new();
    for (index, raw) in raw.into_iter().enumerate() {
        let channel = channel(index, raw, projects, env)?;
        if channels.iter().any(|c| c.name == channel.name) {
            return Err(ConfigError::invalid(
                format!("notify[{index}].name"),
                format!("another channel is already called {:?}", channel.name),
            ));
        }
        channels.push(channel);
    }
    Ok(NotifyConfig {
        channels,
        ..NotifyConfig::default()
    })
}

fn channel(
    index: usize,
    raw: RawChannel,
    projects: &[ProjectId],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Channel, ConfigError> {
    let at = |field: &str| format!("notify[{index}].{field}");
    let name = raw
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty() && n.len() <= 64 && n.chars().all(name_char))
        .ok_or_else(|| {
            ConfigError::invalid(
                at("name"),
                "give each channel a name of letters, digits, '-', '_' or '.' (at most 64)",
            )
        })?;
    let about = |field: &str, problem: String| {
        ConfigError::invalid(at(field), format!("channel {name:?}: {problem}"))
    };
    let kind_text = raw.kind.unwrap_or_default();
    let kind = ChannelKind::parse(kind_text.trim())
        .ok_or_else(|| about("kind", "must be \"slack\", \"teams\" or \"webhook\"".into()))?;
    let (url, field) = match (raw.url_file, raw.url_env) {
        (Some(path), None) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| about("url_file", format!("cannot read {}: {e}", path.display())))?;
            (text.trim().to_owned(), "url_file")
        }
        (None, Some(var)) => {
            let text = env(var.trim())
                .ok_or_else(|| about("url_env", format!("the variable {var} is not set")))?;
            (text.trim().to_owned(), "url_env")
        }
        _ => {
            return Err(about(
                "url_file",
                "give exactly one of url_file or url_env (the URL is a secret)".into(),
            ));
        }
    };
    check_url(&name, &at(field), &url)?;
    let on = raw
        .on
        .unwrap_or_else(|| vec!["failed".into(), "recovered".into()])
        .iter()
        .map(|e| {
            NotifyEvent::parse(e.trim()).ok_or_else(|| {
                about(
                    "on",
                    format!(
                        "{e:?} is not an event; use started, finished, failed, recovered \
                         or new_failure"
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let secret = match (raw.secret_env, kind) {
        (None, _) => None,
        (Some(_), ChannelKind::Slack | ChannelKind::Teams) => {
            return Err(about(
                "secret_env",
                "only a webhook signs its bodies; remove secret_env".into(),
            ));
        }
        (Some(var), ChannelKind::Webhook) => Some(
            env(var.trim())
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .ok_or_else(|| about("secret_env", format!("the variable {var} is not set")))?,
        ),
    };
    let listed = raw
        .projects
        .map(|ids| {
            ids.iter()
                .map(|id| {
                    ProjectId::parse(id.trim())
                        .ok()
                        .filter(|id| projects.contains(id))
                        .ok_or_else(|| {
                            about("projects", format!("{id:?} is not a configured project"))
                        })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    Ok(Channel {
        name,
        kind,
        url: SecretString::from(url),
        projects: listed,
        presets: raw.presets,
        on,
        secret: secret.map(SecretString::from),
    })
}

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// An `https` URL, or `http` to a loopback host (127.0.0.0/8, ::1, localhost). The
/// message never quotes the URL: it is a secret.
fn check_url(channel: &str, setting: &str, text: &str) -> Result<(), ConfigError> {
    let refuse =
        |problem: &str| ConfigError::invalid(setting, format!("channel {channel:?}: {problem}"));
    let url = Url::parse(text).map_err(|_| refuse("the URL is not a valid URL"))?;
    let Some(host) = url.host_str() else {
        return Err(refuse("the URL has no host"));
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(refuse(
            "the URL must be https (plain http only to a loopback address, for tests)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_channel: &str, env: &[(&str, &str)]) -> Result<NotifyConfig, String> {
        #[derive(Deserialize)]
        struct File {
            notify: Vec<RawChannel>,
        }
        let file: File = toml::from_str(&format!("[[notify]]\n{toml_channel}")).unwrap();
        let lookup = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        let projects = [ProjectId::parse("p1").unwrap()];
        notify(file.notify, &projects, &lookup).map_err(|e| e.to_string())
    }

    const SECRET_URL: &str = "https://hooks.example.com/services/T0/B0/SECRETPART";

    /// Each refusal names the channel and the setting, and never quotes the URL.
    #[test]
    fn bad_channels_are_refused_by_name_without_their_url() {
        let check = |channel: &str, url: &str, setting: &str| {
            let env = [("HOOK", url), ("SIG", "s3cret")];
            let err = parse(channel, &env).unwrap_err();
            assert!(err.contains(setting), "{err}");
            assert!(err.contains("\"qa\""), "{err}");
            assert!(
                !err.contains("SECRETPART") && !err.contains("s3cret"),
                "{err}"
            );
        };
        let http = "http://hooks.example.com/services/T0/B0/SECRETPART";
        check(
            "name='qa'\nkind='slack'\nurl_env='HOOK'",
            http,
            "notify[0].url_env",
        );
        check(
            "name='qa'\nkind='irc'\nurl_env='HOOK'",
            SECRET_URL,
            "notify[0].kind",
        );
        check(
            "name='qa'\nkind='slack'\nurl_env='HOOK'\non=['exploded']",
            SECRET_URL,
            "notify[0].on",
        );
        check(
            "name='qa'\nkind='slack'\nurl_env='HOOK'\nsecret_env='SIG'",
            SECRET_URL,
            "notify[0].secret_env",
        );
        check(
            "name='qa'\nkind='webhook'\nurl_env='HOOK'\nprojects=['nope']",
            SECRET_URL,
            "notify[0].projects",
        );
        check(
            "name='qa'\nkind='webhook'",
            SECRET_URL,
            "notify[0].url_file",
        );
        check(
            "name='qa'\nkind='webhook'\nurl_env='HOOK'",
            "ftp://x/SECRETPART",
            "notify[0].url_env",
        );
    }

    /// https anywhere; http only on loopback; defaults `failed` and `recovered`.
    #[test]
    fn good_channels_load_and_never_print_their_secrets() {
        for url in [
            SECRET_URL,
            "http://127.0.0.1:9/hook/SECRETPART",
            "http://[::1]:9/SECRETPART",
            "http://localhost/SECRETPART",
        ] {
            let env = [("HOOK", url), ("SIG", "s3cret")];
            let config = parse(
                "name='qa'\nkind='webhook'\nurl_env='HOOK'\nsecret_env='SIG'",
                &env,
            )
            .unwrap();
            let channel = &config.channels[0];
            assert_eq!(channel.on, [NotifyEvent::Failed, NotifyEvent::Recovered]);
            assert_eq!(channel.url(), url);
            let printed = format!("{config:?}");
            assert!(!printed.contains("SECRETPART") && !printed.contains("s3cret"));
        }
    }

    /// `check-config` names the channels and their events, never the URL.
    #[test]
    fn channels_are_described_without_their_url() {
        let config = parse(
            "name='qa'\nkind='slack'\nurl_env='HOOK'\non=['failed','started']",
            &[("HOOK", SECRET_URL)],
        )
        .unwrap();
        let p1 = ProjectId::parse("p1").unwrap();
        assert_eq!(config.describe(&p1), "qa (slack: failed, started)");
        assert_eq!(NotifyConfig::default().describe(&p1), "no channel");
    }

    #[test]
    fn presets_and_projects_filter_runs() {
        let p1 = ProjectId::parse("p1").unwrap();
        let p2 = ProjectId::parse("p2").unwrap();
        let mut channel = Channel::new("qa", ChannelKind::Slack, SECRET_URL, vec![]).unwrap();
        assert!(channel.covers(&p2, None));
        channel.projects = Some(vec![p1.clone()]);
        channel.presets = Some(vec!["Nightly".into()]);
        assert!(channel.covers(&p1, Some("Nightly")));
        assert!(!channel.covers(&p1, Some("Smoke")));
        assert!(!channel.covers(&p1, None));
        assert!(!channel.covers(&p2, Some("Nightly")));
    }
}
