//! The widget's two pages as built (`index.html`, `report.html`): the files each one
//! loads and their bytes as brotli, read from the widget's folder, so that a visit's
//! requests say which page `runboard` sent and how many of its bytes were the widget's.

use std::path::Path;

use super::page::Fetch;
use crate::BenchError;

/// One of the widget's pages as built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Build {
    /// What the record calls it.
    pub(crate) name: &'static str,
    /// Its file in the widget's folder.
    pub(crate) file: &'static str,
    /// The paths of the CSS, JS and wasm it loads, as requested (`/style-….css`).
    assets: Vec<String>,
    /// Those files as `runboard` sends them: their brotli copies (the file itself where
    /// the build made none).
    pub(crate) brotli: u64,
}

/// Both pages of one build of the widget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Builds {
    /// `index.html`: every view.
    pub(crate) full: Build,
    /// `report.html`: the run report alone, for readers.
    pub(crate) report: Build,
}

impl Builds {
    /// Reads both pages from `dir`.
    pub(crate) fn read(dir: &Path) -> Result<Self, BenchError> {
        Ok(Self {
            full: Build::read(dir, "full widget", "index.html")?,
            report: Build::read(dir, "report page", "report.html")?,
        })
    }

    /// The page a visit got: the one whose wasm it loaded (the two builds' files have
    /// different hashes in their names).
    pub(crate) fn served(&self, requests: &[Fetch]) -> Option<&Build> {
        [&self.report, &self.full].into_iter().find(|build| {
            build
                .wasm()
                .is_some_and(|wasm| requests.iter().any(|request| request.path == wasm))
        })
    }
}

impl Build {
    fn read(dir: &Path, name: &'static str, file: &'static str) -> Result<Self, BenchError> {
        let html = std::fs::read_to_string(dir.join(file)).map_err(|e| {
            BenchError::Widget(format!(
                "cannot read {} in {} ({e}); build the widget with ./x widget",
                file,
                dir.display()
            ))
        })?;
        let assets = assets(&html);
        let brotli = assets.iter().map(|path| sent_size(dir, path)).sum();
        Ok(Self {
            name,
            file,
            assets,
            brotli,
        })
    }

    fn wasm(&self) -> Option<&str> {
        self.assets
            .iter()
            .map(String::as_str)
            .find(|path| path.ends_with(".wasm"))
    }

    /// The bytes of the widget itself among a visit's `requests`: its page (the
    /// navigation) and its CSS, JS and wasm, as transferred, headers included.
    pub(crate) fn bytes_in(&self, requests: &[Fetch]) -> u64 {
        let bytes: f64 = requests
            .iter()
            .filter(|r| r.initiator == "navigation" || self.assets.contains(&r.path))
            .map(|r| r.bytes)
            .sum();
        bytes as u64
    }
}

/// The local files a page names in `href="/…"` and `src="/…"`: its CSS, JS and wasm.
fn assets(html: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for attribute in ["href=\"/", "src=\"/"] {
        for (at, _) in html.match_indices(attribute) {
            let rest = &html[at + attribute.len() - 1..];
            let Some(path) = rest.split('"').next() else {
                continue;
            };
            let asset = [".css", ".js", ".wasm"].iter().any(|e| path.ends_with(e));
            if asset && !out.iter().any(|p| p == path) {
                out.push(path.to_owned());
            }
        }
    }
    out
}

/// The size of what `runboard` sends for `path`: its `.br` copy, else the file.
fn sent_size(dir: &Path, path: &str) -> u64 {
    let file = dir.join(path.trim_start_matches('/'));
    let brotli = file.with_file_name(format!(
        "{}.br",
        file.file_name().unwrap_or_default().to_string_lossy()
    ));
    [brotli, file]
        .iter()
        .find_map(|f| std::fs::metadata(f).ok())
        .map_or(0, |m| m.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<link rel="icon" href="data:," />
<link rel="stylesheet" href="/style-a.css" integrity="x"/>
<script type="module" src="/runboard-loader-b.js"></script>
<link rel="modulepreload" href="/runboard-frontend-c.js"><link rel="preload" href="/runboard-frontend-c_bg.wasm" as="fetch">"#;

    fn fetch(path: &str, initiator: &str, bytes: f64) -> Fetch {
        Fetch {
            path: path.to_owned(),
            initiator: initiator.to_owned(),
            start: 0.0,
            end: 1.0,
            bytes,
        }
    }

    #[test]
    fn a_page_s_assets_are_its_local_css_js_and_wasm() {
        assert_eq!(
            assets(PAGE),
            [
                "/style-a.css",
                "/runboard-frontend-c.js",
                "/runboard-frontend-c_bg.wasm",
                "/runboard-loader-b.js",
            ]
        );
    }

    #[test]
    fn a_visit_is_told_apart_by_its_wasm_and_counts_the_widget_s_bytes() {
        let dir = tempfile::tempdir().expect("scratch folder");
        std::fs::write(dir.path().join("index.html"), PAGE.replace("-c", "-full")).expect("index");
        std::fs::write(dir.path().join("report.html"), PAGE).expect("report");
        std::fs::write(dir.path().join("runboard-frontend-c_bg.wasm"), [0u8; 900]).expect("wasm");
        std::fs::write(
            dir.path().join("runboard-frontend-c_bg.wasm.br"),
            [0u8; 300],
        )
        .expect("brotli");
        let builds = Builds::read(dir.path()).expect("builds");
        assert_eq!(builds.report.brotli, 300);
        let visit = [
            fetch("/p/x/runs/y", "navigation", 1_000.0),
            fetch(&runboard_shared::Target::Bootstrap.path(), "link", 500.0),
            fetch("/runboard-frontend-c_bg.wasm", "link", 300.0),
            fetch("/style-a.css", "link", 50.0),
        ];
        let served = builds.served(&visit).expect("told apart");
        assert_eq!(served.name, "report page");
        assert_eq!(served.bytes_in(&visit), 1_350);
        assert_eq!(builds.served(&visit[..2]), None);
    }
}
