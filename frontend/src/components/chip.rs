//! A status chip: icon, word and colour together.

use leptos::prelude::*;

use crate::logic::look::Look;

/// Renders a status look as a chip.
#[component]
pub(crate) fn Chip(
    /// What to show.
    look: Look,
) -> impl IntoView {
    let class = format!("rb-chip {}", look.tone.class());
    view! {
        <span class=class>
            <span class="rb-chip-icon" aria-hidden="true">{look.icon}</span>
            <span class="rb-chip-word">{look.word}</span>
        </span>
    }
}
