//! The shared crate's integration tests, one binary (`cargo test -p runboard-shared --test it`).

mod decode;
mod guide_examples;
mod lenient;
mod semantics;
mod validation;
