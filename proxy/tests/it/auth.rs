//! Both auth modes over real sockets: no identity, a spoofed header from an untrusted
//! peer, doubled identity headers, a viewer against a runner, a view-only project,
//! cross-origin POSTs, and the per-user rate limits.

use runboard_proxy::config::AuthMode;
use runboard_shared::Target;
use serde_json::{Value, json};

use crate::common::{self, code, start};

fn header_mode(trusted: &str) -> impl FnOnce(&mut runboard_proxy::Config) {
    let trusted = trusted.parse().unwrap();
    move |c| {
        c.auth.mode = AuthMode::Header;
        c.auth.trusted_proxies = vec![trusted];
        c.auth.run_groups = vec!["qa".to_owned()];
        c.embed.frame_ancestors = vec!["https://portal.example.com".to_owned()];
    }
}

async fn execute(h: &common::Harness, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = h
        .client
        .post(h.url(&common::execute_path()))
        .json(&json!({"action": "executeTests", "featureId": h.feature_id()}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    common::read(request.send().await.unwrap()).await
}

async fn bootstrap(h: &common::Harness, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = h.client.get(h.url(&Target::Bootstrap.path()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    common::read(request.send().await.unwrap()).await
}

const VIEWER: &[(&str, &str)] = &[
    ("x-forwarded-email", "viewer@example.com"),
    ("x-forwarded-groups", "sales"),
];
const RUNNER: &[(&str, &str)] = &[
    ("x-forwarded-email", "tester@example.com"),
    ("x-forwarded-groups", "sales,qa"),
];

#[tokio::test]
async fn header_mode_viewer_and_runner() {
    let h = start(header_mode("127.0.0.1/32")).await;
    // No identity at all.
    let (status, body) = execute(&h, &[]).await;
    assert_eq!((status, code(&body)), (401, "unauthenticated"));
    let (status, _) = bootstrap(&h, &[]).await;
    assert_eq!(status, 401);
    let (status, _) = h.get(&common::run_path("r1")).await;
    assert_eq!(status, 401);

    // A viewer sees the project but may not start runs.
    let (status, boot) = bootstrap(&h, VIEWER).await;
    assert_eq!(status, 200);
    assert_eq!(boot["user"], "viewer@example.com");
    assert_eq!(boot["projects"][0]["canRun"], false);
    let (status, body) = execute(&h, VIEWER).await;
    assert_eq!((status, code(&body)), (403, "forbidden"));
    assert_eq!(
        h.stats().total,
        0,
        "a refused execution never reaches the upstream"
    );
    let mut request = h.client.post(h.url(&common::jobs_path())).json(&json!({}));
    for (name, value) in VIEWER {
        request = request.header(*name, *value);
    }
    assert_eq!(
        request.send().await.unwrap().status(),
        200,
        "viewers may watch"
    );

    // A runner may.
    let (_, boot) = bootstrap(&h, RUNNER).await;
    assert_eq!(boot["projects"][0]["canRun"], true);
    let (status, body) = execute(&h, RUNNER).await;
    assert_eq!(status, 200, "{body}");
    h.stop().await;
}

#[tokio::test]
async fn identity_headers_from_an_untrusted_peer_are_refused() {
    let h = start(header_mode("10.0.0.0/8")).await;
    let (status, body) = execute(&h, RUNNER).await;
    assert_eq!((status, code(&body)), (401, "unauthenticated"));
    let (status, _) = bootstrap(&h, RUNNER).await;
    assert_eq!(status, 401);
    assert_eq!(h.stats().total, 0);
    h.stop().await;
}

#[tokio::test]
async fn cross_origin_posts_are_forbidden_in_both_modes() {
    for header in [true, false] {
        let h = if header {
            start(header_mode("127.0.0.1/32")).await
        } else {
            start(|_| {}).await
        };
        let same = format!("http://{}", h.server.addr());
        let cases = [
            (("origin", "https://evil.example.net"), 403),
            (("sec-fetch-site", "cross-site"), 403),
            (("origin", same.as_str()), 200),
            // The embed allowlist (only configured in the header-mode setup).
            (
                ("origin", "https://portal.example.com"),
                if header { 200 } else { 403 },
            ),
        ];
        for (extra, expected) in cases {
            let mut headers = RUNNER.to_vec();
            headers.push(extra);
            let (status, body) = execute(&h, &headers).await;
            assert_eq!(status, expected, "{extra:?}: {body}");
            if expected == 403 {
                assert_eq!(code(&body), "forbidden");
            }
        }
        // A form post (not JSON) is refused even without an Origin.
        let response = h
            .client
            .post(h.url(&common::execute_path()))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-forwarded-email", "tester@example.com")
            .header("x-forwarded-groups", "qa")
            .body("action=executeTests")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
        h.stop().await;
    }
}

#[tokio::test]
async fn doubled_identity_headers_are_refused_not_first_wins() {
    let h = start(header_mode("127.0.0.1/32")).await;
    let doubled_user = [
        ("x-forwarded-email", "viewer@example.com"),
        ("x-forwarded-email", "tester@example.com"),
        ("x-forwarded-groups", "qa"),
    ];
    let doubled_groups = [
        ("x-forwarded-email", "viewer@example.com"),
        ("x-forwarded-groups", "sales"),
        ("x-forwarded-groups", "qa"),
    ];
    for headers in [&doubled_user[..], &doubled_groups[..]] {
        let (status, body) = execute(&h, headers).await;
        assert_eq!(
            (status, code(&body)),
            (401, "unauthenticated"),
            "{headers:?}"
        );
        let (status, _) = bootstrap(&h, headers).await;
        assert_eq!(status, 401, "{headers:?}");
    }
    assert_eq!(h.stats().total, 0);
    h.stop().await;
}

#[tokio::test]
async fn nobody_starts_runs_in_a_view_only_project() {
    for header in [true, false] {
        let h = if header {
            start(|c| {
                header_mode("127.0.0.1/32")(c);
                c.projects[0].view_only = true;
            })
            .await
        } else {
            start(|c| c.projects[0].view_only = true).await
        };
        let (status, boot) = bootstrap(&h, RUNNER).await;
        assert_eq!(status, 200);
        assert_eq!(boot["projects"][0]["canRun"], false);
        let (status, body) = execute(&h, RUNNER).await;
        assert_eq!((status, code(&body)), (403, "forbidden"), "{body}");
        assert_eq!(h.stats().total, 0);
        h.stop().await;
    }
}

#[tokio::test]
async fn each_user_has_a_start_and_a_read_allowance() {
    let h = start(|c| {
        header_mode("127.0.0.1/32")(c);
        c.limits.starts_per_minute = 2;
        c.limits.reads_per_minute = 3;
    })
    .await;
    for _ in 0..2 {
        let (status, body) = execute(&h, RUNNER).await;
        assert_eq!(status, 200, "{body}");
    }
    let response = {
        let mut request = h
            .client
            .post(h.url(&common::execute_path()))
            .json(&json!({"action": "executeTests", "featureId": h.feature_id()}));
        for (name, value) in RUNNER {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    };
    assert_eq!(response.status(), 429);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After: {retry}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body), "rate_limited");
    assert_eq!(
        h.stats().total,
        2,
        "the refused start never reached the upstream"
    );

    // Another user still has a whole allowance.
    let other = [
        ("x-forwarded-email", "second@example.com"),
        ("x-forwarded-groups", "qa"),
    ];
    let (status, body) = execute(&h, &other).await;
    assert_eq!(status, 200, "{body}");

    // Reads: three bootstraps, then 429.
    for _ in 0..3 {
        assert_eq!(bootstrap(&h, VIEWER).await.0, 200);
    }
    let (status, body) = bootstrap(&h, VIEWER).await;
    assert_eq!((status, code(&body)), (429, "rate_limited"));
    h.stop().await;
}

/// Header mode with the lists of issue 18, finding 4: the global `run_users = []` and a
/// project's `run_groups = []` (meant to narrow) leave both lists empty.
fn empty_run_lists(c: &mut runboard_proxy::Config) {
    header_mode("127.0.0.1/32")(c);
    c.auth.run_users = Vec::new();
    c.auth.run_groups = Vec::new();
    c.projects[0].run_groups = Some(Vec::new());
}

/// Issue 18, finding 4: two empty lists let every signed-in user start runs. Now they
/// mean nobody: the start is refused and nothing reaches the platform.
#[tokio::test]
async fn empty_run_lists_in_header_mode_let_nobody_start() {
    let h = start(empty_run_lists).await;
    let (status, boot) = bootstrap(&h, RUNNER).await;
    assert_eq!(status, 200, "viewers may still watch: {boot}");
    assert_eq!(boot["projects"][0]["canRun"], false);
    let (status, body) = execute(&h, RUNNER).await;
    assert_eq!((status, code(&body)), (403, "forbidden"), "{body}");
    assert_eq!(h.stats().total, 0, "the upstream received {:?}", h.stats());
    h.stop().await;
}

/// `run_everyone = true`, globally or in the project, is the one way to let every
/// signed-in user start runs; the project's setting wins over the global one.
#[tokio::test]
async fn run_everyone_lets_every_signed_in_user_start() {
    for (global, project, allowed) in [
        (true, None, true),
        (false, Some(true), true),
        (true, Some(false), false),
    ] {
        let h = start(|c| {
            empty_run_lists(c);
            c.auth.run_everyone = global;
            c.projects[0].run_everyone = project;
        })
        .await;
        let (_, boot) = bootstrap(&h, VIEWER).await;
        assert_eq!(
            boot["projects"][0]["canRun"], allowed,
            "{global} {project:?}"
        );
        let (status, body) = execute(&h, VIEWER).await;
        let expected = if allowed { 200 } else { 403 };
        assert_eq!(status, expected, "{global} {project:?}: {body}");
        assert_eq!(h.stats().by_endpoint.test_execution, u64::from(allowed));
        h.stop().await;
    }
}
