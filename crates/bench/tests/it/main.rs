//! The bench crate's integration tests, one binary (`cargo test -p runboard-bench --test it`).

mod crowd;
mod smoke;
mod soak;

/// Held by each test for its whole run, so they take turns: both drive a whole stack at
/// full speed, and the soak judges this process's memory, which the other would move.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
