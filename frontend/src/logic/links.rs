//! URLs inside the widget: query parsing and encoding, and the view preferences
//! (`embed`, `theme`) that every internal link carries along. The pages' paths are the
//! router's (`Route::href`).

/// A colour theme forced by `?theme=`; without it the system's preference is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Theme {
    /// `?theme=light`.
    Light,
    /// `?theme=dark`.
    Dark,
}

impl Theme {
    /// The query and `data-theme` value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }
}

/// How the widget is shown, fixed by the first URL and kept across navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Prefs {
    /// `?embed=1`: compact layout for iframes.
    pub(crate) embed: bool,
    /// `?theme=light|dark`.
    pub(crate) theme: Option<Theme>,
}

impl Prefs {
    /// Reads `embed` and `theme` from query pairs.
    pub(crate) fn from_query(pairs: &[(String, String)]) -> Self {
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        Self {
            embed: matches!(get("embed"), Some("1" | "true" | "yes")),
            theme: match get("theme") {
                Some("light") => Some(Theme::Light),
                Some("dark") => Some(Theme::Dark),
                _ => None,
            },
        }
    }

    /// `path` with these preferences and `extra` pairs as its query.
    pub(crate) fn href(&self, path: &str, extra: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, &str)> = extra
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .copied()
            .collect();
        if self.embed {
            pairs.push(("embed", "1"));
        }
        if let Some(theme) = self.theme {
            pairs.push(("theme", theme.as_str()));
        }
        with_query(path, &pairs)
    }
}

pub(crate) use runboard_shared::url::{decode_path, encode, parse_query, with_query};

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(search: &str) -> Vec<(String, String)> {
        parse_query(search)
    }

    #[test]
    fn queries_round_trip() {
        assert_eq!(
            pairs("?suite=s1&agent=my%20agent&x"),
            vec![
                ("suite".to_owned(), "s1".to_owned()),
                ("agent".to_owned(), "my agent".to_owned()),
                ("x".to_owned(), String::new()),
            ]
        );
        assert_eq!(
            pairs("tests=a%2Cb+c"),
            vec![("tests".to_owned(), "a,b c".to_owned())]
        );
        assert_eq!(
            pairs("bad=%zz%"),
            vec![("bad".to_owned(), "%zz%".to_owned())]
        );
        assert_eq!(pairs(""), vec![]);
        let href = with_query("/p/x/start", &[("q", "a b&c/é")]);
        assert_eq!(href, "/p/x/start?q=a%20b%26c%2F%C3%A9");
        assert_eq!(
            pairs(href.split_once('?').map(|(_, q)| q).unwrap_or_default())[0].1,
            "a b&c/é"
        );
    }

    #[test]
    fn prefs_travel_with_every_link() {
        let prefs = Prefs::from_query(&pairs("?embed=1&theme=dark"));
        assert_eq!(
            prefs,
            Prefs {
                embed: true,
                theme: Some(Theme::Dark)
            }
        );
        assert_eq!(prefs.href("/p/a/jobs", &[]), "/p/a/jobs?embed=1&theme=dark");
        assert_eq!(
            prefs.href("/p/a/runs/r", &[("job", "j1"), ("q", "")]),
            "/p/a/runs/r?job=j1&embed=1&theme=dark"
        );
        let plain = Prefs::from_query(&pairs("?theme=blue"));
        assert_eq!(plain, Prefs::default());
        assert_eq!(plain.href("/p/a/start", &[]), "/p/a/start");
    }
}

/// The project id in a widget path (`/p/{proj}/…`), for the header's picker.
pub(crate) fn project_in_path(path: &str) -> Option<String> {
    let mut parts = path.trim_start_matches('/').split('/');
    (parts.next() == Some("p"))
        .then(|| parts.next().map(decode_path))
        .flatten()
        .filter(|p| !p.is_empty())
}

#[cfg(test)]
mod path_tests {
    use super::*;

    #[test]
    fn finds_the_project_in_a_path() {
        assert_eq!(project_in_path("/p/abc/runs/r1").as_deref(), Some("abc"));
        assert_eq!(project_in_path("/p/abc").as_deref(), Some("abc"));
        assert_eq!(project_in_path("/"), None);
        assert_eq!(project_in_path("/x/abc"), None);
    }
}
