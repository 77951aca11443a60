//! The preload hints the widget's page is sent with: a `Link` header naming the reads the
//! widget makes first, so the browser starts them beside the widget's own files instead
//! of a round trip each after the widget has loaded (issue 20: the verdict on a slow
//! link). Every page gets the bootstrap; a run report's address (`shared`'s `RunPage`)
//! of a configured project also gets the report's `GET` and the verdict's (which the view
//! reads as soon as the report is in, for the headline's wording). Each hint asks for
//! exactly the request the widget's `fetch` makes (same URL, `cors` mode, `same-origin`
//! credentials), so the browser hands the preloaded answer to it instead of fetching
//! again. Only paths built by `Target` from validated ids go into the header: nothing of
//! the address itself is written back.

use axum::http::HeaderValue;
use runboard_shared::{RunPage, Target};

use crate::Config;

/// The `Link` header for the page asked for at `path`.
pub(super) fn preload(path: &str, config: &Config) -> Option<HeaderValue> {
    let hints: Vec<String> = reads(path, config)
        .iter()
        .map(|target| {
            format!(
                "<{}>; rel=preload; as=fetch; crossorigin=anonymous",
                target.path()
            )
        })
        .collect();
    HeaderValue::from_str(&hints.join(", ")).ok()
}

/// The reads the widget starts with on the page at `path`, in the order it needs them.
fn reads(path: &str, config: &Config) -> Vec<Target> {
    let mut reads = vec![Target::Bootstrap];
    if let Some(page) = RunPage::parse(path).filter(|page| config.project(&page.project).is_some())
    {
        reads.push(Target::TestRun(page.project.clone(), page.run.clone()));
        reads.push(Target::Verdict(page.project, page.run));
    }
    reads
}
