//! The tests table, windowed: only the rows in view (plus a margin) are in the page,
//! so a 10,000-test report scrolls and refreshes smoothly. Rows update in place;
//! expanded rows stay expanded across refreshes.

use std::collections::HashSet;

use leptos::prelude::*;
use runboard_shared::TestResult;
use wasm_bindgen::JsCast;

use crate::{
    browser,
    components::{
        chip::{Chip, ClassChip},
        detail::TestDetail,
        export::copy_row_link,
        triage_menu::RowMenuButton,
    },
    live::{live, shown},
    logic::{
        causes::headline,
        format,
        links::Prefs,
        look,
        time::parse_iso_ms,
        window::{RowSizes, offsets, window},
    },
    state::{Failed, Report, Triage, VerdictState},
};

/// Row sizes; `style.css` gives `.rb-row` and `.rb-detail` the same heights.
const SIZES: RowSizes = RowSizes {
    row: 40,
    detail: 260,
};
/// Below this width (`style.css`'s list layout) a row is a list item: the title on up
/// to two lines of its own, status, duration and start below.
const NARROW_PX: u32 = 900;
/// A list item's height in the narrow layout.
const NARROW_ROW: u32 = 76;
/// The scroll area's height before it is first measured (its CSS max-height).
const DEFAULT_VIEWPORT: u32 = 560;
/// Rows rendered beyond each edge of the viewport.
const OVERSCAN: usize = 8;

/// The tests of the report in `order`. The page is the one scroll container (embedded,
/// the frame grows to its content, so the table keeps a bounded box of its own); only
/// the rows in view are rendered either way.
#[component]
pub(crate) fn TestsTable(
    /// The report.
    report: Report,
    /// Indices of the tests to show, in order.
    order: Memo<Vec<usize>>,
    /// Ids of the expanded tests.
    expanded: RwSignal<HashSet<String>>,
    /// The test a `?test=` link points at: scrolled into view once it is shown.
    linked: Option<String>,
    /// Ids of the tests that failed now and passed in the previous run of the selection.
    new_failures: Memo<HashSet<String>>,
    /// The server's verdict: each failed row's class, owners and rule.
    verdict: VerdictState,
    /// Who may triage, and the page's menu and dialog.
    triage: Triage,
) -> impl IntoView {
    let boxed = expect_context::<Prefs>().embed;
    let scroll_top = RwSignal::new(0u32);
    let viewport = RwSignal::new(DEFAULT_VIEWPORT);
    let body = NodeRef::<leptos::html::Div>::new();
    let sizes = RwSignal::new(sizes_for(browser::inner_width()));
    let offs = Memo::new(move |_| {
        report.with(|r| {
            let tests: &[TestResult] = r.as_ref().map_or(&[], |r| &r.tests);
            expanded.with(|open| {
                order.with(|o| {
                    offsets(
                        o.iter()
                            .map(|&i| tests.get(i).is_some_and(|t| open.contains(&t.id))),
                        sizes.get(),
                    )
                })
            })
        })
    });
    let win =
        Memo::new(move |_| offs.with(|o| window(o, scroll_top.get(), viewport.get(), OVERSCAN)));
    let visible = move || {
        let w = win.get();
        report.with(|r| {
            let tests: &[TestResult] = r.as_ref().map_or(&[], |r| &r.tests);
            order.with(|o| {
                o.get(w.start..w.end)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|&i| tests.get(i).map(|t| (i, t.id.clone())))
                    .collect::<Vec<_>>()
            })
        })
    };
    let on_scroll = move |ev: leptos::ev::Event| {
        if !boxed {
            return;
        }
        let el: web_sys::HtmlElement = event_target(&ev);
        scroll_top.set(el.scroll_top().max(0) as u32);
        viewport.set((el.client_height().max(0) as u32).max(SIZES.row));
    };
    // The page scrolls: the window is what moves, the table's body where it is now.
    let measure = move || {
        if let (false, Some(el)) = (boxed, body.get_untracked()) {
            let (top, height) = browser::place_in_viewport(&el);
            scroll_top.set((-top).max(0) as u32);
            viewport.set(height.max(SIZES.row));
        }
    };
    let scrolled = window_event_listener(leptos::ev::scroll, move |_| measure());
    let resized = window_event_listener(leptos::ev::resize, move |_| {
        let now = sizes_for(browser::inner_width());
        if sizes.get_untracked() != now {
            sizes.set(now);
        }
        measure();
    });
    on_cleanup(move || {
        scrolled.remove();
        resized.remove();
    });
    // Bring the linked test into view once, when the report first shows it.
    let brought = StoredValue::new(linked.is_none());
    Effect::new(move |_| {
        if brought.get_value() {
            return;
        }
        let Some(el) = body.get() else { return };
        let target = linked.as_deref().unwrap_or_default();
        let at = report.with(|r| {
            let tests: &[TestResult] = r.as_ref().map_or(&[], |r| &r.tests);
            order.with(|o| {
                o.iter()
                    .position(|&i| tests.get(i).is_some_and(|t| t.id == target))
            })
        });
        let Some(at) = at else { return };
        brought.set_value(true);
        let y = offs.with(|o| o.get(at).copied().unwrap_or(0));
        browser::scroll_to_offset(&el, y, boxed);
        measure();
    });
    // Keyboard, on a row's toggle: ↑/↓ move between rows, Esc closes the row (Enter and
    // Space open and close it, as on any button).
    let on_key = move |e: leptos::ev::KeyboardEvent| {
        let Some(toggle) = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .filter(|t| t.get_attribute("data-testid").as_deref() == Some("test-toggle"))
        else {
            return;
        };
        let Ok(Some(row)) = toggle.closest("[data-testid=test-row]") else {
            return;
        };
        let key = e.key();
        let next = match key.as_str() {
            "ArrowDown" => row.next_element_sibling(),
            "ArrowUp" => row.previous_element_sibling(),
            "Escape" => {
                if let Some(id) = row.get_attribute("data-test-id") {
                    expanded.update(|open| {
                        open.remove(&id);
                    });
                }
                return;
            }
            _ => return,
        };
        e.prevent_default();
        let target = next
            .filter(|n| n.get_attribute("data-testid").as_deref() == Some("test-row"))
            .and_then(|n| n.query_selector("[data-testid=test-toggle]").ok().flatten())
            .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(target) = target {
            let _ = target.focus();
        }
    };
    let empty = move || order.with(Vec::is_empty);
    let no_tests = move || report.with(|r| r.as_ref().is_none_or(|r| r.tests.is_empty()));
    view! {
        <div class="rb-table" role="table" aria-label="Tests" aria-rowcount=live(move || (order.with(Vec::len) + 1).to_string())>
            <div role="rowgroup">
                <div role="row" class="rb-row rb-head">
                    <span role="columnheader">"Status"</span>
                    <span role="columnheader">"Test"</span>
                    <span role="columnheader" class="rb-cell-num">"Duration"</span>
                    <span role="columnheader" class="rb-cell-num">"Started"</span>
                </div>
            </div>
            <div class=if boxed { "rb-scroll rb-scroll-box" } else { "rb-scroll" } role="rowgroup" on:scroll=on_scroll on:keydown=on_key node_ref=body>
                <div class="rb-spacer-row" aria-hidden="true" style:height=live(move || format!("{}px", win.get().pad_top))></div>
                <For each=visible key=|row| format!("{}\u{1f}{}", row.0, row.1) let:row>
                    <TestRow report=report order=order index=row.0 id=row.1 expanded=expanded new_failures=new_failures verdict=verdict triage=triage />
                </For>
                <div class="rb-spacer-row" aria-hidden="true" style:height=live(move || format!("{}px", win.get().pad_bottom))></div>
            </div>
            <Show when=empty>
                <p class="rb-empty rb-empty-table" data-testid="tests-empty">
                    {shown(move || if no_tests() { "This run has no tests yet." } else { "No test matches this filter and search." })}
                </p>
            </Show>
        </div>
    }
}

/// The row sizes at a window `width`.
fn sizes_for(width: u32) -> RowSizes {
    if width > 0 && width < NARROW_PX {
        RowSizes {
            row: NARROW_ROW,
            ..SIZES
        }
    } else {
        SIZES
    }
}

/// One test row and, when expanded, its details.
#[component]
fn TestRow(
    /// The report.
    report: Report,
    /// Indices of the tests shown, in order (for the row's `aria-rowindex`).
    order: Memo<Vec<usize>>,
    /// The test's position in the report.
    index: usize,
    /// The test's id.
    id: String,
    /// Ids of the expanded tests.
    expanded: RwSignal<HashSet<String>>,
    /// Ids of the tests that newly fail (marked "new failure").
    new_failures: Memo<HashSet<String>>,
    /// The server's verdict.
    verdict: VerdictState,
    /// Who may triage, and the page's menu.
    triage: Triage,
) -> impl IntoView {
    let new_id = id.clone();
    let is_new = Memo::new(move |_| new_failures.with(|s| s.contains(&new_id)));
    let test =
        Memo::new(move |_| report.with(|r| r.as_ref().and_then(|r| r.tests.get(index).cloned())));
    let class_id = id.clone();
    let failure = Memo::new(move |_| {
        verdict.with(|v| v.as_ref().and_then(|v| v.failure(&class_id).cloned()))
    });
    let open_id = id.clone();
    let open = Memo::new(move |_| expanded.with(|s| s.contains(&open_id)));
    let toggle_id = id.clone();
    let toggle = move |_| {
        expanded.update(|s| {
            if !s.remove(&toggle_id) {
                s.insert(toggle_id.clone());
            }
        })
    };
    let link_id = id.clone();
    let copied = RwSignal::new(false);
    // Copying is not opening: the click stays on the button, not the row.
    let copy = move |e: leptos::ev::MouseEvent| {
        e.stop_propagation();
        copy_row_link(link_id.clone(), copied);
    };
    let detail_id = format!("rb-detail-{index}");
    let status = move || test.with(|t| t.as_ref().map(|t| t.status.as_str().to_owned()));
    let title = move || test.with(|t| t.as_ref().map(|t| format::test_title(&t.title).to_owned()));
    let untitled = move || test.with(|t| t.as_ref().is_some_and(|t| t.title.trim().is_empty()));
    let duration = move || test.with(|t| t.as_ref().and_then(|t| t.duration).map(format::duration));
    let start_ms = move || {
        test.with(|t| {
            t.as_ref()
                .and_then(|t| t.start_time.as_deref().and_then(parse_iso_ms))
        })
    };
    let chip = shown(move || {
        test.with(|t| {
            t.as_ref()
                .map(|t| view! { <Chip look=look::test(&t.status) /> }.into_any())
        })
    });
    // The accessible name starts with the words the button shows (its status).
    let label = live(move || {
        let word = test.with(|t| {
            t.as_ref()
                .map(|t| look::test(&t.status).word)
                .unwrap_or_default()
        });
        format!(
            "{word}: {} details of {}",
            if open.get() { "hide" } else { "show" },
            title().unwrap_or_default()
        )
    });
    // The header is row 1; rows count from 2 in the order shown.
    let row_index = live(move || {
        order
            .with(|o| o.iter().position(|&i| i == index))
            .map(|p| (p + 2).to_string())
    });
    // The failure's class (never colour alone); a newly failing test the comparison
    // already marks "new failure" is not told twice.
    let class_chip = shown(move || {
        failure.with(|f| {
            let f = f.as_ref()?;
            let told = matches!(f.class, runboard_shared::FailureClass::New) && is_new.get();
            (!told).then(|| {
                view! { <ClassChip class=f.class.clone() testid="failure-class" title=rule_words(f).unwrap_or_default() /> }
            })
        })
    });
    let owners = shown(move || {
        failure.with(|f| {
            let f = f.as_ref().filter(|f| !f.owners.is_empty())?;
            Some(view! { <span class="rb-owners" data-testid="owners">{format!("· {}", f.owners.join(", "))}</span> }.into_any())
        })
    });
    let menu = shown(move || {
        if !triage.tools() {
            return None;
        }
        let failed = failure.with(|f| f.is_some()).then(|| {
            test.with(|t| {
                t.as_ref().map(|t| Failed {
                    test_id: t.id.clone(),
                    title: format::test_title(&t.title).to_owned(),
                    headline: headline(t),
                })
            })
        })??;
        Some(view! { <RowMenuButton triage=triage failed=failed /> }.into_any())
    });
    let data_class =
        live(move || failure.with(|f| f.as_ref().map(|f| f.class.as_str().to_owned())));
    view! {
        <div role="row" aria-rowindex=row_index class="rb-test" class:rb-open=live(move || open.get()) data-testid="test-row" data-test-id=id data-status=live(status) data-class=data_class>
            <div class="rb-row" on:click=toggle>
                <span role="cell" class="rb-cell-status">
                    <button type="button" class="rb-toggle" data-testid="test-toggle" aria-label=label
                        aria-expanded=live(move || open.get().to_string()) aria-controls=detail_id.clone()>
                        <span class="rb-caret" aria-hidden="true">{shown(move || if open.get() { "▾" } else { "▸" })}</span>
                        {chip}
                    </button>
                    <button type="button" class="rb-row-link" data-testid="row-copy-link" title="Copy link to this test"
                        aria-label=live(move || format!("Copy link to {}", title().unwrap_or_default())) on:click=copy></button>
                    <span class="rb-row-copied" role="status" data-testid="row-link-copied">{shown(move || copied.get().then_some("Copied"))}</span>
                    {menu}
                </span>
                <span role="cell" class="rb-cell-title" class:rb-muted=live(untitled) title=live(title)>{class_chip}{shown(title)}
                    {shown(move || is_new.get().then(|| view! { <span class="rb-new-failure" data-testid="new-failure">"new failure"</span> }.into_any()))}
                    {owners}</span>
                <span role="cell" class="rb-cell-num">{shown(move || duration().unwrap_or_else(|| "—".into()))}</span>
                <span role="cell" class="rb-cell-num" title=live(move || start_ms().map(|ms| format::timestamp(ms, browser::local_offset_min(ms))))>
                    {shown(move || start_ms().map_or_else(|| "—".into(), |ms| format::clock(ms, browser::local_offset_min(ms))))}
                </span>
            </div>
            <Show when=move || open.get()>
                <div role="cell" aria-colspan="4" class="rb-detail-cell">
                    <TestDetail test=test id=detail_id.clone() failure=failure />
                </div>
            </Show>
        </div>
    }
}

/// What the rule behind a failure says, for the class chip's tooltip: "Quarantined by
/// ana until 2026-12-14: flaky backend".
fn rule_words(failure: &runboard_shared::VerdictFailure) -> Option<String> {
    let rule = failure.rule.as_ref()?;
    let what = match rule.kind {
        runboard_shared::RuleKind::Quarantine => "Quarantined",
        runboard_shared::RuleKind::Known => "Known issue",
    };
    let until = rule
        .until
        .as_deref()
        .map(|u| format!(" until {u}"))
        .unwrap_or_default();
    let reason = if rule.reason.is_empty() {
        String::new()
    } else {
        format!(": {}", rule.reason)
    };
    Some(format!("{what} by {}{until}{reason}", rule.by))
}
