//! The table's controls: status filter chips with counts, "Owned by my groups" (when the
//! bootstrap names the user's teams), search (`/` focuses it), sort, and how many tests
//! match.

use leptos::{ev, html::Input, prelude::*};
use wasm_bindgen::JsCast;

use crate::{
    live::{live, shown},
    logic::{
        filter::{SortKey, StatusFilter, chip_counts},
        look,
    },
    state::{Report, TableState},
};

/// Filter chips, search and sort.
#[component]
pub(crate) fn Toolbar(
    /// The report.
    report: Report,
    /// The user's table settings.
    state: TableState,
    /// The tests matching now, in order.
    order: Memo<Vec<usize>>,
    /// Whether to offer "Owned by my groups" (the user has teams).
    mine: bool,
) -> impl IntoView {
    let counts = Memo::new(move |_| {
        report.with(|r| {
            r.as_ref()
                .map(|r| chip_counts(&r.tests))
                .unwrap_or_default()
        })
    });
    let total = move || report.with(|r| r.as_ref().map_or(0, |r| r.tests.len()));
    let search = NodeRef::<Input>::new();
    let listener = window_event_listener(ev::keydown, move |e| {
        let typing = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        let shortcut = e.key() == "/" && !typing && !e.ctrl_key() && !e.meta_key() && !e.alt_key();
        if let (true, Some(input)) = (shortcut, search.get_untracked()) {
            e.prevent_default();
            let _ = input.focus();
        }
    });
    on_cleanup(move || listener.remove());

    let chip = move |filter: StatusFilter,
                     label: String,
                     icon: &'static str,
                     tone: &'static str,
                     count: usize| {
        let value = filter.as_str().to_owned();
        let pressed_filter = filter.clone();
        let pressed = move || state.filter.with(|f| *f == pressed_filter);
        view! {
            <button type="button" class=format!("rb-filter {tone}") data-testid="filter-chip" data-status=value
                aria-pressed=live(move || pressed().to_string()) on:click=move |_| { state.cause.set(None); state.filter.set(filter.clone()) }>
                <span class="rb-chip-icon" aria-hidden="true">{icon}</span>{label}" "<span class="rb-num rb-count">{count}</span>
            </button>
        }
    };
    view! {
        <div class="rb-toolbar">
            <div class="rb-filters" role="group" aria-label="Filter by status">
                {shown(move || {
                    let all = chip(StatusFilter::All, "All".into(), "", "", total());
                    // Chips only for statuses some test has; the picked one stays.
                    let picked = state.filter.get();
                    let others = counts.get().into_iter().filter(|(status, n)| *n > 0 || picked == StatusFilter::Only(status.clone())).map(|(status, n)| {
                        let l = look::test(&status);
                        chip(StatusFilter::Only(status), l.word, l.icon, l.tone.class(), n)
                    }).collect_view();
                    view! { {all}{others} }.into_any()
                })}
            </div>
            {mine.then(|| view! {
                <button type="button" class="rb-filter" data-testid="filter-mine"
                    aria-pressed=live(move || state.owned.get().to_string())
                    on:click=move |_| state.owned.update(|on| *on = !*on)>"Owned by my groups"</button>
            })}
            <span class="rb-spacer"></span>
            <label class="rb-visually-hidden" for="rb-search">"Search tests by title"</label>
            <input id="rb-search" class="rb-input rb-search" type="search" data-testid="search" node_ref=search
                placeholder="Search tests…  (press /)" autocomplete="off"
                prop:value=live(move || state.query.get()) on:input=move |ev| state.query.set(event_target_value(&ev)) />
            <label class="rb-visually-hidden" for="rb-sort">"Sort tests by"</label>
            <select id="rb-sort" class="rb-input rb-sort" data-testid="sort"
                prop:value=live(move || state.sort.get().as_str().to_owned())
                on:change=move |ev| state.sort.set(SortKey::parse(&event_target_value(&ev)))>
                {SortKey::ALL.into_iter().map(|k| view! {
                    <option value=k.as_str() selected=live(move || state.sort.get() == k)>{k.label()}</option>
                }).collect_view()}
            </select>
        </div>
        <p class="rb-match rb-muted" aria-live="polite">
            {shown(move || {
                let n = order.with(Vec::len);
                view! { <span data-testid="match-count" data-count=n.to_string()>{(n != total()).then(|| format!("{n} of {} tests shown", total()))}</span> }.into_any()
            })}
        </p>
    }
}
