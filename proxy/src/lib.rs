//! `runboard`: the server between stakeholders' browsers and the hosted Test Execution API.
//! It serves the widget, forwards the guide's three endpoints at the same paths with the
//! project's key added server-side, and decides who may view and who may start runs.
//!
//! Entry points: [`app`] builds the whole router (for `oneshot` tests), [`Server::start`]
//! binds and serves it, `demo::start` runs it against an in-process simulator (with the
//! `demo` feature only: production builds carry no simulator).

mod api;
mod audit;
mod auth;
pub mod config;
mod csrf;
mod csv;
#[cfg(feature = "demo")]
pub mod demo;

mod error;
mod export;
mod extract;
mod host;
mod kept;
pub mod keyscan;
mod ledger;
mod limits;
mod live;
mod metrics;
mod middleware;
mod notify;
mod openapi;
mod own;
mod reads;
mod routes;
mod server;
mod state;
mod static_files;
pub mod tokens;
mod triage;
mod upstream;

pub use config::Config;
pub use error::AppError;
pub use routes::app;
pub use server::Server;
pub use state::AppState;
pub use static_files::WidgetSource;

/// Runboard's version, as reported by the bootstrap endpoint.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The largest request body accepted (a `tests` list of 1000 ids fits easily).
pub const BODY_LIMIT: usize = 256 * 1024;
