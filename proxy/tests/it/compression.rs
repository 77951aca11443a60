//! Compressed answers, seen from outside: a run report in br, zstd or gzip decodes to
//! exactly the bytes of the plain one, `Accept-Encoding`'s q-values choose the coding, a
//! finished report is compressed once for every viewer (counted on `/metrics`), each
//! form has its own `ETag` and its 304, and no coding lets a key out.

use std::{io::Read, sync::Arc, time::Duration};

use reqwest::{Response, StatusCode, header};
use runboard_shared::ExportFormat;
use runboard_sim::{EchoKey, Faults};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::{
    common::{self, Harness, KEY, code},
    paths,
};

/// The codings Runboard makes itself, as `Accept-Encoding` and `Content-Encoding` name them.
const CODINGS: [&str; 3] = ["br", "zstd", "gzip"];

/// `GET path` with these request headers.
async fn get(h: &Harness, path: &str, headers: &[(header::HeaderName, &str)]) -> Response {
    let mut request = h.client.get(h.url(path));
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    request.send().await.unwrap()
}

/// `name`'s value, or "" when absent.
fn header_of(response: &Response, name: header::HeaderName) -> String {
    response
        .headers()
        .get(name)
        .map_or(String::new(), |v| v.to_str().unwrap().to_owned())
}

/// `body` decoded from `coding` (its `Content-Encoding`; "" for none).
fn decode(coding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "" => out = body.to_vec(),
        "br" => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        "zstd" => out = zstd::stream::decode_all(body).unwrap(),
        "gzip" => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .unwrap();
        }
        other => panic!("unexpected Content-Encoding {other}"),
    }
    out
}

/// `runboard_{name}_total{coding="…"}` from `/metrics`.
async fn counter(h: &Harness, name: &str, coding: &str) -> u64 {
    let text = get(h, "/metrics", &[]).await.text().await.unwrap();
    let prefix = format!("runboard_{name}_total{{coding=\"{coding}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0, |n| n.trim().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_coding_decodes_to_exactly_the_plain_bytes() {
    let h = common::start(|_| {}).await;
    let run = h.finished_run().await;
    let path = common::run_path(&run);
    let plain_answer = get(&h, &path, &[]).await;
    assert_eq!(header_of(&plain_answer, header::CONTENT_ENCODING), "");
    let plain_tag = header_of(&plain_answer, header::ETAG);
    let plain = plain_answer.bytes().await.unwrap();
    let direct = h
        .client
        .get(format!("{}{path}", h.sim.url()))
        .header("x-api-key", KEY)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(plain, direct, "the plain answer is the platform's bytes");

    // A job the platform does not know: an answer that stays the same.
    let jobs_body = json!({"jobIds": ["0123456789abcdef01234567"]});
    let plain_jobs = h
        .client
        .post(h.url(&common::jobs_path()))
        .json(&jobs_body)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut tags = vec![plain_tag];
    for coding in CODINGS {
        let response = get(&h, &path, &[(header::ACCEPT_ENCODING, coding)]).await;
        assert_eq!(response.status(), StatusCode::OK, "{coding}");
        assert_eq!(header_of(&response, header::CONTENT_ENCODING), coding);
        assert_eq!(header_of(&response, header::VARY), "accept-encoding");
        assert_eq!(
            header_of(&response, header::CONTENT_TYPE),
            "application/json"
        );
        tags.push(header_of(&response, header::ETAG));
        let body = response.bytes().await.unwrap();
        assert!(body.len() < plain.len() / 2, "{coding}: {}", body.len());
        assert_eq!(decode(coding, &body), plain, "{coding}: the report");

        // An answer shared for one reuse window (`jobs`) is compressed the same way.
        let response = h
            .client
            .post(h.url(&common::jobs_path()))
            .header(header::ACCEPT_ENCODING, coding)
            .json(&jobs_body)
            .send()
            .await
            .unwrap();
        assert_eq!(header_of(&response, header::CONTENT_ENCODING), coding);
        let body = response.bytes().await.unwrap();
        assert_eq!(decode(coding, &body), plain_jobs, "{coding}: jobs");
    }
    let mut distinct = tags.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "one strong tag per form: {tags:?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn q_values_choose_the_coding() {
    let h = common::start(|_| {}).await;
    let path = common::run_path(&h.finished_run().await);
    for (accept_encoding, expected) in [
        ("gzip, deflate, br, zstd", "br"),
        ("br;q=0.5, gzip", "gzip"),
        ("gzip;q=0.5, zstd;q=0.8, br;q=0.1", "zstd"),
        ("br;q=0, zstd;q=0, gzip;q=0", ""),
        ("identity", ""),
        ("deflate", ""),
        ("*", "br"),
        ("*;q=0.3, br;q=0", "zstd"),
        ("x-gzip", "gzip"),
    ] {
        let response = get(&h, &path, &[(header::ACCEPT_ENCODING, accept_encoding)]).await;
        assert_eq!(response.status(), StatusCode::OK, "{accept_encoding}");
        let coding = header_of(&response, header::CONTENT_ENCODING);
        assert_eq!(coding, expected, "{accept_encoding}");
        let report: Value =
            serde_json::from_slice(&decode(&coding, &response.bytes().await.unwrap())).unwrap();
        assert_eq!(report["runId"], path.rsplit('/').next().unwrap());
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_report_is_compressed_once_for_every_viewer() {
    let h = Arc::new(common::start(|_| {}).await);
    let path = common::run_path(&h.finished_run().await);
    let calls = h.stats().by_endpoint.test_run;
    for coding in CODINGS {
        let mut viewers = JoinSet::new();
        for _ in 0..8 {
            let (h, path) = (h.clone(), path.clone());
            viewers.spawn(async move {
                let response = get(&h, &path, &[(header::ACCEPT_ENCODING, coding)]).await;
                assert_eq!(header_of(&response, header::CONTENT_ENCODING), coding);
                response.bytes().await.unwrap()
            });
        }
        let bodies = viewers.join_all().await;
        assert!(bodies.iter().all(|b| *b == bodies[0]), "{coding}: one form");
        assert_eq!(counter(&h, "compressions", coding).await, 1, "{coding}");
        let later = get(&h, &path, &[(header::ACCEPT_ENCODING, coding)]).await;
        assert_eq!(later.bytes().await.unwrap(), bodies[0], "{coding}");
        assert_eq!(counter(&h, "compressions", coding).await, 1, "{coding}");
        assert_eq!(
            counter(&h, "compressed_cache_hits", coding).await,
            8,
            "{coding}: every viewer but the first, and the later one"
        );
    }
    assert_eq!(
        h.stats().by_endpoint.test_run,
        calls,
        "all from the finished cache"
    );
    Arc::into_inner(h).unwrap().stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_form_has_its_own_304() {
    let h = common::start(|_| {}).await;
    let path = common::run_path(&h.finished_run().await);
    let plain_tag = header_of(&get(&h, &path, &[]).await, header::ETAG);
    let accept = |coding| (header::ACCEPT_ENCODING, coding);
    for coding in CODINGS {
        let first = get(&h, &path, &[accept(coding)]).await;
        let tag = header_of(&first, header::ETAG);
        assert!(tag.starts_with('"') && tag.ends_with('"'), "strong: {tag}");
        assert_ne!(tag, plain_tag);

        let again = get(&h, &path, &[accept(coding), (header::IF_NONE_MATCH, &tag)]).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{coding}");
        assert_eq!(header_of(&again, header::ETAG), tag);
        assert_eq!(header_of(&again, header::VARY), "accept-encoding");
        assert_eq!(
            header_of(&again, header::CACHE_CONTROL),
            "no-cache, private"
        );
        assert_eq!(header_of(&again, header::CONTENT_ENCODING), "");
        assert!(again.bytes().await.unwrap().is_empty(), "no body");

        // The tag of another form names other bytes: the whole answer again.
        let plain = get(&h, &path, &[(header::IF_NONE_MATCH, &tag)]).await;
        assert_eq!(plain.status(), StatusCode::OK, "{coding}");
        assert_eq!(header_of(&plain, header::ETAG), plain_tag);
        let other = get(
            &h,
            &path,
            &[accept(coding), (header::IF_NONE_MATCH, &plain_tag)],
        )
        .await;
        assert_eq!(other.status(), StatusCode::OK, "{coding}");
    }
    let plain = get(&h, &path, &[(header::IF_NONE_MATCH, &plain_tag)]).await;
    assert_eq!(plain.status(), StatusCode::NOT_MODIFIED);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_holding_a_key_is_withheld_in_every_coding() {
    // Nothing reused or cached: every request reaches the platform while it echoes.
    let h = common::start(|c| {
        c.cache.live_reuse = Duration::ZERO;
        c.cache.finished_bytes = 0;
    })
    .await;
    let run = h.finished_run().await;
    let paths = [
        common::run_path(&run),
        paths::export_path(&run, ExportFormat::Csv),
        paths::export_path(&run, ExportFormat::Junit),
    ];
    for mode in [
        EchoKey::Body,
        EchoKey::Urlencoded,
        EchoKey::Base64,
        EchoKey::Escaped,
        EchoKey::Error,
    ] {
        h.sim.sim.set_faults(Faults {
            echo_key: mode,
            ..Faults::default()
        });
        for accept_encoding in ["", "br", "zstd", "gzip", "br, gzip", "*"] {
            for path in &paths {
                let response = get(&h, path, &[(header::ACCEPT_ENCODING, accept_encoding)]).await;
                let what = format!("{mode:?}, {accept_encoding:?}, {path}");
                assert_eq!(response.status(), StatusCode::BAD_GATEWAY, "{what}");
                let coding = header_of(&response, header::CONTENT_ENCODING);
                let body = decode(&coding, &response.bytes().await.unwrap());
                let text = String::from_utf8_lossy(&body);
                assert!(!text.contains(KEY), "{what}: {text}");
                let body: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(code(&body), "upstream_withheld", "{what}");
            }
        }
    }
    h.sim.sim.set_faults(Faults::default());
    let (status, _) = h.get(&paths[0]).await;
    assert_eq!(status, 200, "the report itself is clean");
    h.stop().await;
}
