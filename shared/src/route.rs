//! Every route Runboard serves, as data: the guide's three endpoints (`endpoint.rs`) and
//! Runboard's own. The server's router, the allowance each request spends and the
//! OpenAPI description are all built from this one table, so a route cannot be served
//! without a rate-limit class or be missing from the description.

use crate::Endpoint;

/// Where the guide's endpoints live; everything under it is the platform's contract.
pub const API_PREFIX: &str = "/api/";
/// Where Runboard's own routes live.
pub const RUNBOARD_PREFIX: &str = "/runboard/";

/// Whether `path` is under one of the contract's prefixes, where only the table's routes
/// answer (anything else is a JSON 404, never the widget's page), every request spends an
/// allowance and every answer is scanned for keys.
pub fn is_reserved(path: &str) -> bool {
    path.starts_with(API_PREFIX) || path.starts_with(RUNBOARD_PREFIX)
}

/// Which per-user allowance a request spends (`[limits]` in the server's configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowance {
    /// Starting a run.
    Start,
    /// Anything that may reach the platform or read the ledger at cost.
    Read,
    /// Probes that read neither (they hold no ids, reports or keys).
    Free,
}

/// One route of Runboard's HTTP contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Route {
    /// One of the guide's endpoints, at the guide's path.
    Guide(Endpoint),
    /// `GET /runboard/bootstrap`: projects, presets, permissions, poll intervals.
    Bootstrap,
    /// `GET /runboard/live/{projId}/{runId}`: a live report as Server-Sent Events.
    Live,
    /// `GET /runboard/export/{projId}/{runId}?format=csv|junit`: a report as a file.
    Export,
    /// `GET /runboard/history/{projId}`: the ledger's executions, newest first.
    History,
    /// `GET /runboard/history/{projId}/jobs/{jobId}`: one execution and its comparison.
    HistoryJob,
    /// `GET /runboard/history/{projId}/tests/{testId}`: one test's recent results.
    HistoryTest,
    /// `GET /runboard/verdict/{projId}/{runId}`: the run's failures classed, what blocks.
    Verdict,
    /// `GET /runboard/rules/{projId}`: the project's triage rules.
    Rules,
    /// `POST /runboard/rules/{projId}`: create a triage rule (triage permission).
    RuleCreate,
    /// `DELETE /runboard/rules/{projId}/{ruleId}`: delete a triage rule (triage
    /// permission).
    RuleDelete,
    /// `PATCH /runboard/rules/{projId}/{ruleId}`: change a triage rule's day, reason,
    /// link, note or blocking (triage permission).
    RuleEdit,
    /// `GET /runboard/notifications/{projId}`: the project's notification channels and
    /// their last deliveries.
    Notifications,
    /// `GET /runboard/tokens/{projId}`: the project's machine tokens (admins only).
    Tokens,
    /// `POST /runboard/tokens/{projId}`: make a machine token (admins only).
    TokenCreate,
    /// `DELETE /runboard/tokens/{projId}/{name}`: revoke a machine token (admins only).
    TokenRevoke,
    /// `GET /runboard/openapi.json`: this table as an OpenAPI description.
    OpenApi,
    /// `GET /healthz`: the process answers.
    Health,
    /// `GET /readyz`: the platform answers and the breaker is closed.
    Ready,
    /// `GET /metrics`: Prometheus text.
    Metrics,
}

impl Route {
    /// Every route, the guide's first.
    pub const ALL: [Self; 22] = [
        Self::Guide(Endpoint::Execute),
        Self::Guide(Endpoint::Jobs),
        Self::Guide(Endpoint::TestRun),
        Self::Bootstrap,
        Self::Live,
        Self::Export,
        Self::History,
        Self::HistoryJob,
        Self::HistoryTest,
        Self::Verdict,
        Self::Rules,
        Self::RuleCreate,
        Self::RuleDelete,
        Self::RuleEdit,
        Self::Notifications,
        Self::Tokens,
        Self::TokenCreate,
        Self::TokenRevoke,
        Self::OpenApi,
        Self::Health,
        Self::Ready,
        Self::Metrics,
    ];

    /// The one method it answers. Two routes may share a template with different
    /// methods (`GET` and `POST` of the rules); any method no route of the template
    /// answers is a 405.
    pub const fn method(self) -> &'static str {
        match self {
            Self::Guide(endpoint) => endpoint.method(),
            Self::RuleCreate | Self::TokenCreate => "POST",
            Self::RuleDelete | Self::TokenRevoke => "DELETE",
            Self::RuleEdit => "PATCH",
            _ => "GET",
        }
    }

    /// The path template in axum 0.8 route syntax; also the `route` metrics label.
    pub const fn template(self) -> &'static str {
        match self {
            Self::Guide(endpoint) => endpoint.template(),
            Self::Bootstrap => "/runboard/bootstrap",
            Self::Live => "/runboard/live/{projId}/{runId}",
            Self::Export => "/runboard/export/{projId}/{runId}",
            Self::History => "/runboard/history/{projId}",
            Self::HistoryJob => "/runboard/history/{projId}/jobs/{jobId}",
            Self::HistoryTest => "/runboard/history/{projId}/tests/{testId}",
            Self::Verdict => "/runboard/verdict/{projId}/{runId}",
            Self::Rules | Self::RuleCreate => "/runboard/rules/{projId}",
            Self::RuleDelete | Self::RuleEdit => "/runboard/rules/{projId}/{ruleId}",
            Self::Notifications => "/runboard/notifications/{projId}",
            Self::Tokens | Self::TokenCreate => "/runboard/tokens/{projId}",
            Self::TokenRevoke => "/runboard/tokens/{projId}/{name}",
            Self::OpenApi => "/runboard/openapi.json",
            Self::Health => "/healthz",
            Self::Ready => "/readyz",
            Self::Metrics => "/metrics",
        }
    }

    /// The allowance a request to it spends: a start, or a read for everything under
    /// `/api/` and `/runboard/` (a test holds the table to that), or nothing for probes.
    /// A rule change is not a start (it sends nothing to the platform and costs one small
    /// ledger write), so it spends a read; routes sharing a template spend the same
    /// allowance, since the rate limit knows only the matched template.
    pub const fn allowance(self) -> Allowance {
        match self {
            Self::Guide(Endpoint::Execute) => Allowance::Start,
            Self::Guide(_)
            | Self::Bootstrap
            | Self::Live
            | Self::Export
            | Self::History
            | Self::HistoryJob
            | Self::HistoryTest
            | Self::Verdict
            | Self::Rules
            | Self::RuleCreate
            | Self::RuleDelete
            | Self::RuleEdit
            | Self::Notifications
            | Self::Tokens
            | Self::TokenCreate
            | Self::TokenRevoke
            | Self::OpenApi => Allowance::Read,
            Self::Health | Self::Ready | Self::Metrics => Allowance::Free,
        }
    }

    /// One line for people reading the API description.
    pub const fn summary(self) -> &'static str {
        match self {
            Self::Guide(Endpoint::Execute) => "Start a test run (the guide's endpoint)",
            Self::Guide(Endpoint::Jobs) => "Job states (the guide's endpoint)",
            Self::Guide(Endpoint::TestRun) => "A run report (the guide's endpoint)",
            Self::Bootstrap => "Projects, presets, permissions and poll intervals",
            Self::Live => "A live run report as Server-Sent Events",
            Self::Export => "A run report as a CSV or JUnit XML file",
            Self::History => "The ledger's executions of a project, newest first",
            Self::HistoryJob => "One execution, its results and the previous run",
            Self::HistoryTest => "One test's recent results and flips",
            Self::Verdict => {
                "A run's failures classed (new, known, flaky, quarantined, \
                failing) and how many block"
            }
            Self::Rules => "The project's triage rules: quarantines and known issues",
            Self::RuleCreate => "Create a quarantine or a known-issue rule",
            Self::RuleDelete => "Delete a triage rule",
            Self::RuleEdit => {
                "Change a triage rule: extend a quarantine, edit its reason, link, note or blocking"
            }
            Self::Notifications => {
                "The project's notification channels (no URLs) and their last deliveries"
            }
            Self::Tokens => "The project's machine tokens, never their text (admins)",
            Self::TokenCreate => "Make a machine token; its text is in this answer only (admins)",
            Self::TokenRevoke => "Revoke a machine token (admins)",
            Self::OpenApi => "This description",
            Self::Health => "Liveness probe",
            Self::Ready => "Readiness probe: the platform answers",
            Self::Metrics => "Prometheus metrics",
        }
    }

    /// The query parameters it reads, with what each means.
    pub const fn query(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Export => &[("format", "csv or junit")],
            Self::Live => &[(
                crate::target::LIVE_SINCE,
                "the ETag of the report the viewer holds (from GET /api/testRun/…): the \
                 stream sends only what changed after it, and the whole report only when it \
                 cannot",
            )],
            Self::History => &[
                ("format", "json (default) or csv"),
                ("user", "only executions started by this user"),
                ("preset", "only executions of this preset"),
                ("status", "only executions in this state"),
                ("origin", "only executions started here or elsewhere"),
                (
                    "from",
                    "only executions started on or after this time (RFC 3339 or a day)",
                ),
                (
                    "to",
                    "only executions started before this time (RFC 3339 or a day)",
                ),
                ("cursor", "the page after this opaque cursor"),
                ("limit", "how many executions per page"),
            ],
            Self::Rules => &[(
                crate::target::RULES_INCLUDE,
                "expired: list the expired quarantines too",
            )],
            _ => &[],
        }
    }

    /// The names of the path's `{parameters}`, in order.
    pub fn path_parameters(self) -> impl Iterator<Item = &'static str> {
        self.template()
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
    }

    /// The template with its `{parameters}` replaced, in order, by `values` as given:
    /// neither checked nor encoded, so tests can send the broken paths a client might.
    /// Well-formed paths come from [`Target::path`](crate::Target::path).
    pub fn fill(self, values: &[&str]) -> String {
        let mut values = values.iter();
        self.template()
            .split('/')
            .map(|segment| match segment.strip_prefix('{') {
                Some(_) => values.next().copied().unwrap_or_default(),
                None => segment,
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The raw (still encoded) values of the path's parameters when `path` has this
    /// route's shape, `None` otherwise. A parameter matches one non-empty segment.
    pub fn match_path(self, path: &str) -> Option<Vec<&str>> {
        let template: Vec<&str> = self.template().split('/').collect();
        let segments: Vec<&str> = path.split('/').collect();
        if template.len() != segments.len() {
            return None;
        }
        let mut values = Vec::new();
        for (pattern, segment) in template.into_iter().zip(segments) {
            if pattern.starts_with('{') {
                if segment.is_empty() {
                    return None;
                }
                values.push(segment);
            } else if pattern != segment {
                return None;
            }
        }
        Some(values)
    }

    /// The first route whose [`template`](Self::template) is `template` (an axum
    /// matched path); routes sharing a template spend the same allowance.
    pub fn of_template(template: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.template() == template)
    }

    /// The route answering `method` at `template`.
    pub fn of(method: &str, template: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.template() == template && r.method() == method)
    }

    /// The methods the routes of `template` answer, in table order.
    pub fn methods_of(template: &str) -> Vec<&'static str> {
        Self::ALL
            .into_iter()
            .filter(|r| r.template() == template)
            .map(Self::method)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_under_api_or_runboard_spends_an_allowance() {
        for route in Route::ALL {
            let template = route.template();
            let counted = template.starts_with("/api/") || template.starts_with("/runboard/");
            match route.allowance() {
                Allowance::Free => assert!(!counted, "{template} must spend an allowance"),
                Allowance::Start | Allowance::Read => assert!(counted, "{template}"),
            }
            assert_eq!(Route::of(route.method(), template), Some(route));
            let first = Route::of_template(template).unwrap();
            assert_eq!(first.allowance(), route.allowance(), "{template}");
        }
        let starts: Vec<_> = Route::ALL
            .into_iter()
            .filter(|r| r.allowance() == Allowance::Start)
            .collect();
        assert_eq!(starts, [Route::Guide(Endpoint::Execute)]);
    }

    #[test]
    fn templates_are_distinct_and_name_their_parameters() {
        let mut templates: Vec<_> = Route::ALL
            .iter()
            .map(|r| (r.method(), r.template()))
            .collect();
        templates.sort_unstable();
        templates.dedup();
        assert_eq!(templates.len(), Route::ALL.len());
        let shared: Vec<_> = Route::ALL
            .into_iter()
            .filter(|r| Route::methods_of(r.template()).len() > 1)
            .collect();
        assert_eq!(
            shared,
            [
                Route::Rules,
                Route::RuleCreate,
                Route::RuleDelete,
                Route::RuleEdit,
                Route::Tokens,
                Route::TokenCreate
            ]
        );
        assert_eq!(Route::methods_of(Route::Rules.template()), ["GET", "POST"]);
        let names: Vec<_> = Route::HistoryJob.path_parameters().collect();
        assert_eq!(names, ["projId", "jobId"]);
        assert_eq!(Route::Bootstrap.path_parameters().count(), 0);
        assert_eq!(Route::Guide(Endpoint::Jobs).method(), "POST");
        assert_eq!(Route::of_template("/runboard/nothing"), None);
    }

    #[test]
    fn fill_and_match_path_are_inverse() {
        for route in Route::ALL {
            let names: Vec<_> = route.path_parameters().collect();
            let values: Vec<String> = (0..names.len()).map(|i| format!("v{i}")).collect();
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            let path = route.fill(&values);
            assert_eq!(route.match_path(&path), Some(values.clone()), "{path}");
            assert!(is_reserved(&path) != (route.allowance() == Allowance::Free));
        }
        let run = Route::Guide(Endpoint::TestRun);
        assert_eq!(run.fill(&["p", "bad%20id"]), "/api/testRun/p/bad%20id");
        assert_eq!(run.match_path("/api/testRun/p/"), None);
        assert_eq!(run.match_path("/api/testRun/p"), None);
        assert_eq!(Route::Bootstrap.match_path("/runboard/bootstrap/"), None);
    }
}
