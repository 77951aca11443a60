//! Request targets: a [`Route`] with its parameters filled in, as typed values. Every
//! side that calls Runboard (the widget, the end-to-end suite, the bench, the tests)
//! builds its paths with [`Target::path`], and the server's table says what each path
//! means, so a renamed route is renamed everywhere by the compiler.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{
    Endpoint, JobId, ProjectId, Route, RuleId, RunId, ValidationError,
    url::{decode_path, encode, parse_query, with_query},
};

/// The file `GET /runboard/export/…` answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// One row per test, for spreadsheets.
    Csv,
    /// JUnit XML, for CI tools that read test reports.
    Junit,
}

impl ExportFormat {
    /// Both, in the order the widget offers them.
    pub const ALL: [Self; 2] = [Self::Csv, Self::Junit];

    /// The `format=` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Junit => "junit",
        }
    }

    /// The format named by a `format=` value.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == text)
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `GET /runboard/history/{projId}` answers with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HistoryFormat {
    /// One page of [`HistoryPage`](crate::HistoryPage).
    #[default]
    Json,
    /// Every page of the same filters as one CSV download.
    Csv,
}

impl HistoryFormat {
    /// The `format=` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
        }
    }
}

/// The query of `GET /runboard/history/{projId}`: filters as sent (the server parses and
/// checks each), a page cursor and size, and the answer's format. Field names are the
/// query's names, so the server reads it with serde and the callers write it with
/// [`pairs`](Self::pairs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Only executions started by this user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Only executions of this preset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// Only executions in this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Only executions started here (`runboard`) or elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Only executions started on or after this time (RFC 3339 or a day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Only executions started before this time (RFC 3339 or a day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The page after this opaque cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// How many executions per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// JSON (the default) or CSV.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<HistoryFormat>,
}

impl HistoryQuery {
    /// The query as `(name, value)` pairs, in the field order, empty ones left out.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let texts = [
            ("user", self.user.clone()),
            ("preset", self.preset.clone()),
            ("status", self.status.clone()),
            ("origin", self.origin.clone()),
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("cursor", self.cursor.clone()),
            ("limit", self.limit.map(|n| n.to_string())),
            ("format", self.format.map(|f| f.as_str().to_owned())),
        ];
        texts
            .into_iter()
            .filter_map(|(name, value)| Some((name, value.filter(|v| !v.is_empty())?)))
            .collect()
    }

    /// Reads decoded query pairs, as the server reads them: unknown or repeated names and
    /// unreadable values are refused with a message naming them.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, ValidationError> {
        let mut query = Self::default();
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in pairs {
            if seen.contains(&name.as_str()) {
                return Err(ValidationError::new(name, "is given more than once"));
            }
            seen.push(name);
            let value = value.clone();
            let slot = match name.as_str() {
                "user" => &mut query.user,
                "preset" => &mut query.preset,
                "status" => &mut query.status,
                "origin" => &mut query.origin,
                "from" => &mut query.from,
                "to" => &mut query.to,
                "cursor" => &mut query.cursor,
                "limit" => {
                    query.limit = Some(
                        value
                            .parse()
                            .map_err(|_| ValidationError::new("limit", "is not a whole number"))?,
                    );
                    continue;
                }
                "format" => {
                    query.format = Some(match value.as_str() {
                        "json" => HistoryFormat::Json,
                        "csv" => HistoryFormat::Csv,
                        _ => return Err(ValidationError::new("format", "is json or csv")),
                    });
                    continue;
                }
                other => return Err(ValidationError::new(other, "is not a history filter")),
            };
            *slot = Some(value);
        }
        Ok(query)
    }
}

/// The query parameter of `GET /runboard/rules/{projId}` that adds the expired rules
/// (`include=expired`).
pub const RULES_INCLUDE: &str = "include";

/// The query of `GET /runboard/rules/{projId}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RulesQuery {
    /// List expired quarantines too (`include=expired`).
    pub include_expired: bool,
}

impl RulesQuery {
    /// The query as pairs: `include=expired` or nothing.
    pub fn pairs(self) -> Vec<(&'static str, &'static str)> {
        if self.include_expired {
            vec![(RULES_INCLUDE, "expired")]
        } else {
            Vec::new()
        }
    }

    /// Reads decoded query pairs, as the server reads them: anything but one
    /// `include=expired` is refused naming the parameter.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, ValidationError> {
        let mut query = Self::default();
        for (name, value) in pairs {
            if name != RULES_INCLUDE {
                return Err(ValidationError::new(
                    name,
                    "is not a parameter of the rules",
                ));
            }
            if query.include_expired {
                return Err(ValidationError::new(name, "is given more than once"));
            }
            if value != "expired" {
                return Err(ValidationError::new(name, "can only be expired"));
            }
            query.include_expired = true;
        }
        Ok(query)
    }
}

/// The query parameter of `GET /runboard/live/…` naming the report the viewer holds by
/// its `ETag`; the server reads it under the same name.
pub const LIVE_SINCE: &str = "since";

/// A request target of Runboard's contract: which [`Route`], with typed parameters. Ids
/// are validated types, so a target built here is always one the server accepts; tests
/// that send deliberately broken paths use [`Route::fill`] instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `POST /api/testExecution/{projId}`.
    Execute(ProjectId),
    /// `POST /api/jobs/{projId}`.
    Jobs(ProjectId),
    /// `GET /api/testRun/{projId}/{runId}`.
    TestRun(ProjectId, RunId),
    /// `GET /runboard/bootstrap`.
    Bootstrap,
    /// `GET /runboard/live/{projId}/{runId}?since=`: `since` is the `ETag` of the report
    /// the viewer already holds (as `GET /api/testRun/…` answered it), so the stream
    /// starts after it instead of with the whole report.
    Live(ProjectId, RunId, Option<String>),
    /// `GET /runboard/export/{projId}/{runId}?format=`.
    Export(ProjectId, RunId, ExportFormat),
    /// `GET /runboard/history/{projId}?…`.
    History(ProjectId, HistoryQuery),
    /// `GET /runboard/history/{projId}/jobs/{jobId}`.
    HistoryJob(ProjectId, JobId),
    /// `GET /runboard/history/{projId}/tests/{testId}?limit=`: any test id, encoded.
    HistoryTest(ProjectId, String, Option<usize>),
    /// `GET /runboard/verdict/{projId}/{runId}`.
    Verdict(ProjectId, RunId),
    /// `GET /runboard/rules/{projId}?include=expired`.
    Rules(ProjectId, RulesQuery),
    /// `POST /runboard/rules/{projId}` (the body is a [`NewRule`](crate::NewRule)).
    RuleCreate(ProjectId),
    /// `DELETE /runboard/rules/{projId}/{ruleId}`.
    RuleDelete(ProjectId, RuleId),
    /// `PATCH /runboard/rules/{projId}/{ruleId}` (the body is a [`RuleEdit`](crate::RuleEdit)).
    RuleEdit(ProjectId, RuleId),
    /// `GET /runboard/notifications/{projId}`.
    Notifications(ProjectId),
    /// `GET /runboard/tokens/{projId}`.
    Tokens(ProjectId),
    /// `POST /runboard/tokens/{projId}` (the body is a [`NewToken`](crate::NewToken)).
    TokenCreate(ProjectId),
    /// `DELETE /runboard/tokens/{projId}/{name}`: any name, encoded.
    TokenRevoke(ProjectId, String),
    /// `GET /runboard/openapi.json`.
    OpenApi,
    /// `GET /healthz`.
    Health,
    /// `GET /readyz`.
    Ready,
    /// `GET /metrics`.
    Metrics,
}

/// Why a path is not a [`Target`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// No route has this shape.
    #[error("no route answers {0}")]
    NoRoute(String),
    /// A route matched, but a parameter or the query is not valid.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

impl Target {
    /// The route it targets.
    pub fn route(&self) -> Route {
        match self {
            Self::Execute(_) => Route::Guide(Endpoint::Execute),
            Self::Jobs(_) => Route::Guide(Endpoint::Jobs),
            Self::TestRun(..) => Route::Guide(Endpoint::TestRun),
            Self::Bootstrap => Route::Bootstrap,
            Self::Live(..) => Route::Live,
            Self::Export(..) => Route::Export,
            Self::History(..) => Route::History,
            Self::HistoryJob(..) => Route::HistoryJob,
            Self::HistoryTest(..) => Route::HistoryTest,
            Self::Verdict(..) => Route::Verdict,
            Self::Rules(..) => Route::Rules,
            Self::RuleCreate(_) => Route::RuleCreate,
            Self::RuleDelete(..) => Route::RuleDelete,
            Self::RuleEdit(..) => Route::RuleEdit,
            Self::Notifications(_) => Route::Notifications,
            Self::Tokens(_) => Route::Tokens,
            Self::TokenCreate(_) => Route::TokenCreate,
            Self::TokenRevoke(..) => Route::TokenRevoke,
            Self::OpenApi => Route::OpenApi,
            Self::Health => Route::Health,
            Self::Ready => Route::Ready,
            Self::Metrics => Route::Metrics,
        }
    }

    /// The method to send it with.
    pub fn method(&self) -> &'static str {
        self.route().method()
    }

    /// The path and query to send, each parameter percent-encoded.
    pub fn path(&self) -> String {
        let route = self.route();
        match self {
            Self::Execute(p) | Self::Jobs(p) | Self::RuleCreate(p) | Self::Notifications(p) => {
                route.fill(&[&encode(p)])
            }
            Self::TestRun(p, r) | Self::Verdict(p, r) => route.fill(&[&encode(p), &encode(r)]),
            Self::Rules(p, query) => with_query(&route.fill(&[&encode(p)]), &query.pairs()),
            Self::RuleDelete(p, rule) | Self::RuleEdit(p, rule) => {
                route.fill(&[&encode(p), &encode(rule)])
            }
            Self::Live(p, r, since) => {
                let path = route.fill(&[&encode(p), &encode(r)]);
                match since {
                    Some(since) => with_query(&path, &[(LIVE_SINCE, since)]),
                    None => path,
                }
            }
            Self::Export(p, r, format) => with_query(
                &route.fill(&[&encode(p), &encode(r)]),
                &[("format", format.as_str())],
            ),
            Self::History(p, query) => {
                let pairs = query.pairs();
                let pairs: Vec<(&str, &str)> =
                    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                with_query(&route.fill(&[&encode(p)]), &pairs)
            }
            Self::HistoryJob(p, j) => route.fill(&[&encode(p), &encode(j)]),
            Self::Tokens(p) | Self::TokenCreate(p) => route.fill(&[&encode(p)]),
            Self::TokenRevoke(p, name) => route.fill(&[&encode(p), &encode(name)]),
            Self::HistoryTest(p, test, limit) => {
                let path = route.fill(&[&encode(p), &encode(test)]);
                match limit {
                    Some(limit) => with_query(&path, &[("limit", &limit.to_string())]),
                    None => path,
                }
            }
            Self::Bootstrap | Self::OpenApi | Self::Health | Self::Ready | Self::Metrics => {
                route.fill(&[])
            }
        }
    }

    /// The target a path (with or without a query) names, its ids validated as the
    /// server validates them. Where routes share a path (`GET` and `POST` of the
    /// rules), the first of the table's; [`parse_request`](Self::parse_request) tells
    /// them apart by method.
    pub fn parse(path_and_query: &str) -> Result<Self, TargetError> {
        Self::parse_matching(path_and_query, |_| true)
    }

    /// The target a request with `method` to a path (with or without a query) names.
    pub fn parse_request(method: &str, path_and_query: &str) -> Result<Self, TargetError> {
        Self::parse_matching(path_and_query, |route| route.method() == method)
    }

    fn parse_matching(
        path_and_query: &str,
        accept: impl Fn(Route) -> bool,
    ) -> Result<Self, TargetError> {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let pairs = parse_query(query);
        let no_route = || TargetError::NoRoute(path.to_owned());
        let (route, values) = Route::ALL
            .into_iter()
            .filter(|route| accept(*route))
            .find_map(|route| Some((route, route.match_path(path)?)))
            .ok_or_else(no_route)?;
        let project = || ProjectId::parse(decode_path(values[0]));
        let run = || RunId::parse(decode_path(values[1]));
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        Ok(match route {
            Route::Guide(Endpoint::Execute) => Self::Execute(project()?),
            Route::Guide(Endpoint::Jobs) => Self::Jobs(project()?),
            Route::Guide(Endpoint::TestRun) => Self::TestRun(project()?, run()?),
            Route::Bootstrap => Self::Bootstrap,
            Route::Live => Self::Live(project()?, run()?, get(LIVE_SINCE).map(str::to_owned)),
            Route::Export => {
                let format = get("format")
                    .and_then(ExportFormat::parse)
                    .ok_or_else(|| ValidationError::new("format", "is csv or junit"))?;
                Self::Export(project()?, run()?, format)
            }
            Route::History => Self::History(project()?, HistoryQuery::from_pairs(&pairs)?),
            Route::HistoryJob => {
                Self::HistoryJob(project()?, JobId::parse(decode_path(values[1]))?)
            }
            Route::HistoryTest => {
                let limit = get("limit")
                    .map(|l| {
                        l.parse()
                            .map_err(|_| ValidationError::new("limit", "is not a whole number"))
                    })
                    .transpose()?;
                Self::HistoryTest(project()?, decode_path(values[1]), limit)
            }
            Route::Verdict => Self::Verdict(project()?, run()?),
            Route::Rules => Self::Rules(project()?, RulesQuery::from_pairs(&pairs)?),
            Route::RuleCreate => Self::RuleCreate(project()?),
            Route::RuleDelete => {
                Self::RuleDelete(project()?, RuleId::parse(decode_path(values[1]))?)
            }
            Route::RuleEdit => Self::RuleEdit(project()?, RuleId::parse(decode_path(values[1]))?),
            Route::OpenApi => Self::OpenApi,
            Route::Health => Self::Health,
            Route::Ready => Self::Ready,
            Route::Metrics => Self::Metrics,
            Route::Notifications => Self::Notifications(project()?),
            Route::Tokens => Self::Tokens(project()?),
            Route::TokenCreate => Self::TokenCreate(project()?),
            Route::TokenRevoke => Self::TokenRevoke(project()?, decode_path(values[1])),
        })
    }
}

impl fmt::Display for Target {
    /// `METHOD /path?query`, as a log line or a test's message names it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method(), self.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> ProjectId {
        ProjectId::parse("67f8cb3fe236b8d41b7700ac").unwrap()
    }

    fn run() -> RunId {
        RunId::parse("r-1").unwrap()
    }

    fn every_target() -> Vec<Target> {
        let history = HistoryQuery {
            user: Some("ann@example.com".into()),
            status: Some("Failed".into()),
            from: Some("2026-12-01".into()),
            limit: Some(20),
            format: Some(HistoryFormat::Csv),
            ..HistoryQuery::default()
        };
        vec![
            Target::Execute(project()),
            Target::Jobs(project()),
            Target::TestRun(project(), run()),
            Target::Bootstrap,
            Target::Live(project(), run(), None),
            Target::Live(project(), run(), Some("\"5f0c 1\"".into())),
            Target::Export(project(), run(), ExportFormat::Junit),
            Target::History(project(), history),
            Target::History(project(), HistoryQuery::default()),
            Target::HistoryJob(project(), JobId::parse("j1").unwrap()),
            Target::HistoryTest(project(), "login / as admin?".into(), Some(5)),
            Target::HistoryTest(project(), "t1".into(), None),
            Target::Verdict(project(), run()),
            Target::Rules(project(), RulesQuery::default()),
            Target::Rules(
                project(),
                RulesQuery {
                    include_expired: true,
                },
            ),
            Target::RuleCreate(project()),
            Target::RuleDelete(project(), RuleId::parse("17").unwrap()),
            Target::RuleEdit(project(), RuleId::parse("17").unwrap()),
            Target::Notifications(project()),
            Target::Tokens(project()),
            Target::TokenCreate(project()),
            Target::TokenRevoke(project(), "ci.main".into()),
            Target::OpenApi,
            Target::Health,
            Target::Ready,
            Target::Metrics,
        ]
    }

    #[test]
    fn every_target_parses_back_from_its_path() {
        let mut routes: Vec<Route> = Vec::new();
        for target in every_target() {
            let path = target.path();
            assert_eq!(
                Target::parse_request(target.method(), &path),
                Ok(target.clone()),
                "{path}"
            );
            assert!(
                target
                    .route()
                    .match_path(path.split('?').next().unwrap())
                    .is_some()
            );
            routes.push(target.route());
        }
        routes.dedup();
        assert_eq!(routes, Route::ALL, "a route has no target");
    }

    #[test]
    fn paths_are_encoded_and_spelled_as_the_guide_writes_them() {
        let p = project();
        assert_eq!(
            Target::TestRun(p.clone(), run()).path(),
            "/api/testRun/67f8cb3fe236b8d41b7700ac/r-1"
        );
        assert_eq!(
            Target::HistoryTest(p.clone(), "a b/c".into(), Some(3)).path(),
            "/runboard/history/67f8cb3fe236b8d41b7700ac/tests/a%20b%2Fc?limit=3"
        );
        assert_eq!(
            Target::Export(p, run(), ExportFormat::Csv).to_string(),
            "GET /runboard/export/67f8cb3fe236b8d41b7700ac/r-1?format=csv"
        );
    }

    #[test]
    fn bad_paths_and_queries_are_refused_with_the_reason() {
        assert!(matches!(
            Target::parse("/runboard/nothing"),
            Err(TargetError::NoRoute(_))
        ));
        assert!(matches!(
            Target::parse_request("PUT", "/runboard/rules/p"),
            Err(TargetError::NoRoute(_))
        ));
        assert_eq!(
            Target::parse("/runboard/rules/p"),
            Ok(Target::Rules(
                ProjectId::parse("p").unwrap(),
                RulesQuery::default()
            ))
        );
        for bad in [
            "/api/testRun/bad%20id/r1",
            "/runboard/export/p/r?format=pdf",
            "/runboard/export/p/r",
            "/runboard/history/p?color=red",
            "/runboard/history/p?limit=ten",
            "/runboard/history/p?user=a&user=b",
            "/runboard/rules/p?include=deleted",
            "/runboard/rules/p?include=expired&include=expired",
            "/runboard/rules/p?color=red",
            "/runboard/rules/p/bad.id",
            "/runboard/verdict/p/bad%20run",
        ] {
            assert!(
                matches!(Target::parse(bad), Err(TargetError::Invalid(_))),
                "{bad}"
            );
        }
    }
}
