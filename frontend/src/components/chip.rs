//! A status chip: icon, word and colour together; and a failure class's chip (issue 21),
//! the same three, with a count where several failures are summed up.

use leptos::prelude::*;
use runboard_shared::FailureClass;

use crate::logic::{look::Look, verdict::class_look};

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

/// A failure class: "✚ new", or with a count "2 ⚑ known" ("2 known" read aloud).
#[component]
pub(crate) fn ClassChip(
    /// The class.
    class: FailureClass,
    /// How many failures have it, where several are summed up.
    #[prop(optional)]
    count: Option<usize>,
    /// The chip's `data-testid`.
    testid: &'static str,
    /// A tooltip (the rule behind it).
    #[prop(optional)]
    title: Option<String>,
) -> impl IntoView {
    let look = class_look(&class);
    let css = format!("rb-class {}", look.tone.class());
    let words = match count {
        Some(n) => format!("{n} {}", look.word),
        None => look.word,
    };
    view! {
        <span class=css data-testid=testid data-class=class.as_str().to_owned()
            data-count=count.map(|n| n.to_string()) title=title>
            <span class="rb-chip-icon" aria-hidden="true">{look.icon}</span>{words}
        </span>
    }
}
