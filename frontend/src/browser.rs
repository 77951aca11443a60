//! The browser services the views use (clock, localStorage, clipboard, the
//! address bar, the parent frame), each wrapped so a missing API degrades quietly.

use wasm_bindgen::{JsCast, JsValue};

use runboard_shared::{PortalMessage, RunFinished, RunStatus, TestStatus, ToJson};

use crate::logic::{links::Prefs, summary::Summary};

/// Milliseconds since the epoch, from the browser's clock.
pub(crate) fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// The local time zone's offset east of UTC in minutes, at `ms`.
pub(crate) fn local_offset_min(ms: i64) -> i64 {
    -(js_sys::Date::new(&JsValue::from_f64(ms as f64)).get_timezone_offset() as i64)
}

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

fn storage() -> Option<web_sys::Storage> {
    window()?.local_storage().ok().flatten()
}

/// Reads a localStorage entry.
pub(crate) fn storage_get(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

/// Writes a localStorage entry; a full or disabled storage only loses the memory.
pub(crate) fn storage_set(key: &str, value: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(key, value);
    }
}

/// Whether the tab is hidden (polling pauses then).
pub(crate) fn is_hidden() -> bool {
    window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

/// The address bar's query, with its `?`.
pub(crate) fn location_search() -> String {
    window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// The address bar's full URL.
pub(crate) fn location_href() -> String {
    window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default()
}

/// This page's origin, "https://host".
pub(crate) fn location_origin() -> String {
    window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// Replaces the address bar's URL without navigating, so view state (filter, sort,
/// search) survives a reload and travels with a copied link.
pub(crate) fn replace_url(path_and_query: &str) {
    if let Some(history) = window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(path_and_query));
    }
}

/// Loads `href` as a new page (a page of the widget this build does not draw): a new
/// history entry, or with `replace` in place of the current one.
pub(crate) fn load(href: &str, replace: bool) {
    if let Some(w) = window() {
        let location = w.location();
        let _ = if replace {
            location.replace(href)
        } else {
            location.assign(href)
        };
    }
}

/// Reloads the page (after an expired session, so the SSO proxy can sign the user in).
pub(crate) fn reload() {
    if let Some(w) = window() {
        let _ = w.location().reload();
    }
}

/// Copies `text` to the clipboard; resolves to whether it worked.
pub(crate) async fn copy_text(text: &str) -> bool {
    let Some(w) = window() else { return false };
    let promise = w.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

/// Whether this browser has system notifications at all.
pub(crate) fn can_notify() -> bool {
    window().is_some_and(|w| js_sys::Reflect::has(&w, &"Notification".into()).unwrap_or(false))
}

/// Asks for permission to notify (the browser asks the person, once per site); resolves
/// to whether it was granted.
pub(crate) async fn ask_to_notify() -> bool {
    let Ok(asked) = web_sys::Notification::request_permission() else {
        return false;
    };
    let answer = wasm_bindgen_futures::JsFuture::from(asked).await;
    answer.ok().and_then(|a| a.as_string()).as_deref() == Some("granted")
}

/// A system notification with `title` and `body`, only while the tab is hidden (a
/// visible tab shows the outcome itself) and notifications are allowed. `tag` makes a
/// second notification for the same run replace the first. Clicking it shows the tab.
pub(crate) fn notify_if_hidden(title: &str, body: &str, tag: &str) {
    let allowed = web_sys::Notification::permission() == web_sys::NotificationPermission::Granted;
    if !is_hidden() || !can_notify() || !allowed {
        return;
    }
    let options = web_sys::NotificationOptions::new();
    options.set_body(body);
    options.set_tag(tag);
    if let Ok(note) = web_sys::Notification::new_with_options(title, &options) {
        let focus = wasm_bindgen::closure::Closure::once_into_js(|| {
            if let Some(w) = window() {
                let _ = w.focus();
            }
        });
        note.set_onclick(focus.dyn_ref());
    }
}

/// Shows `text` in the browser's prompt under `message`, selected, for a person to copy.
pub(crate) fn prompt_text(message: &str, text: &str) {
    if let Some(w) = window() {
        let _ = w.prompt_with_message_and_default(message, text);
    }
}

/// Applies the theme and the embed flag to `<html>`, where the stylesheet reads them.
pub(crate) fn apply_prefs(prefs: Prefs) {
    let Some(root) = window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    else {
        return;
    };
    if let Some(theme) = prefs.theme {
        let _ = root.set_attribute("data-theme", theme.as_str());
    }
    if prefs.embed {
        let _ = root.set_attribute("data-embed", "1");
    }
}

/// Tells the parent frame how tall the widget is, so a portal can size its iframe
/// ([`PortalMessage::resize`]). Does nothing when not framed.
pub(crate) fn post_height(height: u32) {
    post_to_parent(&PortalMessage::resize(height));
}

/// Posts `message` to the parent frame, when there is one. Only what the portal shows
/// anyway (heights, outcomes and counts) is sent, so any embedding origin may read it.
fn post_to_parent(message: &PortalMessage) {
    let Some(w) = window() else { return };
    let Ok(Some(parent)) = w.parent() else { return };
    if js_sys::Object::is(&parent, &w) {
        return;
    }
    // Posted as a JavaScript object, not as text, so portals read `e.data.runboard`.
    if let Ok(message) = js_sys::JSON::parse(&message.to_json()) {
        let _ = parent.post_message(&message, "*");
    }
}

/// Tells the parent frame that the run shown is final ([`PortalMessage::finished`]):
/// which run, its status and outcome, and its counts.
pub(crate) fn post_finished(
    project: &str,
    run: &str,
    status: &str,
    outcome: &str,
    summary: &Summary,
) {
    post_to_parent(&PortalMessage::finished(RunFinished {
        project: project.to_owned(),
        run_id: run.to_owned(),
        status: RunStatus::parse(status),
        outcome: outcome.to_owned(),
        total: summary.total,
        passed: summary.count(&TestStatus::Passed),
        failed: summary.count(&TestStatus::Failed),
        skipped: summary.count(&TestStatus::Skipped),
    }));
}

/// Where `element` is relative to the viewport: its top (negative once scrolled past)
/// and the viewport's height, both in CSS pixels.
pub(crate) fn place_in_viewport(element: &web_sys::Element) -> (i32, u32) {
    let top = element.get_bounding_client_rect().top() as i32;
    let height = window()
        .and_then(|w| w.inner_height().ok())
        .and_then(|h| h.as_f64())
        .unwrap_or(0.0);
    (top, height.max(0.0) as u32)
}

/// Scrolls so that `y` pixels into `element` is near the top of what is seen: the
/// element itself when it is the scroll box (`boxed`), else the page.
pub(crate) fn scroll_to_offset(element: &web_sys::Element, y: u32, boxed: bool) {
    if boxed {
        element.set_scroll_top(y as i32);
        return;
    }
    let Some(w) = window() else { return };
    let page_y = w.scroll_y().unwrap_or(0.0);
    let top = element.get_bounding_client_rect().top() + page_y;
    // Leave a little of what is above in sight.
    w.scroll_to_with_x_and_y(0.0, (top + f64::from(y) - 80.0).max(0.0));
}

/// The window's inner width in CSS pixels (0 when unknown).
pub(crate) fn inner_width() -> u32 {
    window()
        .and_then(|w| w.inner_width().ok())
        .and_then(|w| w.as_f64())
        .map_or(0, |w| w.max(0.0) as u32)
}

/// Removes the verdict line the server wrote into the page ([`runboard_shared::FIRST_PAINT_ID`]): the
/// widget's own header, or its error, now says what it said.
pub(crate) fn remove_first_paint() {
    let line = window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(runboard_shared::FIRST_PAINT_ID));
    if let Some(line) = line {
        line.remove();
    }
}

/// Sets the tab's title.
pub(crate) fn set_title(title: &str) {
    if let Some(document) = window().and_then(|w| w.document()) {
        document.set_title(title);
    }
}

/// Calls `on_height` with the element's height whenever it changes size.
pub(crate) fn observe_height(element: &web_sys::Element, on_height: impl Fn(u32) + 'static) {
    use wasm_bindgen::closure::Closure;
    let callback = Closure::<dyn Fn(js_sys::Array)>::new(move |entries: js_sys::Array| {
        let height = entries
            .iter()
            .filter_map(|e| e.dyn_into::<web_sys::ResizeObserverEntry>().ok())
            .map(|e| e.target().get_bounding_client_rect().height())
            .fold(0.0, f64::max);
        on_height(height.ceil() as u32);
    });
    if let Ok(observer) = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()) {
        observer.observe(element);
        // The observer lives as long as the page, so its callback must too.
        callback.forget();
    }
}
