//! The one widget page whose address the server reads too: a run report,
//! `/p/{projId}/runs/{runId}`. `runboard` sends the page of such an address with a hint to
//! start reading the report at once (`proxy/src/static_files/hints.rs`), instead of after
//! the widget has loaded; the widget's router (`frontend/src/router.rs`) parses the same
//! address (a test in `frontend/src/api.rs` holds the two to each other).

use crate::{ProjectId, RunId, url};

/// The `id` of the verdict line the server writes into a run report's page before the
/// widget has loaded (`proxy/src/static_files/first_paint.rs`); the widget removes that
/// element once its own header, or an error in its place, is on screen.
pub const FIRST_PAINT_ID: &str = "rb-first-paint";

/// The first and third segments of a run report's address.
const PROJECT_SEGMENT: &str = "p";
const RUNS_SEGMENT: &str = "runs";

/// A run report page's address, with validated ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPage {
    /// The project the run belongs to.
    pub project: ProjectId,
    /// The run whose report the page shows.
    pub run: RunId,
}

impl RunPage {
    /// The report page of `path` (percent-encoded, as in the address bar), read the way
    /// the widget's router reads it (one trailing `/` allowed, segments percent-decoded),
    /// or `None` when it is another page or an id is not valid: only validated ids come
    /// out, so nothing of a hostile address is ever written back.
    pub fn parse(path: &str) -> Option<Self> {
        let path = path.strip_suffix('/').unwrap_or(path);
        let mut segments = path.strip_prefix('/')?.split('/');
        let (Some(PROJECT_SEGMENT), Some(project), Some(RUNS_SEGMENT), Some(run), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return None;
        };
        Some(Self {
            project: ProjectId::parse(url::decode_path(project)).ok()?,
            run: RunId::parse(url::decode_path(run)).ok()?,
        })
    }

    /// The page's address, the inverse of [`parse`](Self::parse).
    pub fn path(&self) -> String {
        format!(
            "/{PROJECT_SEGMENT}/{}/{RUNS_SEGMENT}/{}",
            url::encode(&self.project),
            url::encode(&self.run)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(project: &str, run: &str) -> RunPage {
        RunPage {
            project: ProjectId::parse(project).unwrap(),
            run: RunId::parse(run).unwrap(),
        }
    }

    #[test]
    fn report_addresses_and_others() {
        let check = |path: &str, expected: Option<RunPage>| {
            assert_eq!(RunPage::parse(path), expected, "{path:?}");
        };
        check("/p/shop/runs/r1", Some(page("shop", "r1")));
        check("/p/shop/runs/r1/", Some(page("shop", "r1")));
        check("/p/sh%6Fp/runs/r%2D1", Some(page("shop", "r-1")));
        check("/p/shop/runs/r1//", None);
        check("/p/shop/runs", None);
        check("/p/shop/runs/r1/x", None);
        check("/p/shop/jobs", None);
        check("/", None);
        check("", None);
        check("p/shop/runs/r1", None);
        check("/p//runs/r1", None);
        check("/p/shop/runs/%3Cscript%3E", None);
        check("/p/shop/runs/<script>", None);
        check("/p/shop/runs/a%2Fb", None);
        check(&format!("/p/shop/runs/{}", "r".repeat(65)), None);
    }

    #[test]
    fn the_address_reads_back() {
        let run = page("shop_2", "64f1c0-aa");
        assert_eq!(run.path(), "/p/shop_2/runs/64f1c0-aa");
        assert_eq!(RunPage::parse(&run.path()), Some(run));
    }
}
