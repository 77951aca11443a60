//! The simulator's integration tests, one binary (`cargo test -p runboard-sim --test it`).

mod binary;
mod common;
mod echo_key;
mod fates;
mod faults;
mod lifecycle;
mod odd_shapes;
mod recorded;
mod requests;
mod socket;
