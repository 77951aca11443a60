//! The widget's own router: the typed [`Route`] parsed from the address's path, and the
//! one [`Router`] that owns where the widget is (path and query). It replaces
//! `leptos_router`, which cost about 42 KB of raw wasm for the routes we have.

mod anchor;

use leptos::{ev, prelude::*};
use wasm_bindgen::JsValue;

use crate::{
    browser,
    logic::links::{decode_path, encode, parse_query},
};

/// A page of the widget, parsed from the address's path. The views are chosen by a
/// `match` on it, so a page and its parameters cannot disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `/`: the status board of every project the user may see.
    Home,
    /// `/board` (`?tv=1` for a wall screen): the status board.
    Board,
    /// `/p/:proj/start`.
    Start {
        /// The project id, decoded.
        project: String,
    },
    /// `/p/:proj/jobs`.
    Jobs {
        /// The project id, decoded.
        project: String,
    },
    /// `/p/:proj/runs/:run`.
    Run {
        /// The project id, decoded.
        project: String,
        /// The run id, decoded.
        run: String,
    },
    /// `/p/:proj/history`.
    History {
        /// The project id, decoded.
        project: String,
    },
    /// `/p/:proj/rules`: the project's triage rules.
    Rules {
        /// The project id, decoded.
        project: String,
    },
    /// `/p/:proj/notifications`: the project's notification channels and messages.
    Notifications {
        /// The project id, decoded.
        project: String,
    },
    /// `/p/:proj/tokens`: the project's machine tokens (administrators).
    Tokens {
        /// The project id, decoded.
        project: String,
    },
    /// Any other path.
    NotFound,
}

impl Route {
    /// The route of a path as the address bar holds it (percent-encoded). Parameters are
    /// percent-decoded, static segments compared as written, one trailing `/` allowed and
    /// empty segments refused, as `leptos_router` did.
    pub(crate) fn parse(path: &str) -> Self {
        let path = path.strip_suffix('/').unwrap_or(path);
        if path.is_empty() {
            return Self::Home;
        }
        let Some(rest) = path.strip_prefix('/') else {
            return Self::NotFound;
        };
        let segments: Vec<&str> = rest.split('/').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return Self::NotFound;
        }
        let project = |p: &str| decode_path(p);
        match segments.as_slice() {
            ["board"] => Self::Board,
            ["p", p, "start"] => Self::Start {
                project: project(p),
            },
            ["p", p, "jobs"] => Self::Jobs {
                project: project(p),
            },
            ["p", p, "history"] => Self::History {
                project: project(p),
            },
            ["p", p, "rules"] => Self::Rules {
                project: project(p),
            },
            ["p", p, "notifications"] => Self::Notifications {
                project: project(p),
            },
            ["p", p, "tokens"] => Self::Tokens {
                project: project(p),
            },
            ["p", p, "runs", run] => Self::Run {
                project: project(p),
                run: decode_path(run),
            },
            _ => Self::NotFound,
        }
    }

    /// The page's path, parameters percent-encoded: the inverse of [`parse`](Self::parse),
    /// so a link the widget writes always leads back to the same page. [`NotFound`]
    /// gets a path no page has.
    ///
    /// [`NotFound`]: Self::NotFound
    pub(crate) fn href(&self) -> String {
        match self {
            Self::Home => "/".to_owned(),
            Self::Board => "/board".to_owned(),
            Self::Start { project } => format!("/p/{}/start", encode(project)),
            Self::Jobs { project } => format!("/p/{}/jobs", encode(project)),
            Self::History { project } => format!("/p/{}/history", encode(project)),
            Self::Rules { project } => format!("/p/{}/rules", encode(project)),
            Self::Notifications { project } => format!("/p/{}/notifications", encode(project)),
            Self::Tokens { project } => format!("/p/{}/tokens", encode(project)),
            Self::Run { project, run } => format!("/p/{}/runs/{}", encode(project), encode(run)),
            Self::NotFound => "/not-found".to_owned(),
        }
    }

    /// Whether this build of the widget draws the page: the full widget every one, the
    /// report page (built without the `full` feature) only a run report. A constant for
    /// every other route there, so the compiler leaves their views out of it; the server
    /// sends those addresses the full widget, which [`Router::navigate`] loads for them.
    pub(crate) fn drawn_here(&self) -> bool {
        cfg!(feature = "full") || matches!(self, Self::Run { .. })
    }

    /// The project the page belongs to, if any.
    pub(crate) fn project(&self) -> Option<&str> {
        match self {
            Self::Start { project }
            | Self::Jobs { project }
            | Self::History { project }
            | Self::Rules { project }
            | Self::Notifications { project }
            | Self::Tokens { project }
            | Self::Run { project, .. } => Some(project),
            Self::Home | Self::Board | Self::NotFound => None,
        }
    }
}

/// Where the widget is: the path (percent-encoded, as in the address bar) and the
/// decoded query pairs in their order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Location {
    /// `/p/x/runs/r`.
    pub(crate) path: String,
    /// `?a=1&b=2` as `[("a", "1"), ("b", "2")]`.
    pub(crate) query: Vec<(String, String)>,
}

impl Location {
    /// The location of an address the widget writes: `/path?query`, a `#hash` ignored.
    pub(crate) fn from_href(href: &str) -> Self {
        let href = href.split_once('#').map_or(href, |(before, _)| before);
        let (path, search) = href.split_once('?').unwrap_or((href, ""));
        Self {
            path: path.to_owned(),
            query: parse_query(search),
        }
    }

    /// The last value given for `key`, as `leptos_router`'s query map answered.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The widget's location, owned here: set from the address bar at start, on `popstate`,
/// by [`Router::navigate`] and by clicks on the app's own links. A `Copy` handle in
/// context, so views and components hold it without lifetimes.
#[derive(Clone, Copy)]
pub(crate) struct Router {
    location: RwSignal<Location>,
    route: Memo<Route>,
}

impl Router {
    /// Starts following the address bar for the calling component's lifetime and
    /// provides the router as context.
    pub(crate) fn start() -> Self {
        let location = RwSignal::new(current());
        let route = Memo::new(move |_| location.with(|l| Route::parse(&l.path)));
        let router = Self { location, route };
        // Back and forward: the browser already changed the address (and restores the
        // scroll position itself).
        let popstate = window_event_listener(ev::popstate, move |_| location.set(current()));
        let click = window_event_listener(ev::click, move |ev| anchor::on_click(router, &ev));
        on_cleanup(move || {
            popstate.remove();
            click.remove();
        });
        provide_context(router);
        router
    }

    /// The page shown; it changes only when the route does, not with the query.
    pub(crate) fn route(self) -> Memo<Route> {
        self.route
    }

    /// The path, tracked.
    pub(crate) fn path(self) -> String {
        self.location.with(|l| l.path.clone())
    }

    /// A query value, tracked: the caller runs again when the address changes.
    pub(crate) fn query(self, key: &str) -> Option<String> {
        self.location.with(|l| l.get(key).map(str::to_owned))
    }

    /// A query value, read once (views that write their own settings back to the
    /// address read their start from it this way).
    pub(crate) fn query_untracked(self, key: &str) -> Option<String> {
        self.location
            .with_untracked(|l| l.get(key).map(str::to_owned))
    }

    /// Keeps a view's setting equal to the query's `key` (read through `parse`) when the
    /// address changes under the view, which writes its settings back to the address:
    /// Back and Forward, or a link to the same page with other settings. Only while the
    /// route is still the one the view was made for, so leaving never rewrites it.
    pub(crate) fn follow<T: PartialEq + Send + Sync + 'static>(
        self,
        key: &'static str,
        value: RwSignal<T>,
        parse: fn(Option<&str>) -> T,
    ) {
        let mine = self.route.get_untracked();
        Effect::new(move |_| {
            let wanted = parse(self.query(key).as_deref());
            let here = self.route.with_untracked(|r| *r == mine);
            if here && value.with_untracked(|v| *v != wanted) {
                value.set(wanted);
            }
        });
    }

    /// Every query pair, read once.
    pub(crate) fn query_pairs_untracked(self) -> Vec<(String, String)> {
        self.location.with_untracked(|l| l.query.clone())
    }

    /// Goes to `href` (`/path?query`, as `Prefs::href` builds it): a new history entry,
    /// or with `replace` (and for the address already shown) the current one rewritten.
    /// A new path starts at the top of the page, as `leptos_router` did.
    /// A page this build does not draw is loaded from the server instead (the report
    /// page's links to the rest of the widget).
    pub(crate) fn navigate(self, href: &str, replace: bool) {
        let next = Location::from_href(href);
        if !Route::parse(&next.path).drawn_here() {
            browser::load(href, replace);
            return;
        }
        let (same_path, same) = self
            .location
            .with_untracked(|now| (now.path == next.path, *now == next));
        if replace || same {
            browser::replace_url(href);
        } else {
            push_url(href);
        }
        if !same_path && let Some(window) = web_sys::window() {
            window.scroll_to_with_x_and_y(0.0, 0.0);
        }
        if !same {
            self.location.set(next);
        }
    }
}

/// The router `Shell` started.
pub(crate) fn router() -> Router {
    expect_context::<Router>()
}

/// The address bar's location now.
fn current() -> Location {
    let path = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default();
    Location {
        path,
        query: parse_query(&browser::location_search()),
    }
}

/// Adds a history entry for `href` without loading it.
fn push_url(href: &str) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.push_state_with_url(&JsValue::NULL, "", Some(href));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, expected: Route) {
        assert_eq!(Route::parse(path), expected, "{path}");
    }

    fn project(id: &str) -> String {
        id.to_owned()
    }

    #[test]
    fn paths_parse_to_their_routes() {
        check("/", Route::Home);
        check("", Route::Home);
        check("/board", Route::Board);
        check("/board/", Route::Board);
        check(
            "/p/a1/rules",
            Route::Rules {
                project: project("a1"),
            },
        );
        check(
            "/p/a1/notifications",
            Route::Notifications {
                project: project("a1"),
            },
        );
        check(
            "/p/a1/start",
            Route::Start {
                project: project("a1"),
            },
        );
        check(
            "/p/a1/jobs",
            Route::Jobs {
                project: project("a1"),
            },
        );
        check(
            "/p/a1/history",
            Route::History {
                project: project("a1"),
            },
        );
        check(
            "/p/a1/runs/r_2",
            Route::Run {
                project: project("a1"),
                run: "r_2".to_owned(),
            },
        );
        // One trailing slash is the same page.
        check(
            "/p/a1/jobs/",
            Route::Jobs {
                project: project("a1"),
            },
        );
    }

    #[test]
    fn parameters_are_percent_decoded() {
        check(
            "/p/my%20proj/runs/r%2F1",
            Route::Run {
                project: project("my proj"),
                run: "r/1".to_owned(),
            },
        );
        // A `+` in a path is a plus, not a space; a broken escape stays as written.
        check(
            "/p/a+b/start",
            Route::Start {
                project: project("a+b"),
            },
        );
        check(
            "/p/a%zz/start",
            Route::Start {
                project: project("a%zz"),
            },
        );
        check(
            "/p/%C3%A9/start",
            Route::Start {
                project: project("é"),
            },
        );
    }

    #[test]
    fn other_paths_are_not_found() {
        for path in [
            "/p",
            "/p/a1",
            "/p//start",
            "/p/a1/start/x",
            "/p/a1/runs",
            "/p/a1/runs/",
            "/p/a1/runs//",
            "/p/a1/Start",
            "/x/a1/start",
            "/p/a1/start//",
            "//",
            "p/a1/start",
            "/index.html",
            "/board/x",
            "/p/a1/rules/r1",
        ] {
            check(path, Route::NotFound);
        }
    }

    #[test]
    fn every_route_parses_back_from_its_href() {
        // Ids a person may give a project or a run: spaces, slashes, `+`, `%`, `?`, `#`,
        // non-ASCII and what looks like an escape.
        for id in [
            "a1", "my proj", "a/b", "a+b", "100%", "a%2Fb", "q?x#y", "é☃",
        ] {
            let project = || project(id);
            for route in [
                Route::Home,
                Route::Start { project: project() },
                Route::Jobs { project: project() },
                Route::History { project: project() },
                Route::Rules { project: project() },
                Route::Notifications { project: project() },
                Route::Tokens { project: project() },
                Route::Board,
                Route::Run {
                    project: project(),
                    run: format!("{id}-run"),
                },
                Route::NotFound,
            ] {
                let href = route.href();
                assert_eq!(Route::parse(&href), route, "{href}");
                assert!(
                    href.starts_with('/') && !href.contains(['?', '#']),
                    "{href}"
                );
            }
        }
        assert_eq!(
            Route::Run {
                project: project("a b"),
                run: "r/1".to_owned()
            }
            .href(),
            "/p/a%20b/runs/r%2F1"
        );
    }

    #[test]
    fn routes_know_their_project() {
        assert_eq!(Route::parse("/p/a1/runs/r").project(), Some("a1"));
        assert_eq!(Route::parse("/p/a1/history").project(), Some("a1"));
        assert_eq!(Route::parse("/p/a%20b/rules").project(), Some("a b"));
        assert_eq!(Route::Home.project(), None);
        assert_eq!(Route::Board.project(), None);
        assert_eq!(Route::NotFound.project(), None);
    }

    #[test]
    fn hrefs_split_into_path_and_query() {
        let at = Location::from_href("/p/a/runs/r?status=Failed&q=a%20b&status=All#row");
        assert_eq!(at.path, "/p/a/runs/r");
        assert_eq!(at.get("q"), Some("a b"));
        // The last of repeated keys wins, as it did with `leptos_router`.
        assert_eq!(at.get("status"), Some("All"));
        assert_eq!(at.get("test"), None);
        assert_eq!(
            Location::from_href("/p/a/jobs"),
            Location {
                path: "/p/a/jobs".to_owned(),
                query: Vec::new()
            }
        );
    }
}
