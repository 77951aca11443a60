//! The end-to-end harness: a simulator, a `runboard` server, an SSO-like front door and a
//! headless Chromium session, all on loopback, started and stopped by each test.
//!
//! The browser only ever talks to the [`front_door::FrontDoor`], a small reverse proxy that
//! stands where a company's oauth2-proxy would: it can add identity headers, and it records
//! every byte of every response so the suite can prove the API key never reached a browser.

pub mod axe;
pub mod browser;
pub mod front_door;
pub mod portal;
pub mod scenario;
pub mod serve;
pub mod sim_log;
pub mod stack;
pub mod wait;

pub use browser::Browser;
pub use stack::{Stack, StackOptions};
pub use wait::wait_for;
