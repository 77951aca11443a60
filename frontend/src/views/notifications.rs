//! `/p/:proj/notifications`: who hears about this project's runs (issue 22) — each chat
//! channel or webhook by name and kind, the events it hears and the presets it is
//! limited to (never its address, which is a secret) — and the last messages: when,
//! about which run, delivered or not, after how many attempts, and why the last one
//! failed, in words people can act on.

use leptos::prelude::*;
use runboard_shared::{NotifyChannel, NotifyDelivery, ProjectInfo};

use crate::{
    api::notifications as api,
    browser,
    components::banner::ErrorBanner,
    context::{self, Clock},
    live::shown,
    logic::{format, links::Prefs, time::parse_iso_ms},
    poller,
    router::Route,
    views::not_found::UnknownProject,
};

/// The page is read again this often (deliveries are retried in the background).
const REFRESH_MS: u64 = 15_000;

/// `/p/:proj/notifications`.
#[component]
pub(crate) fn NotificationsView(
    /// The project id from the address.
    project: String,
) -> impl IntoView {
    match context::boot().project(&project) {
        Some(project) => view! { <NotificationsPage project=project /> }.into_any(),
        None => view! { <UnknownProject id=project /> }.into_any(),
    }
}

/// The channels and deliveries of one project.
#[component]
fn NotificationsPage(
    /// The project shown.
    project: ProjectInfo,
) -> impl IntoView {
    let page: RwSignal<Option<runboard_shared::NotificationsPage>> = RwSignal::new(None);
    let proj = project.id.clone();
    let project_id = project.id.to_string();
    let status = poller::start(REFRESH_MS, move |_| {
        let proj = proj.clone();
        async move {
            page.set(Some(api::page(&proj).await?));
            Ok(false)
        }
    });
    let body = shown(move || {
        let Some(page) = page.get() else {
            let loading = status
                .error
                .with(Option::is_none)
                .then_some("Loading the notifications…");
            return view! { <p class="rb-empty" data-testid="notifications-loading">{loading}</p> }
                .into_any();
        };
        if page.channels.is_empty() {
            return view! {
                <p class="rb-empty" data-testid="notifications-none">
                    "No channel hears about this project's runs. An administrator adds Slack, Teams or webhook channels with [[notify]] in Runboard's configuration."
                </p>
            }
            .into_any();
        }
        view! {
            <h2 class="rb-subtitle" id="rb-channels-title">"Channels"</h2>
            <ul class="rb-channels" aria-labelledby="rb-channels-title">
                {page.channels.into_iter().map(|c| view! { <ChannelRow channel=c /> }).collect_view()}
            </ul>
            <h2 class="rb-subtitle" id="rb-deliveries-title">"Last messages"</h2>
            {deliveries(&project_id, page.deliveries)}
        }
        .into_any()
    });
    view! {
        <section class="rb-notifications-view" aria-labelledby="rb-notifications-title">
            <h1 id="rb-notifications-title" class="rb-title">"Notifications"</h1>
            <p class="rb-muted">"Runboard tells these channels about runs of "{project.name.clone()}
                " when they start or end, even with no tab open. A message that cannot be delivered is tried again for up to an hour."</p>
            <ErrorBanner status=status />
            {body}
        </section>
    }
}

/// One channel: name, kind, events, presets.
#[component]
fn ChannelRow(
    /// The channel.
    channel: NotifyChannel,
) -> impl IntoView {
    let kind = match channel.kind.as_str() {
        "slack" => "Slack",
        "teams" => "Microsoft Teams",
        "webhook" => "Webhook",
        other => other,
    }
    .to_owned();
    let events = channel
        .on
        .iter()
        .map(|e| event_words(e))
        .collect::<Vec<_>>()
        .join(", ");
    let presets = match &channel.presets {
        Some(presets) => format!("runs of {}", presets.join(", ")),
        None => "every run".to_owned(),
    };
    view! {
        <li class="rb-channel" data-testid="channel-row" data-channel=channel.name.clone()>
            <strong>{channel.name.clone()}</strong>
            <span class="rb-muted">{format!(" · {kind} · {presets} · hears: {events}")}</span>
        </li>
    }
}

/// The last messages of `project` as a table, newest first.
fn deliveries(project: &str, list: Vec<NotifyDelivery>) -> AnyView {
    if list.is_empty() {
        return view! { <p class="rb-empty" data-testid="deliveries-empty">"No message yet: one is recorded when a run this project's channels hear about starts or ends."</p> }
            .into_any();
    }
    view! {
        <table class="rb-table rb-deliveries" data-testid="deliveries">
            <caption class="rb-visually-hidden">"Last messages, newest first"</caption>
            <thead>
                <tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"Channel"</th>
                    <th scope="col">"Event"</th>
                    <th scope="col">"Run"</th>
                    <th scope="col">"Delivery"</th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|d| view! { <DeliveryRow project=project.to_owned() delivery=d /> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// One message.
#[component]
fn DeliveryRow(
    /// The project the message is about.
    project: String,
    /// The message.
    delivery: NotifyDelivery,
) -> impl IntoView {
    let Clock(now) = expect_context::<Clock>();
    let created = parse_iso_ms(&delivery.created_at);
    let full = created.map(|ms| format::timestamp(ms, browser::local_offset_min(ms)));
    let (icon, word) = match delivery.status.as_str() {
        "sent" => ("✓", "Delivered"),
        "gave_up" => ("✕", "Given up"),
        _ if delivery.attempts > 0 => ("↻", "Not delivered yet"),
        _ => ("○", "Waiting to be sent"),
    };
    // A retry's time, so "not delivered yet" says when Runboard tries again.
    let next = delivery
        .next_attempt_at
        .as_deref()
        .filter(|_| delivery.status == "pending" && delivery.attempts > 0)
        .and_then(parse_iso_ms)
        .map(|ms| {
            format!(
                " · next try at {}",
                format::clock(ms, browser::local_offset_min(ms))
            )
        });
    let prefs = expect_context::<Prefs>();
    let run = delivery.run_id.clone().map(|run| {
        let href = prefs.href(
            &Route::Run {
                project,
                run: run.clone(),
            }
            .href(),
            &[],
        );
        view! { <a href=href>{run}</a> }
    });
    let attempts = match delivery.attempts {
        0 => String::new(),
        1 => " after 1 attempt".to_owned(),
        n => format!(" after {n} attempts"),
    };
    let error = delivery
        .last_error
        .clone()
        .map(|e| view! { <span class="rb-muted rb-delivery-error">{format!(" · last error: {e}")}</span> });
    view! {
        <tr data-testid="delivery-row" data-status=delivery.status.clone()>
            <td class="rb-num" title=full>{shown(move || created.map(|ms| format::ago(now.get(), ms)))}</td>
            <td>{delivery.channel.clone()}</td>
            <td>{event_words(&delivery.event)}</td>
            <td class="rb-num">{run.map_or_else(|| "–".into_any(), IntoAny::into_any)}</td>
            <td>
                <span aria-hidden="true">{icon}" "</span>
                {format!("{word}{attempts}")}
                {error}
                {next}
            </td>
        </tr>
    }
}

/// An event in words.
fn event_words(event: &str) -> String {
    match event {
        "started" => "run started",
        "finished" => "run finished",
        "failed" => "run failed",
        "recovered" => "recovered",
        "new_failure" => "new failure",
        other => other,
    }
    .to_owned()
}
