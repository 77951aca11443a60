//! "Notify me when it finishes", on a running report: the browser is asked for
//! permission only on that click, and when the run turns final while the tab is hidden
//! a system notification says the outcome (`views/run.rs` sends it with the tab title).
//! Shown only where the browser has notifications; a refusal (site settings, or a
//! portal's frame that does not allow them) is said beside the button.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    browser,
    live::{live, shown},
};

/// The button, while the run may still change.
#[component]
pub(crate) fn NotifyWhenDone(
    /// Whether the report may still change.
    running: Memo<bool>,
    /// Whether a notification is wanted: set here, read when the run turns final.
    armed: RwSignal<bool>,
) -> impl IntoView {
    let refused = RwSignal::new(false);
    let toggle = move |_| {
        if armed.get_untracked() {
            armed.set(false);
            return;
        }
        spawn_local(async move {
            let granted = browser::ask_to_notify().await;
            armed.set(granted);
            refused.set(!granted);
        });
    };
    shown(move || {
        (running.get() && browser::can_notify()).then(|| {
            view! {
                <button type="button" class="rb-btn rb-btn-small rb-notify" data-testid="notify-when-done"
                    aria-pressed=live(move || armed.get().to_string()) on:click=toggle>
                    "Notify me when it finishes"
                </button>
                {shown(move || refused.get().then(|| view! {
                    <span class="rb-muted rb-notify-why" role="status" data-testid="notify-refused">
                        "This browser does not allow notifications here (its site settings, or the portal's frame)."
                    </span>
                }))}
            }
        })
    })
}
