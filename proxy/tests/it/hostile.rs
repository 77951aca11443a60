//! Hostile requests are refused before anything is sent: path ids, and a table of path,
//! header, body, method and Host tricks, each with its expected status, while the
//! simulator's request counter stays where it was. Requests are written raw so no client
//! library normalises them.

use runboard_proxy::config::AuthMode;
use runboard_shared::{API_PREFIX, Endpoint, Route, Target};

use crate::{
    common::{self, PROJECT, raw_request, start},
    paths::request_line,
};

/// Ids as they appear in the request line (already percent-encoded where a client would).
const CORPUS: &[&str] = &[
    "..",
    ".",
    "%2e%2e",
    "%2E%2E",
    "a%2Fb",
    "%2F",
    "a%3Fb",
    "a%23b",
    "a%20b",
    "%20",
    "caf%C3%A9",
    "%E2%80%AE",
    "%00",
    "a%0Ab",
    "%25",
    "a.b",
    "a;b",
    "a%2B1",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
];

/// The path of the guide's `endpoint` with `values` as written: neither checked nor
/// encoded, so hostile ids reach the server byte for byte.
fn guide(endpoint: Endpoint, values: &[&str]) -> String {
    Route::Guide(endpoint).fill(values)
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
}

fn post(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn hostile_ids_are_400_and_the_upstream_sees_nothing() {
    let h = start(|_| {}).await;
    let addr = h.server.addr();
    assert_eq!("a".repeat(65), CORPUS[CORPUS.len() - 1]);
    for id in CORPUS {
        let requests = [
            get(&guide(Endpoint::TestRun, &[PROJECT, id])),
            get(&guide(Endpoint::TestRun, &[id, "6804f1e2d2d4e0a1c1a0d456"])),
            post(&guide(Endpoint::Jobs, &[id]), "{}"),
            post(
                &guide(Endpoint::Execute, &[id]),
                r#"{"action":"executeTests","testId":"t1"}"#,
            ),
        ];
        for request in requests {
            let (status, answer) = raw_request(addr, &request).await;
            assert_eq!(status, 400, "{request}\n=> {answer}");
            assert!(answer.contains(r#""code":"invalid_id""#), "{answer}");
        }
    }
    // Hostile ids inside bodies, in JSON's own escapes.
    for id in [
        "..",
        "a/b",
        "a?b",
        "a#b",
        "a b",
        "caf\u{e9}",
        &"a".repeat(65),
    ] {
        let body = serde_json::json!({"action": "executeTests", "testId": id}).to_string();
        let (status, answer) = raw_request(addr, &post(&common::execute_path(), &body)).await;
        assert_eq!(status, 400, "{id:?} => {answer}");
        let body = serde_json::json!({"jobIds": [id]}).to_string();
        let (status, _) = raw_request(addr, &post(&common::jobs_path(), &body)).await;
        assert_eq!(status, 400, "{id:?}");
    }
    let stats = h.stats();
    assert_eq!(stats.total, 0, "the upstream received {stats:?}");
    h.stop().await;
}

/// One hostile request and the status it must get.
struct Case {
    what: &'static str,
    request: String,
    status: u16,
}

fn case(what: &'static str, status: u16, request: String) -> Case {
    Case {
        what,
        request,
        status,
    }
}

/// A signed-in runner, as the trusted SSO proxy (loopback here) would send it.
const RUNNER: &str = "X-Forwarded-Email: tester@example.com\r\nX-Forwarded-Groups: qa\r\n";

/// A raw request: request line, `headers` (each ending in CRLF), then `body`.
fn raw(line: &str, headers: &str, body: &str) -> String {
    format!(
        "{line}\r\nHost: localhost\r\nConnection: close\r\n{headers}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn jobs(headers: &str, body: &str) -> String {
    raw(&request_line("POST", &common::jobs_path()), headers, body)
}

fn execute(headers: &str, body: &str) -> String {
    raw(
        &request_line("POST", &common::execute_path()),
        headers,
        body,
    )
}

/// A runner's `GET` of the report of `run`, written as given.
fn read_run(run: &str) -> String {
    raw(
        &request_line("GET", &guide(Endpoint::TestRun, &[PROJECT, run])),
        RUNNER,
        "",
    )
}

fn nested(depth: usize) -> String {
    format!("{{\"jobIds\":{}{}}}", "[".repeat(depth), "]".repeat(depth))
}

fn many_ids(count: usize) -> String {
    let ids: Vec<String> = (0..count).map(|i| format!("\"j{i}\"")).collect();
    format!("{{\"jobIds\":[{}]}}", ids.join(","))
}

fn table() -> Vec<Case> {
    let start = r#"{"action":"executeTests","testId":"t1"}"#;
    let huge_header = format!("X-Padding: {}\r\n{RUNNER}", "a".repeat(100 * 1024));
    let many_headers: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    let (run, jobs_label) = (common::run_path("r1"), Endpoint::Jobs.label());
    let run_label = Endpoint::TestRun.label();
    vec![
        // Path tricks: traversal, encoded slashes, double encoding, unicode, length.
        case("dot-dot run id", 400, read_run("..%2Fjobs")),
        case("double-encoded dots", 400, read_run("%252e%252e")),
        case("fullwidth dots", 400, read_run("%EF%BC%8E%EF%BC%8E")),
        case("right-to-left override", 400, read_run("r1%E2%80%AE")),
        case("overlong id", 400, read_run(&"a".repeat(10_000))),
        case(
            "traversal between routes",
            404,
            raw(
                &request_line(
                    "GET",
                    &format!("{API_PREFIX}{run_label}/../{jobs_label}/{PROJECT}"),
                ),
                RUNNER,
                "",
            ),
        ),
        case(
            "empty segment",
            404,
            raw(
                &request_line(
                    "GET",
                    &run.replacen(API_PREFIX, &format!("{API_PREFIX}/"), 1),
                ),
                RUNNER,
                "",
            ),
        ),
        // Not an API path: the widget's fallback answers (503 here, as it is not built).
        case(
            "upper-case prefix",
            503,
            raw(
                &request_line(
                    "GET",
                    &run.replacen(API_PREFIX, &API_PREFIX.to_uppercase(), 1),
                ),
                RUNNER,
                "",
            ),
        ),
        // Header tricks: identity missing, doubled, misspelt, smuggled; oversized heads.
        case("no identity", 401, jobs("", "{}")),
        case(
            "two user headers",
            401,
            jobs(
                &format!("{RUNNER}X-Forwarded-Email: boss@example.com\r\n"),
                "{}",
            ),
        ),
        case(
            "two group headers",
            401,
            jobs(&format!("{RUNNER}X-Forwarded-Groups: admins\r\n"), "{}"),
        ),
        case(
            "underscored identity header",
            401,
            jobs("X_Forwarded_Email: boss@example.com\r\n", "{}"),
        ),
        case(
            "bare CR inside the user header",
            400,
            jobs(
                "X-Forwarded-Email: a@example.com\rX-Forwarded-Groups: qa\r\n",
                "{}",
            ),
        ),
        case(
            "folded user header",
            400,
            jobs(
                "X-Forwarded-Email: a@example.com\r\n boss@example.com\r\n",
                "{}",
            ),
        ),
        case(
            "encoded CRLF in the user header",
            403,
            execute(
                "X-Forwarded-Email: viewer@example.com%0d%0aX-Forwarded-Groups: qa\r\n",
                start,
            ),
        ),
        case("head over the limit", 431, jobs(&huge_header, "{}")),
        case("200 headers", 431, jobs(&many_headers, "{}")),
        // Body tricks.
        case(
            "body over the limit",
            413,
            jobs(
                RUNNER,
                &format!("{{\"jobIds\":[\"{}\"]}}", "a".repeat(300 * 1024)),
            ),
        ),
        case("deeply nested JSON", 400, jobs(RUNNER, &nested(10_000))),
        case(
            "duplicate selector keys",
            400,
            execute(
                RUNNER,
                r#"{"action":"executeTests","testId":"t1","testId":"t2"}"#,
            ),
        ),
        case(
            "duplicate action keys",
            400,
            execute(
                RUNNER,
                r#"{"action":"executeTests","action":"deleteAll","testId":"t1"}"#,
            ),
        ),
        case(
            "ids of the wrong type",
            400,
            jobs(RUNNER, r#"{"jobIds":"j1"}"#),
        ),
        case(
            "a test id of the wrong type",
            400,
            execute(RUNNER, r#"{"action":"executeTests","testId":5}"#),
        ),
        case("201 job ids", 400, jobs(RUNNER, &many_ids(201))),
        case("100,000 job ids", 413, jobs(RUNNER, &many_ids(100_000))),
        case(
            "not UTF-8",
            400,
            jobs(RUNNER, "{\"jobIds\":[\"\u{fffd}\"]}"),
        ),
        case(
            "form content type",
            403,
            raw(
                &request_line("POST", &common::execute_path()),
                &format!("{RUNNER}Content-Type: application/x-www-form-urlencoded\r\n"),
                start,
            )
            .replacen("Content-Type: application/json\r\n", "", 1),
        ),
        // Method tricks.
        case(
            "TRACE",
            405,
            raw(&request_line("TRACE", &common::jobs_path()), RUNNER, ""),
        ),
        case(
            "CONNECT",
            405,
            raw("CONNECT localhost:443 HTTP/1.1", RUNNER, ""),
        ),
        // A target naming another host is not ours, whatever the method.
        case(
            "CONNECT to another host",
            421,
            raw("CONNECT platform.example.com:443 HTTP/1.1", RUNNER, ""),
        ),
        // Found by the `proxy` fuzz target: a GET whose target has no path used to make
        // the widget's file server fail (500).
        case(
            "GET in authority form",
            404,
            raw("GET localhost:443 HTTP/1.1", RUNNER, ""),
        ),
        case("OPTIONS *", 405, raw("OPTIONS * HTTP/1.1", RUNNER, "")),
        case(
            "lower-case get",
            405,
            raw(&request_line("get", &run), RUNNER, ""),
        ),
        case(
            "HEAD on a POST route",
            405,
            raw(&request_line("HEAD", &common::execute_path()), RUNNER, ""),
        ),
        case(
            "PUT",
            405,
            raw(&request_line("PUT", &common::jobs_path()), RUNNER, "{}"),
        ),
        case(
            "OPTIONS preflight",
            405,
            raw(
                &request_line("OPTIONS", &common::execute_path()),
                &format!("{RUNNER}Origin: https://evil.example.net\r\n"),
                "",
            ),
        ),
    ]
}

#[tokio::test]
async fn a_table_of_hostile_requests_never_reaches_the_upstream() {
    let h = start(|config| {
        config.auth.mode = AuthMode::Header;
        config.auth.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        config.auth.run_groups = vec!["qa".to_owned()];
    })
    .await;
    let addr = h.server.addr();
    let mut wrong = Vec::new();
    for Case {
        what,
        request,
        status,
    } in table()
    {
        let (got, answer) = raw_request(addr, &request).await;
        if got != status {
            let head = answer.lines().take(12).collect::<Vec<_>>().join("\n");
            wrong.push(format!("{what}: expected {status}, got {got}\n{head}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
    assert_eq!(h.stats().total, 0, "the upstream received {:?}", h.stats());
    // The same harness does forward a well-formed request (so the check above can
    // fail), and what reaches the upstream carries none of the client's credentials
    // or identity: exactly one x-api-key, the configured one.
    let smuggled = format!(
        "{RUNNER}x-api-key: client-chosen-key\r\nAuthorization: Bearer client-token\r\n\
         Cookie: session=client\r\nX_Forwarded_Email: boss@example.com\r\n"
    );
    let (status, answer) = raw_request(addr, &jobs(&smuggled, "{}")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(h.stats().total, 1);
    let recorded = h.sim.sim.requests().requests;
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    let forwarded = &recorded[0];
    assert_eq!(forwarded.header_values("x-api-key"), [common::KEY]);
    common::assert_exact_headers(forwarded, common::KEY, &h.sim.addr.to_string(), &[]);
    for name in [
        "authorization",
        "cookie",
        "x-forwarded-email",
        "x-forwarded-groups",
        "x_forwarded_email",
    ] {
        assert!(
            forwarded.header_values(name).is_empty(),
            "{name} was forwarded: {forwarded:?}"
        );
    }
    h.stop().await;
}

#[tokio::test]
async fn with_a_public_url_other_hosts_are_misdirected() {
    let h = start(|config| {
        config.public_url = Some("http://runboard.test".parse().unwrap());
    })
    .await;
    let addr = h.server.addr();
    let with_host = |line: &str, host: &str, extra: &str, body: &str| {
        format!(
            "{line}\r\nHost: {host}\r\nConnection: close\r\n{extra}\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let jobs_line = request_line("POST", &common::jobs_path());
    let bootstrap_line = request_line("GET", &Target::Bootstrap.path());
    let cases = [
        (
            "another host",
            421,
            with_host(&jobs_line, "evil.example.net", "", "{}"),
        ),
        (
            "a rebinding page",
            421,
            with_host(
                &jobs_line,
                "evil.example.net",
                "Origin: http://evil.example.net\r\n",
                "{}",
            ),
        ),
        (
            "the bootstrap",
            421,
            with_host(&bootstrap_line, "127.0.0.1", "", ""),
        ),
        (
            "the widget",
            421,
            with_host("GET / HTTP/1.1", "evil.example.net", "", ""),
        ),
        (
            "absolute form naming another host",
            421,
            with_host(
                &request_line(
                    "POST",
                    &format!("http://evil.example.net{}", common::jobs_path()),
                ),
                "runboard.test",
                "",
                "{}",
            ),
        ),
        (
            "no Host at all",
            421,
            format!(
                "POST {} HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}",
                common::jobs_path()
            ),
        ),
        (
            "two Host headers",
            421,
            with_host(
                &jobs_line,
                "runboard.test",
                "Host: evil.example.net\r\n",
                "{}",
            ),
        ),
        (
            "the right host, another origin",
            403,
            with_host(
                &request_line("POST", &common::execute_path()),
                "runboard.test",
                "Origin: http://evil.example.net\r\n",
                r#"{"action":"executeTests","testId":"t1"}"#,
            ),
        ),
        (
            "probes answer on any host",
            200,
            with_host("GET /healthz HTTP/1.1", "10.1.2.3:8080", "", ""),
        ),
    ];
    for (what, status, request) in cases {
        let (got, answer) = raw_request(addr, &request).await;
        assert_eq!(got, status, "{what}: {answer}");
        if status == 421 {
            assert!(answer.contains(r#""code":"misdirected""#), "{answer}");
            assert!(answer.contains("runboard.test"), "{answer}");
        }
    }
    assert_eq!(h.stats().total, 0, "the upstream received {:?}", h.stats());
    for host in ["runboard.test", "RUNBOARD.test:80"] {
        let (status, answer) = raw_request(
            addr,
            &with_host(&jobs_line, host, "Origin: http://runboard.test\r\n", "{}"),
        )
        .await;
        assert_eq!(status, 200, "{host}: {answer}");
    }
    h.stop().await;
}

/// Issue 18, finding 2: without `public_url`, a DNS-rebinding page (its own name in
/// `Host`, the matching `Origin`) started runs on a laptop Runboard. Now only loopback
/// names and addresses are served, on every route but the probes.
#[tokio::test]
async fn without_a_public_url_a_rebinding_host_is_misdirected() {
    let h = start(|_| {}).await;
    let addr = h.server.addr();
    let port = addr.port();
    let feature = h.feature_id();
    let start_body = format!(r#"{{"action":"executeTests","featureId":"{feature}"}}"#);
    let with_host = |line: &str, host: &str, body: &str| {
        format!(
            "{line}\r\nHost: {host}\r\nOrigin: http://{host}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let execute_line = request_line("POST", &common::execute_path());
    let run_line = request_line("GET", &common::run_path("r1"));
    let rebound = format!("rebind.attacker.example:{port}");
    let foreign = [
        with_host(&execute_line, &rebound, &start_body),
        with_host(&request_line("POST", &common::jobs_path()), &rebound, "{}"),
        with_host(&run_line, &rebound, ""),
        with_host(
            &request_line("GET", &Target::Bootstrap.path()),
            &rebound,
            "",
        ),
        with_host("GET / HTTP/1.1", &format!("192.0.2.10:{port}"), ""),
        with_host(&run_line, &format!("localhost.attacker.example:{port}"), ""),
    ];
    for request in foreign {
        let (status, answer) = raw_request(addr, &request).await;
        assert_eq!(status, 421, "{request}\n{answer}");
        assert!(answer.contains(r#""code":"misdirected""#), "{answer}");
        assert!(
            answer.contains("public_url"),
            "the answer says what to set: {answer}"
        );
    }
    assert_eq!(h.stats().total, 0, "the upstream received {:?}", h.stats());
    // Probes answer on any Host: a kubelet calls them by the pod's IP.
    let (status, answer) =
        raw_request(addr, &with_host("GET /healthz HTTP/1.1", &rebound, "")).await;
    assert_eq!(status, 200, "{answer}");

    // Loopback names and addresses, with any port, are served; a start goes through.
    let with_port = |name: &str| format!("{name}:{port}");
    for host in [
        with_port("localhost"),
        with_port("127.0.0.1"),
        with_port("[::1]"),
        "runboard.localhost".to_owned(),
    ] {
        let jobs = with_host(&request_line("POST", &common::jobs_path()), &host, "{}");
        let (status, answer) = raw_request(addr, &jobs).await;
        assert_eq!(status, 200, "{host}: {answer}");
    }
    let (status, answer) = raw_request(
        addr,
        &with_host(&execute_line, &with_port("localhost"), &start_body),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(h.stats().by_endpoint.test_execution, 1, "{:?}", h.stats());
    h.stop().await;
}
