//! The widget's first-load budgets, two ratchets at today's size plus a little, lowered
//! with every saving so the widget cannot grow unnoticed: the gzipped bytes (`gzip -9`)
//! of `index.html` and of every file it loads, and what `runboard` really sends over a
//! socket to a browser that accepts brotli (the build's precompressed copies). The figure
//! that matters is the second one, the bytes on the wire, because what counts is the time
//! to the verdict on a slow link (issue 20): its goal is 200 KB. (Issue 11's goal of
//! 150 KB gzipped is retired.) `./x size` says where the bytes go.

use std::{fs, path::Path, process::Command};

use runboard_e2e::{
    Stack, StackOptions,
    stack::{require_widget, widget_dir},
};

/// Today's first load, gzipped (267,562 bytes on 2026-12-07: JSON read and written
/// without serde, short import names; then 1,373 fewer without gloo-net's request
/// builder and with short export names; see frontend/README.md, "Size"); raised on
/// purpose the same day to 326,302 by issue 21's views (verdict line, row menu and
/// dialogs, Rules page, status board), which issue 20 meant to fit: that goal is open,
/// and the way back is loading those views as a second module. Raised on purpose again
/// the same evening to 353,880 by the views of issue 21's last steps (history's blocking
/// line, rule edit dialog) and issue 22 (Tokens and Notifications pages); the second
/// module is now the open part of issue 20. Plus room for small changes.
const BUDGET_BYTES: u64 = 354_000;

/// The bytes on the wire for a browser that accepts brotli (214,811 on 2026-12-07, then
/// 1,381 fewer: no gloo-net, short export names; raised on purpose to 257,822 by issue
/// 21's views, then to 277,529 by issue 21's last views and issue 22's pages, see above)
/// plus room for small changes.
const WIRE_BUDGET_BYTES: u64 = 277_600;

/// Issue 20's goal for the bytes on the wire, said in the failure message.
const WIRE_GOAL_BYTES: u64 = 200_000;

/// `Err` with a message saying what to do when `total` is over `budget`: a ratchet only
/// holds if crossing it fails the test command.
fn within(what: &str, total: u64, budget: u64, parts: &[String]) -> Result<(), String> {
    if total <= budget {
        return Ok(());
    }
    Err(format!(
        "the widget's first load is {total} bytes {what}, over its budget of {budget} \
         (the goal: {WIRE_GOAL_BYTES} bytes on the wire with brotli); find what grew with \
         `./x size` and frontend/README.md, \"Size\": {parts:?}"
    ))
}

#[test]
fn a_first_load_over_either_budget_fails() {
    for (what, budget) in [
        ("gzipped", BUDGET_BYTES),
        ("on the wire", WIRE_BUDGET_BYTES),
    ] {
        assert_eq!(within(what, budget, budget, &[]), Ok(()));
        let over = within(what, budget + 1, budget, &["x.wasm 1".into()]).unwrap_err();
        assert!(
            over.contains(&format!("{} bytes {what}", budget + 1)),
            "{over}"
        );
        assert!(
            over.contains("200000 bytes on the wire") && over.contains("x.wasm 1"),
            "{over}"
        );
    }
}

/// `gzip -9`'s output size for `file`.
fn gzipped(file: &Path) -> u64 {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(file)
        .output()
        .expect("gzip runs");
    assert!(out.status.success(), "gzip {}", file.display());
    out.stdout.len() as u64
}

/// The files `index.html` references with `src="/…"` or `href="/…"`.
fn loaded(index: &str) -> Vec<String> {
    let mut files = Vec::new();
    for attr in ["src=\"/", "href=\"/"] {
        for (at, _) in index.match_indices(attr) {
            let rest = &index[at + attr.len()..];
            if let Some(end) = rest.find('"') {
                files.push(rest[..end].to_owned());
            }
        }
    }
    files.sort();
    files.dedup();
    files
}

#[test]
fn the_first_load_stays_within_its_budget() {
    require_widget().expect("widget built");
    let dir = widget_dir();
    let index_path = dir.join("index.html");
    let index = fs::read_to_string(&index_path).expect("index.html");
    let files = loaded(&index);
    assert!(
        files.iter().any(|f| f.ends_with(".wasm")) && files.iter().any(|f| f.ends_with(".js")),
        "index.html loads the wasm and its glue: {files:?}"
    );
    let mut total = gzipped(&index_path);
    let mut parts = vec![format!("index.html {total}")];
    for file in &files {
        let bytes = gzipped(&dir.join(file));
        parts.push(format!("{file} {bytes}"));
        total += bytes;
    }
    if let Err(over) = within("gzipped", total, BUDGET_BYTES, &parts) {
        panic!("{over}");
    }
}

/// Fetches `path` from `runboard` itself, as Chromium asks for it, and returns the body's
/// size as sent (reqwest here decompresses nothing) with its `Content-Encoding`.
async fn on_the_wire(http: &reqwest::Client, stack: &Stack, path: &str) -> (u64, String) {
    let url = stack.direct_url(path).expect("runboard runs");
    let response = http
        .get(&url)
        .header("accept-encoding", "gzip, deflate, br, zstd")
        .send()
        .await
        .expect("runboard answers");
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    let encoding = response
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_owned();
    let body = response.bytes().await.expect("the body arrives");
    (body.len() as u64, encoding)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_that_accept_brotli_get_the_build_s_copies() {
    require_widget().expect("widget built");
    let stack = Stack::start(StackOptions::default())
        .await
        .expect("the stack starts");
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let index = fs::read_to_string(widget_dir().join("index.html")).expect("index.html");
    let (mut total, _) = on_the_wire(&http, &stack, "/").await;
    let mut parts = vec![format!("index.html {total}")];
    for file in loaded(&index) {
        let (bytes, encoding) = on_the_wire(&http, &stack, &format!("/{file}")).await;
        assert_eq!(
            encoding, "br",
            "{file} must go out as the build's brotli copy (frontend/precompress.sh)"
        );
        parts.push(format!("{file} {bytes}"));
        total += bytes;
    }
    stack.shutdown().await;
    if let Err(over) = within("on the wire", total, WIRE_BUDGET_BYTES, &parts) {
        panic!("{over}");
    }
}
