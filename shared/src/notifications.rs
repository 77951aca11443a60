//! The per-project Notifications page's answer (`GET /runboard/notifications/{projId}`,
//! issue 22): the channels that hear about the project's runs (never their URLs or
//! secrets) and the last messages, with their attempts and errors.

use serde::{Deserialize, Serialize};

use crate::{
    decode::{DecodeError, Fields, FromJson, list, string, unsigned},
    json::Node,
};

/// The channels of a project and its last messages, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationsPage {
    /// Every configured channel that covers the project, in file order.
    pub channels: Vec<NotifyChannel>,
    /// The last messages recorded for the project, newest first.
    pub deliveries: Vec<NotifyDelivery>,
}

/// A channel as people may see it: its name, kind and filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyChannel {
    /// The configured name.
    pub name: String,
    /// `slack`, `teams` or `webhook`.
    pub kind: String,
    /// The events it hears about (`started`, `finished`, `failed`, `recovered`,
    /// `new_failure`).
    pub on: Vec<String>,
    /// Only runs of these presets; `None`: every run.
    pub presets: Option<Vec<String>>,
}

/// One message and how its delivery went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyDelivery {
    /// The channel's name.
    pub channel: String,
    /// The event it tells.
    pub event: String,
    /// The run, when it had one.
    pub run_id: Option<String>,
    /// `pending`, `sent` or `gave_up`.
    pub status: String,
    /// Attempts made.
    pub attempts: u64,
    /// When it was recorded (RFC 3339, UTC).
    pub created_at: String,
    /// When the last attempt was made, if one was.
    pub last_attempt_at: Option<String>,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<String>,
    /// Why the last attempt failed, in Runboard's words (never a URL).
    pub last_error: Option<String>,
}

// The widget reads the page without serde (`decode.rs`): strict, as serde reads it.

impl FromJson for NotificationsPage {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(Self {
            channels: f.required("channels", |n| list(n, NotifyChannel::from_node))?,
            deliveries: f.required("deliveries", |n| list(n, NotifyDelivery::from_node))?,
        })
    }
}

impl FromJson for NotifyChannel {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(Self {
            name: f.required("name", string)?,
            kind: f.required("kind", string)?,
            on: f.required("on", |n| list(n, string))?,
            presets: f.optional("presets", |n| list(n, string))?,
        })
    }
}

impl FromJson for NotifyDelivery {
    fn from_node(node: &Node<'_>) -> Result<Self, DecodeError> {
        let f = Fields::of(node)?;
        Ok(Self {
            channel: f.required("channel", string)?,
            event: f.required("event", string)?,
            run_id: f.optional("runId", string)?,
            status: f.required("status", string)?,
            attempts: f.required("attempts", unsigned)?,
            created_at: f.required("createdAt", string)?,
            last_attempt_at: f.optional("lastAttemptAt", string)?,
            next_attempt_at: f.optional("nextAttemptAt", string)?,
            last_error: f.optional("lastError", string)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The widget's reader and serde read the same page.
    #[test]
    fn the_widget_reads_what_serde_writes() {
        let page = NotificationsPage {
            channels: vec![NotifyChannel {
                name: "qa".into(),
                kind: "slack".into(),
                on: vec!["failed".into()],
                presets: Some(vec!["Nightly".into()]),
            }],
            deliveries: vec![NotifyDelivery {
                channel: "qa".into(),
                event: "failed".into(),
                run_id: None,
                status: "pending".into(),
                attempts: 2,
                created_at: "2026-12-07T20:00:00.000Z".into(),
                last_attempt_at: Some("2026-12-07T20:00:01.000Z".into()),
                next_attempt_at: Some("2026-12-07T20:00:11.000Z".into()),
                last_error: Some("the channel answered 500".into()),
            }],
        };
        let text = serde_json::to_string(&page).unwrap();
        assert_eq!(crate::from_json::<NotificationsPage>(&text).unwrap(), page);
    }
}
