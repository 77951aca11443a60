//! The request mix: what the widget sends while people watch runs, as method, path,
//! body and `Accept-Encoding`, the same bytes for both paths.

use std::sync::Arc;

use reqwest::Method;
use runboard_shared::{
    Endpoint, Id, ProjectId, RunId, Selector, execute_path, jobs_path, test_run_path,
};

use crate::{
    BenchError,
    body::{execute_body, jobs_body},
    fixture::Fixture,
};

/// One request kind.
#[derive(Debug, Clone)]
pub(crate) struct Scenario {
    /// How the report names it.
    pub(crate) label: String,
    pub(crate) method: Method,
    /// The path under the target's base, the same for the simulator and `runboard`.
    pub(crate) path: String,
    /// Request `i` sends `bodies[i % len]`; empty for a GET.
    bodies: Arc<[String]>,
    /// The `Accept-Encoding` sent, if any.
    pub(crate) accept_encoding: Option<&'static str>,
}

/// What a browser accepts in the compressed rows: `runboard` answers in brotli (the
/// simulator ignores it, so the direct path stays plain).
pub(crate) const BROWSER_ENCODINGS: &str = "br, gzip";

impl Scenario {
    /// The body of request `index`, if this kind has one.
    pub(crate) fn body(&self, index: usize) -> Option<String> {
        if self.bodies.is_empty() {
            return None;
        }
        self.bodies.get(index % self.bodies.len()).cloned()
    }

    /// [`Self::plain`], then the same requests with `Accept-Encoding:`
    /// [`BROWSER_ENCODINGS`].
    pub(crate) fn all(fixture: &Fixture) -> Result<Vec<Self>, BenchError> {
        let plain = Self::plain(fixture)?;
        let compressed = plain.iter().cloned().map(|scenario| Self {
            label: format!("{}, {BROWSER_ENCODINGS}", scenario.label),
            accept_encoding: Some(BROWSER_ENCODINGS),
            ..scenario
        });
        Ok(plain.iter().cloned().chain(compressed).collect())
    }

    /// The widget's polling of ten jobs, the two run reports, and starting one test
    /// (a different test each time, so each request queues a new job), without
    /// `Accept-Encoding`.
    fn plain(fixture: &Fixture) -> Result<Vec<Self>, BenchError> {
        let proj = ProjectId::parse(fixture.project.as_str())?;
        let run = |label: String, run_id: &str| -> Result<Self, BenchError> {
            Ok(Self {
                label,
                method: Method::GET,
                path: test_run_path(&proj, &RunId::parse(run_id)?),
                bodies: Arc::from(Vec::new()),
                accept_encoding: None,
            })
        };
        Ok(vec![
            Self {
                label: format!("{}, {} ids", Endpoint::Jobs.label(), fixture.job_ids.len()),
                method: Method::POST,
                path: jobs_path(&proj),
                bodies: Arc::from(vec![jobs_body(&fixture.job_ids)?]),
                accept_encoding: None,
            },
            run(
                format!(
                    "{}, {} tests",
                    Endpoint::TestRun.label(),
                    fixture.small_run.tests
                ),
                &fixture.small_run.id,
            )?,
            run(
                format!(
                    "{}, {} tests",
                    Endpoint::TestRun.label(),
                    fixture.large_run.tests
                ),
                &fixture.large_run.id,
            )?,
            Self {
                label: Endpoint::Execute.label().to_owned(),
                method: Method::POST,
                path: execute_path(&proj),
                bodies: fixture
                    .test_ids
                    .iter()
                    .map(|id| execute_body(Selector::Test(Id::parse("testId", id.as_str())?)))
                    .collect::<Result<Vec<_>, _>>()?
                    .into(),
                accept_encoding: None,
            },
        ])
    }
}
