//! The error banner: says what went wrong and that (and when) it retries, offers
//! "Retry now", and disappears once an attempt succeeds.

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
            let when = shown(move || match (retries, status.next_at.get()) {
                (false, _) => String::new(),
                (true, Some(at)) => {
                    let secs = ((at - now.get()).max(0) + 999) / 1000;
                    format!("Retrying in {secs} s…")
                }
                (true, None) => "Retrying as soon as this tab is visible again.".into(),
            });
            view! {
                <div class="rb-banner" role="alert" data-testid="error-banner"
                    data-retrying=if retries { "1" } else { "0" }>
                    <span class="rb-banner-icon" aria-hidden="true">"!"</span>
                    <div class="rb-banner-text">
                        <strong>{failure.message()}</strong>
                        " "
                        <span class="rb-muted">{when}</span>
                    </div>
                    {expired.then(|| view! {
                        <button type="button" class="rb-btn" on:click=|_| browser::reload()>"Sign in again"</button>
                    })}
                    {retries.then(|| view! {
                        <button type="button" class="rb-btn" on:click=move |_| status.retry_now()>"Retry now"</button>
                    })}
                </div>
            }
            .into_any()
        })
    })
}
