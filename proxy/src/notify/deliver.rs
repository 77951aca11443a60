//! Delivery: one task per instance that claims due messages from the ledger's outbox
//! (under a lease, so replicas never send one message at the same time) and sends each
//! in a task of its own with its own timeout, so a slow channel holds up neither the
//! others nor the next claim. Redirects are never followed (a channel URL that redirects
//! could hand the body, and on a webhook its signature, to anyone). A failure is
//! recorded with a secret-free reason and tried again after a doubling wait, until the
//! window from the first attempt is over (`gave_up`). A webhook with a secret gets
//! `X-Runboard-Signature: sha256=<hex>`, the HMAC-SHA256 of the body.

use std::time::Duration;

use hmac::{Hmac, Mac};
use runboard_ledger::{Backoff, Message};
use sha2::Sha256;
use tokio::{sync::watch, task::JoinSet};

use crate::{
    AppState,
    config::{Channel, ChannelKind},
};

/// The signature header of webhook bodies.
pub(crate) const SIGNATURE_HEADER: &str = "x-runboard-signature";
/// Messages claimed per round, and the most sends in flight.
const IN_FLIGHT: usize = 32;

/// The running delivery task.
pub(crate) struct Delivery {
    task: tokio::task::JoinHandle<()>,
}

impl Delivery {
    /// Starts delivering every `every` for `state`'s instance, until `stopped` changes.
    /// Nothing runs when no channel is configured.
    pub(crate) fn spawn(
        state: AppState,
        every: Duration,
        stopped: watch::Receiver<bool>,
    ) -> Option<Self> {
        if state.config().notify.channels.is_empty() {
            return None;
        }
        let client = match client() {
            Ok(client) => client,
            Err(err) => {
                tracing::error!(error = %err, "notifications are off: no HTTP client");
                return None;
            }
        };
        let task = tokio::spawn(run(state, client, every, stopped));
        Some(Self { task })
    }

    /// Waits for the task to end (after the stop signal).
    pub(crate) async fn join(self) {
        let _ = self.task.await;
    }
}

/// The client: no redirects, no proxy from the environment guessing, rustls.
fn client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("runboard/", env!("CARGO_PKG_VERSION")))
        .build()
}

async fn run(
    state: AppState,
    client: reqwest::Client,
    every: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sending: JoinSet<()> = JoinSet::new();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.changed() => break,
        }
        while sending.try_join_next().is_some() {}
        let room = IN_FLIGHT.saturating_sub(sending.len());
        if room == 0 {
            continue;
        }
        for message in claim(&state, room).await {
            let (state, client) = (state.clone(), client.clone());
            sending.spawn(async move { attempt(&state, &client, message).await });
        }
    }
    // Sends under way finish (each is bounded by its timeout), so none is left leased.
    while sending.join_next().await.is_some() {}
}

async fn claim(state: &AppState, room: usize) -> Vec<Message> {
    let recorder = state.ledger();
    let config = &state.config().notify;
    // The lease outlives the send's timeout, so no other instance takes a message that
    // is still being sent.
    let ttl = config.send_timeout * 2 + Duration::from_secs(5);
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    let limit = i64::try_from(room).unwrap_or(1);
    let now = runboard_ledger::now_ms();
    match recorder
        .ledger()
        .claim_messages(recorder.owner(), now, ttl_ms, limit)
        .await
    {
        Ok(messages) => messages,
        Err(err) => {
            tracing::warn!(error = %err, "notifications: could not claim messages");
            Vec::new()
        }
    }
}

/// Sends `message` once and records how it went.
async fn attempt(state: &AppState, client: &reqwest::Client, message: Message) {
    let config = &state.config().notify;
    let recorder = state.ledger();
    let ledger = recorder.ledger();
    let Some(channel) = config.channels.iter().find(|c| c.name == message.channel) else {
        // The channel left the configuration: nothing to send to.
        let now = runboard_ledger::now_ms();
        let reason = "the channel is no longer configured";
        let _ = ledger
            .message_failed(message.id, recorder.owner(), now, reason, None)
            .await;
        return;
    };
    let outcome = send(client, channel, &message.body, config.send_timeout).await;
    let now = runboard_ledger::now_ms();
    let metrics = state.metrics();
    let recorded = match &outcome {
        Ok(()) => {
            metrics.notification(&channel.name, "sent");
            ledger.message_sent(message.id, recorder.owner(), now).await
        }
        Err(reason) => {
            let backoff = Backoff {
                first_ms: millis(config.retry_first),
                window_ms: millis(config.give_up_after),
            };
            let first = message.first_attempt_at.unwrap_or(now);
            let next = backoff.next_attempt(message.attempts + 1, first, now);
            let outcome = if next.is_some() { "failed" } else { "gave_up" };
            metrics.notification(&channel.name, outcome);
            tracing::warn!(
                channel = %channel.name,
                event = %message.event,
                attempt = message.attempts + 1,
                reason = %reason,
                outcome,
                "a notification was not delivered"
            );
            ledger
                .message_failed(message.id, recorder.owner(), now, reason, next)
                .await
        }
    };
    if let Err(err) = recorded {
        tracing::warn!(error = %err, channel = %channel.name, "a delivery could not be recorded");
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Posts `body` to `channel`. The error is Runboard's own words: never the URL, never
/// the channel's answer (which might echo it).
async fn send(
    client: &reqwest::Client,
    channel: &Channel,
    body: &str,
    timeout: Duration,
) -> Result<(), String> {
    let mut request = client
        .post(channel.url())
        .timeout(timeout)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_owned());
    if let (ChannelKind::Webhook, Some(secret)) = (channel.kind, channel.secret()) {
        request = request.header(SIGNATURE_HEADER, signature(secret, body.as_bytes()));
    }
    let response = request
        .send()
        .await
        .map_err(|err| describe(&err, timeout))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else if status.is_redirection() {
        Err(format!(
            "the channel answered {} (a redirect), which Runboard does not follow",
            status.as_u16()
        ))
    } else {
        Err(format!("the channel answered {}", status.as_u16()))
    }
}

/// `sha256=<hex>` of HMAC-SHA256(`secret`, `body`).
pub(crate) fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// What went wrong with a request, in words that hold no URL.
fn describe(err: &reqwest::Error, timeout: Duration) -> String {
    if err.is_timeout() {
        format!("no answer within {} ms", timeout.as_millis())
    } else if err.is_connect() {
        "could not connect to the channel".to_owned()
    } else {
        "the request to the channel failed".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2.
    #[test]
    fn signatures_are_hmac_sha256_in_hex() {
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
