//! The widget's first-load budgets, ratchets at today's size plus a little, lowered with
//! every saving so the widget cannot grow unnoticed, for each of its two pages (the full
//! widget, `index.html`, and the report page readers get at a run's address,
//! `report.html`): the gzipped bytes (`gzip -9`) of the page and of every file it loads,
//! and what `runboard` really sends over a socket to a browser that accepts brotli (the
//! build's precompressed copies). The figure that matters is the second one, the bytes on
//! the wire, because what counts is the time to the verdict on a slow link (issue 20): its
//! goal is 200 KB, for the report page. (Issue 11's goal of 150 KB gzipped is retired.)
//! `./x size` says where the bytes go.

use std::{fs, path::Path, process::Command};

use runboard_e2e::{
    Stack, StackOptions,
    stack::{PROJECT, require_widget, widget_dir},
};

/// One of the widget's two pages (`proxy/src/static_files/pages.rs`) and its budgets.
struct Page {
    /// The page's file in the widget's folder.
    file: &'static str,
    /// An address the server answers with this page for a reader (header mode, a
    /// signed-in user who may neither start runs nor triage).
    address: fn() -> String,
    /// `gzip -9` of the page and every file it loads.
    gzipped: u64,
    /// What `runboard` sends to a browser that accepts brotli.
    on_the_wire: u64,
}

/// The full widget (every view), opened at `/`: 353,854 bytes gzipped and 277,180 on the
/// wire on 2026-12-07. It was 267,562 and 214,811 that morning (JSON without serde, short
/// import and export names, no gloo-net request builder; frontend/README.md, "Size"),
/// then raised on purpose by issue 21's views (verdict line, row menu and dialogs, Rules
/// page, status board, history's blocking line, rule edit) and issue 22's pages (Tokens,
/// Notifications); the report page below is the way back to issue 20's goal for the page
/// that goal is about. Raised on purpose once more the same night to 354,289 and 277,863:
/// the Notifications page links each message to its run and says when a failed one is
/// tried again (+0.7 KB). Plus room for small changes.
const FULL: Page = Page {
    file: "index.html",
    address: || "/".to_owned(),
    gzipped: 354_400,
    on_the_wire: 278_000,
};

/// The report page (the widget without its `full` feature: the run report alone, no
/// triage tools), which readers get at a run's address: 244,617 bytes gzipped and
/// 197,081 on the wire on 2026-12-07 (then 244,775 and 197,318: the Notifications
/// page's table style is in the one stylesheet, and a navigation that replaces loads the
/// full widget in place), within issue 20's goal. Plus room for
/// small changes.
const REPORT: Page = Page {
    file: "report.html",
    address: || format!("/p/{PROJECT}/runs/67f8cb3fe236b8d41b7700ad"),
    gzipped: 245_000,
    on_the_wire: 197_500,
};

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
        ("gzipped", FULL.gzipped),
        ("on the wire", FULL.on_the_wire),
        ("gzipped", REPORT.gzipped),
        ("on the wire", REPORT.on_the_wire),
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
    for page in [FULL, REPORT] {
        let page_path = dir.join(page.file);
        let html = fs::read_to_string(&page_path).expect(page.file);
        let files = loaded(&html);
        assert!(
            files.iter().any(|f| f.ends_with(".wasm")) && files.iter().any(|f| f.ends_with(".js")),
            "{} loads the wasm and its glue: {files:?}",
            page.file
        );
        let mut total = gzipped(&page_path);
        let mut parts = vec![format!("{} {total}", page.file)];
        for file in &files {
            let bytes = gzipped(&dir.join(file));
            parts.push(format!("{file} {bytes}"));
            total += bytes;
        }
        if let Err(over) = within(
            &format!("gzipped ({})", page.file),
            total,
            page.gzipped,
            &parts,
        ) {
            panic!("{over}");
        }
    }
}

/// Fetches `path` from `runboard` itself as a reader's Chromium asks for it, and returns
/// the body's size as sent (reqwest here decompresses nothing) with its `Content-Encoding`.
async fn on_the_wire(http: &reqwest::Client, stack: &Stack, path: &str) -> (u64, String) {
    let url = stack.direct_url(path).expect("runboard runs");
    let response = http
        .get(&url)
        .header("accept-encoding", "gzip, deflate, br, zstd")
        .header("x-forwarded-email", READER)
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

/// A signed-in user who may neither start runs nor triage.
const READER: &str = "reader@corp.example";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_that_accept_brotli_get_the_build_s_copies() {
    require_widget().expect("widget built");
    let stack = Stack::start(StackOptions {
        run_users: Some(vec!["runner@corp.example".into()]),
        ..StackOptions::default()
    })
    .await
    .expect("the stack starts");
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut over = Vec::new();
    for page in [FULL, REPORT] {
        let html = fs::read_to_string(widget_dir().join(page.file)).expect(page.file);
        let (mut total, _) = on_the_wire(&http, &stack, &(page.address)()).await;
        let mut parts = vec![format!("{} {total}", page.file)];
        for file in loaded(&html) {
            let (bytes, encoding) = on_the_wire(&http, &stack, &format!("/{file}")).await;
            assert_eq!(
                encoding, "br",
                "{file} must go out as the build's brotli copy (frontend/precompress.sh)"
            );
            parts.push(format!("{file} {bytes}"));
            total += bytes;
        }
        let what = format!("on the wire ({})", page.file);
        over.extend(within(&what, total, page.on_the_wire, &parts).err());
    }
    stack.shutdown().await;
    assert!(over.is_empty(), "{over:#?}");
}

// The report page is the one issue 20's goal is about (the bytes a reader's browser loads
// before the widget can draw a run report): its budget may not be raised past the goal.
const _: () = assert!(REPORT.on_the_wire <= WIRE_GOAL_BYTES);
