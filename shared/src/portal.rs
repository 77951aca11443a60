//! The messages the widget posts to the page that embeds it (`postMessage` to the parent
//! frame). They are a contract with portals, which read them in their own code: change a
//! name or a shape here and every portal that embeds Runboard breaks.

use serde::{Deserialize, Serialize};

use crate::status::RunStatus;

/// One message to the embedding portal, always under a `runboard` key so a portal can
/// tell Runboard's messages from others: `{"runboard":{"type":"resize","height":812}}`
/// or `{"runboard":{"type":"finished",…}}`. It carries only what the portal shows
/// anyway (a height, an outcome and counts), so it is posted to any origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalMessage {
    /// What happened.
    pub runboard: PortalEvent,
}

/// What the widget tells its portal, told apart by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum PortalEvent {
    /// `"resize"`: the widget's height changed; the portal sizes its iframe to it.
    Resize {
        /// The widget's height in CSS pixels.
        height: u32,
    },
    /// `"finished"`: the run shown is final. Sent once per report page.
    Finished(RunFinished),
}

/// The `finished` message's fields: which run, how it ended, and its counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunFinished {
    /// The project id.
    pub project: String,
    /// The run id.
    pub run_id: String,
    /// The run's status as the platform reports it (`Completed`, `Aborted`, …).
    pub status: RunStatus,
    /// The verdict: `passed`, `failed` or `other` (no tests ran, or some neither passed
    /// nor were skipped).
    pub outcome: String,
    /// How many tests the run has.
    pub total: u64,
    /// How many passed.
    pub passed: u64,
    /// How many failed.
    pub failed: u64,
    /// How many were skipped.
    pub skipped: u64,
}

impl PortalMessage {
    /// The widget is now `height` CSS pixels tall.
    pub fn resize(height: u32) -> Self {
        Self {
            runboard: PortalEvent::Resize { height },
        }
    }

    /// The run shown is final.
    pub fn finished(run: RunFinished) -> Self {
        Self {
            runboard: PortalEvent::Finished(run),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn check(message: PortalMessage, expected: Value) {
        let text = serde_json::to_string(&message).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            expected,
            "{text}"
        );
        assert_eq!(
            serde_json::from_str::<PortalMessage>(&text).unwrap(),
            message
        );
    }

    #[test]
    fn messages_have_the_shapes_portals_read() {
        check(
            PortalMessage::resize(812),
            json!({"runboard": {"type": "resize", "height": 812}}),
        );
        check(
            PortalMessage::finished(RunFinished {
                project: "p1".into(),
                run_id: "r\"1".into(),
                status: RunStatus::Completed,
                outcome: "failed".into(),
                total: 5,
                passed: 3,
                failed: 1,
                skipped: 1,
            }),
            json!({"runboard": {
                "type": "finished", "project": "p1", "runId": "r\"1", "status": "Completed",
                "outcome": "failed", "total": 5, "passed": 3, "failed": 1, "skipped": 1,
            }}),
        );
    }
}
