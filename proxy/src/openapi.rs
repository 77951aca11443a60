//! `GET /runboard/openapi.json`: Runboard's HTTP contract as an OpenAPI 3.1 description,
//! generated from the route table (`runboard_shared::Route`), so it cannot drift from
//! what the server serves. Scripts and pipelines read it to find every route, its
//! parameters, the allowance it spends and the one error shape.

use axum::{Json, http::header, response::IntoResponse};
use runboard_shared::{Allowance, Endpoint, ErrorCode, Route};
use serde_json::{Map, Value, json};

use crate::VERSION;

/// The ids every path parameter must match (checked before anything is forwarded).
const ID_PATTERN: &str = "^[A-Za-z0-9_-]{1,64}$";

/// The handler.
pub(crate) async fn serve() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-cache")], Json(description()))
}

/// The whole description.
pub(crate) fn description() -> Value {
    let mut paths = Map::new();
    for route in Route::ALL {
        let method = route.method().to_ascii_lowercase();
        // Routes sharing a template (the rules' GET and POST) are one path item.
        let item = paths
            .entry(route.template().to_owned())
            .or_insert_with(|| json!({}));
        item[method] = operation(route);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Runboard",
            "version": VERSION,
            "description": "Start test runs and watch their results without handing the \
                test platform's key to a browser. The guide's three endpoints are served at \
                the guide's paths, with the key added by the server. Every error is \
                {\"error\":{\"code\",\"message\"}} with a stable code. Each request spends \
                the caller's start or read allowance (x-runboard-allowance); past it, 429 \
                with Retry-After.",
        },
        "paths": paths,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": error_code_schema(),
                                "message": {"type": "string", "description": "for people"},
                            },
                        },
                    },
                },
            },
        },
    })
}

/// The error body's `code`: every code this version knows, from [`ErrorCode::KNOWN`], so
/// the list cannot drift from the server's. A newer Runboard may add codes, so the
/// description tells clients to accept one they do not know.
fn error_code_schema() -> Value {
    let codes: Vec<&str> = ErrorCode::KNOWN.iter().map(ErrorCode::as_str).collect();
    json!({
        "type": "string",
        "enum": codes,
        "description": "Stable, for scripts: tell errors apart by this, not by the message. \
            These are the codes this version knows; a newer Runboard may add others, \
            so clients must accept a code they do not know (and go by the HTTP status).",
    })
}

/// One route's operation.
fn operation(route: Route) -> Value {
    let mut parameters: Vec<Value> = route
        .path_parameters()
        .map(|name| {
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "schema": {"type": "string", "pattern": ID_PATTERN},
            })
        })
        .collect();
    parameters.extend(route.query().iter().map(|(name, meaning)| {
        json!({
            "name": name,
            "in": "query",
            "required": false,
            "description": meaning,
            "schema": {"type": "string"},
        })
    }));
    let mut operation = json!({
        "operationId": operation_id(route),
        "summary": route.summary(),
        "parameters": parameters,
        "x-runboard-allowance": allowance(route.allowance()),
        "responses": {
            success_status(route): success_response(route),
            "default": {
                "description": "An error",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
                },
            },
        },
    });
    if matches!(route.method(), "POST" | "PATCH") {
        operation["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {}},
        });
    }
    operation
}

/// The status of a successful answer: `201` for a created rule, `204` for a deleted one.
fn success_status(route: Route) -> &'static str {
    match route {
        Route::RuleCreate | Route::TokenCreate => "201",
        Route::RuleDelete | Route::TokenRevoke => "204",
        _ => "200",
    }
}

/// A successful answer: its media type, or none for `204`.
fn success_response(route: Route) -> Value {
    match route {
        Route::RuleDelete | Route::TokenRevoke => json!({"description": "Deleted"}),
        _ => json!({"description": "OK", "content": { success_type(route): {} }}),
    }
}

fn operation_id(route: Route) -> &'static str {
    match route {
        Route::Guide(endpoint) => endpoint.label(),
        Route::Bootstrap => "bootstrap",
        Route::Live => "live",
        Route::Export => "export",
        Route::History => "history",
        Route::HistoryJob => "historyJob",
        Route::HistoryTest => "historyTest",
        Route::Verdict => "verdict",
        Route::Rules => "rules",
        Route::RuleCreate => "createRule",
        Route::RuleDelete => "deleteRule",
        Route::RuleEdit => "editRule",
        Route::Notifications => "notifications",
        Route::Tokens => "tokens",
        Route::TokenCreate => "createToken",
        Route::TokenRevoke => "revokeToken",
        Route::OpenApi => "openapi",
        Route::Health => "healthz",
        Route::Ready => "readyz",
        Route::Metrics => "metrics",
    }
}

fn allowance(allowance: Allowance) -> &'static str {
    match allowance {
        Allowance::Start => "start",
        Allowance::Read => "read",
        Allowance::Free => "none",
    }
}

/// The media type of a successful answer.
fn success_type(route: Route) -> &'static str {
    match route {
        Route::Live => "text/event-stream",
        Route::Export => "text/csv",
        Route::Metrics | Route::Health | Route::Ready => "text/plain",
        Route::Guide(Endpoint::Execute | Endpoint::Jobs | Endpoint::TestRun)
        | Route::Bootstrap
        | Route::History
        | Route::HistoryJob
        | Route::HistoryTest
        | Route::Verdict
        | Route::Rules
        | Route::RuleCreate
        | Route::RuleDelete
        | Route::RuleEdit
        | Route::Notifications
        | Route::Tokens
        | Route::TokenCreate
        | Route::TokenRevoke
        | Route::OpenApi => "application/json",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_of_the_table_is_described_with_its_parameters() {
        let description = description();
        let paths = description["paths"].as_object().unwrap();
        let mut templates: Vec<_> = Route::ALL.iter().map(|r| r.template()).collect();
        templates.sort_unstable();
        templates.dedup();
        assert_eq!(paths.len(), templates.len());
        let mut ids = Vec::new();
        for route in Route::ALL {
            let method = route.method().to_ascii_lowercase();
            let operation = &paths[route.template()][&method];
            assert!(operation.is_object(), "{route:?} is missing");
            let names: Vec<&str> = operation["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            assert_eq!(
                names,
                route.path_parameters().collect::<Vec<_>>(),
                "{route:?}"
            );
            ids.push(operation["operationId"].as_str().unwrap().to_owned());
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), Route::ALL.len(), "operation ids are distinct");
        let start = &paths[Route::Guide(Endpoint::Execute).template()]["post"];
        assert_eq!(start["x-runboard-allowance"], "start");
        assert!(start["requestBody"].is_object());
        let export = &paths[Route::Export.template()]["get"];
        assert_eq!(export["parameters"][2]["name"], "format");
    }
}
