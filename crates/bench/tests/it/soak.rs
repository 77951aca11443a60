//! A short soak in the test command: many clients polling and starting runs through
//! `runboard` at once; no unexpected answer, every start forwarded exactly once and
//! known upstream, no duplicated job, no leaked sockets. `./x soak` runs the long one.

use std::time::Duration;

use runboard_bench::SoakOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_soak_loses_and_duplicates_nothing() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let options = SoakOptions {
        clients: 100,
        duration: Duration::from_secs(5),
        starts_per_mille: 100,
        ..SoakOptions::default()
    };
    let report = runboard_bench::soak(&options).await.expect("the soak runs");
    eprintln!("{}", report.table());
    assert!(report.requests > 200, "{report:?}");
    assert!(report.starts_sent > 10, "{report:?}");
    assert!(report.new_jobs > 0, "{report:?}");
    let problems = report.problems();
    assert!(problems.is_empty(), "{problems:#?}\n{}", report.table());
}
