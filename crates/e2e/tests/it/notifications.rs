//! The Notifications page in headless Chromium with channels configured (issue 22): a
//! webhook to a loopback receiver and a Slack channel that always answers 500. After a
//! run with failures the page names both channels with their kind, presets and events,
//! shows the webhook's message about that run delivered and the broken channel's error in
//! words, never their addresses; axe-core finds no serious violation in light and dark.

use std::sync::{Arc, Mutex};

use anyhow::{Result, ensure};
use axum::{Router, body::Bytes, extract::State, http::StatusCode, routing::post};
use runboard_e2e::{
    Browser, Stack, StackOptions,
    axe::serious_violations,
    browser::artifacts_dir,
    scenario::{a_failed_run, scenario},
    serve::{Served, serve},
    stack::{PROJECT, RUN_TIMEOUT, presets},
    wait_for,
};
use runboard_proxy::config::{Channel, ChannelKind, NotifyEvent};
use runboard_shared::{NotificationsPage, NotifyDelivery, ProjectId, RunId, RunPage, Target};
use serde_json::{Value, json};

/// The webhook that takes every message.
const HOOK: &str = "ci-hook";
/// The Slack channel whose every delivery fails.
const DOWN: &str = "ops-slack";
/// The secret part of both channel URLs, as a Slack webhook URL has one: it must never
/// reach the browser.
const URL_SECRET: &str = "T0E2E-B0E2E-notForBrowsers";

/// A loopback receiver standing in for the channels: `/ok/…` keeps the body and answers
/// 204, `/down/…` answers 500.
struct Receiver {
    served: Served,
    heard: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    async fn start() -> Result<Self> {
        let heard = Arc::<Mutex<Vec<Value>>>::default();
        let app = Router::new()
            .route("/ok/{secret}", post(delivered))
            .route("/down/{secret}", post(broken))
            .with_state(heard.clone());
        Ok(Self {
            served: serve(app).await?,
            heard,
        })
    }

    /// What an address of this receiver would show in a page: host and port.
    fn authority(&self) -> String {
        self.served.addr.to_string()
    }

    fn url(&self, behaviour: &str) -> String {
        format!("http://{}/{behaviour}/{URL_SECRET}", self.authority())
    }

    /// The webhook, limited to the full regression, and the broken Slack channel, for
    /// every run.
    fn channels(&self) -> Result<Vec<Channel>> {
        use NotifyEvent::{Failed, Finished};
        let mut hook = Channel::new(
            HOOK,
            ChannelKind::Webhook,
            &self.url("ok"),
            vec![Finished, Failed],
        )?;
        hook.presets = Some(vec![presets::FULL.to_owned()]);
        let down = Channel::new(DOWN, ChannelKind::Slack, &self.url("down"), vec![Finished])?;
        Ok(vec![hook, down])
    }

    /// Whether the webhook got the `event` message about `run_id`.
    fn heard(&self, run_id: &str, event: &str) -> bool {
        let heard = self.heard.lock().expect("the receiver's list");
        heard
            .iter()
            .any(|body| body["run"]["runId"] == run_id && body["event"] == event)
    }
}

async fn delivered(State(heard): State<Arc<Mutex<Vec<Value>>>>, body: Bytes) -> StatusCode {
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    heard.lock().expect("the receiver's list").push(body);
    StatusCode::NO_CONTENT
}

async fn broken() -> StatusCode {
    StatusCode::INTERNAL_SERVER_ERROR
}

/// The project's Notifications answer, read through the front door as the widget reads it.
async fn notifications(s: &Stack) -> Result<NotificationsPage> {
    let path = Target::Notifications(ProjectId::parse(PROJECT)?).path();
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()?
        .get(s.url(&path))
        .send()
        .await?
        .error_for_status()?;
    Ok(response.json().await?)
}

/// Waits until the ledger says the webhook's message about `run_id` was delivered and
/// the broken channel's message failed at least once, with its reason.
async fn settled(s: &Stack, run_id: &str) -> Result<()> {
    let delivered = |d: &NotifyDelivery| {
        d.channel == HOOK && d.run_id.as_deref() == Some(run_id) && d.status == "sent"
    };
    let failed = |d: &NotifyDelivery| {
        d.channel == DOWN && d.run_id.as_deref() == Some(run_id) && d.last_error.is_some()
    };
    wait_for(
        "both channels' attempts in the ledger",
        RUN_TIMEOUT,
        || async {
            let page = notifications(s).await?;
            let both = page.deliveries.iter().any(delivered) && page.deliveries.iter().any(failed);
            Ok(both.then_some(()))
        },
    )
    .await
}

/// The text of every element matching `css`, in order.
async fn texts(b: &Browser, css: &str) -> Result<Vec<String>> {
    let found = b
        .js(
            "return Array.from(document.querySelectorAll(arguments[0]))
                .map(e => e.textContent.replace(/\\s+/g, ' ').trim());",
            vec![json!(css)],
        )
        .await?;
    Ok(serde_json::from_value(found)?)
}

/// The channels by name, kind, presets and events.
async fn check_channels(b: &Browser) -> Result<()> {
    let rows = texts(b, "[data-testid=channel-row]").await?;
    let want = [
        format!(
            "{HOOK} · Webhook · runs of {} · hears: run finished, run failed",
            presets::FULL
        ),
        format!("{DOWN} · Slack · every run · hears: run finished"),
    ];
    ensure!(rows == want, "the channels as shown: {rows:#?}");
    Ok(())
}

/// The webhook's message about `run_id` delivered, the broken channel's with its error.
async fn check_deliveries(b: &Browser, run_id: &str) -> Result<()> {
    let rows = texts(b, "[data-testid=delivery-row]").await?;
    let about = |channel: &str, words: &str| {
        rows.iter()
            .any(|r| r.contains(channel) && r.contains(run_id) && r.contains(words))
    };
    ensure!(
        about(HOOK, "Delivered after 1 attempt"),
        "no delivered message to {HOOK} about {run_id}: {rows:#?}"
    );
    ensure!(
        about(DOWN, "Not delivered yet after 1 attempt")
            && about(DOWN, "last error: the channel answered 500")
            && about(DOWN, "next try at "),
        "no failed attempt to {DOWN} about {run_id} with its error and retry: {rows:#?}"
    );
    // Each message leads to its run's report.
    let run_page = RunPage {
        project: ProjectId::parse(PROJECT)?,
        run: RunId::parse(run_id)?,
    }
    .path();
    let links = b
        .all(&format!("[data-testid=delivery-row] a[href='{run_page}']"))
        .await?;
    ensure!(
        links.len() == rows.len(),
        "{} of {} rows link {run_page}",
        links.len(),
        rows.len()
    );
    Ok(())
}

/// Neither the page nor any answer the browser received holds a channel's address.
async fn check_no_address(b: &Browser, s: &Stack, receiver: &Receiver) -> Result<()> {
    let port = format!(":{}", receiver.served.addr.port());
    let secrets = [receiver.authority(), port, URL_SECRET.to_owned()];
    let page = b.client.source().await?;
    let recorded = String::from_utf8_lossy(&s.front.recorded()).into_owned();
    for secret in &secrets {
        ensure!(!page.contains(secret.as_str()), "the page shows {secret}");
        ensure!(
            !recorded.contains(secret.as_str()),
            "an answer to the browser holds {secret}"
        );
    }
    Ok(())
}

/// axe-core in light, then dark.
async fn check_access(b: &Browser, s: &Stack, page: &str) -> Result<()> {
    let mut problems = Vec::new();
    for theme in ["light", "dark"] {
        if theme == "dark" {
            b.open(&s.url(&format!("{page}?theme=dark"))).await?;
            b.wait_css("[data-testid=delivery-row]").await?;
        }
        for v in serious_violations(b).await? {
            problems.push(format!("notifications ({theme}): {v}"));
        }
    }
    ensure!(
        problems.is_empty(),
        "axe-core found:\n{}",
        problems.join("\n")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notifications_page_shows_channels_and_attempts_without_their_addresses() {
    let receiver = Receiver::start().await.expect("the receiver starts");
    let options = StackOptions {
        ledger_follow: true,
        notify: receiver.channels().expect("the channels are valid"),
        ..StackOptions::default()
    };
    let receiver = &receiver;
    scenario("notifications", options, async move |b, s| {
        let (run_id, _) = a_failed_run(b, s).await?;
        wait_for("the webhook to hear the run end", RUN_TIMEOUT, || async {
            Ok(receiver.heard(&run_id, "finished").then_some(()))
        })
        .await?;
        settled(s, &run_id).await?;

        let page = format!("/p/{PROJECT}/notifications");
        b.open(&s.url(&page)).await?;
        b.wait_css("[data-testid=delivery-row]").await?;
        check_channels(b).await?;
        check_deliveries(b, &run_id).await?;
        // The README's picture of the page: both channels, a delivered and a failed message.
        b.screenshot(&artifacts_dir().join("screens/notifications.png"))
            .await?;
        check_no_address(b, s, receiver).await?;
        check_access(b, s, &page).await
    })
    .await;
}
