//! Clicks on the app's own `<a>` links become in-app navigations (no page load), with
//! the same checks as `leptos_router`'s anchor handling; every other click is left to
//! the browser.

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlAnchorElement, MouseEvent};

use super::Router;
use crate::browser;

/// What about a clicked link decides whether the widget handles it.
#[derive(Debug, Default)]
struct Link {
    /// The `target` attribute (`_blank` opens elsewhere).
    target: String,
    /// Whether it has a `download` attribute.
    download: bool,
    /// The `rel` attribute (`external` leaves the app).
    rel: String,
    /// The resolved `href` (empty without one).
    href: String,
    /// The resolved `href`'s origin.
    origin: String,
    /// Its path, percent-encoded.
    path: String,
    /// Its query, with the `?` (empty without one).
    search: String,
    /// Its fragment, with the `#` (empty without one).
    hash: String,
}

impl Link {
    /// The address to navigate to inside the app, or `None` when the browser should
    /// follow the link itself: another window, a download, `rel=external`, another
    /// origin, no `href`, or a `#fragment` (the browser scrolls to it).
    fn internal(&self, origin: &str) -> Option<String> {
        let external = self.rel.split([' ', '\t']).any(|r| r == "external");
        let ours = self.target.is_empty()
            && !self.download
            && !external
            && !self.href.is_empty()
            && self.hash.is_empty()
            && self.origin == origin;
        ours.then(|| format!("{}{}", self.path, self.search))
    }
}

/// Whether a click is a plain one: the main button, no modifier (those open new tabs
/// or windows), not already handled.
fn plain(ev: &MouseEvent) -> bool {
    !ev.default_prevented()
        && ev.button() == 0
        && !(ev.meta_key() || ev.alt_key() || ev.ctrl_key() || ev.shift_key())
}

/// The window's click listener: navigates inside the app for a plain click on one of
/// its own links.
pub(super) fn on_click(router: Router, ev: &MouseEvent) {
    if !plain(ev) {
        return;
    }
    let Some(anchor) = ev
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|e| e.closest("a").ok().flatten())
        .and_then(|a| a.dyn_into::<HtmlAnchorElement>().ok())
    else {
        return;
    };
    let link = Link {
        target: anchor.target(),
        download: anchor.has_attribute("download"),
        rel: anchor.rel(),
        href: anchor.href(),
        origin: anchor.origin(),
        path: anchor.pathname(),
        search: anchor.search(),
        hash: anchor.hash(),
    };
    if let Some(href) = link.internal(&browser::location_origin()) {
        ev.prevent_default();
        router.navigate(&href, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "https://rb.example";

    /// A same-origin link to `/p/a/jobs?embed=1`, changed by `edit`.
    fn check(edit: impl FnOnce(&mut Link), expected: Option<&str>) {
        let mut link = Link {
            href: format!("{ORIGIN}/p/a/jobs?embed=1"),
            origin: ORIGIN.to_owned(),
            path: "/p/a/jobs".to_owned(),
            search: "?embed=1".to_owned(),
            ..Link::default()
        };
        edit(&mut link);
        assert_eq!(link.internal(ORIGIN).as_deref(), expected, "{link:?}");
    }

    #[test]
    fn own_links_navigate_inside_the_app() {
        check(|_| {}, Some("/p/a/jobs?embed=1"));
        check(|l| l.search.clear(), Some("/p/a/jobs"));
        check(|l| l.rel = "noopener".to_owned(), Some("/p/a/jobs?embed=1"));
    }

    #[test]
    fn other_links_are_left_to_the_browser() {
        check(|l| l.target = "_blank".to_owned(), None);
        check(|l| l.download = true, None);
        check(|l| l.rel = "noopener external".to_owned(), None);
        check(|l| l.origin = "https://elsewhere.example".to_owned(), None);
        check(|l| l.href.clear(), None);
        check(|l| l.hash = "#row".to_owned(), None);
    }
}
