//! The gate's integration tests, one binary (`cargo test -p runboard-gate --test it`):
//! `runboard run` as a library against the demo stack (a simulator and a real Runboard
//! on loopback), each exit code reached, the JUnit file against the server's export,
//! `--gate new` on runs with real new failures.

mod common;
mod exits;
mod follow;
mod new_failures;
