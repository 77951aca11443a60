//! The guide's three endpoints as data: method, path template, label, and the path
//! builders from typed ids. Every crate that writes or reads an `/api/…` path uses this
//! table, so the paths are spelled once.

use std::fmt;

use crate::{ProjectId, RunId};

/// One of the Test Execution API's endpoints. Nothing else is forwarded upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// `POST /api/testExecution/{projId}`: start a run.
    Execute,
    /// `POST /api/jobs/{projId}`: job states.
    Jobs,
    /// `GET /api/testRun/{projId}/{runId}`: a run report.
    TestRun,
}

impl Endpoint {
    /// Every endpoint, in the guide's order.
    pub const ALL: [Self; 3] = [Self::Execute, Self::Jobs, Self::TestRun];

    /// The HTTP method the guide documents for it.
    pub const fn method(self) -> &'static str {
        match self {
            Self::Execute | Self::Jobs => "POST",
            Self::TestRun => "GET",
        }
    }

    /// The path template in axum 0.8 route syntax; also the `route` metrics label.
    pub const fn template(self) -> &'static str {
        match self {
            Self::Execute => "/api/testExecution/{projId}",
            Self::Jobs => "/api/jobs/{projId}",
            Self::TestRun => "/api/testRun/{projId}/{runId}",
        }
    }

    /// A short name for metrics, statistics and logs: the path segment after `/api/`.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Execute => "testExecution",
            Self::Jobs => "jobs",
            Self::TestRun => "testRun",
        }
    }

    /// Whether it only reads (may be retried and shared between viewers).
    pub const fn is_read(self) -> bool {
        !matches!(self, Self::Execute)
    }

    /// The endpoint a request path names by its segment after `/api/` (a query is
    /// ignored). The ids are not checked: this classifies, it does not validate.
    pub fn of_path(path: &str) -> Option<Self> {
        let path = path.split_once('?').map_or(path, |(path, _)| path);
        let name = path.strip_prefix("/api/")?.split('/').next()?;
        Self::ALL.into_iter().find(|e| e.label() == name)
    }

    /// The endpoint whose [`template`](Self::template) is `template` (an axum matched path).
    pub fn of_template(template: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.template() == template)
    }
}

impl fmt::Display for Endpoint {
    /// `POST /api/jobs/{projId}`, as the guide writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method(), self.template())
    }
}

/// The path of [`Endpoint::Execute`] for `project`.
pub fn execute_path(project: &ProjectId) -> String {
    crate::Route::Guide(Endpoint::Execute).fill(&[project])
}

/// The path of [`Endpoint::Jobs`] for `project`.
pub fn jobs_path(project: &ProjectId) -> String {
    crate::Route::Guide(Endpoint::Jobs).fill(&[project])
}

/// The path of [`Endpoint::TestRun`] for `run` in `project`.
pub fn test_run_path(project: &ProjectId, run: &RunId) -> String {
    crate::Route::Guide(Endpoint::TestRun).fill(&[project, run])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (ProjectId, RunId) {
        (
            ProjectId::parse("p1").unwrap(),
            RunId::parse("6804f1e2d2d4e0a1c1a0d456").unwrap(),
        )
    }

    /// The path each endpoint's builder gives for the sample ids.
    fn built(endpoint: Endpoint) -> String {
        let (project, run) = ids();
        match endpoint {
            Endpoint::Execute => execute_path(&project),
            Endpoint::Jobs => jobs_path(&project),
            Endpoint::TestRun => test_run_path(&project, &run),
        }
    }

    #[test]
    fn each_endpoint_is_the_guides() {
        let check = |endpoint: Endpoint, method, template, label, path: &str| {
            assert_eq!(endpoint.method(), method, "{endpoint:?}");
            assert_eq!(endpoint.template(), template, "{endpoint:?}");
            assert_eq!(endpoint.label(), label, "{endpoint:?}");
            assert_eq!(built(endpoint), path, "{endpoint:?}");
            assert_eq!(Endpoint::of_path(path), Some(endpoint), "{path}");
            assert_eq!(Endpoint::of_template(template), Some(endpoint));
            assert_eq!(endpoint.to_string(), format!("{method} {template}"));
        };
        check(
            Endpoint::Execute,
            "POST",
            "/api/testExecution/{projId}",
            "testExecution",
            "/api/testExecution/p1",
        );
        check(
            Endpoint::Jobs,
            "POST",
            "/api/jobs/{projId}",
            "jobs",
            "/api/jobs/p1",
        );
        check(
            Endpoint::TestRun,
            "GET",
            "/api/testRun/{projId}/{runId}",
            "testRun",
            "/api/testRun/p1/6804f1e2d2d4e0a1c1a0d456",
        );
    }

    #[test]
    fn template_and_built_path_agree_segment_by_segment() {
        for endpoint in Endpoint::ALL {
            let template: Vec<_> = endpoint.template().split('/').collect();
            let path = built(endpoint);
            let path: Vec<_> = path.split('/').collect();
            assert_eq!(template.len(), path.len(), "{endpoint:?}");
            for (t, p) in template.iter().zip(&path) {
                assert!(t.starts_with('{') || t == p, "{endpoint:?}: {t} vs {p}");
            }
        }
    }

    #[test]
    fn paths_are_classified_by_their_endpoint_segment() {
        let check = |path: &str, expected| assert_eq!(Endpoint::of_path(path), expected, "{path}");
        check("/api/jobs/p?x=1", Some(Endpoint::Jobs));
        check("/api/testRun/p", Some(Endpoint::TestRun));
        check("/api/nope", None);
        check("/api/", None);
        check("/api", None);
        check("/runboard/jobs/p", None);
        check("api/jobs/p", None);
        check("/api/JOBS/p", None);
        assert_eq!(Endpoint::of_template("/api/jobs/p1"), None);
        assert_eq!(
            Endpoint::ALL.map(Endpoint::is_read),
            [false, true, true],
            "only a start writes"
        );
    }
}
