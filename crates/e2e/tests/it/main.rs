//! The browser suite, the widget's size budget and the tidy rules, one binary
//! (`cargo test -p runboard-e2e --test it`; one file: `--test it navigation::`).

mod access;
mod browser;
mod export;
mod history;
mod live;
mod navigation;
mod notifications;
mod platform;
mod tidy;
mod tokens;
mod triage;
mod verdict;
mod widget_size;
