//! A failed row's triage menu (issue 21): the row's "⋯" button, and the menu it opens
//! ("Quarantine…", "Mark as known issue…"), drawn once for the page outside the windowed
//! table (whose rows clip what overflows them). Keyboard: the menu takes the focus, ↑/↓
//! move, Enter/Space pick, Esc or Tab close it and the focus returns to the button.

use leptos::{html, prelude::*};
use wasm_bindgen::JsCast;

use crate::{
    components::triage_dialog::TriageDialog,
    live::{live, shown},
    state::{DialogKind, Failed, MenuAt, Triage},
};

/// The "⋯" button of a failed row; shown only to people who may triage.
#[component]
pub(crate) fn RowMenuButton(
    /// The page's triage state.
    triage: Triage,
    /// The failure the menu is about.
    failed: Failed,
) -> impl IntoView {
    let test_id = failed.test_id.clone();
    let label = format!("Triage {}", failed.title);
    let open = {
        let id = test_id.clone();
        move || {
            triage
                .menu
                .with(|m| m.as_ref().is_some_and(|m| m.failed.test_id == id))
        }
    };
    let toggle = move |e: leptos::ev::MouseEvent| {
        // The row's own click opens its details: this click is the menu's only.
        e.stop_propagation();
        if triage.menu.with_untracked(|m| m.is_some()) {
            triage.menu.set(None);
            return;
        }
        let Some(button) = e
            .current_target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let rect = button.get_bounding_client_rect();
        triage.menu.set(Some(MenuAt {
            failed: failed.clone(),
            x: rect.right() as i32,
            y: rect.bottom() as i32,
        }));
    };
    view! {
        <button type="button" class="rb-row-menu" data-testid="row-menu" data-for=test_id
            aria-haspopup="menu" aria-expanded=live(move || open().to_string())
            aria-label=label title="Quarantine or mark as known issue" on:click=toggle>
            <span aria-hidden="true">"⋯"</span>
        </button>
    }
}

/// The menu and the dialog, once for the page.
#[component]
pub(crate) fn TriageLayer(
    /// The page's triage state.
    triage: Triage,
) -> impl IntoView {
    let menu = shown(move || {
        triage
            .menu
            .get()
            .map(|at| view! { <Menu triage=triage at=at /> })
    });
    let dialog = shown(move || {
        triage
            .dialog
            .get()
            .map(|(kind, failed)| view! { <TriageDialog triage=triage kind=kind failed=failed /> })
    });
    view! { {menu}{dialog} }
}

/// The open menu at its place.
#[component]
fn Menu(
    /// The page's triage state.
    triage: Triage,
    /// The failure and where its button is.
    at: MenuAt,
) -> impl IntoView {
    let list = NodeRef::<html::Div>::new();
    // The menu takes the focus as it opens.
    Effect::new(move |_| {
        if let Some(first) = list.get().and_then(|l| items(&l).into_iter().next()) {
            let _ = first.focus();
        }
    });
    let trigger = at.failed.test_id.clone();
    let close = move |refocus: bool| {
        triage.menu.set(None);
        if refocus {
            focus_menu_button(&trigger);
        }
    };
    let close_key = close.clone();
    let on_key = move |e: leptos::ev::KeyboardEvent| {
        let Some(list) = list.get_untracked() else {
            return;
        };
        let all = items(&list);
        let active = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element());
        let here = active.and_then(|a| all.iter().position(|i| i.is_same_node(Some(&*a))));
        let next = match (e.key().as_str(), here) {
            ("ArrowDown", Some(i)) => (i + 1) % all.len(),
            ("ArrowUp", Some(i)) => (i + all.len() - 1) % all.len(),
            ("ArrowDown" | "Home", None) | ("Home", _) => 0,
            ("End", _) | ("ArrowUp", None) => all.len().saturating_sub(1),
            ("Escape", _) => {
                e.prevent_default();
                close_key(true);
                return;
            }
            ("Tab", _) => {
                close_key(false);
                return;
            }
            _ => return,
        };
        e.prevent_default();
        if let Some(item) = all.get(next) {
            let _ = item.focus();
        }
    };
    let pick = move |kind: DialogKind| {
        let failed = at.failed.clone();
        move |_| {
            triage.menu.set(None);
            triage.dialog.set(Some((kind, failed.clone())));
        }
    };
    // The menu's right edge under the button's, kept inside the viewport.
    let left = format!("{}px", (at.x - 220).max(8));
    let top = format!("{}px", at.y + 4);
    view! {
        <div class="rb-menu-backdrop" on:click=move |_| close(false)></div>
        <div class="rb-menu" role="menu" aria-label="Triage" data-testid="triage-menu" node_ref=list
            style:left=left style:top=top on:keydown=on_key>
            <button type="button" role="menuitem" class="rb-menu-item" data-testid="menu-quarantine"
                on:click=pick(DialogKind::Quarantine)>"Quarantine…"</button>
            <button type="button" role="menuitem" class="rb-menu-item" data-testid="menu-known"
                on:click=pick(DialogKind::Known)>"Mark as known issue…"</button>
        </div>
    }
}

/// The menu's items, in order.
fn items(list: &web_sys::HtmlDivElement) -> Vec<web_sys::HtmlElement> {
    let found = list.children();
    (0..found.length())
        .filter_map(|i| found.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
        .collect()
}

/// Gives the focus back to the menu button of `test_id`'s row, if it is still drawn
/// (the table draws only the rows in view).
pub(crate) fn focus_menu_button(test_id: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let buttons = document.get_elements_by_class_name("rb-row-menu");
    let button = (0..buttons.length())
        .filter_map(|i| buttons.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
        .find(|b| b.get_attribute("data-for").as_deref() == Some(test_id));
    if let Some(button) = button {
        let _ = button.focus();
    }
}
