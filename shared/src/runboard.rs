//! Runboard's own endpoints (under `/runboard/`): what the widget needs to start.

use serde::{Deserialize, Serialize};

use crate::{AgentName, ProjectId, Selector, ValidationError, selector::SelectorFields};

/// `GET /runboard/bootstrap`: everything the widget needs before its first view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bootstrap {
    /// Runboard's version.
    pub version: String,
    /// The signed-in user, when Runboard sits behind SSO.
    #[serde(default)]
    pub user: Option<String>,
    /// The projects this user may see, in configuration order.
    pub projects: Vec<ProjectInfo>,
    /// How often the widget polls.
    pub poll: PollIntervals,
    /// The longest a live report stream stays silent (it sends a heartbeat at least this
    /// often): twice that without a word means a proxy on the way holds it back.
    #[serde(default = "default_heartbeat_ms")]
    pub live_heartbeat_ms: u64,
    /// Runboard runs without sign-in on an address others can reach: the widget shows
    /// a warning banner for as long as this holds.
    #[serde(default)]
    pub open_access: bool,
}

/// The heartbeat browsers are promised when the server does not say (15 s).
fn default_heartbeat_ms() -> u64 {
    15_000
}

/// A project as the widget sees it: never its key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectInfo {
    /// The project id used in API paths.
    pub id: ProjectId,
    /// The display name.
    pub name: String,
    /// Whether this user may start runs here (viewers may only watch).
    pub can_run: bool,
    /// One-click executions.
    #[serde(default)]
    pub presets: Vec<Preset>,
}

/// Poll intervals in milliseconds, set by the server's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PollIntervals {
    /// Between two `jobs` requests.
    pub jobs_ms: u64,
    /// Between two refreshes of a live run report.
    pub run_ms: u64,
}

/// A configured one-click execution ("Smoke on staging").
///
/// In JSON and TOML the selector is spelled with the guide's own keys
/// (`testSuiteId = "…"`), beside `name`, `description` and `agentName`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawPreset")]
pub struct Preset {
    /// The button's label.
    pub name: String,
    /// One line saying what it runs; derived from the selector and agent when not set.
    pub description: String,
    /// What to run.
    pub selector: Selector,
    /// Where to run it.
    pub agent_name: Option<AgentName>,
}

impl Serialize for Preset {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RawPreset {
            name: self.name.clone(),
            description: Some(self.description.clone()),
            selector: self.selector.to_fields(),
            agent_name: self.agent_name.as_ref().map(|a| a.to_string()),
        }
        .serialize(serializer)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPreset {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(flatten)]
    selector: SelectorFields,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agent_name: Option<String>,
}

impl TryFrom<RawPreset> for Preset {
    type Error = ValidationError;

    fn try_from(raw: RawPreset) -> Result<Self, Self::Error> {
        let name = raw.name.trim().to_owned();
        if name.is_empty() {
            return Err(ValidationError::new("name", "a preset needs a name"));
        }
        let selector = Selector::from_fields(raw.selector)?;
        let agent_name = raw
            .agent_name
            .as_deref()
            .map(AgentName::parse)
            .transpose()?;
        let description = raw.description.unwrap_or_else(|| {
            let what = selector.describe();
            match &agent_name {
                Some(agent) => format!("{what} · agent {agent}"),
                None => what,
            }
        });
        Ok(Self {
            name,
            description,
            selector,
            agent_name,
        })
    }
}
