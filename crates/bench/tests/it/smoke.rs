//! The whole benchmark with tiny counts: every request succeeds on both paths, every
//! proxied start reaches the simulator once (reads at most once: `runboard` shares them), and
//! both renderings show every request kind.

use std::time::Duration;

use runboard_bench::{Machine, Options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiny_run_exercises_both_paths() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let options = Options {
        requests: 20,
        concurrency: 4,
        warmup: 2,
        rounds: 2,
        time_limit: Duration::from_secs(60),
        ..Options::default()
    };
    let report = runboard_bench::run(&options).await.expect("benchmark runs");

    let labels: Vec<&str> = report.rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "jobs, 10 ids",
            "testRun, 36 tests",
            "testRun, 2000 tests",
            "testExecution",
            "jobs, 10 ids, br, gzip",
            "testRun, 36 tests, br, gzip",
            "testRun, 2000 tests, br, gzip",
            "testExecution, br, gzip",
        ]
    );
    // Through `runboard` a report comes compressed when the client accepts it; the
    // simulator sends it plain.
    let compressed = &report.rows[6];
    let [direct_bytes, proxy_bytes] = compressed.answer_bytes;
    assert!(
        proxy_bytes * 5 < direct_bytes,
        "{}: {direct_bytes} → {proxy_bytes}",
        compressed.label
    );
    for row in &report.rows {
        assert_eq!(row.direct.sent, 20, "{}", row.label);
        assert_eq!(row.proxy.sent, 20, "{}", row.label);
        assert_eq!(row.direct.ok, 20, "{}: {:?}", row.label, row.first_error);
        assert_eq!(row.proxy.ok, 20, "{}: {:?}", row.label, row.first_error);
        if row.is_start {
            assert_eq!(
                row.forwarded, 20,
                "{}: each start forwarded once",
                row.label
            );
        } else {
            assert!(
                row.forwarded <= 20,
                "{}: at most one upstream call per proxied read, got {}",
                row.label,
                row.forwarded
            );
        }
        assert!(row.first_error.is_none(), "{}", row.label);
    }
    assert!(report.all_ok());

    let table = report.table();
    let markdown = report.markdown(&Machine::detect());
    for label in labels {
        assert!(table.contains(label), "{table}");
        assert!(markdown.contains(label), "{markdown}");
    }
    assert!(table.contains("proxy ÷ direct"), "{table}");
    assert!(markdown.starts_with("### "), "{markdown}");
}
