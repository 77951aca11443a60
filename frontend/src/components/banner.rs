//! The error banner: says what went wrong and that (and when) it retries, offers
//! "Retry now" (except while the server asked to wait), and disappears once an attempt
//! succeeds. Also the open-access warning, shown on every view while it holds.

use leptos::prelude::*;

use crate::{
    browser,
    context::Clock,
    live::{live, shown},
    logic::failure::Failure,
    poller::PollStatus,
};

/// Shows the poll loop's failure, if any.
#[component]
pub(crate) fn ErrorBanner(
    /// The loop whose failures are shown.
    status: PollStatus,
) -> impl IntoView {
    let Clock(now) = expect_context::<Clock>();
    live(move || {
        status.error.get().map(|failure| {
            let retries = failure.retries();
            let expired = failure == Failure::SessionExpired;
            // The server said how long to wait; asking sooner would only be refused.
            let can_hurry = retries && !matches!(failure, Failure::Wait { .. });
            let kind = failure.kind();
            let when = shown(move || match (retries, status.next_at.get()) {
                (false, _) => String::new(),
                (true, Some(at)) => {
                    let secs = ((at - now.get()).max(0) + 999) / 1000;
                    format!("Retrying in {secs} s…")
                }
                (true, None) => "Retrying as soon as this tab is visible again.".into(),
            });
            view! {
                // Only the message is announced: the countdown beside it changes every
                // second and would be read out again each time.
                <div class="rb-banner" data-testid="error-banner" data-kind=kind
                    data-retrying=if retries { "1" } else { "0" }>
                    <span class="rb-banner-icon" aria-hidden="true">"!"</span>
                    <div class="rb-banner-text">
                        <strong role="alert">{failure.message()}</strong>
                        " "
                        <span class="rb-muted" aria-live="off">{when}</span>
                    </div>
                    {expired.then(|| view! {
                        <button type="button" class="rb-btn" on:click=|_| browser::reload()>"Sign in again"</button>
                    })}
                    {can_hurry.then(|| view! {
                        <button type="button" class="rb-btn" on:click=move |_| status.retry_now()>"Retry now"</button>
                    })}
                </div>
            }
            .into_any()
        })
    })
}

/// The warning while Runboard runs without sign-in on an address others can reach
/// (the bootstrap's `open_access`): calm, but on every view for as long as it holds.
#[component]
pub(crate) fn OpenAccessBanner() -> impl IntoView {
    view! {
        <p class="rb-notice rb-notice-warn rb-open-access" role="note" data-testid="open-access-banner">
            <span class="rb-chip-icon" aria-hidden="true">"⚠ "</span>
            "Anyone who can reach this server may start runs: it runs without sign-in (auth.mode = \"none\")."
        </p>
    }
}
