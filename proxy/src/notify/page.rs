//! `GET /runboard/notifications/{projId}`: the channels that hear about the project's
//! runs (name, kind, events, presets: never a URL or a secret) and its last
//! [`LAST_DELIVERIES`] messages with their attempts and errors. Checked as the history
//! is: the caller's identity and a configured project; it spends a read.

use axum::{Json, extract::State};
use chrono::{DateTime, SecondsFormat, Utc};
use runboard_ledger::Delivery;
use runboard_shared::{NotificationsPage, NotifyChannel, NotifyDelivery};

use crate::{
    AppError, AppState,
    auth::Identity,
    config::{Channel, ChannelKind},
    extract::ProjectPath,
    ledger::ledger_error,
};

/// Messages listed, newest first.
const LAST_DELIVERIES: i64 = 50;

/// The handler.
pub(crate) async fn page(
    State(state): State<AppState>,
    _identity: Identity,
    ProjectPath(proj): ProjectPath,
) -> Result<Json<NotificationsPage>, AppError> {
    let project = state.project(&proj)?;
    let channels = state
        .config()
        .notify
        .channels
        .iter()
        .filter(|c| c.projects.as_ref().is_none_or(|p| p.contains(&project.id)))
        .map(channel)
        .collect();
    let deliveries = state
        .ledger()
        .ledger()
        .deliveries(project.id.as_str(), LAST_DELIVERIES)
        .await
        .map_err(ledger_error)?
        .into_iter()
        .map(delivery)
        .collect();
    Ok(Json(NotificationsPage {
        channels,
        deliveries,
    }))
}

fn channel(channel: &Channel) -> NotifyChannel {
    let kind = match channel.kind {
        ChannelKind::Slack => "slack",
        ChannelKind::Teams => "teams",
        ChannelKind::Webhook => "webhook",
    };
    NotifyChannel {
        name: channel.name.clone(),
        kind: kind.to_owned(),
        on: channel.on.iter().map(|e| e.as_str().to_owned()).collect(),
        presets: channel.presets.clone(),
    }
}

fn delivery(d: Delivery) -> NotifyDelivery {
    let pending = d.status == runboard_ledger::OutboxStatus::Pending;
    NotifyDelivery {
        channel: d.channel,
        event: d.event,
        run_id: d.run_id,
        status: d.status.as_str().to_owned(),
        attempts: u64::try_from(d.attempts).unwrap_or(0),
        created_at: rfc3339(d.created_at),
        last_attempt_at: d.last_attempt_at.map(rfc3339),
        next_attempt_at: pending.then(|| rfc3339(d.next_attempt_at)),
        last_error: d.last_error,
    }
}

fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}
