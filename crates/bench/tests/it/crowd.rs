//! A small crowd on one live run, in process: every stream viewer gets the final report
//! within `run_ms` + 1 s of the platform (nobody starved), and the platform is read about
//! once per `run_ms` for the whole crowd, not once per viewer.

use runboard_bench::{CrowdOptions, STARVED_AFTER};

const VIEWERS: usize = 50;
const RUN_MS: u64 = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_stream_viewers_share_one_read_per_period_and_none_starves() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let options = CrowdOptions {
        crowds: vec![VIEWERS],
        run_ms: RUN_MS,
        // A 36-test run lasts a few seconds.
        sim_speed: 20.0,
    };
    let rows = runboard_bench::crowds_in_process(&options)
        .await
        .expect("the stack starts");
    assert_eq!(rows.len(), 1);
    let crowd = rows[0].measured.as_ref().expect("the crowd was measured");

    assert_eq!(crowd.failed, 0, "{:?}", crowd.first_error);
    assert_eq!(
        crowd.starved, 0,
        "each viewer has the final report within run_ms + {STARVED_AFTER:?} of the platform; \
         {crowd:?}"
    );
    assert!(
        crowd.fresh_samples >= VIEWERS,
        "the viewers saw tests finish while they watched: {crowd:?}"
    );
    // One follower polls for everyone: at most one read per period of the window, plus
    // the first and the final one. Fifty viewers reading for themselves would be ~50×.
    let periods = crowd.seconds * 1000.0 / RUN_MS as f64;
    assert!(
        crowd.upstream_calls >= 2 && crowd.upstream_calls as f64 <= periods + 2.0,
        "{} upstream reads in {:.1} s with run_ms = {RUN_MS}",
        crowd.upstream_calls,
        crowd.seconds
    );
}
