//! `GET /runboard/openapi.json`: Runboard's HTTP contract as an OpenAPI 3.1 description,
//! generated from the route table (`runboard_shared::Route`), so it cannot drift from
//! what the server serves. Scripts and pipelines read it to find every route, its
//! parameters, the allowance it spends and the one error shape.

use axum::{Json, http::header, response::IntoResponse};
use runboard_shared::{Allowance, Endpoint, Route};
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
        paths.insert(
            route.template().to_owned(),
            json!({ method: operation(route) }),
        );
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
                                "code": {"type": "string", "description": "stable, for scripts"},
                                "message": {"type": "string", "description": "for people"},
                            },
                        },
                    },
                },
            },
        },
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
            "200": {
                "description": "OK",
                "content": { success_type(route): {} },
            },
            "default": {
                "description": "An error",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
                },
            },
        },
    });
    if route.method() == "POST" {
        operation["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {}},
        });
    }
    operation
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
        assert_eq!(paths.len(), Route::ALL.len());
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
